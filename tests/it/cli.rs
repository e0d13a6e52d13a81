//! End-to-end tests of the `levylab` binary: `sample` and `estimate`, outputs and error messages.

use std::path::Path;
use std::process::{Command, Output};

fn levylab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args(args)
        .output()
        .expect("run levylab")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn sample_text_and_npy_agree_and_are_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("x.txt");
    let npy = dir.path().join("x.npy");
    for out in [&txt, &npy] {
        let o = levylab(&[
            "sample",
            "--alpha",
            "1.5",
            "--beta",
            "-0.3",
            "-n",
            "70000",
            "--seed",
            "5",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let a = levylab::io::read_samples(&txt, None).unwrap();
    let b = levylab::io::read_samples(&npy, None).unwrap();
    assert_eq!(a.len(), 70_000);
    assert_eq!(a, b, "text is written with round-trip precision");
    // Same numbers as the library's draw (chunked streams), so stdout, files and library agree.
    let law = levylab::noise::Stable::new(1.5, -0.3, 1.0, 0.0, levylab::noise::Param::S1).unwrap();
    assert_eq!(a, levylab::noise::draw(&law, 70_000, 5));
    let o = levylab(&["sample", "--alpha", "1.5", "-n", "3", "--seed", "5"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
}

#[test]
fn estimate_json_has_one_entry_per_estimator() {
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("s.npy");
    let o = levylab(&[
        "sample",
        "--alpha",
        "1.2",
        "-n",
        "250000",
        "--seed",
        "1",
        "--out",
        npy.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let o = levylab(&[
        "estimate",
        npy.to_str().unwrap(),
        "--json",
        "--bootstrap",
        "20",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for name in ["paper", "hill", "mcculloch"] {
        let e = &v[name];
        let a = e["alpha"].as_f64().unwrap();
        assert!((a - 1.2).abs() < 0.1, "{name}: {a}");
        assert!(e["ci_low"].as_f64().unwrap() <= a && a <= e["ci_high"].as_f64().unwrap());
        assert_eq!(e["n"], 250_000);
    }
    assert_eq!(v["paper"]["k1"], 500);
    assert_eq!(v["paper"]["k2"], 500);
    assert!(v["hill"]["k"].is_u64());
    assert!(v["mcculloch"]["beta"].is_f64());
    let o = levylab(&[
        "estimate",
        npy.to_str().unwrap(),
        "--estimator",
        "paper",
        "--bootstrap",
        "0",
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("paper") && table.contains("K1 = 500") && !table.contains("hill"),
        "{table}"
    );
}

/// The paper's formula, computed here independently on an f32 `.npy` written byte by byte as numpy
/// does (shape (40, 25), C order): `levylab estimate --estimator paper` must agree to 1e-9 relative.
#[test]
fn estimate_paper_matches_formula_on_f32_npy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.npy");
    let vals: Vec<f32> = (0..1000)
        .map(|i| ((i as f32) * 0.7).sin() * (1.0 + (i % 7) as f32))
        .collect();
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (40, 25), }";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let pad = (64 - (10 + header.len() + 1) % 64) % 64;
    bytes.extend_from_slice(&((header.len() + pad + 1) as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(std::iter::repeat_n(b' ', pad));
    bytes.push(b'\n');
    for v in &vals {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(&path, bytes).unwrap();
    let o = levylab(&[
        "estimate",
        path.to_str().unwrap(),
        "--estimator",
        "paper",
        "--json",
        "--bootstrap",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // K1 = largest divisor of 1000 ≤ √1000 = 25, K2 = 40.
    let xs: Vec<f64> = vals.iter().map(|&v| v as f64).collect();
    let eps = f64::EPSILON;
    let lx = xs.iter().map(|x| (x.abs() + eps).ln()).sum::<f64>() / 1000.0;
    let ly = (0..40)
        .map(|b| (xs[b * 25..b * 25 + 25].iter().sum::<f64>().abs() + eps).ln())
        .sum::<f64>()
        / 40.0;
    let want = 25f64.ln() / (ly - lx);
    let got = v["paper"]["alpha"].as_f64().unwrap();
    assert!(((got - want) / want).abs() < 1e-9, "{got} vs {want}");
}

#[test]
fn csv_column_by_name_and_index() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.csv");
    let mut s = String::from("# gradients\nstep,grad\n");
    for i in 0..400 {
        s += &format!("{i},{}\n", ((i * 37 % 101) as f64 - 50.0) / 7.0);
    }
    std::fs::write(&p, s).unwrap();
    let by_name = levylab(&[
        "estimate",
        p.to_str().unwrap(),
        "--column",
        "grad",
        "--json",
        "--bootstrap",
        "0",
    ]);
    assert!(by_name.status.success(), "{}", stderr(&by_name));
    let o = levylab(&[
        "estimate",
        p.to_str().unwrap(),
        "--json",
        "--bootstrap",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "levylab: {}:2: has 2 comma-separated fields; choose one with --column",
            p.display()
        )
    );
}

#[test]
fn clear_errors_with_exit_code_two() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let missing = d.join("nope.txt");
    let bad = d.join("bad.txt");
    std::fs::write(&bad, "1.0\n2.5\n\nabc\n").unwrap();
    let ints = d.join("i.npy");
    let header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(&[0; 8]);
    std::fs::write(&ints, b).unwrap();
    let nan = d.join("nan.txt");
    std::fs::write(
        &nan,
        (0..100)
            .map(|i| {
                if i == 42 {
                    "NaN\n".into()
                } else {
                    format!("{i}\n")
                }
            })
            .collect::<String>(),
    )
    .unwrap();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["estimate".into(), missing.display().to_string()],
            format!(
                "levylab: cannot read {}: No such file or directory (os error 2)",
                missing.display()
            ),
        ),
        (
            vec!["estimate".into(), bad.display().to_string()],
            format!(
                "levylab: {}:4: cannot parse \"abc\" as a number",
                bad.display()
            ),
        ),
        (
            vec!["estimate".into(), ints.display().to_string()],
            format!(
                "levylab: {}: unsupported dtype \"<i4\": levylab reads float32 and float64 arrays",
                ints.display()
            ),
        ),
        (
            vec![
                "estimate".into(),
                nan.display().to_string(),
                "--estimator".into(),
                "hill".into(),
            ],
            format!("levylab: {}:43: not a finite number: NaN", nan.display()),
        ),
        (
            vec![
                "sample".into(),
                "--alpha".into(),
                "2.5".into(),
                "-n".into(),
                "3".into(),
            ],
            "levylab: stability index alpha must be in (0, 2], got 2.5".into(),
        ),
        (
            vec![
                "sample".into(),
                "--alpha".into(),
                "1.5".into(),
                "--beta".into(),
                "-2".into(),
                "-n".into(),
                "3".into(),
            ],
            "levylab: skewness beta must be in [-1, 1], got -2".into(),
        ),
        (
            vec![
                "sample".into(),
                "--alpha".into(),
                "NaN".into(),
                "-n".into(),
                "3".into(),
            ],
            "levylab: stability index alpha must be in (0, 2], got NaN".into(),
        ),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = levylab(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o).trim(), want, "{args:?}");
        assert!(o.stdout.is_empty());
    }
    assert!(!Path::new(&missing).exists());
}

/// Printing into a closed pipe (`levylab sample … | head -1`) ends the process quietly, by SIGPIPE
/// as for other command-line tools, instead of a panic message.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args(["sample", "--alpha", "1.5", "-n", "2000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.status.success());
}

/// Non-finite values are refused by the reader with the file and line (text) or element (.npy).
#[test]
fn non_finite_values_are_refused_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("data.txt");
    std::fs::write(&t, "1\nnan\n2\n3\n4\n").unwrap();
    let o = levylab(&["estimate", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("data.txt:2: not a finite number: nan"),
        "{}",
        stderr(&o)
    );
    let t = dir.path().join("inf.txt");
    std::fs::write(&t, "1\n2\n3\n4\ninf\n").unwrap();
    let o = levylab(&["estimate", t.to_str().unwrap()]);
    assert!(
        stderr(&o).contains("inf.txt:5: not a finite number: inf"),
        "{}",
        stderr(&o)
    );
    let n = dir.path().join("x.npy");
    let mut xs = vec![1.0; 30];
    xs[17] = f64::NEG_INFINITY;
    std::fs::write(&n, levylab::io::write_npy_f64(&xs)).unwrap();
    let o = levylab(&["estimate", n.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("element 17"), "{}", stderr(&o));
}

/// `--estimator all` reports what it can: with 6 samples only the paper estimator runs, the others
/// carry their reason (exit 0); with only zeros none runs (exit 2, every reason on the line).
#[test]
fn estimate_all_reports_each_estimator_or_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let six = dir.path().join("six.npy");
    std::fs::write(
        &six,
        levylab::io::write_npy_f64(&[1.0, -2.0, 3.5, 0.2, -7.0, 1.1]),
    )
    .unwrap();
    let o = levylab(&["estimate", six.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["paper"]["alpha"].as_f64().is_some());
    assert!(
        v["hill"]["error"]
            .as_str()
            .unwrap()
            .contains("need at least 20 samples")
    );
    let o = levylab(&["estimate", six.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("not computed: need at least 20"));
    let zeros = dir.path().join("zeros.npy");
    std::fs::write(&zeros, levylab::io::write_npy_f64(&[0.0; 100])).unwrap();
    let o = levylab(&["estimate", zeros.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("paper estimator: degenerate sample: every sample is exactly zero"),
        "{e}"
    );
    assert!(
        e.contains("hill estimator") && e.contains("mcculloch estimator"),
        "{e}"
    );
}

/// The paper estimator's interval comes from resampling whole blocks, so it contains the point
/// estimate on the ordered data where an i.i.d. resample did not (6×10 Fortran array of 1…60,
/// K1 = 6: α̂ = 0.990, the i.i.d. interval was [0.835, 0.923]).
#[test]
fn paper_interval_contains_its_estimate_on_ordered_data() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.npy");
    // Column-major bytes of the 6×10 matrix [[1..10], [11..20], …]: row-major reading gives 1…60.
    let header = "{'descr': '<f8', 'fortran_order': True, 'shape': (6, 10), }";
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    for c in 0..10 {
        for r in 0..6 {
            b.extend_from_slice(&((r * 10 + c + 1) as f64).to_le_bytes());
        }
    }
    std::fs::write(&f, b).unwrap();
    let o = levylab(&[
        "estimate",
        f.to_str().unwrap(),
        "--k1",
        "6",
        "--estimator",
        "paper",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (a, lo, hi) = (
        v["paper"]["alpha"].as_f64().unwrap(),
        v["paper"]["ci_low"].as_f64().unwrap(),
        v["paper"]["ci_high"].as_f64().unwrap(),
    );
    assert!((a - 0.9896).abs() < 1e-3, "{a}");
    assert!(lo <= a && a <= hi, "[{lo}, {hi}] excludes {a}");
}
