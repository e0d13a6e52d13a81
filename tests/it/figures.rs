//! `levylab figures --quick`: every figure is written as a PNG of the stated size with its data
//! beside it, the data are sane, and the bytes are reproducible.

use std::path::Path;
use std::process::Command;

use levylab::cli::FIGURE_NAMES as NAMES;

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    )
}

fn panels(dir: &Path, name: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap();
    assert!(
        v["caption"]
            .as_str()
            .unwrap()
            .starts_with("levylab figures"),
        "{name}: caption names the command"
    );
    v["panels"].as_array().unwrap().clone()
}

#[test]
fn quick_figures_are_complete_sane_and_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args(["figures", "--quick", "--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for name in NAMES {
        let png = std::fs::read(dir.path().join(format!("{name}.png"))).unwrap();
        assert_eq!(png_size(&png), levylab::figures::FIGURE_SIZE, "{name}");
        let ps = panels(dir.path(), name);
        assert!(!ps.is_empty(), "{name}");
        for p in &ps {
            assert!(
                !p["x"]["label"].as_str().unwrap().is_empty()
                    && !p["y"]["label"].as_str().unwrap().is_empty(),
                "{name}: axis labels"
            );
            let drawn = p["traces"].as_array().unwrap().iter().any(|t| {
                !t["markers"].as_array().unwrap().is_empty()
                    || !t["line"].as_array().unwrap().is_empty()
            });
            assert!(drawn, "{name}: empty panel {}", p["title"]);
        }
    }
    // Data sanity. Exit times against exact theory: Monte Carlo within 5 SE of the exact mean
    // first-passage time (200 paths per point; bridge-corrected, so no modelled bias beyond O(dt)).
    let ps = panels(dir.path(), "exit-time-vs-noise");
    let t = &ps[0]["traces"][0];
    let exact: Vec<(f64, f64)> = t["dashed"][0][1]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    for m in t["markers"].as_array().unwrap() {
        let (x, y, lo) = (
            m[0].as_f64().unwrap(),
            m[1].as_f64().unwrap(),
            m[2].as_f64().unwrap(),
        );
        let e = exact.iter().find(|p| (p.0 - x).abs() < 1e-9).unwrap().1;
        assert!(
            (y - e).abs() < 5.0 * (y - lo),
            "Brownian point 1/σ² = {x}: {y} vs exact {e}"
        );
    }
    // Estimator calibration at N = 2·10⁴: paper and McCulloch within 0.15 of the true α for α < 2
    // (their standard errors there are ≈ 0.04 and ≈ 0.01).
    let ps = panels(dir.path(), "estimator-calibration");
    for k in [0, 2] {
        for m in ps[0]["traces"][k]["markers"].as_array().unwrap() {
            let (a, e) = (m[0].as_f64().unwrap(), m[1].as_f64().unwrap());
            assert!((e - a).abs() < 0.15, "estimator {k} at α = {a}: {e}");
        }
    }
    // Same seed, same bytes.
    let again = tempfile::tempdir().unwrap();
    for name in ["stable-densities-paths", "double-well-paths"] {
        let o = Command::new(env!("CARGO_BIN_EXE_levylab"))
            .args([
                "figures",
                "--quick",
                "--only",
                name,
                "--out",
                again.path().to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success());
        assert_eq!(
            std::fs::read(dir.path().join(format!("{name}.png"))).unwrap(),
            std::fs::read(again.path().join(format!("{name}.png"))).unwrap(),
            "{name}"
        );
    }
    let o = Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args(["figures", "--only", "nope"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .starts_with("levylab: --only must be one of noise-norms,")
    );
}
