//! Fashion-MNIST where it is installed (Debian's `dataset-fashion-mnist`, or `LEVYLAB_FASHION_MNIST`
//! pointing at a directory with the four gzip IDX files); elsewhere each test says it skipped and
//! passes. `.ci/run` installs the package, so CI runs them.

use std::path::PathBuf;
use std::process::Command;

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("LEVYLAB_FASHION_MNIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(levylab::figures::fashion::DEFAULT_DIR));
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no Fashion-MNIST in {} (apt-get install dataset-fashion-mnist)",
            dir.display()
        );
        None
    }
}

/// The data set reads as 60 000 + 10 000 images of 28×28 in 10 classes, 6000 of each class in
/// the training set (the published counts).
#[test]
fn fashion_mnist_reads_with_its_published_counts() {
    let Some(dir) = data_dir() else { return };
    let (tr, te) = levylab::figures::fashion::load(&dir, false).unwrap();
    assert_eq!((tr.len(), te.len()), (60_000, 10_000));
    assert_eq!((tr.dim, tr.classes, tr.image), (784, 10, Some((28, 28))));
    let mut counts = [0usize; 10];
    for &y in &tr.y {
        counts[y as usize] += 1;
    }
    assert_eq!(counts, [6000; 10]);
}

/// `levylab figures --dataset fashion-mnist --quick` trains on the first 6000 images and writes
/// the eight figures with their JSON, every paper estimate in (0, 2.5), every share of
/// coordinates rejected as Gaussian in [0, 1].
#[test]
fn quick_fashion_mnist_figures_are_written() {
    let Some(dir) = data_dir() else { return };
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args(["figures", "--dataset", "fashion-mnist", "--quick", "--out"])
        .arg(out.path())
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for name in levylab::figures::fashion::NAMES {
        let base = out.path().join("fashion-mnist").join(name);
        assert!(base.with_extension("png").is_file(), "{name}.png");
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(base.with_extension("json")).unwrap()).unwrap();
        for panel in v["panels"].as_array().unwrap() {
            for trace in panel["traces"].as_array().unwrap() {
                if trace["label"] == "Anderson–Darling, Benjamini–Hochberg 5 %" {
                    let pts = trace["markers"].as_array().unwrap();
                    assert!(!pts.is_empty(), "{name}: no Gaussianity points");
                    for m in pts {
                        let share = m[1].as_f64().unwrap();
                        assert!((0.0..=1.0).contains(&share), "{name}: share {share}");
                    }
                }
                if trace["label"] == "paper's estimator (95 % CI)" {
                    for m in trace["markers"].as_array().unwrap() {
                        let a = m[1].as_f64().unwrap();
                        assert!(a > 0.0 && a < 2.5, "{name}: alpha {a}");
                    }
                }
            }
        }
    }
    let wd: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.path().join("fashion-mnist/alpha-width-depth.json")).unwrap(),
    )
    .unwrap();
    assert!(wd["caption"].as_str().unwrap().contains("6000 train"));
}

/// A missing data directory is one clear line and a non-zero exit.
#[test]
fn a_missing_data_directory_is_refused_clearly() {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args([
            "figures",
            "--dataset",
            "fashion-mnist",
            "--quick",
            "--data-dir",
            "/nonexistent/fm",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "levylab: Fashion-MNIST: /nonexistent/fm/train-images-idx3-ubyte.gz not found (install Debian's dataset-fashion-mnist, or give --data-dir)"
    );
}
