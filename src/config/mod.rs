//! The reader shared by scenario and training files: reading the text, one-line errors that name
//! the file, line, column and field, locating a dotted field in the text, and sweeps (grid or zip).

mod locate;

use std::fmt;
use std::path::{Path, PathBuf};

pub(crate) use locate::{line_col, locate};

/// A scenario or training file that cannot be used, with where and why.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line and column, where known.
    pub position: Option<(usize, usize)>,
    /// Dotted field path, where known.
    pub field: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        match &self.field {
            Some(field) => write!(f, ": {field} {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The text of a scenario or training file, or a one-line error naming it.
pub(crate) fn read_source(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        position: None,
        field: None,
        message: format!("cannot read: {e}"),
    })
}

/// A TOML or serde error as a one-line [`ConfigError`].
pub(crate) fn toml_error(src: &str, file: &Path, e: &toml::de::Error) -> ConfigError {
    let msg = e
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .trim()
        .to_string();
    let position = e.span().map(|s| line_col(src, s.start));
    if let Some((field, pos, message)) = e.span().and_then(|s| blame_key(src, s.start, &msg)) {
        return ConfigError {
            file: file.to_path_buf(),
            position: Some(pos),
            field: Some(field),
            message,
        };
    }
    ConfigError {
        file: file.to_path_buf(),
        position,
        field: None,
        message: msg,
    }
}

/// serde reports a type error inside an internally tagged table (`[landscape]` with `kind = …`) at the
/// table header, without the key. Find the key in that table whose value is the offending literal,
/// and say "expected X, got Y" about it.
fn blame_key(src: &str, span_start: usize, msg: &str) -> Option<(String, (usize, usize), String)> {
    // "invalid type: string \"x\", expected a boolean", or for a string enum (a scheme-like
    // keyword) "unknown variant `x`, expected `a` or `b`".
    let (got, expected, literal) = if let Some(rest) = msg.strip_prefix("unknown variant ") {
        let (got, expected) = rest.split_once(", expected ")?;
        let word = got.trim_matches('`');
        (format!("\"{word}\""), expected, format!("\"{word}\""))
    } else {
        let rest = msg.strip_prefix("invalid type: ")?;
        let (got, expected) = rest.rsplit_once(", expected ")?;
        let literal = match (got.find('"'), got.find('`')) {
            (Some(i), _) => &got[i..],
            (None, Some(i)) => got[i + 1..].trim_end_matches('`'),
            _ => return None,
        };
        (got.to_string(), expected, literal.to_string())
    };
    let literal = literal.as_str();
    let (line0, _) = line_col(src, span_start);
    let header = src.lines().nth(line0 - 1)?.trim();
    if !(header.starts_with('[') && header.ends_with(']')) {
        // A plain field: the span is on its own `key = value` line; name it with its table.
        let (key, _) = header.split_once('=')?;
        let table = src
            .lines()
            .take(line0 - 1)
            .map(str::trim)
            .filter(|l| l.starts_with('[') && l.ends_with(']'))
            .last()
            .map(|h| h.trim_matches(|c| c == '[' || c == ']').trim().to_string());
        let key = key.trim();
        let field = table.map_or(key.to_string(), |t| format!("{t}.{key}"));
        let line = src.lines().nth(line0 - 1)?;
        return Some((
            field,
            (line0, line.len() - line.trim_start().len() + 1),
            format!("expected {expected}, got {got}"),
        ));
    }
    let table = header.trim_matches(|c| c == '[' || c == ']').trim();
    for (k, l) in src.lines().enumerate().skip(line0) {
        let t = l.trim();
        if t.starts_with('[') {
            break;
        }
        if let Some((key, val)) = t.split_once('=')
            && val.split('#').next().unwrap_or("").trim() == literal
        {
            let field = format!("{table}.{}", key.trim());
            return Some((
                field,
                (k + 1, l.len() - l.trim_start().len() + 1),
                format!("expected {expected}, got {got}"),
            ));
        }
    }
    None
}

pub(crate) type SweepPoint<T> = Vec<(String, T)>;

/// A zip sweep whose keys have different numbers of values.
#[derive(Debug)]
pub(crate) struct ZipMismatch {
    pub key: String,
    pub expected: usize,
    pub got: usize,
}

/// The points of a sweep: the Cartesian product of the axes in order (grid), or their i-th values
/// together (zip).
pub(crate) fn combine<T: Clone>(
    axes: &[(String, Vec<T>)],
    zip: bool,
) -> Result<Vec<SweepPoint<T>>, ZipMismatch> {
    if axes.is_empty() {
        return Ok(vec![vec![]]);
    }
    if zip {
        let n = axes[0].1.len();
        if let Some((k, v)) = axes.iter().find(|(_, v)| v.len() != n) {
            return Err(ZipMismatch {
                key: k.clone(),
                expected: n,
                got: v.len(),
            });
        }
        return Ok((0..n)
            .map(|i| {
                axes.iter()
                    .map(|(k, v)| (k.clone(), v[i].clone()))
                    .collect()
            })
            .collect());
    }
    let mut out: Vec<SweepPoint<T>> = vec![vec![]];
    for (k, vals) in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                vals.iter().map(move |x| {
                    let mut p = prefix.clone();
                    p.push((k.clone(), x.clone()));
                    p
                })
            })
            .collect();
    }
    Ok(out)
}

/// The table that holds the last key of a dotted path, with that key. `what` names the kind of file
/// in the error ("scenario", "configuration").
pub(crate) fn parent_table<'t, 'p>(
    t: &'t mut toml::Table,
    path: &'p str,
    what: &str,
) -> Result<(&'t mut toml::Table, &'p str), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let Some((last, head)) = parts.split_last() else {
        return Err("is empty".into());
    };
    let mut cur = t;
    for (i, p) in head.iter().enumerate() {
        cur = match cur.get_mut(*p) {
            Some(toml::Value::Table(next)) => next,
            _ => {
                return Err(format!(
                    "does not name a field of this {what} (no table `{}`)",
                    parts[..=i].join(".")
                ));
            }
        };
    }
    Ok((cur, last))
}
