//! Runs that survive being killed: a run killed at any moment (SIGKILL, SIGTERM) never destroys
//! the previous complete result, leaves only files that say they are partial, and `--resume`
//! continues it to the files an uninterrupted run writes, bit for bit (wall times aside); the same
//! for a part of a split run; a full disk ends the run with one line and loses nothing; two runs
//! into one directory are refused with one line, and no lock outlives a kill.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn levylab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_levylab"))
}

fn output(args: &[&str]) -> Output {
    levylab().args(args).output().expect("run levylab")
}

fn succeed(args: &[&str]) -> Output {
    let o = output(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// Ten points of one double well, each a little slower than the one before (about a second in
/// all on two cores with 3000 paths), keeping per-path exit times.
fn scenario(dir: &Path) -> PathBuf {
    let f = dir.join("k.toml");
    std::fs::write(
        &f,
        "name = \"k\"\nseed = 0\npaths = 3000\nhorizon = 1000.0\n\
         [landscape]\nkind = \"quartic\"\nwidth = 1.0\nheight = 0.25\n\
         [noise]\nkind = \"stable\"\nalpha = 1.5\nepsilon = 0.2\n\
         [integrator]\nscheme = \"split\"\ndt = 0.01\n\
         [event]\nkind = \"transition\"\nstart = -1.0\n\
         [sweep]\n\"noise.epsilon\" = [0.5, 0.45, 0.4, 0.35, 0.3, 0.27, 0.24, 0.21, 0.18, 0.15]\n",
    )
    .unwrap();
    f
}

/// Starts `levylab ARGS` with its output discarded.
fn spawn(args: &[&str]) -> std::process::Child {
    levylab()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits (polling every `every` ms, at most a minute) until `done` holds.
fn wait_until(every: u64, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(every));
    }
}

fn run_args<'a>(f: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "run",
        f.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    a.extend_from_slice(extra);
    a
}

/// Every file under `dir` (relative path → bytes); empty when `dir` does not exist.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, into);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                into.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}

fn restore(files: &BTreeMap<PathBuf, Vec<u8>>, dir: &Path) {
    for (rel, bytes) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

/// How many points the summary in `staging` holds (0 while there is none).
fn saved(staging: &Path) -> usize {
    std::fs::read(staging.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_slice::<serde_json::Value>(&t).ok())
        .and_then(|v| v["points"].as_array().map(Vec::len))
        .unwrap_or(0)
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `v` without its wall times (the only numbers that depend on when and how fast a run ran).
fn without_wall(mut v: serde_json::Value) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("wall_seconds");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// The files of a complete result `dir` equal those of the uninterrupted `reference`: the summary
/// field by field but for wall times, the table and the per-path exit times byte for byte.
fn assert_same_result(reference: &Path, dir: &Path, what: &str) {
    let (a, b) = (
        without_wall(json(&reference.join("summary.json"))),
        without_wall(json(&dir.join("summary.json"))),
    );
    assert_eq!(b["complete"], true, "{what}");
    assert_eq!(a, b, "{what}: summary.json differs");
    for file in ["table.txt", "exit_times.csv"] {
        assert!(
            std::fs::read(reference.join(file)).unwrap() == std::fs::read(dir.join(file)).unwrap(),
            "{what}: {file} differs"
        );
    }
    assert!(dir.join("exit_times.png").exists(), "{what}");
    assert!(
        !dir.join("checkpoint.json").exists(),
        "{what}: a published result kept its checkpoint"
    );
}

/// Sends `sig` to `pid` (which may have ended on its own just before: then nothing happens).
fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
    assert!(st.is_ok(), "cannot run kill");
}

/// What a kill left on disk.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Found {
    /// The previous result in k/, and a partial run in k.partial/ with this many points checkpointed.
    Partial(usize),
    /// The previous result in k/, and k.partial/ complete but not yet moved into place.
    Unpublished,
    /// The new result in k/, the previous one in k.previous/.
    Published,
}

/// Twenty kills (SIGKILL, and SIGTERM every fifth time) at moments spread over a ten-point run into
/// a directory that holds a complete result of another seed: after each, that result is intact
/// (in k/, or in k.previous/ once the new run is published), whatever else is on disk says it is
/// partial, and `--resume` ends with the files of the uninterrupted run.
#[test]
fn twenty_kills_never_lose_the_previous_result_and_resume_gives_the_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let f = scenario(tmp.path());
    let reference = tmp.path().join("reference");
    let t0 = Instant::now();
    succeed(&run_args(&f, &reference, &[]));
    let span = t0.elapsed();
    let reference = reference.join("k");
    // The previous complete result: another seed, so that it differs from every new file.
    let prev_out = tmp.path().join("previous");
    succeed(&run_args(&f, &prev_out, &["--seed", "1"]));
    let previous = snapshot(&prev_out.join("k"));
    assert!(previous.contains_key(Path::new("summary.json")));
    let mut found = Vec::new();
    for i in 0..20u32 {
        let out = tmp.path().join(format!("kill-{i}"));
        let (result, partial, older) =
            (out.join("k"), out.join("k.partial"), out.join("k.previous"));
        restore(&previous, &result);
        let mut child = spawn(&run_args(&f, &out, &[]));
        // Kill i lands after ⌊i/2⌋ points are saved (whatever the machine's speed), a few ms to
        // half a point later; the last one once all ten are saved, around the publication.
        let target = if i == 19 { 10 } else { i as usize / 2 };
        let t0 = Instant::now();
        while saved(&partial) < target && t0.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if i < 19 {
            let extra = span.mul_f64(f64::from(i % 2) / 20.0)
                + Duration::from_millis(u64::from(i * 13 % 17));
            std::thread::sleep(extra);
        }
        signal(child.id(), if i % 5 == 4 { "-TERM" } else { "-KILL" });
        child.wait().unwrap();
        let what = format!("kill {i}");
        let state = if snapshot(&result) == previous {
            match std::fs::read(partial.join("summary.json")) {
                Err(_) => Found::Partial(0),
                Ok(text) => {
                    let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
                    let done = v["points"].as_array().unwrap().len();
                    assert_eq!(v["points_total"], 10, "{what}");
                    if v["complete"] == true {
                        assert_eq!(done, 10, "{what}: complete with {done} points");
                        Found::Unpublished
                    } else {
                        assert_eq!(v["complete"], false, "{what}");
                        assert!(
                            done < 10 || v["interrupted"] == true,
                            "{what}: {done} points"
                        );
                        let table = std::fs::read_to_string(partial.join("table.txt")).unwrap();
                        // The table is written just before the summary: it may hold one more point.
                        assert!(
                            table.contains(&format!("incomplete: {done} of 10 points"))
                                || table
                                    .contains(&format!("incomplete: {} of 10 points", done + 1))
                                || done == 9,
                            "{what}: {table}"
                        );
                        let c = partial.join("checkpoint.json");
                        let kept = if c.exists() {
                            json(&c)["points"].as_array().unwrap().len()
                        } else {
                            0
                        };
                        assert!(kept <= done, "{what}");
                        Found::Partial(kept)
                    }
                }
            }
        } else if !result.exists() {
            // Between the two renames of the publication: the previous result already moved aside.
            assert!(
                snapshot(&older) == previous,
                "{what}: the previous result is lost"
            );
            assert_eq!(json(&partial.join("summary.json"))["complete"], true);
            Found::Unpublished
        } else {
            assert_same_result(&reference, &result, &what);
            assert!(
                snapshot(&older) == previous,
                "{what}: the previous result is lost"
            );
            Found::Published
        };
        found.push(state);
        succeed(&run_args(&f, &out, &["--resume"]));
        assert_same_result(&reference, &result, &format!("{what}, resumed"));
        if state != Found::Published {
            assert!(
                snapshot(&older) == previous,
                "{what}: the previous result did not move to k.previous/"
            );
        }
        assert!(
            !partial.exists(),
            "{what}: k.partial/ left after a complete run"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
    found.sort();
    println!("the run took {span:?}; what 20 kills left: {found:?}");
    // The kills spread over the run: they found it at many different points.
    let mut mid: Vec<usize> = found
        .iter()
        .filter_map(|s| match s {
            Found::Partial(k) if (1..10).contains(k) => Some(*k),
            _ => None,
        })
        .collect();
    mid.dedup();
    assert!(mid.len() >= 5, "too few kills landed mid-run: {found:?}");
}

/// A resumed run continues only the run it was meant for: another seed is refused with one line
/// naming the checkpoint, and the checkpoint survives the refusal.
#[test]
fn a_checkpoint_of_another_seed_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let f = scenario(tmp.path());
    let out = tmp.path().join("out");
    let mut child = spawn(&run_args(&f, &out, &[]));
    let checkpoint = out.join("k.partial/checkpoint.json");
    wait_until(5, || checkpoint.exists());
    child.kill().unwrap();
    child.wait().unwrap();
    let before = std::fs::read(&checkpoint).unwrap();
    let o = output(&run_args(&f, &out, &["--resume", "--seed", "5"]));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.trim(),
        format!(
            "levylab: cannot resume from {}: seed 0 there, 5 now; run without --resume to start over",
            checkpoint.display()
        )
    );
    assert_eq!(std::fs::read(&checkpoint).unwrap(), before);
    // A fresh run says it discards the checkpoint, and does.
    let o = succeed(&run_args(&f, &out, &["--seed", "5"]));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("starting afresh; the unfinished run in"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json(&out.join("k/summary.json"))["seed"], 5);
    assert!(!out.join("k.partial").exists());
}

/// A part of a split run killed mid-way: `merge` refuses, naming the unfinished part; the part
/// resumed and the other run, `merge` gives the uninterrupted whole run's files.
#[test]
fn a_killed_part_resumes_and_merges_to_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let f = scenario(tmp.path());
    let reference = tmp.path().join("reference");
    succeed(&run_args(&f, &reference, &[]));
    let out = tmp.path().join("split");
    let mut child = spawn(&run_args(&f, &out, &["--shard", "1/2"]));
    let shards = out.join("k/shards");
    let partial = shards.join("part-1-of-2.partial.json");
    // Wait for the third point, so that the kill lands mid-run.
    wait_until(2, || {
        std::fs::read(&partial)
            .ok()
            .and_then(|t| serde_json::from_slice::<serde_json::Value>(&t).ok())
            .is_some_and(|v| v["points"].as_array().is_some_and(|p| p.len() >= 3))
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(partial.exists(), "the part left no checkpoint");
    let finished = shards.join("part-1-of-2.json");
    assert!(
        !finished.exists(),
        "the kill came too late: the part had finished"
    );
    let kept = json(&partial)["points"].as_array().unwrap().len();
    succeed(&run_args(&f, &out, &["--shard", "2/2"]));
    let o = output(&["merge", out.join("k").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("missing 1 of 2 parts: part-1-of-2.json")
            && err.contains(&format!(
                "unfinished (still running, or killed: rerun them with --resume): part-1-of-2.partial.json ({kept} points finished)"
            )),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let o = succeed(&run_args(&f, &out, &["--shard", "1/2", "--resume"]));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("({kept} kept from the checkpoint)")),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(finished.exists() && !partial.exists());
    succeed(&["merge", out.join("k").to_str().unwrap()]);
    assert_same_result(&reference.join("k"), &out.join("k"), "merged after resume");
}

/// A write that fails for want of space (here the file-size limit, which fails a write with EFBIG
/// as a full disk fails it with ENOSPC, and which no privilege lifts) ends the run with one line
/// naming the file; the previous complete result is untouched, and once there is room again
/// `--resume` finishes the run.
#[test]
fn a_full_disk_ends_the_run_with_one_line_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let f = scenario(tmp.path());
    let out = tmp.path().join("out");
    succeed(&run_args(&f, &out, &["--seed", "1"]));
    let previous = snapshot(&out.join("k"));
    // 64 KiB per file: the first points' files fit, the per-path exit times soon do not.
    let o = Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_levylab"))
        .args(run_args(&f, &out, &[]))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let staging = out.join("k.partial");
    assert!(
        err.starts_with(&format!("levylab: cannot write {}/", staging.display()))
            && err.contains("File too large"),
        "{err}"
    );
    assert!(
        snapshot(&out.join("k")) == previous,
        "the previous result changed"
    );
    assert!(!out.join("k.previous").exists());
    // Whatever the failed run left says it is partial.
    if let Ok(text) = std::fs::read(staging.join("summary.json")) {
        let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(v["complete"], false);
    }
    succeed(&run_args(&f, &out, &["--resume"]));
    let reference = tmp.path().join("reference");
    succeed(&run_args(&f, &reference, &[]));
    assert_same_result(
        &reference.join("k"),
        &out.join("k"),
        "resumed after the full disk",
    );
    assert!(snapshot(&out.join("k.previous")) == previous);
}

/// Two runs into one directory: the second is refused with one line while the first runs; after
/// the first is killed with SIGKILL its lock is gone (the operating system releases it), so a new
/// run goes ahead. Parts of a sharded run lock only their own file and run side by side.
#[test]
fn a_second_run_into_the_same_directory_is_refused_and_no_lock_outlives_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let f = scenario(tmp.path());
    let out = tmp.path().join("out");
    let mut first = spawn(&run_args(&f, &out, &["--paths", "200000"]));
    let lock = out.join(".k.lock");
    wait_until(20, || lock.exists());
    std::thread::sleep(Duration::from_millis(100));
    let second = output(&run_args(&f, &out, &["--paths", "100"]));
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run ended before the second started"
    );
    assert_eq!(second.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&second.stderr);
    assert_eq!(
        msg.trim(),
        format!(
            "levylab: {} is being written by another levylab process (it holds the lock {}); wait for it to end or choose another --out",
            out.join("k").display(),
            lock.display()
        )
    );
    // `--resume` is refused the same way: it would write the same files.
    let second = output(&run_args(&f, &out, &["--paths", "100", "--resume"]));
    assert_eq!(second.status.code(), Some(2));
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    succeed(&run_args(&f, &out, &["--paths", "100"]));
    // Two parts at once into the same directory: each holds only its own lock.
    let parts: Vec<_> = ["1/2", "2/2"]
        .iter()
        .map(|k| {
            levylab()
                .args(run_args(&f, &out, &["--shard", k]))
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut p in parts {
        assert!(p.wait().unwrap().success());
    }
}
