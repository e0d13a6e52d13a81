//! Where a run's files live while it runs and after it ends, so that a run killed at any moment
//! (SIGKILL, power loss, a full disk) never destroys a complete result and can be continued.
//!
//! For a scenario named NAME run with `--out OUT`:
//!
//! | path | holds |
//! |---|---|
//! | `OUT/NAME/` | the last **complete** result: summary.json (`"complete": true`), table.txt, exit_times.csv, exit_times.png |
//! | `OUT/NAME.partial/` | the run in progress, or one that was interrupted or killed: the same files, its summary saying `"complete": false`, and checkpoint.json (the finished points' mergeable statistics) |
//! | `OUT/NAME.previous/` | the complete result that the last finished run replaced (one generation) |
//! | `OUT/.NAME.lock` | the advisory lock of whoever writes NAME's files |
//!
//! A run writes only into `NAME.partial/`. When its last point is in, it moves `NAME/` to
//! `NAME.previous/` and `NAME.partial/` to `NAME/` (two renames; at every moment a complete
//! result is on disk under one of the names). `levylab run --resume` reads checkpoint.json, keeps
//! its points (after checking the scenario text, seed, paths and version) and runs the others;
//! since every path is a pure function of (scenario, seed, path index), the result is the one an
//! uninterrupted run writes, bit for bit (wall times aside).
//!
//! A part of a split run (`--shard K/N`) writes `OUT/NAME/shards/part-K-of-N.partial.json` while
//! it runs and renames it to `part-K-of-N.json` when it is done; `merge` reads only the latter.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::shard;
use super::{ExperimentError, Part, PointRun};
use crate::scenario::Scenario;

/// The checkpoint file inside a staging directory.
pub const CHECKPOINT: &str = "checkpoint.json";

/// The paths of scenario `name`'s results under `out` (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `OUT`.
    pub out: PathBuf,
    /// `NAME`.
    pub name: String,
}

impl Layout {
    /// The layout of scenario `name` under `out`.
    pub fn new(out: &Path, name: &str) -> Layout {
        Layout {
            out: out.to_path_buf(),
            name: name.to_string(),
        }
    }

    /// The layout of the result directory `dir` (`OUT/NAME`).
    pub fn of_dir(dir: &Path) -> Layout {
        let name = dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let out = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Layout::new(out, &name)
    }

    /// `OUT/NAME`: the last complete result.
    pub fn result(&self) -> PathBuf {
        self.out.join(&self.name)
    }
    /// `OUT/NAME.partial`: the run in progress or unfinished.
    pub fn staging(&self) -> PathBuf {
        self.out.join(format!("{}.partial", self.name))
    }
    /// `OUT/NAME.previous`: the complete result the last finished run replaced.
    pub fn previous(&self) -> PathBuf {
        self.out.join(format!("{}.previous", self.name))
    }
    /// `OUT/.NAME.lock`.
    pub fn lock_file(&self) -> PathBuf {
        self.out.join(format!(".{}.lock", self.name))
    }
    /// `OUT/NAME.partial/checkpoint.json`.
    pub fn checkpoint(&self) -> PathBuf {
        self.staging().join(CHECKPOINT)
    }
    /// The checkpoint of part `part`: `OUT/NAME/shards/part-K-of-N.partial.json`.
    pub fn part_checkpoint(&self, part: Part) -> PathBuf {
        self.result()
            .join("shards")
            .join(shard::partial_file_name(part))
    }
}

/// Takes the advisory lock `file` (created if needed) for the files of `dir`, for as long as the
/// returned handle lives. The lock is the operating system's (`flock`), so a process that dies —
/// even by SIGKILL — releases it: a crashed run never leaves a stale lock.
pub fn lock(dir: &Path, file: &Path) -> Result<File, ExperimentError> {
    let io = |source| ExperimentError::Io {
        path: file.to_path_buf(),
        source,
    };
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(file)
        .map_err(io)?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(ExperimentError::Busy {
            dir: dir.to_path_buf(),
            lock: file.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ExperimentError + '_ {
    move |source| ExperimentError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Removes `dir` and everything in it; a missing directory is fine.
fn remove_dir(dir: &Path) -> Result<(), ExperimentError> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(dir)(e)),
        _ => Ok(()),
    }
}

/// Whether `path` exists (an error reading its metadata other than "not found" is returned).
fn exists(path: &Path) -> Result<bool, ExperimentError> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// The checkpoint at `path`, if there is one, checked against scenario `s` and part `part`: the
/// finished points it holds. A checkpoint of another scenario text, seed, paths, version or part
/// is refused, naming what differs.
pub fn read_checkpoint(
    path: &Path,
    s: &Scenario,
    part: Part,
) -> Result<Option<Vec<PointRun>>, ExperimentError> {
    if !exists(path)? {
        return Ok(None);
    }
    let f = shard::read(path)?;
    let refuse = |what: String| ExperimentError::Resume {
        path: path.to_path_buf(),
        message: what,
    };
    if let Some(what) = shard::differs(&f, s, part) {
        return Err(refuse(what));
    }
    let mut runs = Vec::with_capacity(f.points.len());
    for (p, sp) in s.points.iter().zip(&f.points) {
        if sp.label != p.label() {
            return Err(refuse(format!(
                "point {:?} where the scenario has {:?}",
                sp.label,
                p.label()
            )));
        }
        let run = shard::merge_point(p, std::iter::once(sp))
            .map_err(|m| refuse(format!("point {}: {m}", p.label())))?;
        runs.push(run);
    }
    if f.points.len() > s.points.len() {
        return Err(refuse(format!(
            "{} points where the scenario has {}",
            f.points.len(),
            s.points.len()
        )));
    }
    Ok(Some(runs))
}

/// The staging directory of a whole run, held under its lock for as long as this value lives.
#[derive(Debug)]
pub struct Staging {
    layout: Layout,
    _lock: File,
}

impl Staging {
    /// Takes the lock of `layout` and prepares `NAME.partial/`: emptied for a fresh run; kept for
    /// `resume`, whose finished points (checked against `s`) are returned. A resume with nothing
    /// to resume starts afresh.
    pub fn open(
        layout: Layout,
        s: &Scenario,
        resume: bool,
    ) -> Result<(Staging, Vec<PointRun>), ExperimentError> {
        super::create_dir(&layout.out)?;
        let lock = lock(&layout.result(), &layout.lock_file())?;
        let staging = layout.staging();
        let kept = if resume {
            read_checkpoint(&layout.checkpoint(), s, Part::WHOLE)?.unwrap_or_default()
        } else {
            Vec::new()
        };
        if kept.is_empty() {
            remove_dir(&staging)?;
        }
        super::create_dir(&staging)?;
        Ok((
            Staging {
                layout,
                _lock: lock,
            },
            kept,
        ))
    }

    /// `NAME.partial/`, where the run writes.
    pub fn dir(&self) -> PathBuf {
        self.layout.staging()
    }

    /// Writes the checkpoint of the finished points `runs` (atomically).
    pub fn checkpoint(&self, s: &Scenario, runs: &[PointRun]) -> Result<(), ExperimentError> {
        shard::write_file(&self.layout.checkpoint(), s, Part::WHOLE, runs, false)
    }

    /// Puts the finished run in place: `NAME/` → `NAME.previous/` (replacing an older one),
    /// `NAME.partial/` → `NAME/`, then drops the checkpoint. Returns `NAME/`.
    pub fn publish(self) -> Result<PathBuf, ExperimentError> {
        let (result, previous, staging) = (
            self.layout.result(),
            self.layout.previous(),
            self.layout.staging(),
        );
        if exists(&result)? {
            remove_dir(&previous)?;
            std::fs::rename(&result, &previous).map_err(io_error(&result))?;
        }
        std::fs::rename(&staging, &result).map_err(io_error(&staging))?;
        let checkpoint = result.join(CHECKPOINT);
        std::fs::remove_file(&checkpoint).map_err(io_error(&checkpoint))?;
        Ok(result)
    }
}
