//! Split runs: `run --shard K/N` for K = 1..N, then `merge`, gives the files of the whole run —
//! every statistic equal field by field (the mean bit for bit), the same table and per-path CSV —
//! and a missing, duplicated, foreign or unfinished part is refused, naming it, with nothing written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn levylab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args(args)
        .output()
        .expect("run levylab")
}

/// Two variants (Brownian with censoring at the horizon, α-stable) on a flat interval and a double
/// well: exits on both sides, a censored share, exact and (with `paths` > 10⁶) sketched quantiles.
fn scenario(dir: &Path, paths: u64) -> PathBuf {
    let f = dir.join("split.toml");
    std::fs::write(
        &f,
        format!(
            "name = \"split\"\nseed = 11\npaths = {paths}\nhorizon = 6.0\n\
             [landscape]\nkind = \"quartic\"\nwidth = 1.0\nheight = 0.25\n\
             [noise]\nkind = \"brownian\"\nsigma = 0.7\n\
             [integrator]\nscheme = \"split\"\ndt = 0.01\n\
             [event]\nkind = \"interval\"\ndomain = [-1.6, 0.0]\nstart = -1.0\n\
             [[variants]]\nlabel = \"brownian\"\nsweep = {{ \"noise.sigma\" = [0.7, 0.5] }}\n\
             [[variants]]\nlabel = \"levy\"\nnoise = {{ kind = \"stable\", alpha = 1.5, epsilon = 0.2 }}\n"
        ),
    )
    .unwrap();
    f
}

fn run(f: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        f.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = levylab(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// summary.json of a merged run equals the whole run's, except wall times (which add up the parts').
fn assert_same_summary(whole: &Path, merged: &Path) {
    let (mut a, mut b) = (json(whole), json(merged));
    for s in [&mut a, &mut b] {
        for p in s["points"].as_array_mut().unwrap() {
            p.as_object_mut().unwrap().remove("wall_seconds");
        }
    }
    let (pa, pb) = (
        a["points"].as_array().unwrap(),
        b["points"].as_array().unwrap(),
    );
    assert_eq!(pa.len(), pb.len());
    for (x, y) in pa.iter().zip(pb) {
        for (k, v) in x.as_object().unwrap() {
            assert_eq!(v, &y[k], "point {}: field {k}", x["label"]);
        }
        // The mean bit for bit (JSON numbers print the shortest round-trip form).
        if let (Some(m), Some(n)) = (x["mean"].as_f64(), y["mean"].as_f64()) {
            assert_eq!(m.to_bits(), n.to_bits());
        }
    }
    assert_eq!(a, b);
}

#[test]
fn shards_merge_to_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let f = scenario(dir.path(), 3000);
    let whole = dir.path().join("whole");
    run(&f, &whole, &[]);
    let w = whole.join("split");
    let s = json(&w.join("summary.json"));
    // The scenario does what the test needs: censoring, exits on both sides.
    assert!(s["points"][0]["censored"].as_u64().unwrap() > 0, "{s}");
    assert!(s["points"].as_array().unwrap().iter().any(|p| {
        p["exit_right_fraction"]
            .as_f64()
            .is_some_and(|x| x > 0.0 && x < 1.0)
    }));
    for n in [1u64, 2, 3, 7] {
        let out = dir.path().join(format!("n{n}"));
        for k in 1..=n {
            // Thread counts differ between parts: results must not care.
            let threads = if k % 2 == 0 { "1" } else { "2" };
            run(
                &f,
                &out,
                &["--shard", &format!("{k}/{n}"), "--threads", threads],
            );
        }
        let d = out.join("split");
        assert!(!d.join("summary.json").exists(), "a part wrote a summary");
        let o = levylab(&["merge", d.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same_summary(&w.join("summary.json"), &d.join("summary.json"));
        for file in ["exit_times.csv", "table.txt"] {
            assert_eq!(
                std::fs::read(w.join(file)).unwrap(),
                std::fs::read(d.join(file)).unwrap(),
                "N = {n}: {file} differs"
            );
        }
        assert!(d.join("exit_times.png").exists());
    }
}

#[test]
fn sketched_statistics_merge_exactly_too() {
    // Over 10⁶ paths per point: quantiles from the histogram, no per-path CSV by default.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fast.toml");
    std::fs::write(
        &f,
        "name = \"fast\"\nseed = 5\npaths = 1200000\nhorizon = 1.0\n[landscape]\nkind = \"flat\"\n\
         [noise]\nkind = \"brownian\"\nsigma = 1.0\n[integrator]\nscheme = \"euler\"\ndt = 0.001\n\
         [event]\nkind = \"interval\"\ndomain = [-0.1, 0.1]\nstart = 0.0\n",
    )
    .unwrap();
    let whole = dir.path().join("whole");
    run(&f, &whole, &[]);
    let w = whole.join("fast");
    let s = json(&w.join("summary.json"));
    assert_eq!(s["points"][0]["quantiles_exact"], false);
    assert_eq!(s["exit_times_csv"], false);
    let out = dir.path().join("parts");
    for k in 1..=3 {
        run(&f, &out, &["--shard", &format!("{k}/3")]);
    }
    let d = out.join("fast");
    let o = levylab(&["merge", d.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_summary(&w.join("summary.json"), &d.join("summary.json"));
    assert!(!d.join("exit_times.csv").exists());
}

/// Runs parts 1..=3 of 3 into `out` (with `seed` overriding the file's), returns the shard dir.
fn three_parts(f: &Path, out: &Path, seed: &str) -> PathBuf {
    for k in 1..=3 {
        run(f, out, &["--shard", &format!("{k}/3"), "--seed", seed]);
    }
    out.join("split/shards")
}

fn refused(dir: &Path, needle: &str) {
    let o = levylab(&["merge", dir.parent().unwrap().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        !dir.parent().unwrap().join("summary.json").exists(),
        "a refused merge wrote a summary"
    );
}

#[test]
fn missing_duplicated_foreign_and_unfinished_parts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = scenario(dir.path(), 300);

    let a = three_parts(&f, &dir.path().join("a"), "11");
    std::fs::remove_file(a.join("part-2-of-3.json")).unwrap();
    refused(&a, "missing 1 of 3 parts: part-2-of-3.json");

    let b = three_parts(&f, &dir.path().join("b"), "11");
    std::fs::copy(
        b.join("part-1-of-3.json"),
        b.join("part-1-of-3 (copy).json"),
    )
    .unwrap();
    refused(
        &b,
        "duplicated: part 1/3 in part-1-of-3 (copy).json and part-1-of-3.json",
    );

    // A part of another seed (the same scenario otherwise) does not belong.
    let c = three_parts(&f, &dir.path().join("c"), "11");
    let other = three_parts(&f, &dir.path().join("other"), "12");
    std::fs::copy(other.join("part-3-of-3.json"), c.join("part-3-of-3.json")).unwrap();
    refused(
        &c,
        "part-3-of-3.json does not belong with part-1-of-3.json (seed 12 vs 11)",
    );

    // A part of another split.
    let d = three_parts(&f, &dir.path().join("d"), "11");
    run(
        &f,
        &dir.path().join("d"),
        &["--shard", "1/2", "--seed", "11"],
    );
    refused(&d, "(N = 3 vs N = 2)");

    // A part whose file was cut short (as by a crash before the atomic rename could not be).
    let e = three_parts(&f, &dir.path().join("e"), "11");
    let text = std::fs::read_to_string(e.join("part-2-of-3.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["points"].as_array_mut().unwrap().pop();
    std::fs::write(e.join("part-2-of-3.json"), v.to_string()).unwrap();
    refused(&e, "part-2-of-3.json: unfinished (2 of 3 points)");

    // Not a shard at all.
    let g = three_parts(&f, &dir.path().join("g"), "11");
    std::fs::write(g.join("part-1-of-3.json"), "{}").unwrap();
    refused(&g, "part-1-of-3.json: not a levylab shard");

    // Bad --shard values.
    for bad in ["0/3", "4/3", "1/0", "x", "1-3"] {
        let o = levylab(&["run", f.to_str().unwrap(), "--shard", bad, "--quiet"]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("--shard: a part is K/N with 1 <= K <= N"),
            "{err}"
        );
    }
}

#[test]
fn the_library_entry_point_runs_a_file_and_reports_one_error_type() {
    let dir = tempfile::tempdir().unwrap();
    let f = scenario(dir.path(), 200);
    let out = dir.path().join("lib");
    let (res, figure) = levylab::experiment::run_file(&f, &out).unwrap();
    assert!(figure.is_none());
    assert_eq!(res.summary.points.len(), 3);
    assert!(out.join("split/summary.json").exists());
    // The same summary as the command line writes.
    let cli = dir.path().join("cli");
    run(&f, &cli, &[]);
    assert_same_summary(
        &cli.join("split/summary.json"),
        &out.join("split/summary.json"),
    );
    let missing = dir.path().join("missing.toml");
    let err = levylab::experiment::run_file(&missing, &out).unwrap_err();
    assert!(matches!(err, levylab::Error::Config(_)), "{err:?}");
    assert!(
        err.to_string().contains("missing.toml: cannot read"),
        "{err}"
    );
}
