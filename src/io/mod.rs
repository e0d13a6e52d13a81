//! Reading and writing samples: plain text (one value per line), a CSV column, and NumPy `.npy`
//! (f32 or f64, either byte order, any shape, flattened in row-major order). Files are written
//! atomically: a temporary file beside the target, then a rename.

mod npy;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use npy::{read_npy, read_npy_array, write_npy_f64, write_npy_f64_shaped};

/// Errors of reading and writing sample files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The file could not be opened or read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A text line is not a number.
    #[error("{path}:{line}: cannot parse {text:?} as a number")]
    BadNumber {
        /// The file.
        path: PathBuf,
        /// One-based line number.
        line: usize,
        /// The offending field.
        text: String,
    },
    /// A CSV line without the requested column, or with several columns and none requested.
    #[error("{path}:{line}: {message}")]
    Column {
        /// The file.
        path: PathBuf,
        /// One-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A malformed or unsupported `.npy` file.
    #[error("{path}: {message}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The file holds no samples.
    #[error("{0}: no samples found")]
    Empty(PathBuf),
    /// A value that parses but is NaN or infinite (levylab's readers refuse them: every estimator
    /// and every statistic needs finite samples).
    #[error("{path}:{line}: not a finite number: {text}")]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// One-based line number (text), or one-based element number (`.npy`).
        line: usize,
        /// The value as written.
        text: String,
    },
}

/// Which CSV column to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// Zero-based index.
    Index(usize),
    /// Header name (the first non-comment line is then a header).
    Name(String),
}

impl std::str::FromStr for Column {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.parse::<usize>()
            .map(Column::Index)
            .unwrap_or_else(|_| Column::Name(s.to_string())))
    }
}

/// Reads samples from `path`: `.npy` by extension, otherwise text.
pub fn read_samples(path: &Path, column: Option<&Column>) -> Result<Vec<f64>, IoError> {
    let xs = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        let bytes = fs::read(path).map_err(|source| IoError::Read {
            path: path.into(),
            source,
        })?;
        let xs = read_npy(path, &bytes)?;
        if let Some(i) = xs.iter().position(|v| !v.is_finite()) {
            return Err(IoError::Npy {
                path: path.into(),
                message: format!(
                    "element {i} (row-major, 0-based) is not a finite number: {}",
                    xs[i]
                ),
            });
        }
        xs
    } else {
        let text = fs::read_to_string(path).map_err(|source| IoError::Read {
            path: path.into(),
            source,
        })?;
        parse_text(path, &text, column)?
    };
    if xs.is_empty() {
        return Err(IoError::Empty(path.into()));
    }
    Ok(xs)
}

/// Parses one value per line, or one CSV column. Blank lines and lines starting with `#` are skipped.
pub fn parse_text(path: &Path, text: &str, column: Option<&Column>) -> Result<Vec<f64>, IoError> {
    let mut out = Vec::new();
    let mut index = match column {
        Some(Column::Index(i)) => Some(*i),
        _ => None,
    };
    for (no, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if let (None, Some(Column::Name(name))) = (index, column) {
            // First data line is the header.
            index = Some(
                fields
                    .iter()
                    .position(|f| f.trim_matches('"') == name)
                    .ok_or_else(|| IoError::Column {
                        path: path.into(),
                        line: no + 1,
                        message: format!("no column named {name:?} in header {line:?}"),
                    })?,
            );
            continue;
        }
        let field = match index {
            Some(i) => *fields.get(i).ok_or_else(|| IoError::Column {
                path: path.into(),
                line: no + 1,
                message: format!("has {} fields, no column {i}", fields.len()),
            })?,
            None if fields.len() == 1 => fields[0],
            None => {
                return Err(IoError::Column {
                    path: path.into(),
                    line: no + 1,
                    message: format!(
                        "has {} comma-separated fields; choose one with --column",
                        fields.len()
                    ),
                });
            }
        };
        let v: f64 = field.parse().map_err(|_| IoError::BadNumber {
            path: path.into(),
            line: no + 1,
            text: field.to_string(),
        })?;
        if !v.is_finite() {
            return Err(IoError::NonFinite {
                path: path.into(),
                line: no + 1,
                text: field.to_string(),
            });
        }
        out.push(v);
    }
    Ok(out)
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let err = |source| IoError::Write {
        path: path.into(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Formats samples one per line with full (round-trip) precision.
pub fn format_text(xs: &[f64]) -> String {
    let mut s = String::with_capacity(xs.len() * 24);
    for x in xs {
        use std::fmt::Write as _;
        let _ = writeln!(s, "{x:e}");
    }
    s
}
