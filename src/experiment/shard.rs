//! Shards: one part of a split run on disk, and `merge`, which turns the N parts back into the
//! files of the whole run.
//!
//! A shard `DIR/<name>/shards/part-K-of-N.json` carries the scenario text, seed, paths per point,
//! levylab version and part, and for every finished point its mergeable statistics ([`ExitStats`]),
//! steps, wall time and — when the scenario keeps per-path outcomes — the outcomes of its paths.
//! [`merge`] refuses missing, duplicated, unfinished or foreign parts, naming them, before it
//! writes anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ExperimentError, Outcomes, Part, PointRun, Summary, plot, summarize, write_outputs};
use crate::io::write_atomic;
use crate::rng::mix64;
use crate::scenario::{self, Point, Scenario};
use crate::sde::{AmsEstimate, AmsRun, Outcome, Side};
use crate::stats::ExitStats;

/// The `format` field of a shard file.
const FORMAT: &str = "levylab-shard-1";

/// A shard file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardFile {
    /// Always `levylab-shard-1`.
    pub format: String,
    /// Scenario name.
    pub scenario: String,
    /// The scenario file the run read.
    pub source: String,
    /// Its text.
    pub text: String,
    /// Seed of the path streams (after any command-line override).
    pub seed: u64,
    /// Paths per point in the whole run (after any override).
    pub paths: u64,
    /// levylab version that wrote it.
    pub version: String,
    /// K.
    pub k: u64,
    /// N.
    pub n: u64,
    /// Whether the part was stopped before its end.
    pub interrupted: bool,
    /// The finished points, in scenario order.
    pub points: Vec<ShardPoint>,
}

/// One point of a shard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardPoint {
    /// The point's label (checked against the scenario at merge).
    pub label: String,
    /// Path indices [lo, hi) of this part.
    pub range: (u64, u64),
    /// Statistics of those paths.
    pub stats: ExitStats,
    /// Steps simulated.
    pub steps: u64,
    /// Wall time, seconds.
    pub wall_seconds: f64,
    /// Per-path outcomes (see [`encode`]), when the scenario keeps them.
    pub outcomes: Option<Vec<u64>>,
    /// The AMS runs of a point with `[rare_event]` (only in a whole run's checkpoint: AMS points
    /// are not split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ams: Option<Vec<AmsRun>>,
}

impl ShardPoint {
    /// The part `part` of point `p` of scenario `s`, from its run.
    pub fn new(p: &Point, s: &Scenario, part: Part, r: &PointRun) -> Self {
        ShardPoint {
            label: p.label(),
            range: part.range(s.paths),
            stats: r.stats.clone(),
            steps: r.steps,
            wall_seconds: r.wall,
            outcomes: r.outcomes.as_ref().map(|os| {
                os.iter()
                    .map(|o| encode(o, p.model.dt(), p.model.horizon()))
                    .collect()
            }),
            ams: r.ams.as_ref().map(|e| e.runs.clone()),
        }
    }
}

/// The file name of part K of N.
pub fn file_name(part: Part) -> String {
    format!("part-{}-of-{}.json", part.k, part.n)
}

/// The file name of part K of N while it runs (or after it was interrupted or killed): its
/// checkpoint, renamed to [`file_name`] when the part is done.
pub fn partial_file_name(part: Part) -> String {
    format!("part-{}-of-{}.partial.json", part.k, part.n)
}

/// An outcome as one integer: ticks · 8 + kind (0 exited low, 1 exited high, 2 censored at the
/// horizon, 3 censored earlier, 4 non-finite), or (ticks · 2¹⁶ + K) · 8 + 5 for target K of an
/// event with several targets (ticks < 2⁴⁵). Times are whole numbers of steps, so this is exact.
fn encode(o: &Outcome, dt: f64, horizon: f64) -> u64 {
    let ticks = |t: f64| (t / dt).round() as u64;
    match *o {
        Outcome::Exited {
            time,
            target: Some(k),
            ..
        } => (ticks(time) << 16 | u64::from(k)) << 3 | 5,
        Outcome::Exited { time, side, .. } => ticks(time) << 3 | u64::from(side == Side::High),
        Outcome::Censored { time } if time == horizon => 2,
        Outcome::Censored { time } => ticks(time) << 3 | 3,
        Outcome::NonFinite { time } => ticks(time) << 3 | 4,
    }
}

/// The outcome an integer of [`encode`] stands for (the state before the exit is not kept: NaN).
fn decode(v: u64, dt: f64, horizon: f64) -> Option<Outcome> {
    let time = (v >> 3) as f64 * dt;
    Some(match v & 7 {
        0 | 1 => Outcome::Exited {
            time,
            side: if v & 7 == 1 { Side::High } else { Side::Low },
            from: f64::NAN,
            target: None,
        },
        5 => Outcome::Exited {
            time: (v >> 19) as f64 * dt,
            side: Side::High,
            from: f64::NAN,
            target: Some((v >> 3 & 0xffff) as u16),
        },
        2 => Outcome::Censored { time: horizon },
        3 => Outcome::Censored { time },
        4 => Outcome::NonFinite { time },
        _ => return None,
    })
}

/// Writes (atomically) the finished shard of part `part`, `dir/shards/part-K-of-N.json`, and
/// removes its checkpoint.
pub fn write(
    dir: &Path,
    s: &Scenario,
    part: Part,
    runs: &[PointRun],
) -> Result<(), ExperimentError> {
    let shards = dir.join("shards");
    write_file(&shards.join(file_name(part)), s, part, runs, false)?;
    let partial = shards.join(partial_file_name(part));
    match std::fs::remove_file(&partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ExperimentError::Io {
            path: partial,
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes (atomically) to `path` a shard file of part `part` holding `runs`, the points of `s`
/// finished so far (the checkpoint of a run, or a finished part).
pub fn write_file(
    path: &Path,
    s: &Scenario,
    part: Part,
    runs: &[PointRun],
    interrupted: bool,
) -> Result<(), ExperimentError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ExperimentError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let points = s
        .points
        .iter()
        .zip(runs)
        .map(|(p, r)| ShardPoint::new(p, s, part, r))
        .collect();
    let file = ShardFile {
        format: FORMAT.into(),
        scenario: s.name.clone(),
        source: s.source.display().to_string(),
        text: s.text.clone(),
        seed: s.seed,
        paths: s.paths,
        version: env!("CARGO_PKG_VERSION").into(),
        k: part.k,
        n: part.n,
        interrupted,
        points,
    };
    let json = serde_json::to_string(&file).expect("shards serialize") + "\n";
    write_atomic(path, json.as_bytes())?;
    Ok(())
}

/// What keeps shard file `f` from being part `part` of scenario `s` as run now (text, seed, paths,
/// version, part), or `None`.
pub fn differs(f: &ShardFile, s: &Scenario, part: Part) -> Option<String> {
    Some(if f.text != s.text {
        "it was written for a different scenario text".to_string()
    } else if f.seed != s.seed {
        format!("seed {} there, {} now", f.seed, s.seed)
    } else if f.paths != s.paths {
        format!("{} paths per point there, {} now", f.paths, s.paths)
    } else if f.version != env!("CARGO_PKG_VERSION") {
        format!(
            "written by levylab {}, this is {}",
            f.version,
            env!("CARGO_PKG_VERSION")
        )
    } else if (f.k, f.n) != (part.k, part.n) {
        format!("part {}/{} there, {part} now", f.k, f.n)
    } else {
        return None;
    })
}

/// Reads one shard file.
pub fn read(path: &Path) -> Result<ShardFile, ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses and checks the text of a shard file (`path` names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<ShardFile, ExperimentError> {
    let bad = |message: String| ExperimentError::Shard {
        path: path.to_path_buf(),
        message,
    };
    let f: ShardFile =
        serde_json::from_str(text).map_err(|e| bad(format!("not a levylab shard: {e}")))?;
    if f.format != FORMAT {
        return Err(bad(format!("format {:?}, expected {FORMAT:?}", f.format)));
    }
    Part::new(f.k, f.n).map_err(|e| bad(e.to_string()))?;
    for p in &f.points {
        p.stats
            .check()
            .map_err(|m| bad(format!("point {}: {m}", p.label)))?;
        if let Some(o) = &p.outcomes
            && o.len() as u64 != p.stats.paths()
        {
            return Err(bad(format!(
                "point {}: {} outcomes for {} paths",
                p.label,
                o.len(),
                p.stats.paths()
            )));
        }
    }
    Ok(f)
}

/// A short fingerprint of what must agree between the parts of one run.
fn identity(f: &ShardFile) -> (u64, u64, u64, &str, u64) {
    let text = f
        .text
        .bytes()
        .fold(0x9e37_79b9_7f4a_7c15u64, |h, b| mix64(h ^ u64::from(b)));
    (text, f.seed, f.paths, f.version.as_str(), f.n)
}

/// Merges the shards under `dir/shards/` into the whole run's files in `dir` (summary.json,
/// table.txt, exit_times.csv when kept, exit_times.png). Every part 1..N of one scenario, seed,
/// paths, version and N must be there exactly once and finished; otherwise nothing is written.
pub fn merge(dir: &Path) -> Result<(Outcomes, Option<ExperimentError>), ExperimentError> {
    let fail = |message: String| ExperimentError::Merge {
        dir: dir.to_path_buf(),
        message,
    };
    let shard_dir = dir.join("shards");
    let listing = std::fs::read_dir(&shard_dir).map_err(|source| ExperimentError::Io {
        path: shard_dir.clone(),
        source,
    })?;
    // The merged files are written where a whole run writes them, under the same lock.
    let _lock = super::staging::lock(dir, &super::staging::Layout::of_dir(dir).lock_file())?;
    let (mut paths, mut partial): (Vec<PathBuf>, Vec<PathBuf>) = listing
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .partition(|p| !p.to_string_lossy().ends_with(".partial.json"));
    paths.sort();
    partial.sort();
    if paths.is_empty() {
        return Err(fail(format!(
            "no finished shard files in {}{}",
            shard_dir.display(),
            unfinished(&partial)
        )));
    }
    let files: Vec<(PathBuf, ShardFile)> = paths
        .into_iter()
        .map(|p| read(&p).map(|f| (p, f)))
        .collect::<Result<_, _>>()?;
    let (s, summary, runs) = combine(dir, &files).map_err(|e| match e {
        ExperimentError::Merge { dir, message } if !partial.is_empty() => ExperimentError::Merge {
            dir,
            message: message + &unfinished(&partial),
        },
        e => e,
    })?;
    let outcomes: Vec<&[Outcome]> = runs
        .iter()
        .map(|r| r.outcomes.as_deref().unwrap_or_default())
        .collect();
    write_outputs(dir, &summary, &outcomes)?;
    let figure = plot(dir, &s, &summary.points).err();
    Ok((
        Outcomes {
            summary,
            runs,
            dir: dir.to_path_buf(),
            resumed: 0,
        },
        figure,
    ))
}

/// "; unfinished: part-2-of-4.partial.json (3 of 11 points), …": the parts still running or
/// killed, from their checkpoints.
fn unfinished(partial: &[PathBuf]) -> String {
    if partial.is_empty() {
        return String::new();
    }
    let named: Vec<String> = partial
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into());
            match read(p) {
                Ok(f) => format!("{name} ({} points finished)", f.points.len()),
                Err(_) => format!("{name} (unreadable)"),
            }
        })
        .collect();
    format!(
        "; unfinished (still running, or killed: rerun them with --resume): {}",
        named.join(", ")
    )
}

/// The whole run from its parts, without writing anything: the scenario, its summary and the
/// merged points. `dir` names the run in errors.
pub fn combine(
    dir: &Path,
    files: &[(PathBuf, ShardFile)],
) -> Result<(Scenario, Summary, Vec<PointRun>), ExperimentError> {
    let fail = |message: String| ExperimentError::Merge {
        dir: dir.to_path_buf(),
        message,
    };
    let name = |p: &Path| {
        p.file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into())
    };
    let Some((ref_path, reference)) = files.first() else {
        return Err(fail("no shard files".into()));
    };
    // One run: the first file's identity is the reference; every other file must match it.
    for (p, f) in &files[1..] {
        if identity(f) != identity(reference) {
            let what = if f.n != reference.n {
                format!("N = {} vs N = {}", f.n, reference.n)
            } else if f.version != reference.version {
                format!("levylab {} vs {}", f.version, reference.version)
            } else if f.seed != reference.seed {
                format!("seed {} vs {}", f.seed, reference.seed)
            } else if f.paths != reference.paths {
                format!("{} vs {} paths per point", f.paths, reference.paths)
            } else {
                "a different scenario text".to_string()
            };
            return Err(fail(format!(
                "{} does not belong with {} ({what})",
                name(p),
                name(ref_path)
            )));
        }
    }
    let n = reference.n;
    let mut by_k: BTreeMap<u64, Vec<&Path>> = BTreeMap::new();
    for (p, f) in files {
        by_k.entry(f.k).or_default().push(p);
    }
    let duplicated: Vec<String> = by_k
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, v)| {
            let names: Vec<String> = v.iter().map(|p| name(p)).collect();
            format!("part {k}/{n} in {}", names.join(" and "))
        })
        .collect();
    if !duplicated.is_empty() {
        return Err(fail(format!("duplicated: {}", duplicated.join("; "))));
    }
    // Name at most ten missing parts (N may be large).
    let missing_count = n - by_k.len() as u64;
    if missing_count > 0 {
        let named: Vec<String> = (1..=n)
            .filter(|k| !by_k.contains_key(k))
            .take(10)
            .map(|k| file_name(Part { k, n }))
            .collect();
        return Err(fail(format!(
            "missing {missing_count} of {n} parts: {}{}",
            named.join(", "),
            if missing_count > 10 { ", …" } else { "" }
        )));
    }

    let mut s = scenario::parse(&reference.text, Path::new(&reference.source))?;
    s.seed = reference.seed;
    s.paths = reference.paths;
    let mut ordered: Vec<&(PathBuf, ShardFile)> = files.iter().collect();
    ordered.sort_by_key(|(_, f)| f.k);
    for (p, f) in &ordered {
        check_complete(f, &s).map_err(|m| fail(format!("{}: {m}", name(p))))?;
    }

    let mut summary = Summary::new(&s);
    let mut runs = Vec::new();
    for (i, point) in s.points.iter().enumerate() {
        let run = merge_point(point, ordered.iter().map(|(_, f)| &f.points[i]))
            .map_err(|m| fail(format!("point {}: {m}", point.label())))?;
        summary.add_point(summarize(point, &run.stats, run.steps, run.wall), false);
        runs.push(run);
    }
    Ok((s, summary, runs))
}

/// Checks that shard `f` finished every point of `s` over its own range of paths.
fn check_complete(f: &ShardFile, s: &Scenario) -> Result<(), String> {
    if f.interrupted || f.points.len() != s.points.len() {
        return Err(format!(
            "unfinished ({} of {} points{}); run this part again",
            f.points.len(),
            s.points.len(),
            if f.interrupted { ", interrupted" } else { "" }
        ));
    }
    let part = Part { k: f.k, n: f.n };
    for (p, sp) in s.points.iter().zip(&f.points) {
        if sp.label != p.label() {
            return Err(format!(
                "point {:?} where the scenario has {:?}",
                sp.label,
                p.label()
            ));
        }
        let (lo, hi) = part.range(s.paths);
        if sp.range != (lo, hi) || sp.stats.paths() != hi - lo {
            return Err(format!(
                "point {}: {} paths in [{}, {}), expected [{lo}, {hi})",
                sp.label,
                sp.stats.paths(),
                sp.range.0,
                sp.range.1
            ));
        }
        if sp.outcomes.as_ref().map(Vec::len)
            != s.writes_exit_times().then_some(hi - lo).map(|v| v as usize)
        {
            return Err(format!(
                "point {}: per-path outcomes missing or incomplete",
                sp.label
            ));
        }
    }
    Ok(())
}

/// The whole point from its parts, in part order.
pub(crate) fn merge_point<'a>(
    p: &Point,
    parts: impl Iterator<Item = &'a ShardPoint>,
) -> Result<PointRun, String> {
    let (dt, horizon) = (p.model.dt(), p.model.horizon());
    let mut run: Option<PointRun> = None;
    for sp in parts {
        let outcomes = sp
            .outcomes
            .as_ref()
            .map(|v| {
                v.iter()
                    .map(|&c| decode(c, dt, horizon).ok_or(format!("bad outcome code {c}")))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        match &mut run {
            None => {
                run = Some(PointRun {
                    stats: sp.stats.clone(),
                    outcomes,
                    steps: sp.steps,
                    wall: sp.wall_seconds,
                    ams: sp
                        .ams
                        .as_ref()
                        .map(|runs| AmsEstimate::from_runs(runs.clone(), dt)),
                })
            }
            Some(_) if sp.ams.is_some() => return Err("an AMS point in more than one part".into()),
            Some(r) => {
                r.stats.merge(&sp.stats).map_err(|e| e.to_string())?;
                r.steps += sp.steps;
                r.wall += sp.wall_seconds;
                if let (Some(a), Some(b)) = (&mut r.outcomes, outcomes) {
                    a.extend(b);
                }
            }
        }
    }
    let mut run = run.ok_or("no parts")?;
    run.stats.normalize();
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of outcome survives the one-integer encoding (the state before the exit, which
    /// is not kept, aside), the target of a several-target event included.
    #[test]
    fn outcomes_survive_their_encoding() {
        let (dt, horizon) = (0.01, 1000.0);
        let exited = |ticks: u64, side, target| Outcome::Exited {
            time: ticks as f64 * dt,
            side,
            from: f64::NAN,
            target,
        };
        let cases = [
            exited(0, Side::Low, None),
            exited(17, Side::High, None),
            exited(99_999, Side::High, Some(0)),
            exited(12_345, Side::High, Some(3)),
            exited((1 << 45) - 1, Side::High, Some(u16::MAX)),
            Outcome::Censored { time: horizon },
            Outcome::Censored { time: 0.37 },
            Outcome::NonFinite { time: 5.0 },
        ];
        for o in cases {
            let back = decode(encode(&o, dt, horizon), dt, horizon).unwrap();
            match (o, back) {
                (
                    Outcome::Exited {
                        time, side, target, ..
                    },
                    Outcome::Exited {
                        time: t2,
                        side: s2,
                        target: k2,
                        ..
                    },
                ) => assert_eq!((time, side, target), (t2, s2, k2)),
                (a, b) => assert_eq!(a, b),
            }
        }
        assert!(decode(6, dt, horizon).is_none());
    }
}
