//! Vector lanes for the Monte Carlo kernel: one generic kernel, several instruction sets, identical
//! results.
//!
//! [`Lanes`] is a vector of f64 lanes with the few operations the kernel needs, each an IEEE-754
//! correctly rounded operation (add, sub, mul, div, sqrt, fused multiply-add, round to nearest even),
//! a comparison, a blend or a bit operation. Every lane of a vector computes exactly what the scalar
//! implementation computes, so code written once against the trait gives bit-identical results on
//! the scalar fallback, AVX2 + FMA (4 lanes) and AVX-512 (8 lanes). The transcendental functions in
//! [`math`] are built from those operations only (no platform libm), which is what makes that
//! possible.
//!
//! [`Isa`] picks the widest instruction set the running CPU has (`cargo build --release` builds all
//! of them; no `target-cpu` flag is needed). The scalar path uses `f64::mul_add`, a correctly
//! rounded fused multiply-add on every platform.
//!
//! # Safety
//! The AVX2 and AVX-512 lane types wrap intrinsics behind safe methods, which is sound only where
//! the CPU has those instructions. The argument is made once, here: the types are private to this
//! module tree, so the only code that ever holds one is code that [`dispatch`] runs — it names the
//! type as the `V` of [`WithLanes::call`] after checking [`Isa::available`], inside a function
//! compiled with that instruction set enabled. Code outside the crate sees only `V: Lanes`, and only
//! within such a call.

pub mod math;
#[cfg(target_arch = "x86_64")]
mod x86;

// Crate-private: safe code outside the crate cannot name, and so cannot create, a vector whose
// methods execute AVX2 or AVX-512 instructions (see "Safety" above).
#[cfg(target_arch = "x86_64")]
use x86::{Avx2, Avx512};

/// A vector of `N` f64 lanes with a mask type and a u64 vector type of the same width.
///
/// All methods are `#[inline(always)]`: the generic kernel is inlined into one entry point per
/// instruction set, which is compiled with that instruction set enabled.
pub trait Lanes: Copy + std::fmt::Debug {
    /// Number of lanes.
    const N: usize;
    /// Per-lane boolean.
    type M: Copy;
    /// N lanes of u64.
    type U: Copy;

    /// Every lane `v`.
    fn splat(v: f64) -> Self;
    /// Lanes `s[0..N]`.
    fn load(s: &[f64]) -> Self;
    /// Writes the lanes to `s[0..N]`.
    fn store(self, s: &mut [f64]);
    /// a + b.
    fn add(self, b: Self) -> Self;
    /// a − b.
    fn sub(self, b: Self) -> Self;
    /// a · b.
    fn mul(self, b: Self) -> Self;
    /// a / b.
    fn div(self, b: Self) -> Self;
    /// a · b + c with one rounding.
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// √a.
    fn sqrt(self) -> Self;
    /// Round to the nearest integer, ties to even.
    fn round(self) -> Self;
    /// a < b (false for NaN).
    fn lt(self, b: Self) -> Self::M;
    /// a ≤ b (false for NaN).
    fn le(self, b: Self) -> Self::M;
    /// a == b (false for NaN).
    fn eq(self, b: Self) -> Self::M;
    /// `m ? a : b` lane by lane.
    fn select(m: Self::M, a: Self, b: Self) -> Self;
    /// m₁ ∧ m₂.
    fn and(a: Self::M, b: Self::M) -> Self::M;
    /// m₁ ∨ m₂.
    fn or(a: Self::M, b: Self::M) -> Self::M;
    /// ¬m.
    fn not(a: Self::M) -> Self::M;
    /// Bit i set when lane i of `m` is true.
    fn bits(m: Self::M) -> u32;
    /// The raw bits of every lane.
    fn to_bits(self) -> Self::U;
    /// Lanes from raw bits.
    fn from_bits(u: Self::U) -> Self;
    /// Every u64 lane `v`.
    fn u_splat(v: u64) -> Self::U;
    /// u64 lanes `s[0..N]`.
    fn u_load(s: &[u64]) -> Self::U;
    /// Writes u64 lanes to `s[0..N]`.
    fn u_store(u: Self::U, s: &mut [u64]);
    /// Wrapping a + b.
    fn u_add(a: Self::U, b: Self::U) -> Self::U;
    /// Wrapping a − b.
    fn u_sub(a: Self::U, b: Self::U) -> Self::U;
    /// a ⊕ b.
    fn u_xor(a: Self::U, b: Self::U) -> Self::U;
    /// a ∨ b.
    fn u_or(a: Self::U, b: Self::U) -> Self::U;
    /// a ∧ b.
    fn u_and(a: Self::U, b: Self::U) -> Self::U;
    /// a ≪ K.
    fn u_shl<const K: i32>(a: Self::U) -> Self::U;
    /// a ≫ K (logical).
    fn u_shr<const K: i32>(a: Self::U) -> Self::U;
}

/// One lane, portable: the reference every vector implementation reproduces bit for bit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scalar(pub f64);

impl Lanes for Scalar {
    const N: usize = 1;
    type M = bool;
    type U = u64;

    #[inline(always)]
    fn splat(v: f64) -> Self {
        Scalar(v)
    }
    #[inline(always)]
    fn load(s: &[f64]) -> Self {
        Scalar(s[0])
    }
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        s[0] = self.0;
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        Scalar(self.0 + b.0)
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        Scalar(self.0 - b.0)
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        Scalar(self.0 * b.0)
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        Scalar(self.0 / b.0)
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        Scalar(self.0.mul_add(b.0, c.0))
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Scalar(self.0.sqrt())
    }
    #[inline(always)]
    fn round(self) -> Self {
        Scalar(self.0.round_ties_even())
    }
    #[inline(always)]
    fn lt(self, b: Self) -> bool {
        self.0 < b.0
    }
    #[inline(always)]
    fn le(self, b: Self) -> bool {
        self.0 <= b.0
    }
    #[inline(always)]
    fn eq(self, b: Self) -> bool {
        self.0 == b.0
    }
    #[inline(always)]
    fn select(m: bool, a: Self, b: Self) -> Self {
        if m { a } else { b }
    }
    #[inline(always)]
    fn and(a: bool, b: bool) -> bool {
        a & b
    }
    #[inline(always)]
    fn or(a: bool, b: bool) -> bool {
        a | b
    }
    #[inline(always)]
    fn not(a: bool) -> bool {
        !a
    }
    #[inline(always)]
    fn bits(m: bool) -> u32 {
        u32::from(m)
    }
    #[inline(always)]
    fn to_bits(self) -> u64 {
        self.0.to_bits()
    }
    #[inline(always)]
    fn from_bits(u: u64) -> Self {
        Scalar(f64::from_bits(u))
    }
    #[inline(always)]
    fn u_splat(v: u64) -> u64 {
        v
    }
    #[inline(always)]
    fn u_load(s: &[u64]) -> u64 {
        s[0]
    }
    #[inline(always)]
    fn u_store(u: u64, s: &mut [u64]) {
        s[0] = u;
    }
    #[inline(always)]
    fn u_add(a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }
    #[inline(always)]
    fn u_sub(a: u64, b: u64) -> u64 {
        a.wrapping_sub(b)
    }
    #[inline(always)]
    fn u_xor(a: u64, b: u64) -> u64 {
        a ^ b
    }
    #[inline(always)]
    fn u_or(a: u64, b: u64) -> u64 {
        a | b
    }
    #[inline(always)]
    fn u_and(a: u64, b: u64) -> u64 {
        a & b
    }
    #[inline(always)]
    fn u_shl<const K: i32>(a: u64) -> u64 {
        a << K
    }
    #[inline(always)]
    fn u_shr<const K: i32>(a: u64) -> u64 {
        a >> K
    }
}

/// The instruction sets the kernel is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Isa {
    /// Portable scalar code (one lane at a time).
    Scalar,
    /// AVX2 with FMA, 4 lanes.
    Avx2,
    /// AVX-512 F + DQ, 8 lanes.
    Avx512,
}

impl Isa {
    /// The widest instruction set this CPU supports, unless the environment variable
    /// `LEVYLAB_ISA` (`scalar`, `avx2`, `avx512`) asks for a narrower one.
    pub fn detect() -> Isa {
        let best = Self::best();
        match std::env::var("LEVYLAB_ISA").ok().as_deref() {
            Some("scalar") => Isa::Scalar,
            Some("avx2") if best != Isa::Scalar => Isa::Avx2,
            _ => best,
        }
    }

    /// The widest instruction set this CPU supports.
    pub fn best() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Scalar
    }

    /// Every instruction set this CPU can run (for tests comparing them).
    pub fn available() -> Vec<Isa> {
        let best = Self::best();
        [Isa::Scalar, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|i| match i {
                Isa::Scalar => true,
                Isa::Avx2 => best != Isa::Scalar,
                Isa::Avx512 => best == Isa::Avx512,
            })
            .collect()
    }

    /// Lanes per vector.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Scalar => 1,
            Isa::Avx2 => 4,
            Isa::Avx512 => 8,
        }
    }

    /// Name as printed.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }
}

/// Code generic over [`Lanes`], run by [`dispatch`] on the instruction set asked for.
///
/// `call` must be `#[inline(always)]` (and so must everything it calls on the lanes): it is then
/// compiled inside a function with that instruction set enabled.
pub trait WithLanes {
    /// What the code returns.
    type Output;
    /// Runs the code with lanes `V`.
    fn call<V: Lanes>(self) -> Self::Output;
}

/// Runs `code` with the lanes of `isa`: the one place where an instruction set is entered.
///
/// # Panics
/// If `isa` is not available on this CPU ([`Isa::available`]).
pub fn dispatch<K: WithLanes>(isa: Isa, code: K) -> K::Output {
    assert!(
        Isa::available().contains(&isa),
        "{} is not available on this CPU",
        isa.name()
    );
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU supports AVX-512 F/DQ and FMA (checked above).
        #[allow(unsafe_code)]
        Isa::Avx512 => unsafe { on_avx512(code) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU supports AVX2 and FMA (checked above).
        #[allow(unsafe_code)]
        Isa::Avx2 => unsafe { on_avx2(code) },
        _ => code.call::<Scalar>(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code)]
unsafe fn on_avx2<K: WithLanes>(code: K) -> K::Output {
    code.call::<Avx2>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
#[allow(unsafe_code)]
unsafe fn on_avx512<K: WithLanes>(code: K) -> K::Output {
    code.call::<Avx512>()
}

/// Standard S1 stable variates `S_α(1, β, 0)` from pairs of stream words, computed with the vector
/// CMS transform on `isa`: `out[i]` = CMS(V = π(U(w1[i]) − ½), W = −ln U(w2[i])), U as in
/// [`math::open01`]. Every instruction set gives the same bits.
///
/// # Panics
/// If the slices differ in length, or `isa` is not available on this CPU.
pub fn stable_batch(isa: Isa, alpha: f64, beta: f64, w1: &[u64], w2: &[u64], out: &mut [f64]) {
    assert!(w1.len() == out.len() && w2.len() == out.len());
    struct Batch<'a> {
        cms: math::Cms,
        w1: &'a [u64],
        w2: &'a [u64],
        out: &'a mut [f64],
    }
    impl WithLanes for Batch<'_> {
        type Output = ();
        #[inline(always)]
        fn call<V: Lanes>(self) {
            let whole = self.out.len() / V::N * V::N;
            for i in (0..whole).step_by(V::N) {
                let v: V = self
                    .cms
                    .sample(V::u_load(&self.w1[i..]), V::u_load(&self.w2[i..]));
                v.store(&mut self.out[i..]);
            }
            for i in whole..self.out.len() {
                self.out[i] = self.cms.sample::<Scalar>(self.w1[i], self.w2[i]).0;
            }
        }
    }
    let cms = math::Cms::new(alpha, beta);
    dispatch(isa, Batch { cms, w1, w2, out });
}
