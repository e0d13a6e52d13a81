//! Transcendental functions, the xoshiro256++ generator, uniforms, Gaussian and α-stable variates,
//! written once against [`Lanes`] from correctly rounded operations only, so that every instruction
//! set computes the same bits.
//!
//! # Algorithms
//! ```text
//! exp(x)   n = round(x/ln 2), r = x − n·ln 2 (two-part ln 2, |r| ≤ ln2/2), Taylor series of e^r to r¹³
//!          (truncation < 5·10⁻¹⁸), times 2^⌊n/2⌉·2^(n−⌊n/2⌉) (two exact scalings, subnormal results too)
//! ln(x)    x = 2^e·m, m ∈ [√½, √2), s = (m − 1)/(m + 1), ln m = 2 atanh s = 2s Σ_{k≤11} s^{2k}/(2k + 1)
//!          (|s| ≤ 0.1716, truncation < 10⁻¹⁸), plus e·ln 2 in two parts
//! sin, cos r = x − k·π/2 (k = round(2x/π), π/2 in two parts, one fused rounding each), Taylor series
//!          of sin r to r¹⁷ and cos r to r¹⁸ (|r| ≤ π/4, truncation < 10⁻¹⁹), quadrant from k mod 4
//! ```
//! The series coefficients 1/k! and 1/(2k + 1) are computed in f64 at compile time. Measured
//! accuracy against the platform's libm: see `tests` below and `tests/it/simd.rs`.
//!
//! The Gaussian variate is Box–Muller, √(−2 ln U₁)·cos(2πU₂) (two words per variate, no rejection:
//! every lane consumes the same number of words); the α-stable variate is Chambers–Mallows–Stuck
//! with Weron's α = 1 branch, the same formulas as [`crate::noise::StandardStable`].

use super::Lanes;

const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5·2⁵²: adding it puts a small integer in the low bits
const ONE_BITS: u64 = 0x3FF0_0000_0000_0000;
const SIGN_BITS: u64 = 0x8000_0000_0000_0000;
const MANTISSA: u64 = 0x000F_FFFF_FFFF_FFFF;
const LN2_HI: f64 = std::f64::consts::LN_2;
const LN2_LO: f64 = 2.319_046_813_846_299_6e-17; // ln 2 − LN2_HI
const LOG2_E: f64 = std::f64::consts::LOG2_E;
const HALF_PI_HI: f64 = std::f64::consts::FRAC_PI_2;
const HALF_PI_LO: f64 = 6.123_233_995_736_766e-17; // π/2 − HALF_PI_HI
const TWO_OVER_PI: f64 = std::f64::consts::FRAC_2_PI;

/// 1/k! for k = 0..=n.
const fn inverse_factorials<const N: usize>() -> [f64; N] {
    let mut out = [0.0; N];
    let mut f = 1.0;
    let mut k = 0;
    while k < N {
        if k > 0 {
            f *= k as f64;
        }
        out[k] = 1.0 / f;
        k += 1;
    }
    out
}

/// 1/(2k + 1) for k = 0..N.
const fn inverse_odd<const N: usize>() -> [f64; N] {
    let mut out = [0.0; N];
    let mut k = 0;
    while k < N {
        out[k] = 1.0 / (2 * k + 1) as f64;
        k += 1;
    }
    out
}

const INV_FACT: [f64; 19] = inverse_factorials::<19>();
const ATANH: [f64; 12] = inverse_odd::<12>();

#[inline(always)]
fn c<V: Lanes>(v: f64) -> V {
    V::splat(v)
}

/// |x|.
#[inline(always)]
pub fn abs<V: Lanes>(x: V) -> V {
    V::from_bits(V::u_and(x.to_bits(), V::u_splat(!SIGN_BITS)))
}

/// ±1 with the sign of x (±0 gives ±1).
#[inline(always)]
pub fn sign<V: Lanes>(x: V) -> V {
    V::from_bits(V::u_or(
        V::u_and(x.to_bits(), V::u_splat(SIGN_BITS)),
        V::u_splat(ONE_BITS),
    ))
}

/// Whether x is finite (not ±∞, not NaN).
#[inline(always)]
pub fn is_finite<V: Lanes>(x: V) -> V::M {
    abs(x).lt(c(f64::INFINITY))
}

/// Integer-valued k (|k| < 2⁵¹) as the two's-complement integer in u64 lanes.
#[inline(always)]
fn to_int<V: Lanes>(k: V) -> V::U {
    V::u_sub(k.add(c(MAGIC)).to_bits(), V::u_splat(MAGIC.to_bits()))
}

/// 2^k for integer-valued k in [−1022, 1023].
#[inline(always)]
fn pow2<V: Lanes>(k: V) -> V {
    V::from_bits(V::u_shl::<52>(V::u_add(to_int(k), V::u_splat(1023))))
}

/// e^x.
#[inline(always)]
pub fn exp<V: Lanes>(x: V) -> V {
    // Beyond these e^x is ∞ or 0 in f64; clamping keeps the scaling exponents in range.
    let xc = V::select(x.lt(c(-746.0)), c(-746.0), x);
    let xc = V::select(c::<V>(710.0).lt(xc), c(710.0), xc);
    let n = xc.mul(c(LOG2_E)).round();
    let r = n.mul_add(c(-LN2_HI), xc);
    let r = n.mul_add(c(-LN2_LO), r);
    let mut p = c::<V>(INV_FACT[13]);
    for k in (0..13).rev() {
        p = p.mul_add(r, c(INV_FACT[k]));
    }
    let half = n.mul(c(0.5)).round();
    let y = p.mul(pow2(half)).mul(pow2(n.sub(half)));
    // NaN stays NaN (the clamps above pass it through as NaN-compares-false → x itself).
    V::select(x.eq(x), y, x)
}

/// ln x (−∞ at 0, NaN below 0, ∞ at ∞).
#[inline(always)]
pub fn ln<V: Lanes>(x: V) -> V {
    // Subnormals: scale by 2⁵⁴ first.
    let tiny = x.lt(c(f64::MIN_POSITIVE));
    let xs = V::select(tiny, x.mul(c(18_014_398_509_481_984.0)), x);
    let bits = xs.to_bits();
    let e_raw = V::u_shr::<52>(bits);
    let e = V::from_bits(V::u_add(V::u_splat(MAGIC.to_bits()), e_raw))
        .sub(c(MAGIC + 1023.0))
        .sub(V::select(tiny, c(54.0), c(0.0)));
    let m = V::from_bits(V::u_or(
        V::u_and(bits, V::u_splat(MANTISSA)),
        V::u_splat(ONE_BITS),
    ));
    let big = c::<V>(std::f64::consts::SQRT_2).lt(m);
    let m = V::select(big, m.mul(c(0.5)), m);
    let e = V::select(big, e.add(c(1.0)), e);
    let f = m.sub(c(1.0));
    let s = f.div(f.add(c(2.0)));
    let z = s.mul(s);
    let mut q = c::<V>(ATANH[11]);
    for k in (0..11).rev() {
        q = q.mul_add(z, c(ATANH[k]));
    }
    let lnm = s.add(s).mul(q);
    let y = e.mul_add(c(LN2_HI), e.mul_add(c(LN2_LO), lnm));
    // Special values: ln 0 = −∞, ln(x < 0) = NaN, ln ∞ = ∞, ln NaN = NaN.
    let y = V::select(x.eq(c(0.0)), c(f64::NEG_INFINITY), y);
    let y = V::select(x.lt(c(0.0)), c(f64::NAN), y);
    let y = V::select(x.eq(c(f64::INFINITY)), x, y);
    V::select(x.eq(x), y, x)
}

/// (sin x, cos x), accurate for |x| up to a few hundred.
#[inline(always)]
pub fn sin_cos<V: Lanes>(x: V) -> (V, V) {
    let k = x.mul(c(TWO_OVER_PI)).round();
    let r = k.mul_add(c(-HALF_PI_HI), x);
    let r = k.mul_add(c(-HALF_PI_LO), r);
    let z = r.mul(r);
    // sin r = r·Σ (−1)^j z^j/(2j+1)!, cos r = Σ (−1)^j z^j/(2j)!
    let mut ps = c::<V>(INV_FACT[17]);
    for j in (0..8).rev() {
        let coef = if j % 2 == 0 { 1.0 } else { -1.0 } * INV_FACT[2 * j + 1];
        ps = ps.mul_add(z, c(coef));
    }
    let sin_r = r.mul(ps);
    let mut pc = c::<V>(-INV_FACT[18]);
    for j in (0..9).rev() {
        let coef = if j % 2 == 0 { 1.0 } else { -1.0 } * INV_FACT[2 * j];
        pc = pc.mul_add(z, c(coef));
    }
    let cos_r = pc;
    let q = to_int(k);
    // Quadrant q = k mod 4: odd q swaps sin and cos; bit 1 of q flips the sign of sin, bit 1 of
    // q + 1 the sign of cos.
    let odd = V::from_bits(V::u_or(V::u_shl::<63>(q), V::u_splat(ONE_BITS))).lt(c(0.0));
    let sin_flip = V::u_and(V::u_shl::<62>(q), V::u_splat(SIGN_BITS));
    let cos_flip = V::u_and(
        V::u_shl::<62>(V::u_add(q, V::u_splat(1))),
        V::u_splat(SIGN_BITS),
    );
    let s = V::select(odd, cos_r, sin_r);
    let co = V::select(odd, sin_r, cos_r);
    (
        V::from_bits(V::u_xor(s.to_bits(), sin_flip)),
        V::from_bits(V::u_xor(co.to_bits(), cos_flip)),
    )
}

/// One xoshiro256++ step on four state vectors; returns the output word (Blackman & Vigna 2021).
#[inline(always)]
pub fn xoshiro<V: Lanes>(s: &mut [V::U; 4]) -> V::U {
    let rotl = |x: V::U, k: i32| -> V::U {
        match k {
            23 => V::u_or(V::u_shl::<23>(x), V::u_shr::<41>(x)),
            _ => V::u_or(V::u_shl::<45>(x), V::u_shr::<19>(x)),
        }
    };
    let out = V::u_add(rotl(V::u_add(s[0], s[3]), 23), s[0]);
    let t = V::u_shl::<17>(s[1]);
    s[2] = V::u_xor(s[2], s[0]);
    s[3] = V::u_xor(s[3], s[1]);
    s[1] = V::u_xor(s[1], s[2]);
    s[0] = V::u_xor(s[0], s[3]);
    s[2] = V::u_xor(s[2], t);
    s[3] = rotl(s[3], 45);
    out
}

/// A uniform in the open interval (0, 1) from a 64-bit word: (⌊w/2¹²⌋ + ½)·2⁻⁵², exactly
/// (the smallest value is 2⁻⁵³, the largest 1 − 2⁻⁵³).
#[inline(always)]
pub fn open01<V: Lanes>(w: V::U) -> V {
    V::from_bits(V::u_or(V::u_shr::<12>(w), V::u_splat(ONE_BITS))).sub(c(1.0 - f64::EPSILON / 2.0))
}

/// A standard normal variate from two words (Box–Muller, cosine branch).
#[inline(always)]
pub fn normal<V: Lanes>(w1: V::U, w2: V::U) -> V {
    let u1 = open01::<V>(w1);
    let u2 = open01::<V>(w2);
    let radius = ln(u1).mul(c(-2.0)).sqrt();
    let (_, cs) = sin_cos(u2.mul(c(std::f64::consts::TAU)));
    radius.mul(cs)
}

/// Run constants of the Chambers–Mallows–Stuck transform for `S_α(1, β, 0)` (S1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cms {
    /// α ∉ {1, 2}: B = arctan(β tan(πα/2))/α, S = (1 + β² tan²(πα/2))^{1/(2α)}.
    General {
        /// α.
        alpha: f64,
        /// 1/α.
        inv_alpha: f64,
        /// (1 − α)/α.
        exponent: f64,
        /// B.
        b: f64,
        /// S.
        s: f64,
    },
    /// α = 1 (Weron's branch).
    One {
        /// β.
        beta: f64,
    },
    /// α = 2: N(0, 2).
    Two,
}

impl Cms {
    /// The constants for `S_α(1, β, 0)`; α ∈ (0, 2], β ∈ [−1, 1] validated by the caller.
    pub fn new(alpha: f64, beta: f64) -> Cms {
        if alpha == 2.0 {
            Cms::Two
        } else if alpha == 1.0 {
            Cms::One { beta }
        } else {
            let t = beta * (std::f64::consts::PI * alpha / 2.0).tan();
            Cms::General {
                alpha,
                inv_alpha: 1.0 / alpha,
                exponent: (1.0 - alpha) / alpha,
                b: t.atan() / alpha,
                s: (1.0 + t * t).powf(1.0 / (2.0 * alpha)),
            }
        }
    }

    /// The CMS map from V ∈ (−π/2, π/2) and W > 0.
    #[inline(always)]
    pub fn transform<V: Lanes>(&self, v: V, w: V) -> V {
        match *self {
            Cms::General {
                alpha,
                inv_alpha,
                exponent,
                b,
                s,
            } => {
                let avb = v.add(c(b)).mul(c(alpha));
                let (sin_avb, _) = sin_cos(avb);
                let (_, cos_v) = sin_cos(v);
                let (_, cos_rest) = sin_cos(v.sub(avb));
                // S·sin(α(V+B)) / cos(V)^{1/α} · (cos(V − α(V+B))/W)^{(1−α)/α} as one exponential.
                let t = c::<V>(exponent).mul_add(ln(cos_rest.div(w)), ln(cos_v).mul(c(-inv_alpha)));
                c::<V>(s).mul(sin_avb).mul(exp(t))
            }
            Cms::One { beta } => {
                let a = c::<V>(beta).mul_add(v, c(std::f64::consts::FRAC_PI_2));
                let (sin_v, cos_v) = sin_cos(v);
                let tan_v = sin_v.div(cos_v);
                let inner = c::<V>(std::f64::consts::FRAC_PI_2).mul(w).mul(cos_v).div(a);
                a.mul(tan_v)
                    .sub(c::<V>(beta).mul(ln(inner)))
                    .mul(c(std::f64::consts::FRAC_2_PI))
            }
            Cms::Two => {
                let (sin_v, _) = sin_cos(v);
                c::<V>(2.0).mul(sin_v).mul(w.sqrt())
            }
        }
    }

    /// A standard S1 variate from two words: V = π(U₁ − ½), W = −ln U₂.
    #[inline(always)]
    pub fn sample<V: Lanes>(&self, w1: V::U, w2: V::U) -> V {
        let v = open01::<V>(w1).sub(c(0.5)).mul(c(std::f64::consts::PI));
        let w = ln(open01::<V>(w2)).mul(c(-1.0));
        self.transform(v, w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Scalar;

    fn ulps(a: f64, b: f64) -> f64 {
        if a == b {
            return 0.0;
        }
        (a - b).abs() / (f64::EPSILON * b.abs().max(f64::MIN_POSITIVE))
    }

    #[test]
    fn scalar_functions_are_within_a_few_ulp_of_libm() {
        let mut r = crate::rng::stream(1, 0);
        let (mut e_exp, mut e_ln, mut e_sin, mut e_cos) = (0f64, 0f64, 0f64, 0f64);
        for _ in 0..200_000 {
            let u: f64 = rand::RngExt::random(&mut r);
            let x = 1400.0 * u - 700.0;
            e_exp = e_exp.max(ulps(exp(Scalar(x)).0, x.exp()));
            let y = (u * 1400.0 - 700.0).exp2();
            e_ln =
                e_ln.max((ln(Scalar(y)).0 - y.ln()).abs() / (f64::EPSILON * y.ln().abs().max(1.0)));
            let t = 20.0 * u - 10.0;
            let (s, co) = sin_cos(Scalar(t));
            // Relative to max(|value|, 2⁻⁴): absolute accuracy near the zeros.
            e_sin = e_sin.max((s.0 - t.sin()).abs() / (f64::EPSILON * t.sin().abs().max(0.0625)));
            e_cos = e_cos.max((co.0 - t.cos()).abs() / (f64::EPSILON * t.cos().abs().max(0.0625)));
        }
        assert!(
            e_exp <= 4.0 && e_ln <= 4.0 && e_sin <= 4.0 && e_cos <= 4.0,
            "exp {e_exp} ln {e_ln} sin {e_sin} cos {e_cos}"
        );
        assert_eq!(exp(Scalar(f64::NEG_INFINITY)).0, 0.0);
        assert_eq!(exp(Scalar(800.0)).0, f64::INFINITY);
        assert!(exp(Scalar(f64::NAN)).0.is_nan());
        assert_eq!(ln(Scalar(0.0)).0, f64::NEG_INFINITY);
        assert!(ln(Scalar(-1.0)).0.is_nan());
        assert_eq!(ln(Scalar(f64::INFINITY)).0, f64::INFINITY);
        assert_eq!(ln(Scalar(1.0)).0, 0.0);
        let sub = 3e-310f64;
        assert!(ulps(ln(Scalar(sub)).0, sub.ln()) <= 2.0);
        assert!(ulps(exp(Scalar(-740.0)).0, (-740.0f64).exp()) <= 2.0f64.powi(20));
    }

    #[test]
    fn xoshiro_matches_the_stream_generator() {
        let mut g = crate::rng::stream(5, 9);
        let mut s = crate::rng::stream_state(5, 9);
        for _ in 0..100 {
            assert_eq!(xoshiro::<Scalar>(&mut s), rand::Rng::next_u64(&mut g));
        }
        assert_eq!(open01::<Scalar>(0).0, f64::EPSILON / 2.0);
        assert_eq!(open01::<Scalar>(u64::MAX).0, 1.0 - f64::EPSILON / 2.0);
        assert_eq!(open01::<Scalar>(1 << 12).0, 1.5 * f64::EPSILON);
    }
}
