//! The α hand-off: a tail index measured by `levylab train` read back from its summary.json, so
//! that a scenario's stable noise can use it (`alpha = { from = "…/summary.json", … }`).
//!
//! The summary is read through a typed view of the fields the hand-off needs ([`SummaryView`]);
//! every other field is ignored. `tests::the_view_reads_what_the_trainer_writes` serializes a
//! real [`NoiseReport`](crate::stats::gradient_noise::NoiseReport) and reads it back through the
//! view, so a renamed report field breaks a test instead of the hand-off.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Which estimate of a checkpoint's noise report gives α.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlphaMethod {
    /// The paper's estimator (the report's `paper.alpha`).
    #[default]
    Paper,
    /// Hill's estimator on the largest coordinates.
    Hill,
    /// McCulloch's quantile estimator.
    Mcculloch,
    /// The paper's estimator on Gaussian samples of the same variances (the null).
    Null,
}

impl AlphaMethod {
    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            AlphaMethod::Paper => "paper",
            AlphaMethod::Hill => "hill",
            AlphaMethod::Mcculloch => "mcculloch",
            AlphaMethod::Null => "null",
        }
    }
}

/// Which measurement of a checkpoint: on the training or on the test set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeasurementSet {
    /// `noise_train`.
    #[default]
    Train,
    /// `noise_test`.
    Test,
}

impl MeasurementSet {
    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            MeasurementSet::Train => "train",
            MeasurementSet::Test => "test",
        }
    }
}

/// Why a measured α could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlphaHandoffError {
    /// The summary file cannot be read.
    #[error("cannot read {}: {cause} (run `levylab train` first)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error (part of the message, which ends in a hint).
        cause: std::io::Error,
    },
    /// The file is not a training summary.
    #[error("{} is not a levylab train summary: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What the JSON reader said.
        message: String,
    },
    /// No run with this index.
    #[error("{} has {runs} runs, no run {run}", path.display())]
    NoRun {
        /// The file.
        path: PathBuf,
        /// Runs in it.
        runs: usize,
        /// The run asked for.
        run: usize,
    },
    /// No checkpoint with this index.
    #[error("{}: run {run} has {checkpoints} checkpoints, no checkpoint {checkpoint}", path.display())]
    NoCheckpoint {
        /// The file.
        path: PathBuf,
        /// The run.
        run: usize,
        /// Checkpoints of that run.
        checkpoints: usize,
        /// The checkpoint asked for (negative: from the end).
        checkpoint: i64,
    },
    /// The checkpoint has no such estimate (not measured, or not finite).
    #[error("{}: run {run}, checkpoint {checkpoint} has no {} estimate on the {} set", path.display(), method.name(), set.name())]
    NoEstimate {
        /// The file.
        path: PathBuf,
        /// The run.
        run: usize,
        /// The checkpoint.
        checkpoint: i64,
        /// The estimator.
        method: AlphaMethod,
        /// The measurement set.
        set: MeasurementSet,
    },
}

/// Where a measured α comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlphaSelector {
    /// Run index (0-based, sweep order).
    pub run: usize,
    /// Checkpoint index; negative counts from the end (−1 = the last).
    pub checkpoint: i64,
    /// The estimator.
    pub method: AlphaMethod,
    /// The measurement set.
    pub set: MeasurementSet,
}

/// The fields of a `levylab train` summary.json that the hand-off reads.
#[derive(Debug, Deserialize)]
struct SummaryView {
    runs: Vec<RunView>,
}

#[derive(Debug, Deserialize)]
struct RunView {
    #[serde(default)]
    label: String,
    checkpoints: Vec<CheckpointView>,
}

#[derive(Debug, Deserialize)]
struct CheckpointView {
    #[serde(default)]
    iteration: serde_json::Value,
    #[serde(default)]
    noise_train: Option<NoiseView>,
    #[serde(default)]
    noise_test: Option<NoiseView>,
}

/// The estimates of a [`NoiseReport`](crate::stats::gradient_noise::NoiseReport).
#[derive(Debug, Default, Deserialize)]
struct NoiseView {
    #[serde(default)]
    paper: Option<PaperView>,
    #[serde(default)]
    hill: Option<f64>,
    #[serde(default)]
    mcculloch: Option<f64>,
    #[serde(default)]
    gaussian_null: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct PaperView {
    #[serde(default)]
    alpha: Option<f64>,
}

impl NoiseView {
    fn alpha(&self, method: AlphaMethod) -> Option<f64> {
        match method {
            AlphaMethod::Paper => self.paper.as_ref().and_then(|p| p.alpha),
            AlphaMethod::Hill => self.hill,
            AlphaMethod::Mcculloch => self.mcculloch,
            AlphaMethod::Null => self.gaussian_null,
        }
    }
}

/// Reads a measured α from the `levylab train` summary.json at `path`. Returns α and a
/// description of where it came from (for the scenario's summary).
pub fn measured_alpha(path: &Path, at: AlphaSelector) -> Result<(f64, String), AlphaHandoffError> {
    let text = std::fs::read_to_string(path).map_err(|cause| AlphaHandoffError::Read {
        path: path.to_path_buf(),
        cause,
    })?;
    measured_alpha_in(&text, path, at)
}

/// [`measured_alpha`] on the text of a summary file (`path` only names it in errors).
pub fn measured_alpha_in(
    text: &str,
    path: &Path,
    at: AlphaSelector,
) -> Result<(f64, String), AlphaHandoffError> {
    let AlphaSelector {
        run,
        checkpoint,
        method,
        set,
    } = at;
    let v: SummaryView = serde_json::from_str(text).map_err(|e| AlphaHandoffError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let r = v.runs.get(run).ok_or_else(|| AlphaHandoffError::NoRun {
        path: path.to_path_buf(),
        runs: v.runs.len(),
        run,
    })?;
    let cps = &r.checkpoints;
    let idx = if checkpoint < 0 {
        (cps.len() as i64).saturating_add(checkpoint)
    } else {
        checkpoint
    };
    let cp = usize::try_from(idx)
        .ok()
        .and_then(|i| cps.get(i))
        .ok_or_else(|| AlphaHandoffError::NoCheckpoint {
            path: path.to_path_buf(),
            run,
            checkpoints: cps.len(),
            checkpoint,
        })?;
    let noise = match set {
        MeasurementSet::Train => &cp.noise_train,
        MeasurementSet::Test => &cp.noise_test,
    };
    let a = noise
        .as_ref()
        .and_then(|n| n.alpha(method))
        .ok_or_else(|| AlphaHandoffError::NoEstimate {
            path: path.to_path_buf(),
            run,
            checkpoint,
            method,
            set,
        })?;
    let desc = format!(
        "{} run {run} ({}) iteration {} {} {}",
        path.display(),
        r.label,
        cp.iteration,
        set.name(),
        method.name()
    );
    Ok((a, desc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::gradient_noise::{MeterOptions, analyze_matrix};

    fn at(method: AlphaMethod, set: MeasurementSet) -> AlphaSelector {
        AlphaSelector {
            run: 0,
            checkpoint: -1,
            method,
            set,
        }
    }

    /// A report the trainer's noise meter wrote, read back through the view: every estimate
    /// comes back as the report holds it.
    #[test]
    fn the_view_reads_what_the_trainer_writes() {
        // 40 minibatches of 500 heavy-tailed coordinates (cubes of uniforms).
        let mut r = crate::rng::stream(3, 0);
        let x: Vec<f64> = (0..40 * 500)
            .map(|_| (rand::RngExt::random::<f64>(&mut r) - 0.5).powi(3))
            .collect();
        let report = analyze_matrix(&x, 40, MeterOptions::default()).unwrap();
        let summary = serde_json::json!({
            "runs": [{"label": "w=8", "checkpoints": [
                {"iteration": 5, "noise_train": report, "noise_test": null}
            ]}]
        })
        .to_string();
        let p = Path::new("s.json");
        let want = [
            (AlphaMethod::Paper, report.paper.as_ref().map(|e| e.alpha)),
            (AlphaMethod::Hill, report.hill),
            (AlphaMethod::Mcculloch, report.mcculloch),
            (AlphaMethod::Null, report.gaussian_null),
        ];
        for (method, value) in want {
            let value = value.expect("the example report has every estimate");
            let (a, desc) = measured_alpha_in(&summary, p, at(method, MeasurementSet::Train))
                .expect("the estimate is read");
            assert_eq!(a, value, "{method:?}");
            assert_eq!(
                desc,
                format!("s.json run 0 (w=8) iteration 5 train {}", method.name())
            );
        }
        let e = measured_alpha_in(&summary, p, at(AlphaMethod::Paper, MeasurementSet::Test))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.json: run 0, checkpoint -1 has no paper estimate on the test set"
        );
    }

    #[test]
    fn errors_name_the_file_and_what_is_missing() {
        let p = Path::new("s.json");
        let a = at(AlphaMethod::Paper, MeasurementSet::Train);
        let e =
            |text: &str, a: AlphaSelector| measured_alpha_in(text, p, a).unwrap_err().to_string();
        assert!(e("[1]", a).starts_with("s.json is not a levylab train summary: "));
        assert_eq!(e(r#"{"runs": []}"#, a), "s.json has 0 runs, no run 0");
        assert_eq!(
            e(r#"{"runs": [{"label": "a", "checkpoints": []}]}"#, a),
            "s.json: run 0 has 0 checkpoints, no checkpoint -1"
        );
        let missing = measured_alpha(Path::new("/nonexistent/s.json"), a)
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("cannot read /nonexistent/s.json: ")
                && missing.ends_with("(run `levylab train` first)"),
            "{missing}"
        );
    }
}
