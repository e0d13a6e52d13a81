//! The grid and the linear system of the nonlocal equation (the discretization is derived in the
//! parent module's docs).

use super::TheoryError;
use crate::numeric::{gamma, zeta};

/// What lies beyond an end of the grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum End {
    /// The complement of D: u is known there.
    Absorbing(f64),
    /// A truncated unbounded side: u continues flat with the end node's value.
    Open,
}

/// Nodes x_j = l + j·h, j = 0…n.
#[derive(Clone, Copy, Debug)]
pub(super) struct Grid {
    pub l: f64,
    pub h: f64,
    pub n: usize,
    pub lo: End,
    pub hi: End,
    /// Nodes ja..=jb lie in the target window (u = 0 there).
    pub window: Option<(usize, usize)>,
}

impl Grid {
    /// The same domain at half the spacing.
    pub fn refine(&self) -> Grid {
        Grid {
            h: 0.5 * self.h,
            n: 2 * self.n,
            window: self.window.map(|(a, b)| (2 * a, 2 * b)),
            ..*self
        }
    }

    fn x(&self, j: usize) -> f64 {
        self.l + j as f64 * self.h
    }

    /// The known value of node j (an absorbing end node, or a window node), if it has one.
    fn known(&self, j: usize) -> Option<f64> {
        match (j, self.lo, self.hi, self.window) {
            (0, End::Absorbing(v), _, _) => Some(v),
            (j, _, End::Absorbing(v), _) if j == self.n => Some(v),
            (j, _, _, Some((a, b))) if a <= j && j <= b => Some(0.0),
            _ => None,
        }
    }

    /// Stencil index t (possibly off the grid): a node, or the value beyond an absorbing end.
    fn resolve(&self, t: i64) -> Point {
        if t < 0 {
            match self.lo {
                End::Absorbing(v) => Point::Value(v),
                End::Open => Point::Node(0),
            }
        } else if t as usize > self.n {
            match self.hi {
                End::Absorbing(v) => Point::Value(v),
                End::Open => Point::Node(self.n),
            }
        } else {
            Point::Node(t as usize)
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Point {
    Node(usize),
    Value(f64),
}

/// The generator's parts, in the units of the equation (see the parent module's docs).
#[derive(Clone, Copy)]
pub(super) struct Operator<'a> {
    pub alpha: f64,
    /// Skewness β ∈ [−1, 1] of the stable part (S1).
    pub beta: f64,
    pub epsilon: f64,
    /// Brownian amplitude εσ_B.
    pub brownian: f64,
    /// The drift −U′(x) of the landscape.
    pub drift: &'a dyn Fn(f64) -> f64,
}

/// One row of the system: Σ w·(u(p) − u_j) = rhs.
struct Row<'g> {
    grid: &'g Grid,
    index: &'g [Option<usize>],
    j: usize,
    coeffs: &'g mut [f64],
    diag: f64,
    rhs: f64,
}

impl Row<'_> {
    fn add(&mut self, p: Point, w: f64) {
        match p {
            Point::Node(k) if k == self.j => {}
            Point::Node(k) => {
                self.diag -= w;
                match self.index[k] {
                    Some(i) => self.coeffs[i] += w,
                    None => self.rhs -= w * self.grid.known(k).unwrap_or(0.0),
                }
            }
            Point::Value(v) => {
                self.diag -= w;
                self.rhs -= w * v;
            }
        }
    }
}

/// Solve the equation on `grid` with right-hand side `source` (−1 for the exit time, 0 for an exit
/// probability) and return u at x by linear interpolation.
pub(super) fn solve(op: &Operator, grid: &Grid, source: f64, x: f64) -> Result<f64, TheoryError> {
    let (n, h, alpha) = (grid.n, grid.h, op.alpha);
    let mut index = vec![None; n + 1];
    let mut m = 0;
    for (j, slot) in index.iter_mut().enumerate() {
        if grid.known(j).is_none() {
            *slot = Some(m);
            m += 1;
        }
    }
    // Symmetric share (1 − |β|)·ε^α c_α of the Lévy measure, and the one-sided rest |β|·2ε^α c_α on
    // the side sign(β) (c₊ = c_α(1 + β) = (1 − β)c_α + 2βc_α for β ≥ 0, mirrored for β < 0).
    let eps_a = op.epsilon.powf(alpha);
    let sym = (1.0 - op.beta.abs()) * eps_a * crate::noise::c_alpha(alpha);
    let one_sided = OneSided::new(op, h, n)?;
    // α = 1, β ≠ 0: the drift of εL in S1 (parent docs).
    let skew_drift = if alpha == 1.0 && op.beta != 0.0 {
        -std::f64::consts::FRAC_2_PI * op.beta * op.epsilon * op.epsilon.ln()
    } else {
        0.0
    };
    let kernel: Vec<f64> = (0..=n)
        .map(|d| {
            if d == 0 {
                0.0
            } else {
                sym * h * (d as f64 * h).powf(-1.0 - alpha)
            }
        })
        .collect();
    let weight = |k: usize| if k == 0 || k == n { 0.5 } else { 1.0 };
    // On u_{j±1} − 2u_j: the part of the principal value the punctured sum misses, −ζ(α − 1)·C·h^{−α}
    // (0 without a symmetric share), plus the Brownian part (εσ_B)²/2 / h².
    let neighbour =
        -zeta(alpha - 1.0) * sym * h.powf(-alpha) + 0.5 * op.brownian * op.brownian / (h * h);
    let (l, r) = (grid.l, grid.x(n));
    let mut a = vec![0.0; m * m];
    let mut b = vec![0.0; m];
    for (j, i) in index
        .iter()
        .enumerate()
        .filter_map(|(j, i)| Some((j, (*i)?)))
    {
        let xj = grid.x(j);
        let mut row = Row {
            grid,
            index: &index,
            j,
            coeffs: &mut a[i * m..(i + 1) * m],
            diag: 0.0,
            rhs: source,
        };
        if sym > 0.0 {
            // Trapezoid over the nodes, then the exterior in closed form (absorbing ends: the
            // known value; a truncated end: u continued flat).
            for k in 0..=n {
                if k != j {
                    row.add(Point::Node(k), weight(k) * kernel[j.abs_diff(k)]);
                }
            }
            let ext = |d: f64| sym * d.max(0.5 * h).powf(-alpha) / alpha;
            row.add(grid.resolve(-1), ext(xj - l));
            row.add(grid.resolve(n as i64 + 1), ext(r - xj));
        }
        // Second differences (ghost = end node beyond a truncated end, so that side contributes
        // nothing).
        if neighbour > 0.0 {
            for k in [j.checked_sub(1), (j < n).then_some(j + 1)]
                .into_iter()
                .flatten()
            {
                row.add(Point::Node(k), neighbour);
            }
        }
        if let Some(os) = &one_sided {
            os.add_row(&mut row);
        }
        // Drift, upwinded.
        let v = (op.drift)(xj) + skew_drift;
        if v > 0.0 && j < n {
            row.add(Point::Node(j + 1), v / h);
        } else if v < 0.0 && j > 0 {
            row.add(Point::Node(j - 1), -v / h);
        }
        let (diag, rhs) = (row.diag, row.rhs);
        a[i * m + i] += diag;
        b[i] = rhs;
    }
    let u = solve_m_matrix(a, b, m)
        .ok_or_else(|| TheoryError::Domain("nonlocal solver: singular system".into()))?;
    let node = |k: usize| match index[k] {
        Some(i) => u[i],
        None => grid.known(k).unwrap_or(0.0),
    };
    let pos = (x - l) / h;
    let j = (pos.floor().max(0.0) as usize).min(n - 1);
    let t = pos - j as f64;
    let value = (1.0 - t) * node(j) + t * node(j + 1);
    if value.is_finite() {
        Ok(value)
    } else {
        Err(TheoryError::Domain(
            "nonlocal solver: non-finite value".into(),
        ))
    }
}

/// The one-sided part |β|·2ε^α c_α y^{−1−α} on the side s = sign β, as a Grünwald–Letnikov sum
/// `F·Σ_k g_k u(x + s(k − shift)h)` whose weights sum to zero (parent docs).
struct OneSided {
    side: i64,
    shift: i64,
    factor: f64,
    weights: Vec<f64>,
}

impl OneSided {
    fn new(op: &Operator, h: f64, n: usize) -> Result<Option<OneSided>, TheoryError> {
        if op.beta == 0.0 {
            return Ok(None);
        }
        let alpha = op.alpha;
        let mass = op.beta.abs() * 2.0;
        let len = n + 3;
        let (factor, shift, weights) = if alpha == 1.0 {
            // (1 − z) ln((1 − z)/h) = −ln h + (ln h − 1) z + Σ_{k≥2} z^k/(k(k − 1)).
            if h >= 1.0 {
                return Err(TheoryError::Domain(format!(
                    "nonlocal solver: spacing h = {h} must be < 1 at α = 1 with β ≠ 0"
                )));
            }
            let w: Vec<f64> = (0..len)
                .map(|k| match k {
                    0 => -h.ln(),
                    1 => h.ln() - 1.0,
                    k => 1.0 / (k * (k - 1)) as f64,
                })
                .collect();
            (mass * op.epsilon / std::f64::consts::PI / h, 1, w)
        } else {
            // g_k = (−1)^k binom(α, k).
            let mut w = vec![1.0; len];
            for k in 1..len {
                w[k] = w[k - 1] * (k as f64 - 1.0 - alpha) / k as f64;
            }
            let f = mass
                * op.epsilon.powf(alpha)
                * crate::noise::c_alpha(alpha)
                * gamma(-alpha)
                * h.powf(-alpha);
            (f, i64::from(alpha > 1.0), w)
        };
        Ok(Some(OneSided {
            side: if op.beta > 0.0 { 1 } else { -1 },
            shift,
            factor,
            weights,
        }))
    }

    fn add_row(&self, row: &mut Row) {
        let (j, n) = (row.j as i64, row.grid.n as i64);
        let mut used = 0.0;
        for (k, g) in self.weights.iter().enumerate() {
            let t = j + self.side * (k as i64 - self.shift);
            if (self.side > 0 && t > n) || (self.side < 0 && t < 0) {
                // The rest of the stencil lies beyond the end on the jump side.
                row.add(row.grid.resolve(t), -self.factor * used);
                return;
            }
            row.add(row.grid.resolve(t), self.factor * g);
            used += g;
        }
    }
}

/// Gaussian elimination without pivoting (the system is an M-matrix), row-major m×m.
fn solve_m_matrix(mut a: Vec<f64>, mut b: Vec<f64>, m: usize) -> Option<Vec<f64>> {
    for col in 0..m {
        let pivot = a[col * m + col];
        if pivot == 0.0 || !pivot.is_finite() {
            return None;
        }
        let (upper, lower) = a.split_at_mut((col + 1) * m);
        let prow = &upper[col * m..col * m + m];
        for (r, row) in lower.chunks_exact_mut(m).enumerate() {
            let f = row[col] / pivot;
            if f != 0.0 {
                for (v, p) in row[col..].iter_mut().zip(&prow[col..]) {
                    *v -= f * p;
                }
                b[col + 1 + r] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; m];
    for i in (0..m).rev() {
        let s: f64 = (i + 1..m).map(|k| a[i * m + k] * x[k]).sum();
        x[i] = (b[i] - s) / a[i * m + i];
    }
    Some(x)
}
