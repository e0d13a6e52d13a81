//! A safe wrapper around matrixmultiply's single-precision GEMM — the only unsafe code in levylab.
//!
//! nalgebra's `tr_mul`/`gemm_tr` bypass matrixmultiply (≈ 9 vs ≈ 77 GFLOP/s here, nalgebra issue
//! #717), so the trainer calls matrixmultiply directly and expresses transposes through strides.
#![allow(unsafe_code)]

/// `C (m×n, row-major) = α·op(A)·op(B) + β·C`, with `A` stored row-major as m×k (or k×m if
/// `a_t`) and `B` as k×n (or n×k if `b_t`).
///
/// # Panics
/// If a slice is shorter than its matrix (checked before the unsafe call, so the call never reads
/// or writes out of bounds).
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    a_t: bool,
    b: &[f32],
    b_t: bool,
    beta: f32,
    c: &mut [f32],
) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "sgemm: slice shorter than its matrix"
    );
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = if a_t {
        (1, m as isize)
    } else {
        (k as isize, 1)
    };
    let (rsb, csb) = if b_t {
        (1, k as isize)
    } else {
        (n as isize, 1)
    };
    // SAFETY: the asserts above guarantee that every index (i·rsa + p·csa for i < m, p < k, and the
    // same for B and C) lies inside its slice; C does not alias A or B (distinct borrows).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// `params ← params − lr·grad`.
pub fn sgd_step(params: &mut [f32], grad: &[f32], lr: f32) {
    for (p, g) in params.iter_mut().zip(grad) {
        *p -= lr * g;
    }
}

/// Adds `bias` to every row of `z` (rows of `bias.len()`); nothing when `bias` is empty.
pub fn add_bias(z: &mut [f32], bias: &[f32]) {
    if bias.is_empty() {
        return;
    }
    for row in z.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// `gb = Σ_rows delta` for a bias of `width` entries (`delta` has rows of `width`); nothing when
/// `gb` is empty (a layer without bias).
pub fn bias_grad(delta: &[f32], gb: &mut [f32], width: usize) {
    if gb.is_empty() {
        return;
    }
    gb.iter_mut().for_each(|v| *v = 0.0);
    for row in delta.chunks_exact(width) {
        for (g, v) in gb.iter_mut().zip(row) {
            *g += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    let av = if a_t { a[p * m + i] } else { a[i * k + p] };
                    let bv = if b_t { b[j * k + p] } else { b[p * n + j] };
                    c[i * n + j] += av * bv;
                }
            }
        }
        c
    }

    #[test]
    fn all_transpose_combinations_match_the_naive_product() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.71).cos()).collect();
        for (at, bt) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut c = vec![1.0; m * n];
            sgemm(m, k, n, 1.0, &a, at, &b, bt, 0.0, &mut c);
            let want = naive(m, k, n, &a, at, &b, bt);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-5, "{at} {bt}");
            }
        }
    }
}
