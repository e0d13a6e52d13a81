//! Mergeable exit-time statistics: what a point's summary reports, accumulated path by path in
//! memory that does not grow with the number of paths.
//!
//! Every time the engine produces is a whole number of steps ("ticks") times dt, or the horizon.
//! The accumulator therefore counts in integers: sums of ticks in `u128`, sums of squared ticks in
//! 256 bits, histogram bins in `u64`. Integer addition is exact, associative and commutative, so
//! the merged statistics of any split of the paths — chunks on threads, shards, MPI ranks — are
//! bit for bit those of one sequential pass.
//!
//! Two modes, fixed when the accumulator is made (from the point's total number of paths, so every
//! part of a split run agrees):
//! * **exact** — the tick of every exit is kept (8 bytes per path); the Kaplan–Meier quantiles,
//!   the restricted mean and the Kolmogorov–Smirnov distance are those of the per-path sample.
//! * **sketch** — exits go into a log-binned histogram of ticks: one bin per tick below
//!   2048, then 1024 bins per octave (bin [lo, hi) with hi − lo = 2^s and lo ≥ 1024·2^s). A bin
//!   stands for the midpoint of its ticks, so a quantile is off by at most half a bin:
//!   relative error ≤ 1/2048 ≈ 4.9·10⁻⁴. The KS distance to Exp(1) moves by at most the largest
//!   probability of one bin under Exp(1), ≤ max_x x·e^{−x} / 1024 = 1/(1024·e) ≈ 3.6·10⁻⁴.
//!   Counts, the mean, its SE, the CV, the exponential MLE and the exit-side fraction stay exact;
//!   so does the restricted mean when every censoring happened at the horizon (it is then the
//!   mean of min(τ, T)). The histogram of a run up to 10¹² ticks has at most 31 744 bins
//!   (2048 + 29·1024).

use serde::{Deserialize, Serialize};

use super::StatsError;
use super::exit_times::{Estimate, Events, mle_check};
use super::outcome::{Outcome, Side};

/// Bits of the sub-bin index: 2^10 = 1024 bins per octave.
const SUB_BITS: u32 = 10;
const SUB: u64 = 1 << SUB_BITS;
/// Ticks below this have a bin each.
const EXACT_BELOW: u64 = 2 * SUB;

/// The histogram bin of a tick count.
fn bin_of(ticks: u64) -> usize {
    if ticks < EXACT_BELOW {
        return ticks as usize;
    }
    let e = 63 - ticks.leading_zeros();
    let shift = e - SUB_BITS;
    let sub = ticks >> shift;
    (EXACT_BELOW + u64::from(shift - 1) * SUB + (sub - SUB)) as usize
}

/// The last bin (ticks up to 2^64 − 1).
const MAX_BIN: usize = (EXACT_BELOW + (64 - SUB_BITS as u64 - 1) * SUB - 1) as usize;

/// The ticks a bin stands for: the midpoint of the integers it holds.
fn bin_value(bin: usize) -> f64 {
    let b = bin as u64;
    if b < EXACT_BELOW {
        return b as f64;
    }
    let k = b - EXACT_BELOW;
    let shift = k / SUB + 1;
    let lo = (SUB + k % SUB) << shift;
    lo as f64 + ((1u64 << shift) - 1) as f64 / 2.0
}

/// An unsigned 256-bit integer (little-endian 64-bit limbs): just enough arithmetic for exact
/// sums of squares and the variance numerator N·Σn² − (Σn)².
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct U256([u64; 4]);

impl U256 {
    fn add(self, o: U256) -> U256 {
        let mut r = [0u64; 4];
        let mut carry = false;
        for (i, ri) in r.iter_mut().enumerate() {
            let (s1, c1) = self.0[i].overflowing_add(o.0[i]);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *ri = s2;
            carry = c1 || c2;
        }
        U256(r)
    }
    fn checked_add(self, o: U256) -> Option<U256> {
        let r = self.add(o);
        // An overflow wraps to a value below either operand.
        (r.0.iter().rev().cmp(self.0.iter().rev()) != std::cmp::Ordering::Less).then_some(r)
    }
    fn sub(self, o: U256) -> U256 {
        let mut r = [0u64; 4];
        let mut borrow = false;
        for (i, ri) in r.iter_mut().enumerate() {
            let (s1, b1) = self.0[i].overflowing_sub(o.0[i]);
            let (s2, b2) = s1.overflowing_sub(u64::from(borrow));
            *ri = s2;
            borrow = b1 || b2;
        }
        U256(r)
    }
    fn from_u128(v: u128) -> U256 {
        U256([v as u64, (v >> 64) as u64, 0, 0])
    }
    /// self · m (the caller keeps the product below 2^256).
    fn mul_u64(self, m: u64) -> U256 {
        let mut r = [0u64; 4];
        let mut carry = 0u128;
        for (i, ri) in r.iter_mut().enumerate() {
            let p = u128::from(self.0[i]) * u128::from(m) + carry;
            *ri = p as u64;
            carry = p >> 64;
        }
        U256(r)
    }
    /// a · b for 128-bit a, b.
    fn mul_u128(a: u128, b: u128) -> U256 {
        let (a0, a1) = (a as u64, (a >> 64) as u64);
        let b = U256::from_u128(b);
        b.mul_u64(a0).add(shift64(b.mul_u64(a1)))
    }
    fn to_f64(self) -> f64 {
        self.0
            .iter()
            .rev()
            .fold(0.0, |acc, &l| acc * 18_446_744_073_709_551_616.0 + l as f64)
    }
}

/// x · 2^64.
fn shift64(x: U256) -> U256 {
    U256([0, x.0[0], x.0[1], x.0[2]])
}

/// Integer moments of a set of tick counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Moments {
    n: u64,
    sum: u128,
    sum_sq: U256,
}

impl Moments {
    fn push(&mut self, ticks: u64) {
        self.n += 1;
        self.sum += u128::from(ticks);
        self.sum_sq = self
            .sum_sq
            .add(U256::from_u128(u128::from(ticks) * u128::from(ticks)));
    }
    /// Adds `o`; `None` (nothing changed) if a count or sum would overflow, which only a damaged
    /// file can cause.
    fn merge(&mut self, o: &Moments) -> Option<()> {
        let n = self.n.checked_add(o.n)?;
        let sum = self.sum.checked_add(o.sum)?;
        let sum_sq = self.sum_sq.checked_add(o.sum_sq)?;
        *self = Moments { n, sum, sum_sq };
        Some(())
    }
    /// Mean and sample variance (n − 1) of the ticks, each computed from exact integers with one
    /// final rounding: no cancellation, whatever the order of the data.
    fn mean_var(&self) -> (f64, f64) {
        let n = self.n as f64;
        let mean = self.sum as f64 / n;
        // N·Σn² − (Σn)² ≥ 0 exactly (Cauchy–Schwarz).
        let num = self
            .sum_sq
            .mul_u64(self.n)
            .sub(U256::mul_u128(self.sum, self.sum));
        (mean, num.to_f64() / (n * (n - 1.0)))
    }
}

/// A histogram over tick bins, dense in memory, sparse (bin, count) pairs on disk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<(usize, u64)>", into = "Vec<(usize, u64)>")]
struct Histogram(Vec<u64>);

impl Histogram {
    fn push(&mut self, ticks: u64) {
        let b = bin_of(ticks);
        if b >= self.0.len() {
            self.0.resize(b + 1, 0);
        }
        self.0[b] += 1;
    }
    fn merge(&mut self, o: &Histogram) {
        if o.0.len() > self.0.len() {
            self.0.resize(o.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a = a.saturating_add(*b);
        }
    }
}

impl From<Vec<(usize, u64)>> for Histogram {
    /// Bins past [`MAX_BIN`] (only in a damaged file) are kept as one bin past it, which
    /// [`ExitStats::check`] then refuses, without allocating for them.
    fn from(v: Vec<(usize, u64)>) -> Self {
        let mut h = Histogram::default();
        for (b, c) in v {
            let b = b.min(MAX_BIN + 1);
            if b >= h.0.len() {
                h.0.resize(b + 1, 0);
            }
            h.0[b] = h.0[b].saturating_add(c);
        }
        h
    }
}

impl From<Histogram> for Vec<(usize, u64)> {
    fn from(h: Histogram) -> Self {
        h.0.into_iter()
            .enumerate()
            .filter(|(_, c)| *c > 0)
            .collect()
    }
}

/// Exit times as kept for the Kaplan–Meier statistics: every tick, or a histogram of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Times {
    /// Every tick (sorted by [`ExitStats::normalize`]).
    Exact(Vec<u64>),
    /// Log-binned counts.
    Sketch(Histogram),
}

impl Times {
    fn push(&mut self, ticks: u64) {
        match self {
            Times::Exact(v) => v.push(ticks),
            Times::Sketch(h) => h.push(ticks),
        }
    }
    fn merge(&mut self, o: &Times) -> Result<(), StatsError> {
        match (self, o) {
            (Times::Exact(a), Times::Exact(b)) => a.extend_from_slice(b),
            (Times::Sketch(a), Times::Sketch(b)) => a.merge(b),
            _ => {
                return Err(StatsError::Degenerate(
                    "cannot merge exact and sketched times",
                ));
            }
        }
        Ok(())
    }
    /// (representative ticks, count) in increasing order.
    fn counts(&self) -> Vec<(f64, u64)> {
        match self {
            Times::Exact(v) => {
                let mut v = v.clone();
                v.sort_unstable();
                let mut out: Vec<(f64, u64)> = Vec::new();
                for t in v {
                    match out.last_mut() {
                        Some(l) if l.0 == t as f64 => l.1 += 1,
                        _ => out.push((t as f64, 1)),
                    }
                }
                out
            }
            Times::Sketch(h) => {
                h.0.iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(|(b, &c)| (bin_value(b), c))
                    .collect()
            }
        }
    }
}

/// Mergeable exit-time statistics of one point (see the module documentation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExitStats {
    dt: f64,
    horizon: f64,
    /// Exits, as ticks.
    exits: Moments,
    /// Exits through the high side.
    exits_high: u64,
    /// Paths censored at the horizon.
    at_horizon: u64,
    /// Paths censored before the horizon (an interrupted run), as ticks.
    stopped: Moments,
    /// Paths whose state became NaN or ±∞.
    non_finite: u64,
    exit_times: Times,
    stop_times: Times,
    /// Exits per target of an event with several targets (index K: target K), else empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    targets: Vec<u64>,
}

/// Largest number of paths of a point for which [`ExitStats::for_paths`] keeps every exit time
/// (8 bytes each); above it, the histogram.
pub const EXACT_MAX_PATHS: u64 = 1_000_000;

/// What a point's summary reports about its exit times.
#[derive(Clone, Debug, PartialEq)]
pub struct ExitSummary {
    /// Paths in total.
    pub paths: u64,
    /// Paths whose event happened.
    pub exited: u64,
    /// Censored paths (at the horizon or at an interruption).
    pub censored: u64,
    /// Paths that ended non-finite.
    pub non_finite: u64,
    /// The mean as it should be reported and its estimator: the sample mean when nothing is
    /// censored, otherwise the exponential MLE.
    pub mean: Option<(Estimate, &'static str)>,
    /// Under censoring: the restricted mean E[min(τ, L)] and L, the largest censoring time.
    pub restricted: Option<(Estimate, f64)>,
    /// Under censoring: why the exponential MLE should not be trusted, if it should not.
    pub mle_warning: Option<String>,
    /// Kaplan–Meier quantiles at 0.1, 0.25, 0.5, 0.75, 0.9.
    pub quantiles: [Option<f64>; 5],
    /// Coefficient of variation (uncensored samples only).
    pub cv: Option<f64>,
    /// KS distance of τ/mean from Exp(1) (uncensored samples only).
    pub ks_exponential: Option<f64>,
    /// Fraction of exits through the high side.
    pub high_fraction: Option<Estimate>,
}

/// The probabilities of [`ExitSummary::quantiles`].
pub const QUANTILES: [f64; 5] = [0.1, 0.25, 0.5, 0.75, 0.9];

/// What is wrong with exit statistics read from a file ([`ExitStats::check`]).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InconsistentStats {
    /// The time grid is not positive and finite.
    #[error("bad grid: dt = {dt}, horizon = {horizon}")]
    Grid {
        /// The step.
        dt: f64,
        /// The horizon.
        horizon: f64,
    },
    /// A histogram bin beyond the last one.
    #[error("{what} histogram has a bin past {MAX_BIN}")]
    BinPastEnd {
        /// `exit` or `stop`.
        what: &'static str,
    },
    /// Kept times disagree with the count.
    #[error("{counted} {what}s counted but {kept} {what} times kept")]
    Kept {
        /// `exit` or `stop`.
        what: &'static str,
        /// Counted.
        counted: u64,
        /// Kept.
        kept: u64,
    },
    /// More high-side exits than exits.
    #[error("more exits through the high side than exits")]
    HighSide,
    /// More targets reached than exits.
    #[error("more targets reached than exits")]
    Targets,
    /// Exit and stop times in different modes (exact and sketched).
    #[error("exit and stop times kept in different modes")]
    Modes,
}

impl ExitStats {
    /// An empty accumulator for times on the grid of step `dt` with censoring at `horizon`;
    /// `exact` keeps every exit time.
    pub fn new(dt: f64, horizon: f64, exact: bool) -> Self {
        let times = || {
            if exact {
                Times::Exact(Vec::new())
            } else {
                Times::Sketch(Histogram::default())
            }
        };
        ExitStats {
            dt,
            horizon,
            exits: Moments::default(),
            exits_high: 0,
            at_horizon: 0,
            stopped: Moments::default(),
            non_finite: 0,
            exit_times: times(),
            stop_times: times(),
            targets: Vec::new(),
        }
    }

    /// An empty accumulator for a point of `paths` paths in all: exact up to [`EXACT_MAX_PATHS`].
    pub fn for_paths(dt: f64, horizon: f64, paths: u64) -> Self {
        Self::new(dt, horizon, paths <= EXACT_MAX_PATHS)
    }

    /// The time step of the grid.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// The censoring horizon.
    pub fn horizon(&self) -> f64 {
        self.horizon
    }

    /// Whether every exit time is kept.
    pub fn is_exact(&self) -> bool {
        matches!(self.exit_times, Times::Exact(_))
    }

    /// Exits per target of an event with several targets (index K: target K; empty otherwise,
    /// and shorter than the list when the last targets were never reached).
    pub fn target_counts(&self) -> &[u64] {
        &self.targets
    }

    /// Paths counted so far.
    pub fn paths(&self) -> u64 {
        self.exits.n + self.at_horizon + self.stopped.n + self.non_finite
    }

    /// The tick count of a grid time n·dt (exact for n < 2^51: the product and the quotient are each
    /// correctly rounded).
    fn ticks(&self, time: f64) -> u64 {
        (time / self.dt).round() as u64
    }

    /// Adds one path's outcome.
    pub fn push(&mut self, o: &Outcome) {
        match *o {
            Outcome::Exited {
                time, side, target, ..
            } => {
                let t = self.ticks(time);
                self.exits.push(t);
                self.exit_times.push(t);
                self.exits_high += u64::from(side == Side::High);
                if let Some(k) = target {
                    let k = usize::from(k);
                    if self.targets.len() <= k {
                        self.targets.resize(k + 1, 0);
                    }
                    self.targets[k] += 1;
                }
            }
            Outcome::Censored { time } if time == self.horizon => self.at_horizon += 1,
            Outcome::Censored { time } => {
                let t = self.ticks(time);
                self.stopped.push(t);
                self.stop_times.push(t);
            }
            Outcome::NonFinite { .. } => self.non_finite += 1,
        }
    }

    /// Adds the paths of `other` (same grid, horizon and mode).
    pub fn merge(&mut self, other: &ExitStats) -> Result<(), StatsError> {
        if self.dt.to_bits() != other.dt.to_bits()
            || self.horizon.to_bits() != other.horizon.to_bits()
        {
            return Err(StatsError::Degenerate(
                "cannot merge statistics of different dt or horizon",
            ));
        }
        if self.is_exact() != other.is_exact() {
            return Err(StatsError::Degenerate(
                "cannot merge exact and sketched times",
            ));
        }
        // Every sum is checked before anything changes (only a damaged file can overflow them).
        let overflow = StatsError::Degenerate("counts overflow: more than 2^64 paths");
        let (mut exits, mut stopped) = (self.exits, self.stopped);
        exits.merge(&other.exits).ok_or(overflow.clone())?;
        stopped.merge(&other.stopped).ok_or(overflow.clone())?;
        let add = |a: u64, b: u64| a.checked_add(b).ok_or(overflow.clone());
        let high = add(self.exits_high, other.exits_high)?;
        let at_horizon = add(self.at_horizon, other.at_horizon)?;
        let non_finite = add(self.non_finite, other.non_finite)?;
        let mut targets = self.targets.clone();
        targets.resize(targets.len().max(other.targets.len()), 0);
        for (a, &b) in targets.iter_mut().zip(&other.targets) {
            *a = add(*a, b)?;
        }
        self.exit_times.merge(&other.exit_times)?;
        self.stop_times.merge(&other.stop_times)?;
        (self.exits, self.stopped) = (exits, stopped);
        (self.exits_high, self.at_horizon, self.non_finite) = (high, at_horizon, non_finite);
        self.targets = targets;
        Ok(())
    }

    /// Checks statistics read from a file: a positive finite grid, histogram bins that exist, and
    /// kept times that agree with the counts. Returns what is wrong.
    pub fn check(&self) -> Result<(), InconsistentStats> {
        if !(self.dt > 0.0 && self.dt.is_finite() && self.horizon.is_finite()) {
            return Err(InconsistentStats::Grid {
                dt: self.dt,
                horizon: self.horizon,
            });
        }
        for (what, times, n) in [
            ("exit", &self.exit_times, self.exits.n),
            ("stop", &self.stop_times, self.stopped.n),
        ] {
            let kept = match times {
                Times::Exact(v) => v.len() as u64,
                Times::Sketch(h) => {
                    if h.0.len() > MAX_BIN + 1 {
                        return Err(InconsistentStats::BinPastEnd { what });
                    }
                    h.0.iter()
                        .try_fold(0u64, |a, &c| a.checked_add(c))
                        .unwrap_or(u64::MAX)
                }
            };
            if kept != n {
                return Err(InconsistentStats::Kept {
                    what,
                    counted: n,
                    kept,
                });
            }
        }
        if self.exits_high > self.exits.n {
            return Err(InconsistentStats::HighSide);
        }
        let reached = self
            .targets
            .iter()
            .try_fold(0u64, |a, &c| a.checked_add(c))
            .unwrap_or(u64::MAX);
        if reached > self.exits.n {
            return Err(InconsistentStats::Targets);
        }
        if self.is_exact() != matches!(self.stop_times, Times::Exact(_)) {
            return Err(InconsistentStats::Modes);
        }
        Ok(())
    }

    /// Sorts the kept exit times, so that equal statistics serialize to equal text.
    pub fn normalize(&mut self) {
        for t in [&mut self.exit_times, &mut self.stop_times] {
            if let Times::Exact(v) = t {
                v.sort_unstable();
            }
        }
    }

    /// Mean and SE of the exit times (no censoring), from the exact moments.
    fn sample_mean(&self) -> Result<Estimate, StatsError> {
        let n = self.exits.n;
        if n < 2 {
            return Err(StatsError::TooFewSamples {
                needed: 2,
                got: n as usize,
            });
        }
        let (m, v) = self.exits.mean_var();
        Ok(Estimate {
            value: m * self.dt,
            std_err: (v / n as f64).sqrt() * self.dt,
        })
    }

    /// Exponential-rate MLE of the mean under censoring: exposure / exits.
    fn exponential_mean(&self) -> Result<Estimate, StatsError> {
        let d = self.exits.n;
        if d == 0 {
            return Err(StatsError::NoExits {
                total: self.paths() as usize,
            });
        }
        let exposure = (self.exits.sum + self.stopped.sum) as f64 * self.dt
            + self.at_horizon as f64 * self.horizon;
        let mean = exposure / d as f64;
        Ok(Estimate {
            value: mean,
            std_err: mean / (d as f64).sqrt(),
        })
    }

    /// Exits and censorings at their (representative) times, increasing.
    fn events(&self) -> Events {
        let mut ex = self.exit_times.counts().into_iter().peekable();
        let mut st = self.stop_times.counts().into_iter().peekable();
        let mut ev = Events::default();
        loop {
            let next_exit = ex.peek().map(|e| e.0);
            let next_stop = st.peek().map(|s| s.0);
            match (next_exit, next_stop) {
                (Some(a), Some(b)) if a <= b => {
                    let (t, c) = ex.next().expect("peeked");
                    ev.push(t * self.dt, c, 0);
                }
                (Some(_), None) => {
                    let (t, c) = ex.next().expect("peeked");
                    ev.push(t * self.dt, c, 0);
                }
                (_, Some(_)) => {
                    let (t, c) = st.next().expect("peeked");
                    ev.push(t * self.dt, 0, c);
                }
                (None, None) => break,
            }
        }
        // Censorings at the horizon come after every exit (exits at the horizon itself first; a
        // sketched bin may stand for a time just past it).
        let last = ev.last_time().unwrap_or(0.0);
        ev.push(self.horizon.max(last), 0, self.at_horizon);
        ev
    }

    /// Everything a summary reports.
    pub fn summary(&self) -> ExitSummary {
        let censored = self.at_horizon + self.stopped.n;
        let sample = self.sample_mean();
        let mean = if censored == 0 {
            sample.clone().ok().map(|m| (m, "sample"))
        } else {
            self.exponential_mean().ok().map(|m| (m, "exponential-mle"))
        };
        let events = self.events();
        let limit = if self.at_horizon > 0 {
            self.horizon
        } else {
            self.stop_times
                .counts()
                .last()
                .map_or(0.0, |l| l.0 * self.dt)
        };
        let restricted = (censored > 0).then(|| (self.restricted_mean(&events, limit), limit));
        // Ŝ(L): with every censoring at the horizon, after every exit, it is exactly 1 − d/n.
        let observed = if self.stopped.n == 0 {
            self.at_horizon as f64 / (self.exits.n + self.at_horizon).max(1) as f64
        } else {
            events.survival(limit)
        };
        let mle_warning = self
            .exponential_mean()
            .ok()
            .and_then(|m| mle_check(self.exits.n, censored, m.value, limit, observed));
        let uncensored = (censored == 0).then_some(()).and(sample.ok());
        let n_exits = self.exits.n;
        ExitSummary {
            paths: self.paths(),
            exited: n_exits,
            censored,
            non_finite: self.non_finite,
            mean,
            restricted,
            mle_warning: if censored > 0 { mle_warning } else { None },
            quantiles: QUANTILES.map(|p| events.quantile(p)),
            cv: uncensored.map(|m| m.std_err * (n_exits as f64).sqrt() / m.value),
            ks_exponential: uncensored.map(|m| events.ks_exponential(m.value)),
            high_fraction: (n_exits > 0).then(|| {
                let p = self.exits_high as f64 / n_exits as f64;
                Estimate {
                    value: p,
                    std_err: (p * (1.0 - p) / n_exits as f64).sqrt(),
                }
            }),
        }
    }

    /// The restricted mean up to `limit`: exact from the moments when every censoring is at the
    /// horizon T and the times are sketched (it is then the mean of min(τ, T), and its
    /// Kaplan–Meier variance is the plain variance of min(τ, T) over n, divided by n); otherwise the
    /// area under the Kaplan–Meier curve.
    fn restricted_mean(&self, events: &Events, limit: f64) -> Estimate {
        if self.stopped.n > 0 || self.is_exact() {
            return events.restricted_mean(limit);
        }
        let d = self.exits.n as f64;
        let c = self.at_horizon as f64;
        let n = d + c;
        let t = self.horizon;
        let (m, v) = match self.exits.n {
            0 => (0.0, 0.0),
            1 => (self.exits.sum as f64 * self.dt, 0.0),
            _ => {
                let (m, v) = self.exits.mean_var();
                (m * self.dt, v * self.dt * self.dt)
            }
        };
        let mean = (d * m + c * t) / n;
        // Σ(x − mean)² over exits and censorings, from the exits' own spread.
        let ss = (d - 1.0).max(0.0) * v + d * (m - mean).powi(2) + c * (t - mean).powi(2);
        Estimate {
            value: mean,
            std_err: (ss / n).sqrt() / n.sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::ExitSample;
    use crate::stats::outcome::exit_sample;
    use rand::RngExt;

    /// Outcomes on a grid of step `dt`: Exp(mean) exit times (rounded up to the grid), censored at
    /// `horizon`, with a share `stopped` censored early at a uniform time, and a few non-finite.
    fn outcomes(
        n: usize,
        dt: f64,
        mean: f64,
        horizon: f64,
        stopped: f64,
        seed: u64,
    ) -> Vec<Outcome> {
        let mut r = crate::rng::stream(seed, 0);
        let max = (horizon / dt).round() as u64;
        (0..n)
            .map(|i| {
                let u: f64 = r.random();
                let ticks = ((-(1.0 - u).ln() * mean / dt).ceil() as u64).max(1);
                if i % 997 == 5 {
                    Outcome::NonFinite {
                        time: ticks as f64 * dt,
                    }
                } else if r.random::<f64>() < stopped {
                    let t = (r.random::<f64>() * max as f64) as u64;
                    Outcome::Censored {
                        time: t as f64 * dt,
                    }
                } else if ticks > max {
                    Outcome::Censored { time: horizon }
                } else {
                    Outcome::Exited {
                        time: ticks as f64 * dt,
                        side: if r.random::<f64>() < 0.3 {
                            Side::High
                        } else {
                            Side::Low
                        },
                        from: 0.0,
                        target: None,
                    }
                }
            })
            .collect()
    }

    fn accumulate(os: &[Outcome], dt: f64, horizon: f64, exact: bool) -> ExitStats {
        let mut s = ExitStats::new(dt, horizon, exact);
        os.iter().for_each(|o| s.push(o));
        s.normalize();
        s
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs()
    }

    /// Exits per target are counted, merged by adding, and checked against the exits.
    #[test]
    fn targets_are_counted_and_merged() {
        let at = |k: Option<u16>| Outcome::Exited {
            time: 1.0,
            side: Side::High,
            from: 0.0,
            target: k,
        };
        let (mut a, mut b) = (
            ExitStats::new(0.01, 10.0, true),
            ExitStats::new(0.01, 10.0, true),
        );
        for k in [0, 2, 2] {
            a.push(&at(Some(k)));
        }
        b.push(&at(Some(1)));
        b.push(&Outcome::Censored { time: 10.0 });
        assert_eq!(a.target_counts(), [1, 0, 2]);
        a.merge(&b).unwrap();
        assert_eq!(a.target_counts(), [1, 1, 2]);
        assert!(a.check().is_ok());
        // A file claiming more targets reached than exits is refused.
        let mut bad = a.clone();
        bad.targets[0] = 10;
        assert_eq!(bad.check().unwrap_err(), InconsistentStats::Targets);
        assert_eq!(
            InconsistentStats::Targets.to_string(),
            "more targets reached than exits"
        );
        // Events with one target keep no counts.
        let mut c = ExitStats::new(0.01, 10.0, true);
        c.push(&at(None));
        assert!(c.target_counts().is_empty());
    }

    #[test]
    fn bins_hold_their_ticks_within_half_a_bin() {
        let mut r = crate::rng::stream(1, 0);
        let mut ticks: Vec<u64> = (0..5000).collect();
        ticks.extend((0..100_000).map(|_| (2f64.powf(r.random::<f64>() * 50.0)) as u64));
        ticks.sort_unstable();
        let mut last = 0;
        for &t in &ticks {
            let b = bin_of(t);
            assert!(b >= last, "bins not monotone at {t}");
            last = b;
            let v = bin_value(b);
            if t < EXACT_BELOW {
                assert_eq!(v, t as f64);
            } else {
                assert!(rel(v, t as f64) <= 1.0 / 2048.0, "{t} -> bin {b} = {v}");
            }
        }
        // Bin edges: 2048 starts the log bins, 4096 starts the next octave.
        assert_eq!(bin_of(2047) + 1, bin_of(2048));
        assert_eq!(bin_of(4095) + 1, bin_of(4096));
        assert_eq!(bin_of(4096), bin_of(4099));
    }

    #[test]
    fn integer_moments_match_a_two_pass_mean_and_variance() {
        let mut r = crate::rng::stream(2, 0);
        let xs: Vec<u64> = (0..50_000).map(|_| r.random_range(0..1u64 << 40)).collect();
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.push(x));
        let n = xs.len() as f64;
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let (gm, gv) = m.mean_var();
        assert!(
            rel(gm, mean) < 1e-13 && rel(gv, var) < 1e-12,
            "{gm} {gv} vs {mean} {var}"
        );
        // Equal values: the variance is exactly 0 (no cancellation).
        let mut c = Moments::default();
        (0..1000).for_each(|_| c.push(123_456_789_012));
        assert_eq!(c.mean_var(), (123_456_789_012.0, 0.0));
        // 256-bit products: (2^64 + 3)² = 2^128 + 6·2^64 + 9.
        let a = (1u128 << 64) + 3;
        assert_eq!(U256::mul_u128(a, a), U256([9, 6, 1, 0]));
    }

    #[test]
    fn exact_mode_equals_the_per_path_sample() {
        let (dt, horizon) = (0.01, 40.0);
        for (stopped, seed) in [(0.0, 3), (0.02, 4)] {
            let os = outcomes(20_000, dt, 10.0, horizon, stopped, seed);
            let e = exit_sample(&os);
            let s = accumulate(&os, dt, horizon, true).summary();
            assert_eq!(s.paths, e.paths() as u64);
            assert_eq!(s.exited, e.exited() as u64);
            assert_eq!(s.censored, e.censored() as u64);
            assert_eq!(s.non_finite, e.non_finite() as u64);
            let (m, est) = s.mean.unwrap();
            let (em, eest) = e.best_mean().unwrap();
            assert_eq!(est, eest);
            assert!(rel(m.value, em.value) < 1e-13 && rel(m.std_err, em.std_err) < 1e-12);
            for (q, p) in s.quantiles.iter().zip(QUANTILES) {
                assert_eq!(*q, e.km_quantile(p), "quantile {p}");
            }
            let (r, l) = s.restricted.unwrap();
            let (er, el) = e.restricted_mean().unwrap();
            assert_eq!(l, el);
            assert!(rel(r.value, er.value) < 1e-12 && rel(r.std_err, er.std_err) < 1e-10);
            assert_eq!(s.mle_warning, e.mle_check());
            assert_eq!(s.high_fraction, e.high_fraction());
        }
        // Uncensored: CV and KS against the per-path sample.
        let os = outcomes(20_000, dt, 1.0, 1e9, 0.0, 5);
        let e = exit_sample(&os);
        let s = accumulate(&os, dt, 1e9, true).summary();
        assert!(rel(s.cv.unwrap(), e.coefficient_of_variation().unwrap()) < 1e-12);
        assert!((s.ks_exponential.unwrap() - e.ks_exponential().unwrap()).abs() < 1e-12);
    }

    #[test]
    fn sketch_mode_stays_within_its_stated_error_bounds() {
        // Exit times of 10⁵ ticks on average: deep in the log-binned range.
        let dt = 1e-3;
        for (horizon, stopped, seed) in [(1e9, 0.0, 6), (300.0, 0.0, 7), (300.0, 0.01, 8)] {
            let os = outcomes(100_000, dt, 100.0, horizon, stopped, seed);
            let e: ExitSample = exit_sample(&os);
            let exact = accumulate(&os, dt, horizon, true).summary();
            let sk = accumulate(&os, dt, horizon, false).summary();
            // Counts, mean, SE, CV, exit side: identical to the exact mode.
            assert_eq!(
                (sk.paths, sk.exited, sk.censored),
                (exact.paths, exact.exited, exact.censored)
            );
            assert_eq!(sk.mean, exact.mean);
            assert_eq!(sk.cv, exact.cv);
            assert_eq!(sk.high_fraction, exact.high_fraction);
            for (q, p) in sk.quantiles.iter().zip(QUANTILES) {
                let want = e.km_quantile(p).unwrap();
                let got = q.unwrap();
                assert!(rel(got, want) <= 1.0 / 2048.0, "q{p}: {got} vs {want}");
            }
            if let Some(ks) = sk.ks_exponential {
                let want = e.ks_exponential().unwrap();
                assert!(
                    (ks - want).abs() <= 1.0 / (1024.0 * std::f64::consts::E),
                    "{ks} vs {want}"
                );
            }
            if let (Some((r, l)), Some((er, el))) = (sk.restricted, e.restricted_mean()) {
                assert_eq!(l, el);
                // Exact from the moments with every censoring at the horizon; otherwise the
                // Kaplan–Meier area over bin midpoints, within half a bin.
                let tol = if stopped == 0.0 { 1e-12 } else { 1.0 / 2048.0 };
                assert!(rel(r.value, er.value) <= tol, "{r:?} vs {er:?}");
                assert!(
                    rel(r.std_err, er.std_err) <= 10.0 * tol.max(1e-10),
                    "{r:?} vs {er:?}"
                );
            }
            assert_eq!(sk.mle_warning.is_some(), e.mle_check().is_some());
        }
    }

    #[test]
    fn any_split_merged_in_any_order_gives_the_same_bits() {
        let (dt, horizon) = (0.01, 40.0);
        let os = outcomes(30_000, dt, 10.0, horizon, 0.01, 9);
        let mut r = crate::rng::stream(10, 0);
        for exact in [true, false] {
            let whole = accumulate(&os, dt, horizon, exact);
            for parts in [2, 3, 7] {
                let mut cuts: Vec<usize> = (0..parts - 1)
                    .map(|_| r.random_range(0..os.len()))
                    .collect();
                cuts.push(0);
                cuts.push(os.len());
                cuts.sort_unstable();
                let mut pieces: Vec<ExitStats> = cuts
                    .windows(2)
                    .map(|w| accumulate(&os[w[0]..w[1]], dt, horizon, exact))
                    .collect();
                pieces.reverse();
                let mut m = ExitStats::new(dt, horizon, exact);
                for p in &pieces {
                    m.merge(p).unwrap();
                }
                m.normalize();
                assert_eq!(m, whole);
                assert_eq!(m.summary(), whole.summary());
                // Through JSON (a shard file) and back.
                let back: ExitStats =
                    serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
                assert_eq!(back, whole);
            }
        }
        // Different modes or grids do not merge.
        let mut a = ExitStats::new(dt, horizon, true);
        assert!(a.merge(&ExitStats::new(dt, horizon, false)).is_err());
        assert!(a.merge(&ExitStats::new(dt * 2.0, horizon, true)).is_err());
    }
}
