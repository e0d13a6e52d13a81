//! `mpirun -n R levylab run F` (feature `mpi`) writes what one process writes: summary.json equal
//! field by field (wall times aside), the same table and per-path CSV, for R = 1, 2, 3. Needs
//! Open MPI's `mpirun` on PATH (`.ci/run` installs it); runs as root with --allow-run-as-root.
#![cfg(feature = "mpi")]

use std::path::Path;
use std::process::Command;

fn summary_without_wall(p: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    for pt in v["points"].as_array_mut().unwrap() {
        pt.as_object_mut().unwrap().remove("wall_seconds");
    }
    v
}

#[test]
fn ranks_give_the_single_process_result() {
    let dir = tempfile::tempdir().unwrap();
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/gaussian-vs-levy.toml");
    let bin = env!("CARGO_BIN_EXE_levylab");
    let common = ["--paths", "600", "--quiet", "--threads", "1"];
    let single = dir.path().join("single");
    let o = Command::new(bin)
        .args([
            "run",
            f.to_str().unwrap(),
            "--out",
            single.to_str().unwrap(),
        ])
        .args(common)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = summary_without_wall(&single.join("gaussian-vs-levy/summary.json"));
    for ranks in ["1", "2", "3"] {
        let out = dir.path().join(format!("mpi{ranks}"));
        let o = Command::new("mpirun")
            .args(["--allow-run-as-root", "--oversubscribe", "-n", ranks, bin])
            .args(["run", f.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .args(common)
            .output()
            .expect("mpirun on PATH");
        assert!(
            o.status.success(),
            "{ranks} ranks: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // Only rank 0 prints the table.
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(stdout.matches("results in").count(), 1, "{stdout}");
        let got = summary_without_wall(&out.join("gaussian-vs-levy/summary.json"));
        for (a, b) in want["points"]
            .as_array()
            .unwrap()
            .iter()
            .zip(got["points"].as_array().unwrap())
        {
            for (k, v) in a.as_object().unwrap() {
                assert_eq!(v, &b[k], "{ranks} ranks, point {}: {k}", a["label"]);
            }
        }
        assert_eq!(want, got, "{ranks} ranks");
        for file in ["exit_times.csv", "table.txt"] {
            assert_eq!(
                std::fs::read(single.join("gaussian-vs-levy").join(file)).unwrap(),
                std::fs::read(out.join("gaussian-vs-levy").join(file)).unwrap(),
                "{ranks} ranks: {file}"
            );
        }
    }
}
