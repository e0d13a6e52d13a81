//! The MPI driver (cargo feature `mpi`): `mpirun -n R levylab run F` spreads every point's paths
//! over R ranks and writes, on rank 0, the files one process writes.
//!
//! Rank r simulates part r + 1 of R of every point ([`Part::range`]: equal contiguous ranges of
//! path indices; each rank spreads its range over its own threads). Paths are independent and
//! identically distributed, so equal ranges are equal work in expectation: the spread of a rank's
//! time is about CV/√(P/R) of it for P paths of coefficient of variation CV (1 for the exponential
//! exit law), a few per cent at P/R = 10³ and less beyond. After each point the ranks send their
//! mergeable statistics (a shard point, [`super::shard::ShardPoint`], as JSON bytes) to rank 0,
//! which merges them in rank order — the same integer sums as one process, so the same numbers —
//! and rewrites summary.json, table.txt, exit_times.csv and, at the end, exit_times.png.
//!
//! A stop (Ctrl-C; `mpirun` passes it on to the ranks as SIGTERM) censors the running paths on
//! every rank; the ranks agree on it after the point, rank 0 writes that point and the run ends
//! as interrupted, like a single process.

use std::path::Path;
use std::time::Instant;

use mpi::collective::SystemOperation;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use super::shard::{ShardPoint, merge_point};
use super::staging::{Layout, Staging};
use super::{
    Control, ExperimentError, Outcomes, Part, PointRun, Summary, run_point, summarize_run,
    write_outputs,
};
use crate::scenario::Scenario;
use crate::sde::Outcome;

/// This process's part of the world: part rank + 1 of size.
pub fn part(world: &SimpleCommunicator) -> Part {
    Part {
        k: world.rank() as u64 + 1,
        n: world.size() as u64,
    }
}

/// Runs scenario `s` over the ranks of `world`. Rank 0 writes the results under `out/<name>/` and
/// returns them; the other ranks return `None`.
pub fn run(
    world: &SimpleCommunicator,
    s: &Scenario,
    out: &Path,
    ctl: &Control,
) -> Result<Option<(Outcomes, Option<ExperimentError>)>, ExperimentError> {
    super::refuse_split(s)?;
    let part = part(world);
    let is_root = world.rank() == 0;
    let root = world.process_at_rank(0);
    // Rank 0 writes the files into the staging directory, under their lock, as a whole run does
    // (and its checkpoint, so that `levylab run --resume` can continue a killed MPI run).
    let staging = if is_root {
        Some(Staging::open(Layout::new(out, &s.name), s, false)?.0)
    } else {
        None
    };
    let dir = staging
        .as_ref()
        .map_or_else(|| out.join(&s.name), Staging::dir);
    let mut summary = Summary::new(s);
    let mut runs: Vec<PointRun> = Vec::new();
    for (i, p) in s.points.iter().enumerate() {
        ctl.point.store(i, std::sync::atomic::Ordering::SeqCst);
        let t0 = Instant::now();
        let mine = run_point(p, s, part.range(s.paths), &ctl.done, &ctl.stop);
        let stopped = u8::from(ctl.stopped());
        let mut any_stopped = 0u8;
        world.all_reduce_into(&stopped, &mut any_stopped, SystemOperation::max());
        let shard_point = ShardPoint::new(p, s, part, &mine);
        if !is_root {
            let bytes = serde_json::to_vec(&shard_point).expect("shard points serialize");
            root.send(&bytes[..]);
        } else {
            let mut parts = vec![shard_point];
            for r in 1..world.size() {
                let (bytes, _) = world.process_at_rank(r).receive_vec::<u8>();
                let sp: ShardPoint =
                    serde_json::from_slice(&bytes).map_err(|e| ExperimentError::Merge {
                        dir: dir.clone(),
                        message: format!("rank {r} sent an unreadable part: {e}"),
                    })?;
                parts.push(sp);
            }
            let mut run = merge_point(p, parts.iter()).map_err(|m| ExperimentError::Merge {
                dir: dir.clone(),
                message: format!("point {}: {m}", p.label()),
            })?;
            run.wall = t0.elapsed().as_secs_f64();
            summary.add_point(summarize_run(p, &run), any_stopped != 0);
            runs.push(run);
            let outcomes: Vec<&[Outcome]> = runs
                .iter()
                .map(|r| r.outcomes.as_deref().unwrap_or_default())
                .collect();
            write_outputs(&dir, &summary, &outcomes)?;
            if let Some(st) = &staging {
                let done = runs.len() - usize::from(summary.interrupted);
                st.checkpoint(s, &runs[..done])?;
            }
        }
        if any_stopped != 0 {
            break;
        }
    }
    let Some(staging) = staging else {
        return Ok(None);
    };
    super::finish(staging, s, summary, runs, 0).map(Some)
}
