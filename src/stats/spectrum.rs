//! The top eigenvalues of the gradient-noise covariance C = (1/(K − 1)) Σₚ UₚUₚᵀ (an M × M matrix
//! that is never formed) by block subspace iteration on the streamed rows Uₚ = gₚ − ḡ.
//!
//! # Algorithm
//! ```text
//! V₀ = orth(Ω)                      Ω an M × l Gaussian block, l = k + oversampling
//! pass q:  Y = C·V_{q−1} = (1/(K − 1)) Σₚ Uₚ (Uₚᵀ V_{q−1})     one stream over the K rows
//!          T = V_{q−1}ᵀ Y  (l × l),  Ritz values = eig(T)
//!          V_q = orth(Y)
//! ```
//! Each pass costs one stream over the rows and 4·K·M·l flops, done as matrix products over a
//! window of rows; memory is 2·M·l numbers plus the window (never K × M or M × M). The Ritz
//! values are lower bounds of the eigenvalues and converge to the top ones at the rate
//! (λ_{l+1}/λⱼ)^{2q} (Halko, Martinsson & Tropp 2011; Saad 2011 §5); the report says how many
//! leading values changed by less than 1 % in the last pass (`converged`), and the power-law fit of
//! λⱼ against j uses only those.
//!
//! Orthonormalization is modified Gram–Schmidt, twice. Every reduction runs over fixed tiles of
//! coordinates combined in tile order, so the result does not depend on the number of threads.
//!
//! # References
//! Halko, Martinsson & Tropp (2011), SIAM Review 53 (randomized range finders and power iteration);
//! Saad (2011), *Numerical Methods for Large Eigenvalue Problems*, 2nd ed., §5.1 (subspace
//! iteration); Xie, Tang, Sun & Li (2023), NeurIPS (the power-law spectrum of gradient covariance).

use rand::distr::Distribution;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use crate::rng;

/// Coordinates per parallel tile (fixed: results do not depend on the thread count).
const TILE: usize = 4096;
/// Rows buffered before they are applied as one matrix product.
const WINDOW: usize = 16;
/// Extra block columns beyond the eigenvalues asked for.
pub const OVERSAMPLING: usize = 10;
/// Relative change below which a Ritz value counts as converged.
const CONVERGED: f64 = 0.01;

/// The covariance spectrum report.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Spectrum {
    /// The leading eigenvalues λ₁ ≥ λ₂ ≥ … (Ritz values of the last pass), at most `k`.
    pub eigenvalues: Vec<f64>,
    /// Leading values whose relative change in the last pass was below 1 % (all when one pass).
    pub converged: usize,
    /// Subspace-iteration passes over the rows.
    pub passes: usize,
    /// Block size l.
    pub block: usize,
    /// trace(C) = (1/(K − 1)) Σₚ ‖Uₚ‖²: the share of the total variance the leading values carry
    /// is Σλⱼ / trace.
    pub trace: f64,
    /// Fit λⱼ ∝ j^(−exponent) by least squares on log λ against log j, over the converged positive
    /// values (`None` with fewer than 3).
    pub power_law: Option<SpectrumFit>,
}

/// A least-squares power law λⱼ ∝ j^(−exponent).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct SpectrumFit {
    /// The exponent (positive for a decaying spectrum).
    pub exponent: f64,
    /// Its standard error from the regression residuals.
    pub exponent_se: f64,
    /// First index of the fitted range (1-based).
    pub from: usize,
    /// Last index of the fitted range.
    pub to: usize,
}

/// Block subspace iteration over streamed centered rows (see the module documentation).
#[derive(Clone, Debug)]
pub struct SpectrumMeter {
    m: usize,
    k: usize,
    l: usize,
    passes: usize,
    done: usize,
    /// Current orthonormal block, column-major (column c at c·m).
    v: Vec<f64>,
    /// C·V accumulated over the current pass, column-major.
    y: Vec<f64>,
    window: Vec<f64>,
    in_window: usize,
    rows: usize,
    rows_per_pass: Option<usize>,
    sum_sq: f64,
    ritz: Vec<f64>,
    previous: Vec<f64>,
}

impl SpectrumMeter {
    /// A meter for the top `k` eigenvalues of M × M covariances, `passes` streams over the rows
    /// (≥ 1), starting block drawn from `seed`.
    pub fn new(m: usize, k: usize, passes: usize, seed: u64) -> Self {
        let l = (k + OVERSAMPLING).min(m).max(1);
        let mut v = vec![0.0; m * l];
        v.par_chunks_mut(TILE * l)
            .enumerate()
            .for_each(|(t, block)| {
                let len = block.len() / l;
                for c in 0..l {
                    let mut r = rng::aux_stream(
                        seed,
                        rng::domain::SPECTRUM_START,
                        (c as u64) << 32 | t as u64,
                    );
                    block[c * len..(c + 1) * len]
                        .iter_mut()
                        .for_each(|x| *x = StandardNormal.sample(&mut r));
                }
            });
        orthonormalize(&mut v, l);
        orthonormalize(&mut v, l);
        SpectrumMeter {
            m,
            k: k.min(l),
            l,
            passes: passes.max(1),
            done: 0,
            v,
            y: vec![0.0; m * l],
            window: vec![0.0; WINDOW * m],
            in_window: 0,
            rows: 0,
            rows_per_pass: None,
            sum_sq: 0.0,
            ritz: Vec::new(),
            previous: Vec::new(),
        }
    }

    /// Passes still to stream (0 when the spectrum is ready).
    pub fn passes_left(&self) -> usize {
        self.passes - self.done
    }

    /// The next centered row Uₚ of the current pass.
    pub fn add(&mut self, u: &[f64]) {
        debug_assert_eq!(u.len(), self.m);
        if self.done == 0 {
            self.sum_sq += u.iter().map(|x| x * x).sum::<f64>();
        }
        let m = self.m;
        self.window[self.in_window * m..(self.in_window + 1) * m].copy_from_slice(u);
        self.in_window += 1;
        self.rows += 1;
        if self.in_window == WINDOW {
            self.flush();
        }
    }

    /// Y += Wᵀ(W·V) for the buffered rows W, tile by tile.
    fn flush(&mut self) {
        let (m, l, w) = (self.m, self.l, self.in_window);
        if w == 0 {
            return;
        }
        let window = &self.window[..w * m];
        // B = W·V (w × l), as per-tile partial products summed in tile order.
        let parts: Vec<Vec<f64>> = self
            .v
            .par_chunks(TILE * l)
            .enumerate()
            .map(|(t, vb)| {
                let len = vb.len() / l;
                let mut b = vec![0.0; w * l];
                let a = Strided::new(&window[t * TILE..], w, len, m, 1);
                dgemm(a, Strided::new(vb, len, l, 1, len), 0.0, &mut b, l, 1);
                b
            })
            .collect();
        let mut b = vec![0.0; w * l];
        for p in parts {
            b.iter_mut().zip(p).for_each(|(s, x)| *s += x);
        }
        // Y[tile, :] += W[:, tile]ᵀ·B, each tile's block written by one task.
        self.y
            .par_chunks_mut(TILE * l)
            .enumerate()
            .for_each(|(t, yb)| {
                let len = yb.len() / l;
                let a = Strided::new(&window[t * TILE..], len, w, 1, m);
                dgemm(a, Strided::new(&b, w, l, l, 1), 1.0, yb, 1, len);
            });
        self.in_window = 0;
    }

    /// Closes the current pass (every row streamed). Returns `false` when `rows` differs from the
    /// first pass's count (the rows must be the same in every pass).
    pub fn end_pass(&mut self) -> bool {
        self.flush();
        let rows = std::mem::take(&mut self.rows);
        if *self.rows_per_pass.get_or_insert(rows) != rows || self.done == self.passes {
            return false;
        }
        let l = self.l;
        let scale = 1.0 / (rows.max(2) - 1) as f64;
        self.y.par_iter_mut().for_each(|x| *x *= scale);
        // T = Vᵀ Y, symmetrized.
        let mut t = nalgebra::DMatrix::<f64>::zeros(l, l);
        for a in 0..l {
            for b in a..l {
                let d = col_dot(&self.v, a, &self.y, b, l);
                let e = col_dot(&self.v, b, &self.y, a, l);
                t[(a, b)] = 0.5 * (d + e);
                t[(b, a)] = t[(a, b)];
            }
        }
        let mut eig: Vec<f64> = t.symmetric_eigenvalues().iter().copied().collect();
        eig.sort_unstable_by(|a, b| b.total_cmp(a));
        self.previous = std::mem::replace(&mut self.ritz, eig);
        self.done += 1;
        if self.done < self.passes {
            std::mem::swap(&mut self.v, &mut self.y);
            orthonormalize(&mut self.v, l);
            orthonormalize(&mut self.v, l);
            self.y.iter_mut().for_each(|x| *x = 0.0);
        }
        true
    }

    /// The spectrum, once every pass ended (`None` before).
    pub fn result(&self) -> Option<Spectrum> {
        if self.done < self.passes {
            return None;
        }
        let rows = self.rows_per_pass.unwrap_or(0);
        let eigenvalues: Vec<f64> = self.ritz.iter().take(self.k).map(|&x| x.max(0.0)).collect();
        let converged = if self.previous.is_empty() {
            eigenvalues.len()
        } else {
            eigenvalues
                .iter()
                .zip(&self.previous)
                .take_while(|&(a, b)| *a > 0.0 && (a - b).abs() <= CONVERGED * a)
                .count()
        };
        let floor = eigenvalues.first().copied().unwrap_or(0.0) * 1e-12;
        let fit_to = eigenvalues[..converged]
            .iter()
            .take_while(|&&x| x > floor)
            .count();
        Some(Spectrum {
            power_law: fit_power_law(&eigenvalues[..fit_to]),
            eigenvalues,
            converged,
            passes: self.passes,
            block: self.l,
            trace: self.sum_sq / (rows.max(2) - 1) as f64,
        })
    }
}

// Blocks of M × l numbers are stored tile by tile: tile t (coordinates t·TILE … t·TILE + len) is
// the contiguous len × l column-major block at t·TILE·l, so that one task owns one tile of every
// column, and a column's reductions run over the tiles in order.

/// Σⱼ a[j, ca]·b[j, cb] over two tile-blocked buffers, tiles combined in order.
fn col_dot(a: &[f64], ca: usize, b: &[f64], cb: usize, l: usize) -> f64 {
    a.par_chunks(TILE * l)
        .zip(b.par_chunks(TILE * l))
        .map(|(x, y)| {
            let len = x.len() / l;
            x[ca * len..(ca + 1) * len]
                .iter()
                .zip(&y[cb * len..(cb + 1) * len])
                .map(|(p, q)| p * q)
                .sum::<f64>()
        })
        .collect::<Vec<f64>>()
        .into_iter()
        .sum()
}

/// Modified Gram–Schmidt on the l columns of a tile-blocked M × l buffer; a column that is
/// numerically in the span of the previous ones becomes zero.
fn orthonormalize(v: &mut [f64], l: usize) {
    for c in 0..l {
        let norm0 = col_dot(v, c, v, c, l).sqrt();
        for p in 0..c {
            let r = col_dot(v, p, v, c, l);
            v.par_chunks_mut(TILE * l).for_each(|blk| {
                let len = blk.len() / l;
                let (head, tail) = blk.split_at_mut(c * len);
                tail[..len]
                    .iter_mut()
                    .zip(&head[p * len..(p + 1) * len])
                    .for_each(|(a, b)| *a -= r * b);
            });
        }
        let norm = col_dot(v, c, v, c, l).sqrt();
        let keep = norm > 1e-10 * norm0 && norm > 0.0;
        v.par_chunks_mut(TILE * l).for_each(|blk| {
            let len = blk.len() / l;
            blk[c * len..(c + 1) * len]
                .iter_mut()
                .for_each(|x| *x = if keep { *x / norm } else { 0.0 });
        });
    }
}

/// A rows × cols matrix view of a slice with row stride `rs` and column stride `cs`.
#[derive(Clone, Copy)]
struct Strided<'a> {
    data: &'a [f64],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> Strided<'a> {
    /// # Panics
    /// If the view reaches past the slice.
    fn new(data: &'a [f64], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        assert!(
            rows == 0 || cols == 0 || (rows - 1) * rs + (cols - 1) * cs < data.len(),
            "strided view past the end of its slice"
        );
        Strided {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }
}

/// C = A·B + beta·C with C (a.rows × b.cols) stored at c with strides (rsc, csc).
///
/// # Panics
/// If the inner dimensions differ or C reaches past its slice.
#[allow(unsafe_code)]
fn dgemm(a: Strided, b: Strided, beta: f64, c: &mut [f64], rsc: usize, csc: usize) {
    assert_eq!(a.cols, b.rows, "dgemm: inner dimensions differ");
    let (m, n) = (a.rows, b.cols);
    assert!(
        m == 0 || n == 0 || (m - 1) * rsc + (n - 1) * csc < c.len(),
        "dgemm: C past the end of its slice"
    );
    // SAFETY: `Strided::new` and the assert above guarantee that every index i·rs + j·cs of A, B
    // and C lies inside its slice; C is a distinct mutable borrow, so it aliases neither A nor B.
    unsafe {
        matrixmultiply::dgemm(
            m,
            a.cols,
            n,
            1.0,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            rsc as isize,
            csc as isize,
        );
    }
}

/// Least squares of ln λⱼ on ln j over j = 1…n.
fn fit_power_law(values: &[f64]) -> Option<SpectrumFit> {
    let n = values.len();
    if n < 3 {
        return None;
    }
    let xs: Vec<f64> = (1..=n).map(|j| (j as f64).ln()).collect();
    let ys: Vec<f64> = values.iter().map(|v| v.ln()).collect();
    let (mx, my) = (
        xs.iter().sum::<f64>() / n as f64,
        ys.iter().sum::<f64>() / n as f64,
    );
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    let rss: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| (y - my - slope * (x - mx)).powi(2))
        .sum();
    Some(SpectrumFit {
        exponent: -slope,
        exponent_se: (rss / (n - 2) as f64 / sxx).sqrt(),
        from: 1,
        to: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// K rows whose covariance has eigenvalues ≈ λⱼ = j^(−1.5) along random-ish directions.
    fn rows(k: usize, m: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut r = rng::stream(seed, 0);
        let rank = 40;
        let basis: Vec<Vec<f64>> = (0..rank)
            .map(|_| (0..m).map(|_| StandardNormal.sample(&mut r)).collect())
            .collect();
        (0..k)
            .map(|_| {
                let mut u = vec![0.0; m];
                for (j, b) in basis.iter().enumerate() {
                    let z: f64 = StandardNormal.sample(&mut r);
                    let a = z * ((j + 1) as f64).powf(-0.75);
                    u.iter_mut().zip(b).for_each(|(x, y)| *x += a * y);
                }
                u
            })
            .collect()
    }

    fn centered(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let m = rows[0].len();
        let mut mean = vec![0.0; m];
        for r in rows {
            mean.iter_mut()
                .zip(r)
                .for_each(|(a, b)| *a += b / rows.len() as f64);
        }
        rows.iter()
            .map(|r| r.iter().zip(&mean).map(|(a, b)| a - b).collect())
            .collect()
    }

    fn run(us: &[Vec<f64>], k: usize, passes: usize) -> Spectrum {
        let mut s = SpectrumMeter::new(us[0].len(), k, passes, 3);
        while s.passes_left() > 0 {
            us.iter().for_each(|u| s.add(u));
            assert!(s.end_pass());
        }
        s.result().unwrap()
    }

    #[test]
    fn leading_eigenvalues_match_a_dense_decomposition() {
        let (k, m) = (300, 700);
        let us = centered(&rows(k, m, 1));
        // Exact: the nonzero eigenvalues of C = UᵀU/(K − 1) are those of the K × K Gram matrix.
        let u = nalgebra::DMatrix::from_fn(k, m, |i, j| us[i][j]);
        let gram = &u * u.transpose() / (k - 1) as f64;
        let mut exact: Vec<f64> = gram.symmetric_eigenvalues().iter().copied().collect();
        exact.sort_unstable_by(|a, b| b.total_cmp(a));
        let s = run(&us, 10, 6);
        assert!(s.converged >= 8, "{s:?}");
        for (j, (a, e)) in s
            .eigenvalues
            .iter()
            .zip(&exact)
            .take(s.converged)
            .enumerate()
        {
            assert!((a - e).abs() < 0.01 * e, "λ{} = {a} vs exact {e}", j + 1);
        }
        let trace: f64 = exact.iter().sum();
        assert!((s.trace - trace).abs() < 1e-9 * trace);
        // The planted spectrum decays as j^(−1.5); sampled with K = 300 rows the fitted exponent
        // is near it (a loose check: finite K flattens the tail).
        let fit = s.power_law.unwrap();
        assert!((fit.exponent - 1.5).abs() < 0.35, "{fit:?}");
    }

    #[test]
    fn the_spectrum_does_not_depend_on_the_thread_count() {
        let us = centered(&rows(40, 9000, 2));
        let on = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| run(&us, 5, 3))
        };
        assert_eq!(format!("{:?}", on(1)), format!("{:?}", on(2)));
    }

    #[test]
    fn a_pass_with_another_row_count_is_refused() {
        let us = centered(&rows(20, 50, 4));
        let mut s = SpectrumMeter::new(50, 3, 2, 1);
        us.iter().for_each(|u| s.add(u));
        assert!(s.end_pass());
        us[..10].iter().for_each(|u| s.add(u));
        assert!(!s.end_pass());
        assert!(s.result().is_none());
    }
}
