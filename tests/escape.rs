//! The escape experiment: the model-noise walk against the one-jump law on a quadratic, the same
//! replicas on 1 and 2 threads, and bad `[escape]` input.

use std::path::Path;

use levylab::theory::escape as law;
use levylab::trainer::TrainConfig;
use levylab::trainer::escape::{self, Drive, NoiseKind, Quadratic, Walk};

#[test]
fn independent_stable_escapes_from_a_quadratic_follow_the_one_jump_law() {
    // d = 4, λ = 1, η = 0.1, cⱼ = 0.01, r = 1: the iterates spread ~ηc ≪ r, so the ball is left by
    // one step with |ηcS| ≳ r, of probability p = K_α η^α Σc^α r^{−α} ≈ 5·10⁻⁵ per step (the
    // stable tail's asymptotic form is exact to O((r/ηc)^{−α}) = 3·10⁻⁵ relative). The escape
    // step is geometric: its mean 1/p is compared within 3 SE of 400 replicas (SE = mean/√400).
    let (alpha, c, eta, r) = (1.5, 0.01, 0.1, 1.0);
    let d = 4;
    let q = Quadratic {
        curvatures: vec![1.0; d],
        gradient: vec![0.0; d],
    };
    let radii = [r];
    let measured: Vec<_> = std::iter::once(0..d).collect();
    let walk = Walk {
        eta,
        radii: &radii,
        budget: 2_000_000,
        measured: &measured,
        seed: 7,
    };
    let drive = Drive::Independent {
        alpha,
        scales: vec![c; d],
    };
    let recs =
        escape::replica::replicas(&q, &drive, NoiseKind::StableIndependent, &walk, 400, &|| {});
    let stats = escape::radius_stats(&recs, 0, r, 2e6);
    assert_eq!(stats.censored, 0);
    let m = stats.mean_steps.unwrap();
    let want = law::one_jump_mean_steps(alpha, d as f64 * c.powf(alpha), eta, r).unwrap();
    assert!(
        (m.value - want).abs() < 3.0 * m.std_err,
        "mean {} ± {} vs one-jump law {want}",
        m.value,
        m.std_err
    );
    // And every exit is a single jump: the crossing step is the whole way out.
    assert!(stats.crossing_step_over_r.unwrap() > 0.9);
}

const SMALL: &str = r#"
name = "escape-small"
seed = 3
[model]
kind = "fc"
width = 8
depth = 2
[train]
learning_rate = 0.1
batch_size = 20
iterations = 60
checkpoint_every = 20
[escape]
radii = [0.01, 0.03]
replicas = 6
budget = 40
train_subset = 120
noise_minibatches = 20
hessian_top = 2
hessian_iterations = 5
hutchinson = 2
"#;

fn small_report(threads: usize) -> escape::EscapeReport {
    let cfg = TrainConfig::parse(SMALL, Path::new("small.toml")).unwrap();
    let (train, test) = cfg.load_data().unwrap();
    let run = &cfg.runs[0];
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| {
            escape::run(
                run,
                run.escape.as_ref().unwrap(),
                &train,
                &test,
                &|_, _, _| {},
            )
        })
        .unwrap()
}

#[test]
fn escapes_are_the_same_on_one_and_two_threads() {
    let (a, b) = (small_report(1), small_report(2));
    assert_eq!(a.noises.len(), 5);
    for (x, y) in a.noises.iter().zip(&b.noises) {
        assert_eq!(x.replicas, y.replicas, "{}", x.noise.name());
        assert_eq!(x.radii, y.radii);
    }
    assert_eq!(a.curvature.eigenvalues, b.curvature.eigenvalues);
    assert_eq!(a.predictions, b.predictions);
    assert_eq!(a.alpha, b.alpha);
    // Something moved: the SGD replicas passed the smaller radius.
    assert!(a.noises[0].radii[0].passed > 0);
}

fn parse_error(escape: &str) -> String {
    let src = SMALL.replace("radii = [0.01, 0.03]", escape);
    TrainConfig::parse(&src, Path::new("bad.toml"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn bad_escape_sections_are_refused_with_the_field() {
    for (text, field) in [
        ("radii = [0.03, 0.01]", "escape.radii"),
        ("radii = [0.01, -1.0]", "escape.radii"),
        ("radii = []", "escape.radii"),
        ("radii = [0.1]\nuntil = \"accuracy\"", "escape.until"),
        (
            "radii = [0.1]\nuntil = \"accuracy\"\naccuracy = 1.5",
            "escape.accuracy",
        ),
        ("radii = [0.1]\nalpha = 2.5", "escape.alpha"),
        (
            "radii = [0.1]\nnoises = [\"sgd\", \"sgd\"]",
            "escape.noises",
        ),
        ("radii = [0.1]\nlayers = [0]", "escape.layers"),
    ] {
        let e = parse_error(text);
        assert!(e.contains(field), "{text:?}: {e}");
        assert!(e.contains("bad.toml"), "{e}");
    }
    // A layer the network does not have is refused when the network is known.
    let src = SMALL.replace("radii = [0.01, 0.03]", "radii = [0.1]\nlayers = [3]");
    let cfg = TrainConfig::parse(&src, Path::new("bad.toml")).unwrap();
    let e = cfg.runs[0]
        .escape
        .as_ref()
        .unwrap()
        .check_layers(2)
        .unwrap_err();
    assert!(e.contains("escape.layers") && e.contains("layer 3"), "{e}");
    // An accuracy never reached is reported with the best one, not replaced.
    let src = SMALL.replace(
        "radii = [0.01, 0.03]",
        "radii = [0.1]\nuntil = \"accuracy\"\naccuracy = 1.0",
    );
    let cfg = TrainConfig::parse(&src, Path::new("bad.toml")).unwrap();
    let (train, _) = cfg.load_data().unwrap();
    let run = &cfg.runs[0];
    let e = escape::train_until(run, run.escape.as_ref().unwrap().until, &train, |_| {})
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("escape.accuracy") && e.contains("not reached"),
        "{e}"
    );
}
