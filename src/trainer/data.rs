//! Data sets: the embedded digits set, MNIST-format IDX files, seeded splits, normalization.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;
use rand::RngExt;

use super::TrainError;
use crate::rng;

/// The digits set (1797 8×8 images, 10 classes), embedded: see data/README.md for its origin.
static DIGITS_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Features (row-major, n × dim, f32) and labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// n × dim features, row-major.
    pub x: Vec<f32>,
    /// n labels in 0..classes.
    pub y: Vec<u8>,
    /// Feature dimension.
    pub dim: usize,
    /// Number of classes.
    pub classes: usize,
    /// Image rows × columns when the examples are one-channel images (`dim` = rows·columns).
    pub image: Option<(usize, usize)>,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }
    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    /// Rows `idx` as a new dataset.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.dim);
        for &i in idx {
            x.extend_from_slice(&self.x[i * self.dim..(i + 1) * self.dim]);
        }
        Dataset {
            x,
            y: idx.iter().map(|&i| self.y[i]).collect(),
            dim: self.dim,
            classes: self.classes,
            image: self.image,
        }
    }
}

/// The embedded digits set: 1797 examples, 64 features (pixel values 0–16), 10 classes.
pub fn digits() -> Result<Dataset, TrainError> {
    let mut text = String::new();
    GzDecoder::new(DIGITS_GZ)
        .read_to_string(&mut text)
        .map_err(|e| TrainError::EmbeddedDigits {
            line: None,
            problem: e.to_string(),
        })?;
    let mut x = Vec::with_capacity(1797 * 64);
    let mut y = Vec::with_capacity(1797);
    for (no, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 65 {
            return Err(TrainError::EmbeddedDigits {
                line: Some(no + 1),
                problem: format!("expected 65 fields, got {}", fields.len()),
            });
        }
        for f in &fields[..64] {
            x.push(
                f.trim()
                    .parse::<f32>()
                    .map_err(|_| TrainError::EmbeddedDigits {
                        line: Some(no + 1),
                        problem: format!("bad value {f:?}"),
                    })?,
            );
        }
        let label: f32 = fields[64]
            .trim()
            .parse()
            .map_err(|_| TrainError::EmbeddedDigits {
                line: Some(no + 1),
                problem: "bad label".into(),
            })?;
        y.push(label as u8);
    }
    Ok(Dataset {
        x,
        y,
        dim: 64,
        classes: 10,
        image: Some((8, 8)),
    })
}

/// What is wrong with an IDX file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdxProblem {
    /// The image file's magic number is not 2051 (or the header is short).
    #[error("not an IDX image file (magic {}, expected 2051)", magic.map_or("missing".to_string(), |m| m.to_string()))]
    NotImages {
        /// The first four bytes, big-endian, if there are four.
        magic: Option<u32>,
    },
    /// The label file's magic number is not 2049 (or the header is short).
    #[error("not an IDX label file (magic {}, expected 2049)", magic.map_or("missing".to_string(), |m| m.to_string()))]
    NotLabels {
        /// The first four bytes, big-endian, if there are four.
        magic: Option<u32>,
    },
    /// Fewer image bytes than the header claims.
    #[error("truncated: {n} images of {rows}×{cols} need {} bytes, found {found}", need.map_or("more than 2^64".to_string(), |v| v.to_string()))]
    TruncatedImages {
        /// Images claimed.
        n: usize,
        /// Rows per image.
        rows: usize,
        /// Columns per image.
        cols: usize,
        /// Bytes needed (None past usize).
        need: Option<usize>,
        /// Bytes present.
        found: usize,
    },
    /// Images of zero pixels.
    #[error("images of {rows}×{cols} have no pixels")]
    NoPixels {
        /// Rows per image.
        rows: usize,
        /// Columns per image.
        cols: usize,
    },
    /// Fewer label bytes than the header claims.
    #[error("truncated: {n} labels need {need} bytes, found {found}")]
    TruncatedLabels {
        /// Labels claimed.
        n: usize,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        found: usize,
    },
}

/// Largest decompressed IDX file accepted (Fashion-MNIST's training images are 47 MB).
pub const MAX_IDX_BYTES: u64 = 1 << 30;

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, TrainError> {
    let raw = std::fs::read(path).map_err(|cause| TrainError::Read {
        path: path.to_path_buf(),
        cause,
    })?;
    maybe_gunzip(raw, path)
}

/// The bytes of an IDX file, decompressed if they are gzip data; at most [`MAX_IDX_BYTES`] are
/// inflated, so a small file claiming a huge output cannot exhaust memory.
pub fn maybe_gunzip(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>, TrainError> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .take(MAX_IDX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|cause| TrainError::Gzip {
                path: path.to_path_buf(),
                cause,
            })?;
        if out.len() as u64 > MAX_IDX_BYTES {
            return Err(TrainError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads an MNIST-format pair: images (magic 2051, u8, n × rows × cols) and labels (magic 2049, u8),
/// gzip-compressed or raw. Pixels are returned as f32 in 0–255.
pub fn read_idx(images: &Path, labels: &Path) -> Result<Dataset, TrainError> {
    let im = read_maybe_gz(images)?;
    let lb = read_maybe_gz(labels)?;
    parse_idx(&im, &lb, images, labels)
}

/// Parses the (decompressed) bytes of an IDX image file and label file; the paths only name them
/// in errors. Sizes claimed by the headers are checked against the data before anything is
/// allocated.
pub fn parse_idx(
    im: &[u8],
    lb: &[u8],
    images: &Path,
    labels: &Path,
) -> Result<Dataset, TrainError> {
    let idx = |path: &Path, problem| TrainError::Idx {
        path: path.to_path_buf(),
        problem,
    };
    let magic = |b: &[u8]| (b.len() >= 4).then(|| be_u32(b, 0));
    if im.len() < 16 || be_u32(im, 0) != 2051 {
        return Err(idx(images, IdxProblem::NotImages { magic: magic(im) }));
    }
    if lb.len() < 8 || be_u32(lb, 0) != 2049 {
        return Err(idx(labels, IdxProblem::NotLabels { magic: magic(lb) }));
    }
    let (n, rows, cols) = (
        be_u32(im, 4) as usize,
        be_u32(im, 8) as usize,
        be_u32(im, 12) as usize,
    );
    let nl = be_u32(lb, 4) as usize;
    if n != nl {
        return Err(TrainError::CountMismatch {
            images: images.to_path_buf(),
            images_n: n,
            labels: labels.to_path_buf(),
            labels_n: nl,
        });
    }
    let dim = rows * cols;
    let need = dim.checked_mul(n).and_then(|v| v.checked_add(16));
    if need.is_none_or(|need| im.len() < need) {
        return Err(idx(
            images,
            IdxProblem::TruncatedImages {
                n,
                rows,
                cols,
                need,
                found: im.len(),
            },
        ));
    }
    if n > 0 && dim == 0 {
        return Err(idx(images, IdxProblem::NoPixels { rows, cols }));
    }
    if lb.len() < 8 + n {
        return Err(idx(
            labels,
            IdxProblem::TruncatedLabels {
                n,
                need: 8 + n,
                found: lb.len(),
            },
        ));
    }
    let x = im[16..16 + n * dim].iter().map(|&v| v as f32).collect();
    let y: Vec<u8> = lb[8..8 + n].to_vec();
    let classes = y.iter().copied().max().map_or(0, |m| m as usize + 1);
    Ok(Dataset {
        x,
        y,
        dim,
        classes,
        image: Some((rows, cols)),
    })
}

/// A seeded split into (train, test) with `test_fraction` of the examples in the test part.
pub fn split(d: &Dataset, test_fraction: f64, seed: u64) -> (Dataset, Dataset) {
    let n = d.len();
    let mut idx: Vec<usize> = (0..n).collect();
    let mut r = rng::aux_stream(seed, rng::domain::DATA_SPLIT, 0);
    for i in (1..n).rev() {
        idx.swap(i, r.random_range(0..=i));
    }
    let n_test = ((n as f64) * test_fraction).round() as usize;
    let (test, train) = idx.split_at(n_test);
    (d.subset(train), d.subset(test))
}

/// Per-feature standardization with the train set's mean and standard deviation (features with zero
/// spread are only centred), applied to both sets.
pub fn normalize(train: &mut Dataset, test: &mut Dataset) {
    let (n, dim) = (train.len(), train.dim);
    let mut mean = vec![0f64; dim];
    let mut sq = vec![0f64; dim];
    for row in train.x.chunks_exact(dim) {
        for (j, &v) in row.iter().enumerate() {
            mean[j] += v as f64;
            sq[j] += (v as f64) * (v as f64);
        }
    }
    let stats: Vec<(f32, f32)> = (0..dim)
        .map(|j| {
            let m = mean[j] / n as f64;
            let var = (sq[j] / n as f64 - m * m).max(0.0);
            (m as f32, if var > 1e-12 { var.sqrt() as f32 } else { 1.0 })
        })
        .collect();
    for d in [train, test] {
        for row in d.x.chunks_exact_mut(dim) {
            for (v, (m, s)) in row.iter_mut().zip(&stats) {
                *v = (*v - m) / s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_loads_and_splits_reproducibly() {
        let d = digits().unwrap();
        assert_eq!((d.len(), d.dim, d.classes), (1797, 64, 10));
        assert!(d.x.iter().all(|&v| (0.0..=16.0).contains(&v)));
        let (tr, te) = split(&d, 0.2, 1);
        assert_eq!((tr.len(), te.len()), (1438, 359));
        assert_eq!(split(&d, 0.2, 1).1, te);
        assert_ne!(split(&d, 0.2, 2).1, te);
    }

    #[test]
    fn idx_errors_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let (im, lb) = (dir.path().join("im"), dir.path().join("lb"));
        let mut img = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2];
        img.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        std::fs::write(&im, &img).unwrap();
        std::fs::write(&lb, [0, 0, 8, 1, 0, 0, 0, 2, 3, 7]).unwrap();
        let d = read_idx(&im, &lb).unwrap();
        assert_eq!(
            (d.len(), d.dim, d.classes, d.y.clone()),
            (2, 4, 8, vec![3, 7])
        );
        std::fs::write(&lb, [0, 0, 8, 1, 0, 0, 0, 3, 3, 7, 1]).unwrap();
        assert!(
            read_idx(&im, &lb)
                .unwrap_err()
                .to_string()
                .contains("has 2 images but")
        );
        std::fs::write(&lb, [0, 0, 8, 2, 0, 0, 0, 2, 3, 7]).unwrap();
        assert!(
            read_idx(&im, &lb)
                .unwrap_err()
                .to_string()
                .contains("magic 2050, expected 2049")
        );
        std::fs::write(&lb, [0, 0, 8, 1, 0, 0, 0, 2, 3, 7]).unwrap();
        std::fs::write(&im, &img[..20]).unwrap();
        assert!(
            read_idx(&im, &lb)
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
    }
}
