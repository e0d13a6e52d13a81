//! NumPy `.npy` format, versions 1.0–3.0: f4/f8 in either byte order, C or Fortran order.

use std::path::Path;

use super::IoError;

const MAGIC: &[u8] = b"\x93NUMPY";

fn bad(path: &Path, message: impl Into<String>) -> IoError {
    IoError::Npy {
        path: path.into(),
        message: message.into(),
    }
}

/// The value of `'key': value` in the header dict, as raw text.
fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let k = header.find(&format!("'{key}'"))?;
    let rest = header[k + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim())
}

/// Parses a `.npy` file's bytes into f64 values in row-major (C) order.
pub fn read_npy(path: &Path, bytes: &[u8]) -> Result<Vec<f64>, IoError> {
    read_npy_array(path, bytes).map(|(values, _)| values)
}

/// Parses a `.npy` file's bytes into f64 values in row-major (C) order and the array's shape.
pub fn read_npy_array(path: &Path, bytes: &[u8]) -> Result<(Vec<f64>, Vec<usize>), IoError> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad(path, "not a .npy file (bad magic)"));
    }
    let major = bytes[6];
    let (hlen, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad(path, "truncated header"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(bad(path, format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start + hlen)
        .ok_or_else(|| bad(path, "truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad(path, "header is not text"))?;
    let descr = header_field(header, "descr").ok_or_else(|| bad(path, "header has no 'descr'"))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = header_field(header, "fortran_order")
        .ok_or_else(|| bad(path, "header has no 'fortran_order'"))?;
    let fortran = match fortran {
        "True" => true,
        "False" => false,
        other => return Err(bad(path, format!("bad fortran_order {other:?}"))),
    };
    let shape_text =
        header_field(header, "shape").ok_or_else(|| bad(path, "header has no 'shape'"))?;
    let shape: Vec<usize> = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| bad(path, format!("bad shape {shape_text}")))
        })
        .collect::<Result<_, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| {
            bad(
                path,
                format!("shape {shape_text} overflows the address space"),
            )
        })?;
    let (width, little, float32) = match descr {
        "<f8" | "=f8" | "f8" => (8, true, false),
        ">f8" => (8, false, false),
        "<f4" | "=f4" | "f4" => (4, true, true),
        ">f4" => (4, false, true),
        other => {
            return Err(bad(
                path,
                format!("unsupported dtype {other:?}: levylab reads float32 and float64 arrays"),
            ));
        }
    };
    let data = &bytes[start + hlen..];
    if data.len() / width < count {
        return Err(bad(
            path,
            format!(
                "truncated data: shape {shape_text} needs {} bytes, found {}",
                count.saturating_mul(width),
                data.len()
            ),
        ));
    }
    let mut values: Vec<f64> = data[..count * width]
        .chunks_exact(width)
        .map(|c| match (float32, little) {
            (true, true) => f32::from_le_bytes(c.try_into().unwrap_or_default()) as f64,
            (true, false) => f32::from_be_bytes(c.try_into().unwrap_or_default()) as f64,
            (false, true) => f64::from_le_bytes(c.try_into().unwrap_or_default()),
            (false, false) => f64::from_be_bytes(c.try_into().unwrap_or_default()),
        })
        .collect();
    if fortran && shape.len() > 1 {
        values = fortran_to_c(&values, &shape);
    }
    Ok((values, shape))
}

/// Reorders column-major data of `shape` into row-major order.
fn fortran_to_c(values: &[f64], shape: &[usize]) -> Vec<f64> {
    let n = values.len();
    let mut out = vec![0.0; n];
    let mut idx = vec![0usize; shape.len()];
    for slot in out.iter_mut() {
        // idx is the C-order multi-index of `slot`; its Fortran offset has the first axis fastest.
        let mut off = 0;
        let mut stride = 1;
        for (d, &i) in idx.iter().enumerate() {
            off += i * stride;
            stride *= shape[d];
        }
        *slot = values[off];
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// Serializes a 1-D little-endian float64 array as `.npy` version 1.0.
pub fn write_npy_f64(values: &[f64]) -> Vec<u8> {
    write_npy_f64_shaped(values, &[values.len()])
}

/// Serializes a row-major little-endian float64 array of `shape` as `.npy` version 1.0.
///
/// # Panics
/// If the shape's product is not `values.len()` (a caller bug).
pub fn write_npy_f64_shaped(values: &[f64], shape: &[usize]) -> Vec<u8> {
    assert_eq!(
        shape.iter().product::<usize>(),
        values.len(),
        "shape does not match the values"
    );
    let dims: String = match shape {
        [n] => format!("{n},"),
        _ => shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({dims}), }}");
    // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + values.len() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_fortran_order() {
        let xs = [1.5, -2.0, 3.25];
        let bytes = write_npy_f64(&xs);
        assert_eq!((bytes.len() - xs.len() * 8) % 64, 0);
        assert_eq!(read_npy(Path::new("x.npy"), &bytes).unwrap(), xs);
        // A 2×3 Fortran-ordered array [[1,2,3],[4,5,6]] is stored as 1,4,2,5,3,6.
        let header = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        for v in [1f32, 4., 2., 5., 3., 6.] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(
            read_npy(Path::new("m.npy"), &b).unwrap(),
            vec![1., 2., 3., 4., 5., 6.]
        );
    }

    #[test]
    fn rejects_bad_files() {
        let e = read_npy(Path::new("a.npy"), b"hello world")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad magic"), "{e}");
        let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }";
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(&[0; 8]);
        let e = read_npy(Path::new("i.npy"), &b).unwrap_err().to_string();
        assert!(e.contains("unsupported dtype \"<i8\""), "{e}");
        let mut t = write_npy_f64(&[1.0, 2.0]);
        t.truncate(t.len() - 3);
        let e = read_npy(Path::new("t.npy"), &t).unwrap_err().to_string();
        assert!(e.contains("truncated data"), "{e}");
    }
}
