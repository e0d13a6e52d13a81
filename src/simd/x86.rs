//! AVX2 + FMA (4 lanes) and AVX-512 F/DQ (8 lanes) implementations of [`Lanes`].
//!
//! Safety: every method calls `core::arch` intrinsics of its instruction set. Values of these types
//! are only created inside functions compiled with that instruction set enabled, which the
//! dispatcher ([`super::Isa::detect`], `is_x86_feature_detected!`) calls only on CPUs that have it.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::Lanes;

/// Four f64 lanes in an AVX2 register.
#[derive(Clone, Copy, Debug)]
pub struct Avx2(__m256d);

/// Eight f64 lanes in an AVX-512 register.
#[derive(Clone, Copy, Debug)]
pub struct Avx512(__m512d);

impl Lanes for Avx2 {
    const N: usize = 4;
    type M = __m256d;
    type U = __m256i;

    #[inline(always)]
    fn splat(v: f64) -> Self {
        unsafe { Avx2(_mm256_set1_pd(v)) }
    }
    #[inline(always)]
    fn load(s: &[f64]) -> Self {
        assert!(s.len() >= 4);
        unsafe { Avx2(_mm256_loadu_pd(s.as_ptr())) }
    }
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        assert!(s.len() >= 4);
        unsafe { _mm256_storeu_pd(s.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        unsafe { Avx2(_mm256_add_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        unsafe { Avx2(_mm256_sub_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        unsafe { Avx2(_mm256_mul_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        unsafe { Avx2(_mm256_div_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        unsafe { Avx2(_mm256_fmadd_pd(self.0, b.0, c.0)) }
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        unsafe { Avx2(_mm256_sqrt_pd(self.0)) }
    }
    #[inline(always)]
    fn round(self) -> Self {
        unsafe {
            Avx2(_mm256_round_pd::<
                { _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC },
            >(self.0))
        }
    }
    #[inline(always)]
    fn lt(self, b: Self) -> __m256d {
        unsafe { _mm256_cmp_pd::<_CMP_LT_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn le(self, b: Self) -> __m256d {
        unsafe { _mm256_cmp_pd::<_CMP_LE_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn eq(self, b: Self) -> __m256d {
        unsafe { _mm256_cmp_pd::<_CMP_EQ_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn select(m: __m256d, a: Self, b: Self) -> Self {
        unsafe { Avx2(_mm256_blendv_pd(b.0, a.0, m)) }
    }
    #[inline(always)]
    fn and(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_and_pd(a, b) }
    }
    #[inline(always)]
    fn or(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_or_pd(a, b) }
    }
    #[inline(always)]
    fn not(a: __m256d) -> __m256d {
        unsafe { _mm256_xor_pd(a, _mm256_castsi256_pd(_mm256_set1_epi64x(-1))) }
    }
    #[inline(always)]
    fn bits(m: __m256d) -> u32 {
        unsafe { _mm256_movemask_pd(m) as u32 }
    }
    #[inline(always)]
    fn to_bits(self) -> __m256i {
        unsafe { _mm256_castpd_si256(self.0) }
    }
    #[inline(always)]
    fn from_bits(u: __m256i) -> Self {
        unsafe { Avx2(_mm256_castsi256_pd(u)) }
    }
    #[inline(always)]
    fn u_splat(v: u64) -> __m256i {
        unsafe { _mm256_set1_epi64x(v as i64) }
    }
    #[inline(always)]
    fn u_load(s: &[u64]) -> __m256i {
        assert!(s.len() >= 4);
        unsafe { _mm256_loadu_si256(s.as_ptr().cast()) }
    }
    #[inline(always)]
    fn u_store(u: __m256i, s: &mut [u64]) {
        assert!(s.len() >= 4);
        unsafe { _mm256_storeu_si256(s.as_mut_ptr().cast(), u) }
    }
    #[inline(always)]
    fn u_add(a: __m256i, b: __m256i) -> __m256i {
        unsafe { _mm256_add_epi64(a, b) }
    }
    #[inline(always)]
    fn u_sub(a: __m256i, b: __m256i) -> __m256i {
        unsafe { _mm256_sub_epi64(a, b) }
    }
    #[inline(always)]
    fn u_xor(a: __m256i, b: __m256i) -> __m256i {
        unsafe { _mm256_xor_si256(a, b) }
    }
    #[inline(always)]
    fn u_or(a: __m256i, b: __m256i) -> __m256i {
        unsafe { _mm256_or_si256(a, b) }
    }
    #[inline(always)]
    fn u_and(a: __m256i, b: __m256i) -> __m256i {
        unsafe { _mm256_and_si256(a, b) }
    }
    #[inline(always)]
    fn u_shl<const K: i32>(a: __m256i) -> __m256i {
        unsafe { _mm256_slli_epi64::<K>(a) }
    }
    #[inline(always)]
    fn u_shr<const K: i32>(a: __m256i) -> __m256i {
        unsafe { _mm256_srli_epi64::<K>(a) }
    }
}

impl Lanes for Avx512 {
    const N: usize = 8;
    type M = __mmask8;
    type U = __m512i;

    #[inline(always)]
    fn splat(v: f64) -> Self {
        unsafe { Avx512(_mm512_set1_pd(v)) }
    }
    #[inline(always)]
    fn load(s: &[f64]) -> Self {
        assert!(s.len() >= 8);
        unsafe { Avx512(_mm512_loadu_pd(s.as_ptr())) }
    }
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        assert!(s.len() >= 8);
        unsafe { _mm512_storeu_pd(s.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        unsafe { Avx512(_mm512_add_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        unsafe { Avx512(_mm512_sub_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        unsafe { Avx512(_mm512_mul_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        unsafe { Avx512(_mm512_div_pd(self.0, b.0)) }
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        unsafe { Avx512(_mm512_fmadd_pd(self.0, b.0, c.0)) }
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        unsafe { Avx512(_mm512_sqrt_pd(self.0)) }
    }
    #[inline(always)]
    fn round(self) -> Self {
        unsafe {
            Avx512(_mm512_roundscale_pd::<
                { _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC },
            >(self.0))
        }
    }
    #[inline(always)]
    fn lt(self, b: Self) -> __mmask8 {
        unsafe { _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn le(self, b: Self) -> __mmask8 {
        unsafe { _mm512_cmp_pd_mask::<_CMP_LE_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn eq(self, b: Self) -> __mmask8 {
        unsafe { _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn select(m: __mmask8, a: Self, b: Self) -> Self {
        unsafe { Avx512(_mm512_mask_blend_pd(m, b.0, a.0)) }
    }
    #[inline(always)]
    fn and(a: __mmask8, b: __mmask8) -> __mmask8 {
        a & b
    }
    #[inline(always)]
    fn or(a: __mmask8, b: __mmask8) -> __mmask8 {
        a | b
    }
    #[inline(always)]
    fn not(a: __mmask8) -> __mmask8 {
        !a
    }
    #[inline(always)]
    fn bits(m: __mmask8) -> u32 {
        u32::from(m)
    }
    #[inline(always)]
    fn to_bits(self) -> __m512i {
        unsafe { _mm512_castpd_si512(self.0) }
    }
    #[inline(always)]
    fn from_bits(u: __m512i) -> Self {
        unsafe { Avx512(_mm512_castsi512_pd(u)) }
    }
    #[inline(always)]
    fn u_splat(v: u64) -> __m512i {
        unsafe { _mm512_set1_epi64(v as i64) }
    }
    #[inline(always)]
    fn u_load(s: &[u64]) -> __m512i {
        assert!(s.len() >= 8);
        unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
    }
    #[inline(always)]
    fn u_store(u: __m512i, s: &mut [u64]) {
        assert!(s.len() >= 8);
        unsafe { _mm512_storeu_si512(s.as_mut_ptr().cast(), u) }
    }
    #[inline(always)]
    fn u_add(a: __m512i, b: __m512i) -> __m512i {
        unsafe { _mm512_add_epi64(a, b) }
    }
    #[inline(always)]
    fn u_sub(a: __m512i, b: __m512i) -> __m512i {
        unsafe { _mm512_sub_epi64(a, b) }
    }
    #[inline(always)]
    fn u_xor(a: __m512i, b: __m512i) -> __m512i {
        unsafe { _mm512_xor_si512(a, b) }
    }
    #[inline(always)]
    fn u_or(a: __m512i, b: __m512i) -> __m512i {
        unsafe { _mm512_or_si512(a, b) }
    }
    #[inline(always)]
    fn u_and(a: __m512i, b: __m512i) -> __m512i {
        unsafe { _mm512_and_si512(a, b) }
    }
    #[inline(always)]
    fn u_shl<const K: i32>(a: __m512i) -> __m512i {
        unsafe { _mm512_sll_epi64(a, _mm_set_epi64x(0, K as i64)) }
    }
    #[inline(always)]
    fn u_shr<const K: i32>(a: __m512i) -> __m512i {
        unsafe { _mm512_srl_epi64(a, _mm_set_epi64x(0, K as i64)) }
    }
}
