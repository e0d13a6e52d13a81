//! Adaptive multilevel splitting against exact theory and direct Monte Carlo (fixed seeds).
//!
//! The AMS standard error comes from the spread of its independent runs, so it is itself
//! uncertain (about 1/√(2·(runs − 1)) ≈ 16 % relative for 20 runs); every tolerance below is
//! 4 combined standard errors, and the time discretization (dt = 0.01, Strang splitting with the
//! Brownian-bridge test) is below 1 % here (direct Monte Carlo at σ = 0.3 agrees with the exact
//! value to 1 %, tests/it/engine.rs), well inside that.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};

use levylab::scenario::{self, Model, Point, Prediction, predictions};
use levylab::sde::{AmsConfig, RunConfig, Simulation, exit_sample};

/// The main double well (quartic, ΔU = 1/4), saddle crossing from −1, with `noise` (a TOML table).
fn double_well(noise: &str) -> Point {
    let text = format!(
        "name = \"t\"\nseed = 1\npaths = 100\nhorizon = 100000.0\n\
         [landscape]\nkind = \"quartic\"\nwidth = 1.0\nheight = 0.25\n\
         [noise]\n{noise}\n[integrator]\nscheme = \"split\"\ndt = 0.01\n\
         [event]\nkind = \"transition\"\nstart = -1.0\n"
    );
    scenario::parse(&text, Path::new("t.toml"))
        .unwrap()
        .points
        .remove(0)
}

fn sim(p: &Point) -> &Simulation {
    match &p.model {
        Model::Line(s) => s,
        Model::Space(_) => unreachable!(),
    }
}

fn cfg(replicas: usize) -> AmsConfig {
    AmsConfig {
        replicas,
        runs: 20,
        loops: 2000,
        ..AmsConfig::default()
    }
}

/// |a − b| ≤ 4 combined standard errors.
fn agree(what: &str, a: (f64, f64), b: (f64, f64)) {
    let tol = 4.0 * a.1.hypot(b.1);
    eprintln!(
        "{what}: {:.5e} ± {:.2e} vs {:.5e} ± {:.2e} (ratio {:.4}, {:.2} SE)",
        a.0,
        a.1,
        b.0,
        b.1,
        a.0 / b.0,
        (a.0 - b.0) / a.1.hypot(b.1)
    );
    assert!((a.0 - b.0).abs() <= tol, "{what}: {a:?} vs {b:?}");
}

#[test]
fn brownian_ams_matches_exact_mean_times_from_625_to_1e10() {
    for (sigma, seed) in [(0.3, 1u64), (0.2, 2), (0.15, 3)] {
        let p = double_well(&format!("kind = \"brownian\"\nsigma = {sigma}"));
        let exact = predictions(&p)[&Prediction::MfptExact];
        let t = std::time::Instant::now();
        let e = sim(&p).ams(&cfg(400), seed);
        eprintln!(
            "σ = {sigma}: p = {:.3e}, {} iterations, {:.2e} steps, {:.2} s",
            e.p,
            e.iterations(),
            e.steps() as f64,
            t.elapsed().as_secs_f64()
        );
        assert_eq!(e.capped(), 0);
        agree(
            &format!("AMS vs exact, σ = {sigma}"),
            (e.mean, e.mean_se),
            (exact, 0.0),
        );
        // The relative error stays near 5 % however rare the exit: (−ln p / N)^½ / √runs.
        assert!(e.mean_se / e.mean < 0.08, "{}", e.mean_se / e.mean);
    }
}

#[test]
fn ams_agrees_with_direct_monte_carlo_where_both_run() {
    // Brownian σ = 0.4 (mean ≈ 57) and α-stable α = 1.5, ε = 0.2 (mean ≈ 37: most exits are
    // jumps from the well, the q term), each against 3000 direct paths.
    for (noise, seed) in [
        ("kind = \"brownian\"\nsigma = 0.4", 4u64),
        ("kind = \"stable\"\nalpha = 1.5\nepsilon = 0.2", 5),
    ] {
        let p = double_well(noise);
        let s = sim(&p);
        let e = s.ams(&cfg(200), seed);
        let r = s.run(
            &RunConfig::new(3000, seed),
            &AtomicU64::new(0),
            &AtomicBool::new(false),
        );
        let direct = exit_sample(&r.outcomes).mean().unwrap();
        agree(
            &format!("AMS vs direct, {}", noise.replace('\n', " ")),
            (e.mean, e.mean_se),
            (direct.value, direct.std_err),
        );
        if let Some(&exact) = predictions(&p).get(&Prediction::LevyExact) {
            agree("AMS vs levy_exact", (e.mean, e.mean_se), (exact, 0.0));
            // Many cycles exit by a jump from below Σ (38 % here): without the q term the mean
            // would be far too long.
            assert!(e.q > 0.25 * e.success, "q = {}, P = {}", e.q, e.success);
        }
    }
}

#[test]
fn ams_does_not_depend_on_threads() {
    let p = double_well("kind = \"mixed\"\nalpha = 1.5\nepsilon = 0.05\nsigma_b = 0.3");
    let c = AmsConfig {
        replicas: 50,
        runs: 4,
        loops: 200,
        ..AmsConfig::default()
    };
    let on = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| sim(&p).ams(&c, 9))
    };
    let one = on(1);
    assert_eq!(one, on(2));
    assert!(one.iterations() > 0 && one.mean.is_finite());
}

fn levylab(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_levylab"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn rare_event_tables_are_validated_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let base = "name = \"r\"\nseed = 2\npaths = 100\nhorizon = 1000.0\n\
                [landscape]\nkind = \"quartic\"\nwidth = 1.0\nheight = 0.25\n\
                [noise]\nkind = \"brownian\"\nsigma = 0.3\n[integrator]\ndt = 0.01\n\
                [event]\nkind = \"transition\"\nstart = -1.0\n";
    let bad = [
        (
            "method = \"splitting\"",
            "rare_event.method expected `ams`, got \"splitting\"",
        ),
        (
            "method = \"ams\"\nreplicas = 1",
            "rare_event.replicas must be an integer in [2, 10^8], got 1",
        ),
        (
            "method = \"ams\"\nreturn_level = 0.2\nentrance_level = 0.1",
            "rare_event.entrance_level must be in (return_level = 0.2, 1), got 0.1",
        ),
        ("method = \"ams\"\nlevel = 3", "unknown field `level`"),
    ];
    for (table, want) in bad {
        let f = dir.path().join("bad.toml");
        std::fs::write(&f, format!("{base}[rare_event]\n{table}\n")).unwrap();
        let o = levylab(&["validate", f.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "expected {want:?} in {err}");
    }
    let ball = "name = \"b\"\npaths = 10\nhorizon = 10.0\n[landscape]\nkind = \"flat\"\ndim = 2\n\
                [noise]\nkind = \"brownian\"\nsigma = 1.0\n[integrator]\ndt = 0.01\n\
                [event]\nkind = \"ball\"\nradius = 1.0\nstart = 0.0\n[rare_event]\nmethod = \"ams\"\n";
    let f = dir.path().join("ball.toml");
    std::fs::write(&f, ball).unwrap();
    let o = levylab(&["validate", f.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("rare_event is supported for 1-D events"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // A small AMS run end to end: summary.json and the table say how the mean was obtained.
    let f = dir.path().join("ok.toml");
    std::fs::write(
        &f,
        format!("{base}[rare_event]\nmethod = \"ams\"\nreplicas = 50\nruns = 4\nloops = 200\n"),
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
    assert!(table.contains("4×50") && table.contains("(ams)"), "{table}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("r/summary.json")).unwrap())
            .unwrap();
    let p = &s["points"][0];
    assert_eq!(p["mean_estimator"], "ams");
    let ams = &p["ams"];
    for k in [
        "p",
        "p_se",
        "q",
        "loop_mean",
        "reactive_mean",
        "iterations",
        "steps",
    ] {
        assert!(ams[k].is_number(), "{k}: {ams}");
    }
    assert_eq!(ams["runs"], 4);
    assert!(p["ratio"]["mfpt_exact"].as_f64().unwrap() > 0.0);
    // Not split over shards.
    let o = levylab(&[
        "run",
        f.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--shard",
        "1/2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("runs whole"));
}
