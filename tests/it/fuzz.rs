//! Fuzzing every reader: random and mutated inputs never panic, and headers that claim huge sizes
//! are refused before anything is allocated.
//!
//! Each harness runs `LEVYLAB_FUZZ_CASES` inputs (default 2000, about a second for all of them in
//! `cargo test`). The long run, `LEVYLAB_FUZZ_CASES=1000000 cargo test --release --test it fuzz::`,
//! reports the cases, the wall time and the slowest input of each reader (`-- --nocapture`).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use levylab::io::{Column, parse_text, read_npy};
use levylab::scenario;
use levylab::trainer::alpha_handoff::{
    AlphaMethod, AlphaSelector, MeasurementSet, measured_alpha_in,
};
use levylab::trainer::{TrainConfig, data};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("LEVYLAB_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Runs `check` on `cases()` inputs from `strategy`, timing each; prints the count, the wall time
/// and the slowest input's time.
fn fuzz<S: Strategy>(name: &str, strategy: S, check: impl Fn(S::Value)) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let start = Instant::now();
    let slowest = std::cell::Cell::new(Duration::ZERO);
    runner
        .run(&strategy, |v| {
            let t = Instant::now();
            check(v);
            slowest.set(slowest.get().max(t.elapsed()));
            Ok(())
        })
        .unwrap();
    println!(
        "{name}: {} inputs in {:.1} s, slowest {:.2} ms",
        cases(),
        start.elapsed().as_secs_f64(),
        slowest.get().as_secs_f64() * 1e3
    );
}

/// Bytes that start like the format (so that the parser gets past the magic) followed by noise.
fn with_prefix(prefix: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(any::<u8>(), 0..200),
        0..=prefix.len(),
    )
        .prop_map(move |(tail, keep)| {
            let mut v = prefix[..keep].to_vec();
            v.extend(tail);
            v
        })
}

fn npy_header(descr: &str, fortran: bool, shape: &str) -> Vec<u8> {
    let header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': ({shape}), }}",
        if fortran { "True" } else { "False" }
    );
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    b
}

#[test]
fn npy_reader() {
    let p = Path::new("f.npy");
    fuzz(
        "npy bytes",
        with_prefix(
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
        ),
        |b| {
            let _ = read_npy(p, &b);
        },
    );
    let headers = (
        prop_oneof![
            Just("<f8"),
            Just(">f4"),
            Just("<f4"),
            Just("|u1"),
            Just("<f8'")
        ],
        any::<bool>(),
        prop_oneof![
            Just("3,".to_string()),
            Just("2, 3".to_string()),
            Just("".to_string()),
            Just("-1,".to_string()),
            Just("18446744073709551615, 2".to_string()),
            "[0-9, ]{0,12}",
        ],
        proptest::collection::vec(any::<u8>(), 0..64),
    );
    fuzz("npy headers", headers, |(d, f, s, body)| {
        let mut b = npy_header(d, f, &s);
        b.extend(body);
        let _ = read_npy(p, &b);
    });
    // A header claiming 10¹² elements with a 16-byte body is refused, not allocated.
    let mut b = npy_header("<f8", false, "1000000, 1000000");
    b.extend([0u8; 16]);
    let e = read_npy(p, &b).unwrap_err().to_string();
    assert!(e.contains("truncated data"), "{e}");
}

#[test]
fn text_and_csv_reader() {
    let p = Path::new("t.txt");
    let text = proptest::collection::vec(
        prop_oneof![
            "[-+0-9.eE]{0,8}",
            Just("nan".to_string()),
            Just("inf".to_string()),
            Just("#".to_string()),
            "[a-z,\" ]{0,6}",
            "[0-9.]{1,4},[0-9.]{1,4}",
        ],
        0..20,
    )
    .prop_map(|lines| lines.join("\n"));
    let columns = prop_oneof![
        Just(None),
        (0usize..4).prop_map(|i| Some(Column::Index(i))),
        "[a-z]{1,2}".prop_map(|n| Some(Column::Name(n))),
    ];
    fuzz("text/CSV", (text, columns), |(t, c)| {
        if let Ok(xs) = parse_text(p, &t, c.as_ref()) {
            assert!(xs.iter().all(|v| v.is_finite()));
        }
    });
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name),
    )
    .unwrap()
}

/// Edits of a valid file: a random byte range replaced by random text.
fn mutated(src: String) -> impl Strategy<Value = String> {
    let n = src.len();
    (0..=n, 0usize..40, "[ -~\n]{0,20}").prop_map(move |(at, len, text)| {
        let mut s = src.clone().into_bytes();
        let end = (at + len).min(n);
        s.splice(at..end, text.bytes());
        String::from_utf8_lossy(&s).into_owned()
    })
}

#[test]
fn scenario_reader() {
    let p = Path::new("s.toml");
    fuzz(
        "scenario TOML (mutated main scenario)",
        mutated(shipped("gaussian-vs-levy.toml")),
        |s| {
            let _ = scenario::parse(&s, p);
        },
    );
    fuzz(
        "scenario TOML (mutated three-wells)",
        mutated(shipped("three-wells.toml")),
        |s| {
            let _ = scenario::parse(&s, p);
        },
    );
    fuzz("scenario TOML (random)", "[ -~\n]{0,200}", |s| {
        let _ = scenario::parse(&s, p);
    });
}

#[test]
fn training_reader() {
    let p = Path::new("t.toml");
    fuzz(
        "training TOML (mutated)",
        mutated(shipped("train-digits.toml")),
        |s| {
            let _ = TrainConfig::parse(&s, p);
        },
    );
}

#[test]
fn alpha_hand_off_reader() {
    let p = Path::new("summary.json");
    let valid = r#"{"runs": [{"label": "a", "checkpoints": [{"iteration": 10, "noise_train": {"paper": {"alpha": 1.2}, "hill": 3.0, "mcculloch": 1.5, "gaussian_null": 1.9}}]}]}"#.to_string();
    let args = (
        0usize..3,
        any::<i64>(),
        prop_oneof![
            Just(AlphaMethod::Paper),
            Just(AlphaMethod::Hill),
            Just(AlphaMethod::Mcculloch),
            Just(AlphaMethod::Null)
        ],
        prop_oneof![Just(MeasurementSet::Train), Just(MeasurementSet::Test)],
    );
    fuzz(
        "alpha hand-off",
        (mutated(valid), args),
        |(text, (run, checkpoint, method, set))| {
            let at = AlphaSelector {
                run,
                checkpoint,
                method,
                set,
            };
            let _ = measured_alpha_in(&text, p, at);
        },
    );
}

fn idx_images(n: u32, rows: u32, cols: u32, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [2051u32, n, rows, cols] {
        b.extend(v.to_be_bytes());
    }
    b.extend_from_slice(body);
    b
}

#[test]
fn idx_reader() {
    let (pi, pl) = (Path::new("i.idx"), Path::new("l.idx"));
    let dims = prop_oneof![
        Just(0u32),
        Just(1u32),
        Just(2u32),
        Just(28u32),
        any::<u32>()
    ];
    let input = (
        dims.clone(),
        dims.clone(),
        dims,
        proptest::collection::vec(any::<u8>(), 0..128),
        proptest::collection::vec(any::<u8>(), 0..16),
        any::<bool>(),
    );
    fuzz(
        "IDX (raw and gzip)",
        input,
        |(n, r, c, body, labels, gz)| {
            let im = idx_images(n, r, c, &body);
            let mut lb = Vec::new();
            lb.extend(2049u32.to_be_bytes());
            lb.extend(n.to_be_bytes());
            lb.extend(labels);
            let (im, lb) = if gz {
                let zip = |b: &[u8]| {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(b).unwrap();
                    e.finish().unwrap()
                };
                (zip(&im), zip(&lb))
            } else {
                (im, lb)
            };
            let im = data::maybe_gunzip(im, pi);
            let lb = data::maybe_gunzip(lb, pl);
            if let (Ok(im), Ok(lb)) = (im, lb)
                && let Ok(d) = data::parse_idx(&im, &lb, pi, pl)
            {
                assert_eq!(d.x.len(), d.y.len() * d.dim);
            }
        },
    );
    fuzz(
        "IDX (random bytes)",
        (with_prefix(b"\x00\x00\x08\x03"), with_prefix(b"\x1f\x8b")),
        |(a, b)| {
            if let (Ok(a), Ok(b)) = (data::maybe_gunzip(a, pi), data::maybe_gunzip(b, pl)) {
                let _ = data::parse_idx(&a, &b, pi, pl);
            }
        },
    );
    // A header claiming 4·10⁹ images of 28×28 with a 10-byte body is refused, not allocated.
    let im = idx_images(4_000_000_000, 28, 28, &[0; 10]);
    let mut lb = 2049u32.to_be_bytes().to_vec();
    lb.extend(4_000_000_000u32.to_be_bytes());
    let e = data::parse_idx(&im, &lb, pi, pl).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
}

/// A valid one-part shard of a small two-point scenario, as text (Brownian noise: its theory is
/// cheap, so that a merge takes well under a millisecond).
fn valid_shard() -> String {
    use levylab::experiment::{self, Control, Part};
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"z\"\nseed = 1\npaths = 40\nhorizon = 0.5\n[landscape]\nkind = \"flat\"\n\
                [noise]\nkind = \"brownian\"\nsigma = 0.5\n[integrator]\nscheme = \"euler\"\n\
                dt = 0.01\n[event]\nkind = \"interval\"\ndomain = [-0.3, 0.3]\nstart = 0.0\n\
                [sweep]\n\"noise.sigma\" = [0.5, 1.0]\n";
    let s = scenario::parse(text, Path::new("z.toml")).unwrap();
    let part = Part::new(1, 1).unwrap();
    experiment::run(&s, Some(part), dir.path(), &Control::default()).unwrap();
    std::fs::read_to_string(dir.path().join("z/shards/part-1-of-1.json")).unwrap()
}

/// One integer of the text replaced by another (often huge) one: counts, sums, bins, ranges.
fn renumbered(src: String) -> impl Strategy<Value = String> {
    let spans: Vec<(usize, usize)> = {
        let b = src.as_bytes();
        let mut v = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let j = (i..b.len())
                    .find(|&j| !b[j].is_ascii_digit())
                    .unwrap_or(b.len());
                v.push((i, j));
                i = j;
            } else {
                i += 1;
            }
        }
        v
    };
    let n = spans.len();
    (
        0..n,
        prop_oneof![
            any::<u64>().prop_map(|x| x.to_string()),
            any::<u128>().prop_map(|x| x.to_string()),
            (0u64..100).prop_map(|x| x.to_string()),
        ],
    )
        .prop_map(move |(k, num)| {
            let (a, b) = spans[k];
            format!("{}{}{}", &src[..a], num, &src[b..])
        })
}

#[test]
fn shard_reader() {
    use levylab::experiment::shard;
    let p = Path::new("part-1-of-1.json");
    let valid = valid_shard();
    let check = |text: String| {
        if let Ok(f) = shard::parse(&text, p) {
            // Whatever passes the reader must merge or be refused, never panic.
            let _ = shard::combine(Path::new("d"), &[(p.to_path_buf(), f)]);
        }
    };
    fuzz("shard JSON (mutated)", mutated(valid.clone()), check);
    fuzz(
        "shard JSON (one integer replaced)",
        renumbered(valid),
        check,
    );
}
