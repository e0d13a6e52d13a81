//! Per-path random streams: the one place where randomness is derived.
//!
//! Every random result in levylab is a pure function of `(seed, stream index)`. A stream is a
//! xoshiro256++ generator whose 256-bit state is derived from `(seed, index)` by SplitMix64
//! finalizers, so it does not depend on threads, lane widths, batch order or sharding.
//!
//! Why xoshiro256++ and not ChaCha `set_stream`: a simulation seeds one stream per path (millions of
//! them) and draws two to three 64-bit words per step. xoshiro256++ seeds in a few nanoseconds and
//! draws a word in about one, while ChaCha8 stream setup costs tens of nanoseconds and each word
//! several; its cryptographic guarantees buy nothing for Monte Carlo. Streams of distinct
//! `(seed, index)` pairs start at independent, uniformly mixed points of a 2²⁵⁶ − 1 period, so the
//! chance that two of a run's streams overlap is negligible (≈ paths² · steps / 2²⁵⁶).

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The generator type behind every stream.
pub type PathRng = Xoshiro256PlusPlus;

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output finalizer (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The random stream number `index` of a run seeded with `seed`.
///
/// Used with `index` = global path index for simulations, bootstrap replicate for resampling.
/// Identical on every platform and for every thread count.
#[inline]
pub fn stream(seed: u64, index: u64) -> PathRng {
    let mut bytes = [0u8; 32];
    for (chunk, w) in bytes.chunks_exact_mut(8).zip(stream_state(seed, index)) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    PathRng::from_seed(bytes)
}

/// The xoshiro256++ state words of [`stream`]`(seed, index)`, for the vector lanes that run the
/// same generator on several streams at once ([`crate::simd::math::xoshiro`]).
#[inline]
pub fn stream_state(seed: u64, index: u64) -> [u64; 4] {
    // Key = (mixed seed, mixed index) folded into a SplitMix64 counter; four outputs fill the state.
    let mut state = mix64(seed ^ 0x6a09_e667_f3bc_c909)
        ^ mix64(index.wrapping_mul(GOLDEN) ^ 0xbb67_ae85_84ca_a73b);
    std::array::from_fn(|_| {
        state = state.wrapping_add(GOLDEN);
        mix64(state)
    })
}

/// Streams reserved for purposes other than paths use a distinct seed domain, so a bootstrap stream
/// never coincides with a simulation path stream of the same run.
pub fn aux_stream(seed: u64, domain: u64, index: u64) -> PathRng {
    stream(
        mix64(seed ^ mix64(domain.wrapping_add(0x3c6e_f372_fe94_f82b))),
        index,
    )
}

/// Every seed domain of [`aux_stream`], in one table: each purpose draws from its own domain, so
/// that no two purposes ever share a stream (a test checks they are distinct). The values are
/// fixed: changing one changes every result drawn from it.
pub mod domain {
    /// Bootstrap replicates of the tail-index estimators ([`crate::stats::tail_index`]).
    pub const TAIL_INDEX_BOOTSTRAP: u64 = 0xB007;
    /// Row subsampling of the gradient-noise meter ([`crate::stats::gradient_noise`]).
    pub const NOISE_METER_ROWS: u64 = 0x4E11;
    /// The train/test split of a data set ([`crate::trainer::data`]).
    pub const DATA_SPLIT: u64 = 0x5917;
    /// The initial weights of a fully connected net ([`crate::trainer::mlp`]).
    pub const MLP_INIT: u64 = 0x1417;
    /// The initial weights of the convolutional net ([`crate::trainer::conv`]).
    pub const CONV_INIT: u64 = 0xC0_4E7;
    /// Dropout masks of the convolutional net, per step and channel.
    pub const CONV_DROPOUT: u64 = 0xD2_0907;
    /// The minibatch order of a training run ([`crate::trainer::config`]).
    pub const TRAIN_MINIBATCHES: u64 = 0x7A11;
    /// Minibatch replacement in the escape objective ([`crate::trainer::escape`]).
    pub const ESCAPE_REPLACEMENT: u64 = 0x5245_504C;
    /// Minibatches of the escape experiment's noise fit.
    pub const ESCAPE_FIT_MINIBATCHES: u64 = 0x4649_544D;
    /// The bootstrap of the escape-time slopes.
    pub const ESCAPE_SLOPE_BOOTSTRAP: u64 = 0x534C_4F50;
    /// Start vectors of the Hessian eigenvalue iteration at θ₀.
    pub const HESSIAN_EIGEN_START: u64 = 0x4845_5353;
    /// Hutchinson probes of the Hessian trace at θ₀.
    pub const HESSIAN_HUTCHINSON: u64 = 0x4855_5443;
    /// The escape replicas' noise, one domain per noise kind: this base plus the kind's position
    /// in its declaration (so a new kind goes last and leaves the others' streams alone).
    pub const ESCAPE_NOISE_BASE: u64 = 0x4553_4300;
    /// How many consecutive domains from [`ESCAPE_NOISE_BASE`] the escape noise kinds may use.
    pub const ESCAPE_NOISE_KINDS: u64 = 16;
    /// Replicates of the power-law bootstrap ([`crate::stats::power_law::test`]).
    pub const POWER_LAW_BOOTSTRAP: u64 = 0x50_4C42;
    /// The starting block of the covariance subspace iteration ([`crate::stats::spectrum`]).
    pub const SPECTRUM_START: u64 = 0x5350_4543;
    /// The coordinates chosen for the per-coordinate tests ([`crate::stats::coordinates`]).
    pub const TEST_COORDINATES: u64 = 0x434F_4F52;
    /// Synthetic stable columns that measure the per-coordinate α estimator's spread.
    pub const ALPHA_SPREAD: u64 = 0x5350_5244;
    /// Random minibatches of the iteration-wise measurement, per checkpoint.
    pub const RANDOM_MINIBATCHES: u64 = 0x524D_4254;

    /// The key of the gradient-noise meter's kept coordinates (mixed with the seed, not an
    /// [`aux_stream`] domain).
    pub const NOISE_METER_KEEP: u64 = 0x4E01_5AB5;
    /// Each escape replica's seed (mixed with the replica index).
    pub const ESCAPE_REPLICA: u64 = 0x5E_5CA9E;
    /// The key of the noise measurement at θ₀ in the escape experiment (mixed with the seed and
    /// the iteration count).
    pub const ESCAPE_NOISE_AT_THETA0: u64 = 0xE5CA_9E00;

    /// Every fixed domain (the escape noise kinds occupy ESCAPE_NOISE_BASE + 0…ESCAPE_NOISE_KINDS − 1).
    pub const ALL: [u64; 21] = [
        NOISE_METER_KEEP,
        ESCAPE_REPLICA,
        ESCAPE_NOISE_AT_THETA0,
        TAIL_INDEX_BOOTSTRAP,
        NOISE_METER_ROWS,
        DATA_SPLIT,
        MLP_INIT,
        CONV_INIT,
        CONV_DROPOUT,
        TRAIN_MINIBATCHES,
        ESCAPE_REPLACEMENT,
        ESCAPE_FIT_MINIBATCHES,
        ESCAPE_SLOPE_BOOTSTRAP,
        HESSIAN_EIGEN_START,
        HESSIAN_HUTCHINSON,
        POWER_LAW_BOOTSTRAP,
        SPECTRUM_START,
        TEST_COORDINATES,
        ALPHA_SPREAD,
        RANDOM_MINIBATCHES,
        ESCAPE_NOISE_BASE,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// No two purposes share a seed domain, the escape kinds' range included.
    #[test]
    fn seed_domains_are_distinct() {
        let mut all: Vec<u64> = domain::ALL.to_vec();
        all.extend((1..domain::ESCAPE_NOISE_KINDS).map(|k| domain::ESCAPE_NOISE_BASE + k));
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a seed domain is used twice");
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, 3), |r, _: u64| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, 3), |r, _: u64| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        let mut c = stream(7, 4);
        let mut d = stream(8, 3);
        assert_ne!(a[0], c.next_u64());
        assert_ne!(a[0], d.next_u64());
    }

    #[test]
    fn neighbouring_streams_are_uncorrelated() {
        // Correlation of the top-53-bit uniforms of streams i and i + 1 over 2000 pairs × 50 draws:
        // under independence it is N(0, 1/n), n = 10⁵; |r| < 5/√n fails for a correct mixer with p ≈ 6e-7.
        let n = 2000 * 50;
        let (mut sxy, mut sx, mut sy, mut sxx, mut syy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..2000u64 {
            let (mut r1, mut r2) = (stream(1, i), stream(1, i + 1));
            for _ in 0..50 {
                let x = (r1.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                let y = (r2.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                sxy += x * y;
                sx += x;
                sy += y;
                sxx += x * x;
                syy += y * y;
            }
        }
        let nf = n as f64;
        let cov = sxy / nf - sx / nf * sy / nf;
        let r = cov / ((sxx / nf - (sx / nf).powi(2)) * (syy / nf - (sy / nf).powi(2))).sqrt();
        assert!(r.abs() < 5.0 / nf.sqrt(), "correlation {r}");
    }
}
