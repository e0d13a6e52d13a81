//! Scenario files: the shipped ones validate and run; bad ones fail with one exact line and exit 2,
//! writing nothing; random mutations never panic; Ctrl-C keeps finished work.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::RngExt;

fn levylab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args(args)
        .output()
        .expect("run levylab")
}

fn shipped() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
    v.sort();
    v
}

fn is_training_config(f: &Path) -> bool {
    let t: toml::Table = toml::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
    t.contains_key("model") && t.contains_key("train")
}

/// Runs levylab in `cwd` (the α hand-off reads `results/...` relative to it).
fn levylab_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_levylab"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run levylab")
}

#[test]
fn every_shipped_scenario_validates_and_runs_with_few_paths() {
    let files = shipped();
    assert!(files.len() >= 8, "{files:?}");
    let cwd = tempfile::tempdir().unwrap();
    // The hand-off scenario reads α from a training summary: make one (a short training run).
    let train_cfg = files
        .iter()
        .find(|f| f.ends_with("train-digits.toml"))
        .unwrap();
    let o = levylab_in(
        cwd.path(),
        &[
            "train",
            train_cfg.to_str().unwrap(),
            "--iterations",
            "30",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args: Vec<&str> = std::iter::once("validate")
        .chain(files.iter().map(|f| f.to_str().unwrap()))
        .collect();
    let o = levylab_in(cwd.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = cwd.path().join("out");
    for f in files.iter().filter(|f| !is_training_config(f)) {
        let o = levylab_in(
            cwd.path(),
            &[
                "run",
                f.to_str().unwrap(),
                "--paths",
                "16",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(
            o.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let s = {
            let _guard = CwdGuard::enter(cwd.path());
            levylab::scenario::load(f).unwrap()
        };
        let dir = out.join(&s.name);
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["scenario"], s.name.as_str());
        assert_eq!(summary["interrupted"], false);
        assert_eq!(summary["complete"], true);
        assert_eq!(summary["points_total"], s.points.len());
        let points = summary["points"].as_array().unwrap();
        assert_eq!(points.len(), s.points.len());
        for p in points {
            for key in [
                "label",
                "params",
                "paths",
                "exited",
                "censored",
                "non_finite",
                "mean",
                "mean_se",
                "median",
                "steps",
                "wall_seconds",
                "theory",
            ] {
                assert!(p.get(key).is_some(), "{}: point lacks {key}", f.display());
            }
            if p["mean_estimator"] == "ams" {
                // Adaptive multilevel splitting: no direct paths; its own counts.
                assert_eq!(p["paths"], 0);
                assert!(p["ams"]["iterations"].as_u64().unwrap() > 0, "{p}");
                continue;
            }
            assert_eq!(p["paths"], 16);
            let n = p["exited"].as_u64().unwrap()
                + p["censored"].as_u64().unwrap()
                + p["non_finite"].as_u64().unwrap();
            assert_eq!(n, 16, "no path is dropped");
        }
        if f.ends_with("levy-from-training.toml") {
            let src = points[0]["noise"]["alpha_source"].as_str().unwrap();
            assert!(
                src.contains("results/train-digits/summary.json run 0"),
                "{src}"
            );
        }
        // One row per direct path (AMS points have none).
        let direct = s.points.iter().filter(|p| p.rare_event.is_none()).count();
        let csv = std::fs::read_to_string(dir.join("exit_times.csv")).unwrap();
        assert_eq!(csv.lines().count(), 1 + 16 * direct);
        let png = std::fs::read(dir.join("exit_times.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let table = String::from_utf8_lossy(&o.stdout);
        assert!(table.lines().count() >= 2 + s.points.len(), "{table}");
    }
}

/// Sets the process's current directory for the α hand-off paths and restores it; a mutex keeps
/// tests of this binary from racing on the process-wide directory.
struct CwdGuard {
    old: PathBuf,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl CwdGuard {
    fn enter(dir: &Path) -> Self {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let old = std::env::current_dir().unwrap();
        std::env::set_current_dir(dir).unwrap();
        CwdGuard { old, _lock: lock }
    }
}

impl Drop for CwdGuard {
    fn drop(&mut self) {
        let _ = std::env::set_current_dir(&self.old);
    }
}

/// `run` overrides and the table put theory beside Monte Carlo: Getoor is exact, so every point
/// must agree within 4 SE plus the 0.7 % discrete-monitoring bias measured in tests/it/engine.rs.
#[test]
fn getoor_scenario_agrees_with_the_exact_formula() {
    let out = tempfile::tempdir().unwrap();
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/getoor.toml");
    let o = levylab(&[
        "run",
        f.to_str().unwrap(),
        "--paths",
        "3000",
        "--seed",
        "4",
        "--threads",
        "2",
        "--quiet",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("getoor/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["seed"], 4);
    for p in summary["points"].as_array().unwrap() {
        let (m, se, g) = (
            p["mean"].as_f64().unwrap(),
            p["mean_se"].as_f64().unwrap(),
            p["theory"]["getoor"].as_f64().unwrap(),
        );
        assert!(
            (m - g).abs() < 4.0 * se + 0.007 * g,
            "{}: {m} ± {se} vs Getoor {g}",
            p["label"]
        );
    }
}

const BASE: &str = r#"name = "t"
seed = 1
paths = 10
horizon = 100.0

[landscape]
kind = "quartic"
width = 1.0
height = 0.25

[noise]
kind = "stable"
alpha = 1.5
epsilon = 0.1

[integrator]
scheme = "split"
dt = 0.01

[event]
kind = "transition"
start = -1.0
"#;

/// (description, file text, exact error line after "levylab: FILE").
fn bad_files() -> Vec<(&'static str, String, &'static str)> {
    let r = |from: &str, to: &str| {
        assert!(BASE.contains(from), "{from}");
        BASE.replacen(from, to, 1)
    };
    vec![
        (
            "unknown key",
            r("seed = 1", "seed = 1\nbogus = 3"),
            ":3:1: unknown field `bogus`, expected one of `name`, `description`, `seed`, `paths`, `horizon`, `landscape`, `noise`, `integrator`, `event`, `sgd`, `output`, `rare_event`, `sweep`, `variants`",
        ),
        (
            "missing paths",
            r("paths = 10\n", ""),
            ":1:1: missing field `paths`",
        ),
        (
            "alpha too large",
            r("alpha = 1.5", "alpha = 2.5"),
            ":13:1: noise.alpha must be in (0, 2], got 2.5",
        ),
        (
            "alpha NaN",
            r("alpha = 1.5", "alpha = nan"),
            ":13:1: noise.alpha must be in (0, 2], got NaN",
        ),
        (
            "beta",
            r("alpha = 1.5", "alpha = 1.5\nbeta = 1.5"),
            ":14:1: noise.beta must be in [-1, 1], got 1.5",
        ),
        (
            "epsilon negative",
            r("epsilon = 0.1", "epsilon = -0.1"),
            ":14:1: noise.epsilon must be finite and > 0, got -0.1",
        ),
        (
            "dt zero",
            r("dt = 0.01", "dt = 0.0"),
            ":18:1: integrator.dt must be finite and > 0, got 0",
        ),
        (
            "dt above horizon",
            r("dt = 0.01", "dt = 200.0"),
            ":18:1: integrator.dt must be below the horizon 100, got 200",
        ),
        (
            "zero paths",
            r("paths = 10", "paths = 0"),
            ":3:1: paths must be >= 1, got 0",
        ),
        (
            "negative width",
            r("width = 1.0", "width = -1.0"),
            ":8:1: landscape.width must be finite and > 0, got -1",
        ),
        (
            "wrong type",
            r("height = 0.25", "height = \"high\""),
            ":9:1: landscape.height expected f64, got string \"high\"",
        ),
        (
            "unknown landscape",
            r("kind = \"quartic\"", "kind = \"sextic\""),
            ":7:1: landscape.kind expected one of `quartic`, `tilted`, `asymmetric`, `piecewise-quadratic`, `polynomial`, `quadratic`, `flat`, `separable`, `wells`, `muller-brown`, got \"sextic\"",
        ),
        (
            "unknown scheme",
            r("scheme = \"split\"", "scheme = \"rk4\""),
            ":17:1: integrator.scheme expected one of `euler`, `implicit`, `tamed`, `split`, got \"rk4\"",
        ),
        (
            "split without flow",
            r(
                "kind = \"quartic\"\nwidth = 1.0\nheight = 0.25",
                "kind = \"polynomial\"\ncoefficients = [0.0, 0.0, -0.5, 0.0, 0.25]",
            ),
            ":16:1: integrator.scheme \"split\" needs an exact drift flow, which the polynomial landscape does not have; use \"implicit\" or \"tamed\"",
        ),
        (
            "implicit with large dt",
            r(
                "scheme = \"split\"\ndt = 0.01",
                "scheme = \"implicit\"\ndt = 2.0",
            ),
            ":17:1: integrator.scheme \"implicit\" needs dt·max(−U″) < 1 for a unique solution, got dt = 2 with max(−U″) = 1",
        ),
        (
            "start on the saddle",
            r("start = -1.0", "start = 0.0"),
            ":22:1: event.start 0 lies on a saddle, not inside a basin",
        ),
        (
            "transition in a single well",
            r(
                "kind = \"quartic\"\nwidth = 1.0\nheight = 0.25",
                "kind = \"quadratic\"\ncurvature = 1.0",
            ),
            ":20:1: event.kind \"transition\" needs a landscape with at least two minima",
        ),
        (
            "start outside the domain",
            r(
                "kind = \"transition\"\nstart = -1.0",
                "kind = \"interval\"\ndomain = [-0.5, 0.5]\nstart = 2.0",
            ),
            ":23:1: event.start 2 is not inside the domain (-0.5, 0.5)",
        ),
        (
            "sweep of a missing field",
            format!("{BASE}\n[sweep]\n\"noise.epsilonn\" = [0.1, 0.2]\n"),
            ":25:1: sweep.\"noise.epsilonn\" does not name a field of this scenario (no `epsilonn` in `noise`)",
        ),
        (
            "sweep to an invalid value",
            format!("{BASE}\n[sweep]\n\"noise.epsilon\" = [0.1, -0.2]\n"),
            ":25:1: noise.epsilon must be finite and > 0, got -0.2 (at sweep point noise.epsilon = -0.2)",
        ),
        (
            "variant without label",
            format!("{BASE}\n[[variants]]\nnoise = {{ kind = \"brownian\", sigma = 0.5 }}\n"),
            ":24:1: variants[0].label is required for every [[variants]] entry",
        ),
        (
            "bad variant value",
            format!(
                "{BASE}\n[[variants]]\nlabel = \"b\"\nnoise = {{ kind = \"brownian\", sigma = -0.5 }}\n"
            ),
            ":26:30: variants[0].noise.sigma must be finite and > 0, got -0.5",
        ),
        (
            "tilt too large",
            r("height = 0.25", "height = 0.25\ntilt = 1.0").replacen(
                "kind = \"quartic\"",
                "kind = \"tilted\"",
                1,
            ),
            ":6:1: landscape (kind \"tilted\"): tilt must satisfy |tilt| < 8·height/(3√3·width) = 0.384900 to keep two wells, got 1",
        ),
        (
            "TOML syntax",
            r("seed = 1", "seed = = 1"),
            ":2:8: extra `=`, expected nothing",
        ),
    ]
}

#[test]
fn bad_scenarios_fail_with_one_exact_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases = bad_files();
    assert!(cases.len() >= 15);
    for (i, (what, text, want)) in cases.into_iter().enumerate() {
        let f = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&f, &text).unwrap();
        let out = dir.path().join(format!("out{i}"));
        for cmd in ["validate", "run"] {
            let o = levylab(
                &[cmd, f.to_str().unwrap(), "--out", out.to_str().unwrap()]
                    .into_iter()
                    .take(if cmd == "run" { 4 } else { 2 })
                    .collect::<Vec<_>>(),
            );
            assert_eq!(o.status.code(), Some(2), "{what} ({cmd})");
            let err = String::from_utf8_lossy(&o.stderr);
            let first = err.lines().next().unwrap_or("");
            assert_eq!(
                first,
                format!("levylab: {}{want}", f.display()),
                "{what} ({cmd})"
            );
            if cmd == "run" {
                assert_eq!(err.lines().count(), 1, "{what}: one line, got {err}");
                assert!(!out.exists(), "{what}: nothing may be written");
            }
        }
    }
}

/// Random mutations of the shipped files (character edits, number swaps to hostile values, line
/// shuffles): the parser returns Ok or a one-line error, never panics.
#[test]
fn mutated_scenarios_never_panic() {
    let hostile = [
        "nan",
        "inf",
        "-inf",
        "0",
        "-1",
        "1e308",
        "1e-320",
        "2.0000001",
        "\"x\"",
        "[]",
        "{}",
        "-0.0",
        "9999999999999999999",
    ];
    let mut r = levylab::rng::stream(2024, 0);
    let mut parsed = 0;
    for f in shipped() {
        let src = std::fs::read_to_string(&f).unwrap();
        for _ in 0..150 {
            let mut s: Vec<char> = src.chars().collect();
            match r.random_range(0..4) {
                0 => {
                    let i = r.random_range(0..s.len());
                    s.remove(i);
                }
                1 => {
                    let i = r.random_range(0..s.len());
                    s.insert(
                        i,
                        ['=', '[', ']', '"', '.', '-', '1', '\n', '{', ','][r.random_range(0..10)],
                    );
                }
                _ => {
                    // Replace one numeric token with a hostile value.
                    let text: String = s.iter().collect();
                    let nums: Vec<(usize, usize)> = text
                        .match_indices(|c: char| c.is_ascii_digit())
                        .map(|(i, _)| i)
                        .filter(|&i| {
                            i == 0
                                || !text.as_bytes()[i - 1].is_ascii_alphanumeric()
                                    && text.as_bytes()[i - 1] != b'.'
                        })
                        .map(|i| {
                            (
                                i,
                                text[i..]
                                    .find(|c: char| {
                                        !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-')
                                    })
                                    .map_or(text.len(), |e| i + e),
                            )
                        })
                        .collect();
                    if nums.is_empty() {
                        continue;
                    }
                    let (a, b) = nums[r.random_range(0..nums.len())];
                    let t = format!(
                        "{}{}{}",
                        &text[..a],
                        hostile[r.random_range(0..hostile.len())],
                        &text[b..]
                    );
                    s = t.chars().collect();
                }
            }
            let text: String = s.into_iter().collect();
            let res = std::panic::catch_unwind(|| {
                levylab::scenario::parse(&text, Path::new("mutant.toml"))
            });
            match res {
                Ok(Ok(_)) => parsed += 1,
                Ok(Err(e)) => assert!(!e.to_string().contains('\n'), "multi-line error: {e}"),
                Err(_) => panic!("parser panicked on:\n{text}"),
            }
        }
    }
    assert!(parsed > 0, "some mutations stay valid");
}

/// Ctrl-C: the running point is written with unfinished paths censored where they were, finished
/// points are kept, `interrupted` is true, and the exit code is 130. An unfinished run stays in
/// t.partial/: nothing is published as t/.
#[test]
fn sigint_keeps_finished_work() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("long.toml");
    let long = BASE
        .replace("paths = 10", "paths = 400000")
        .replace("horizon = 100.0", "horizon = 1e6")
        .replace("epsilon = 0.1", "epsilon = 0.05")
        + "\n[sweep]\n\"noise.epsilon\" = [0.5, 0.05]\n";
    std::fs::write(&f, long).unwrap();
    let out = dir.path().join("res");
    let child = Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args([
            "run",
            f.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first (fast) point is saved, then interrupt during the second.
    let summary = out.join("t.partial/summary.json");
    let t0 = std::time::Instant::now();
    while !summary.exists() && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(summary.exists(), "first point never finished");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(v["interrupted"], true);
    assert_eq!(v["complete"], false);
    let points = v["points"].as_array().unwrap();
    assert_eq!(
        points.len(),
        2,
        "the finished point and the interrupted one"
    );
    let table = std::fs::read_to_string(out.join("t.partial/table.txt")).unwrap();
    assert!(
        table.ends_with("incomplete: 2 of 2 points (interrupted)\n"),
        "{table}"
    );
    assert_eq!(points[0]["censored"], 0);
    let last = &points[1];
    assert_eq!(last["paths"], 400_000, "no path dropped");
    assert!(last["censored"].as_u64().unwrap() > 0);
    let csv = std::fs::read_to_string(out.join("t.partial/exit_times.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 400_000);
    assert!(String::from_utf8_lossy(&o.stderr).contains("interrupted: 2 of 2 points saved"));
    assert!(!out.join("t").exists(), "an unfinished run was published");
    // The checkpoint holds the finished point alone: the interrupted one runs again on --resume.
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("t.partial/checkpoint.json")).unwrap())
            .unwrap();
    assert_eq!(c["points"].as_array().unwrap().len(), 1);
}

/// A heavily censored point: summary.json carries the restricted mean, equal to the mean of
/// min(τᵢ, T) recomputed here from exit_times.csv, and flags the exponential MLE; the table marks
/// it `(mle!)`. Free α = 1.5 motion in (−1, 1) (Getoor: 23.79) with horizon 15: ≈ 58 % censored.
#[test]
fn censored_points_report_the_restricted_mean_and_flag_the_mle() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    std::fs::write(
        &f,
        "name = \"c\"\nseed = 3\npaths = 400\nhorizon = 15.0\n[landscape]\nkind = \"flat\"\n\
         [noise]\nkind = \"stable\"\nalpha = 1.5\nepsilon = 0.1\n[integrator]\nscheme = \"euler\"\n\
         dt = 0.01\n[event]\nkind = \"interval\"\ndomain = [-1.0, 1.0]\nstart = 0.0\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = levylab(&[
        "run",
        f.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("(mle!)") && table.contains("rmean(L)"),
        "{table}"
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("c/summary.json")).unwrap())
            .unwrap();
    let p = &s["points"][0];
    let csv = std::fs::read_to_string(out.join("c/exit_times.csv")).unwrap();
    let times: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse::<f64>().unwrap())
        .collect();
    assert_eq!(times.len(), 400);
    let horizon = p["restricted_horizon"].as_f64().unwrap();
    let want = times.iter().map(|t| t.min(horizon)).sum::<f64>() / 400.0;
    let got = p["restricted_mean"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
    assert!(got < 23.79 && p["restricted_mean_se"].as_f64().unwrap() > 0.0);
    assert_eq!(p["mle_reliable"], false);
    assert!(p["mle_warning"].as_str().unwrap().contains("censored"));
    assert!(p["censored_fraction"].as_f64().unwrap() > 0.3);
}

/// `[output] exit_times` decides whether exit_times.csv is written; by default it is written only
/// when a point has at most 10⁶ paths, and a stale file from an earlier run is removed.
#[test]
fn per_path_output_is_written_only_when_asked_or_small() {
    let dir = tempfile::tempdir().unwrap();
    let base = "name = \"o\"\nseed = 1\npaths = 50\nhorizon = 5.0\n[landscape]\nkind = \"flat\"\n\
                [noise]\nkind = \"brownian\"\nsigma = 20.0\n[integrator]\nscheme = \"euler\"\n\
                dt = 0.001\n[event]\nkind = \"interval\"\ndomain = [-1.0, 1.0]\nstart = 0.0\n";
    let out = dir.path().join("out");
    let run = |text: &str, extra: &[&str]| {
        let f = dir.path().join("o.toml");
        std::fs::write(&f, text).unwrap();
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
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("o/summary.json")).unwrap())
                .unwrap();
        (
            out.join("o/exit_times.csv").exists(),
            s["exit_times_csv"].as_bool().unwrap(),
        )
    };
    assert_eq!(run(base, &[]), (true, true));
    assert_eq!(
        run(&format!("{base}[output]\nexit_times = false\n"), &[]),
        (false, false)
    );
    assert_eq!(
        run(&format!("{base}[output]\nexit_times = true\n"), &[]),
        (true, true)
    );
    // Over 10⁶ paths per point: off by default (these paths end within a few steps).
    assert_eq!(run(base, &["--paths", "1000001"]), (false, false));
    // A wrong type is located and named.
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, format!("{base}[output]\nexit_times = \"yes\"\n")).unwrap();
    let o = levylab(&["validate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bad.toml:18") && e.contains("exit_times"), "{e}");
}
