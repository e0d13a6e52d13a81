//! The micro-kernels of [`super::sgemm`]: one `MR × NR` tile of C from packed panels of A and B.
//!
//! Every kernel computes, for each element of its tile, the same arithmetic in the same order:
//! `acc = 0; for p in 0..kc { acc = fma(a[i, p], b[p, j], acc) }`, then
//! `c = fma(α, acc, base)` with `base = β·c` (or 0 when β = 0) on the first k-block and `base = c`
//! on the later ones. Each step is one correctly rounded IEEE-754 operation, and the vector width
//! only decides how many `j` are computed at once, so the scalar, AVX2 and AVX-512 kernels give
//! the same bits.
//!
//! # Safety
//! The AVX2 and AVX-512 kernels are `unsafe fn`s compiled with their instruction set enabled; the
//! driver calls one only for an instruction set that [`crate::simd::Isa::detect`] or
//! [`crate::simd::Isa::available`] found on the CPU. Each kernel
//! reads, for p < kc, `MR` floats at `ap + p·a_step` and `NR` at `bp + p·b_step`, and reads and
//! writes `MR` rows of `NR` floats at `c` with row stride `ldc`; the driver guarantees those
//! ranges (it checks every panel's extent, pads packed panels to whole widths, and sends partial
//! tiles through a full `MR × NR` scratch tile).
#![allow(unsafe_code)]

/// How a tile's sums are merged into C.
#[derive(Clone, Copy, Debug)]
pub struct Merge {
    /// The α of `C = α·A·B + β·C`.
    pub alpha: f32,
    /// The β, applied on the first k-block only.
    pub beta: f32,
    /// Whether this is the first k-block (C is then scaled by β, or not read when β = 0).
    pub first: bool,
}

/// A micro-kernel of one instruction set.
pub trait Micro {
    /// Rows of a tile (of a packed A panel).
    const MR: usize;
    /// Columns of a tile (of a packed B panel).
    const NR: usize;
    /// Whether the CPU running this kernel has AVX (for [`transpose`]'s 8 × 8 blocks).
    const AVX: bool;
    /// One tile: see the module docs for the arithmetic and [`Micro`]'s safety contract.
    ///
    /// # Safety
    /// For every p < kc, `MR` floats at `a.0 + p·a.1` and `NR` at `b.0 + p·b.1` are readable,
    /// `c` is valid for `MR` rows of `NR` floats `ldc` apart, and the CPU has the kernel's
    /// instruction set.
    unsafe fn tile(
        kc: usize,
        a: (*const f32, usize),
        b: (*const f32, usize),
        c: *mut f32,
        ldc: usize,
        m: Merge,
    );
}

/// Portable kernel (`f32::mul_add`, a correctly rounded fused multiply-add everywhere).
pub struct Scalar;

impl Micro for Scalar {
    const MR: usize = 4;
    const NR: usize = 8;
    const AVX: bool = false;
    unsafe fn tile(
        kc: usize,
        (ap, a_step): (*const f32, usize),
        (bp, b_step): (*const f32, usize),
        c: *mut f32,
        ldc: usize,
        m: Merge,
    ) {
        const MR: usize = Scalar::MR;
        const NR: usize = Scalar::NR;
        let mut acc = [[0f32; NR]; MR];
        for p in 0..kc {
            // SAFETY: the ranges are the caller's contract.
            let (ar, br) = unsafe {
                (
                    std::slice::from_raw_parts(ap.add(p * a_step), MR),
                    std::slice::from_raw_parts(bp.add(p * b_step), NR),
                )
            };
            for (row, &av) in acc.iter_mut().zip(ar) {
                for (s, &bv) in row.iter_mut().zip(br) {
                    *s = av.mul_add(bv, *s);
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            // SAFETY: row i of the tile is inside the caller's C range.
            let cr = unsafe { std::slice::from_raw_parts_mut(c.add(i * ldc), NR) };
            for (cv, &s) in cr.iter_mut().zip(row) {
                let base = match (m.first, m.beta == 0.0) {
                    (true, true) => 0.0,
                    (true, false) => m.beta * *cv,
                    (false, _) => *cv,
                };
                *cv = m.alpha.mul_add(s, base);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Avx512};

/// `dst[t·dst_stride + r] = src[r·src_stride + t]` for r < `rows`, t < `cols`: the transposing
/// copy of packing. With `avx` (the CPU has AVX) whole 8 × 8 blocks go through registers.
///
/// # Panics
/// If either slice is too short for its matrix.
pub fn transpose(
    src: &[f32],
    src_stride: usize,
    (rows, cols): (usize, usize),
    dst: &mut [f32],
    dst_stride: usize,
    avx: bool,
) {
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        src.len() >= (rows - 1) * src_stride + cols,
        "transpose: source too short"
    );
    assert!(
        dst.len() >= (cols - 1) * dst_stride + rows,
        "transpose: destination too short"
    );
    // Rows before r0 are done by the 8 × 8 blocks (and their column remainder).
    let mut r0 = 0;
    #[cfg(target_arch = "x86_64")]
    if avx {
        let (r8, t8) = (rows / 8 * 8, cols / 8 * 8);
        for r in (0..r8).step_by(8) {
            for t in (0..t8).step_by(8) {
                // SAFETY: the block's rows r..r+8, columns t..t+8 lie inside src and its
                // transpose inside dst (asserted above); the caller saw AVX on this CPU.
                unsafe {
                    x86::transpose8(
                        src.as_ptr().add(r * src_stride + t),
                        src_stride,
                        dst.as_mut_ptr().add(t * dst_stride + r),
                        dst_stride,
                    )
                }
            }
        }
        // What is left: the columns past t8 of the first r8 rows, then every column of the rest.
        for r in 0..r8 {
            for t in t8..cols {
                dst[t * dst_stride + r] = src[r * src_stride + t];
            }
        }
        r0 = r8;
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = avx;
    for r in r0..rows {
        for t in 0..cols {
            dst[t * dst_stride + r] = src[r * src_stride + t];
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Merge, Micro};

    /// AVX2 + FMA: 6 rows × 16 columns (12 ymm accumulators).
    pub struct Avx2;

    /// AVX-512 F: 8 rows × 32 columns (16 zmm accumulators). Measured against 12 × 32, 16 × 16,
    /// 8 × 48, 6 × 64 and 4 × 64 on the trainer's shapes (`cargo bench -- gemm/`), it was the
    /// fastest on all four.
    pub struct Avx512;

    const AVX512_MR: usize = 8;
    const AVX512_H: usize = 2;

    impl Micro for Avx2 {
        const MR: usize = 6;
        const NR: usize = 16;
        const AVX: bool = true;
        unsafe fn tile(
            kc: usize,
            a: (*const f32, usize),
            b: (*const f32, usize),
            c: *mut f32,
            ldc: usize,
            m: Merge,
        ) {
            // SAFETY: forwarded contract (CPU has AVX2 + FMA, ranges valid).
            unsafe { avx2_tile::<6, 2>(kc, a, b, c, ldc, m) }
        }
    }

    impl Micro for Avx512 {
        const MR: usize = AVX512_MR;
        const NR: usize = 16 * AVX512_H;
        const AVX: bool = true;
        unsafe fn tile(
            kc: usize,
            a: (*const f32, usize),
            b: (*const f32, usize),
            c: *mut f32,
            ldc: usize,
            m: Merge,
        ) {
            // SAFETY: forwarded contract (CPU has AVX-512 F + FMA, ranges valid).
            unsafe { avx512_tile::<AVX512_MR, AVX512_H>(kc, a, b, c, ldc, m) }
        }
    }

    /// One 8 × 8 transpose in AVX registers: `dst[t·ds + r] = src[r·ss + t]`, r, t < 8.
    ///
    /// # Safety
    /// The 8 rows of 8 floats at `src` (stride `ss`) and at `dst` (stride `ds`) are valid, and
    /// the CPU has AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn transpose8(src: *const f32, ss: usize, dst: *mut f32, ds: usize) {
        // SAFETY: the caller's contract.
        unsafe {
            let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(src.add(i * ss)));
            // Pairs of rows interleaved, then quadruples, then the 128-bit halves exchanged.
            let t = [
                _mm256_unpacklo_ps(r[0], r[1]),
                _mm256_unpackhi_ps(r[0], r[1]),
                _mm256_unpacklo_ps(r[2], r[3]),
                _mm256_unpackhi_ps(r[2], r[3]),
                _mm256_unpacklo_ps(r[4], r[5]),
                _mm256_unpackhi_ps(r[4], r[5]),
                _mm256_unpacklo_ps(r[6], r[7]),
                _mm256_unpackhi_ps(r[6], r[7]),
            ];
            let q = [
                _mm256_shuffle_ps::<0x44>(t[0], t[2]),
                _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
                _mm256_shuffle_ps::<0x44>(t[1], t[3]),
                _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
                _mm256_shuffle_ps::<0x44>(t[4], t[6]),
                _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
                _mm256_shuffle_ps::<0x44>(t[5], t[7]),
                _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
            ];
            for i in 0..4 {
                _mm256_storeu_ps(
                    dst.add(i * ds),
                    _mm256_permute2f128_ps::<0x20>(q[i], q[i + 4]),
                );
                _mm256_storeu_ps(
                    dst.add((i + 4) * ds),
                    _mm256_permute2f128_ps::<0x31>(q[i], q[i + 4]),
                );
            }
        }
    }

    /// One tile kernel per instruction set, written once: `$h` vectors of `$w` lanes per row of
    /// C, `MR` rows; the arithmetic is the module's (an FMA chain per element, one FMA merge).
    macro_rules! tile_kernel {
        ($name:ident, $feature:literal, $w:expr, $zero:ident, $set1:ident, $load:ident,
         $store:ident, $fma:ident, $mul:ident) => {
            #[target_feature(enable = $feature)]
            unsafe fn $name<const MR: usize, const H: usize>(
                kc: usize,
                (ap, a_step): (*const f32, usize),
                (bp, b_step): (*const f32, usize),
                c: *mut f32,
                ldc: usize,
                m: Merge,
            ) {
                let mut acc = [[$zero(); H]; MR];
                for p in 0..kc {
                    // SAFETY: p < kc, so the loads stay inside the panels (caller's contract).
                    unsafe {
                        let mut bv = [$zero(); H];
                        for (h, v) in bv.iter_mut().enumerate() {
                            *v = $load(bp.add(p * b_step + $w * h));
                        }
                        let a = ap.add(p * a_step);
                        for (i, row) in acc.iter_mut().enumerate() {
                            let av = $set1(*a.add(i));
                            for (s, &b) in row.iter_mut().zip(&bv) {
                                *s = $fma(av, b, *s);
                            }
                        }
                    }
                }
                let alpha = $set1(m.alpha);
                let beta = $set1(m.beta);
                for (i, row) in acc.iter().enumerate() {
                    for (h, &s) in row.iter().enumerate() {
                        // SAFETY: row i, columns w·h..w·(h + 1) of the tile are inside the
                        // caller's C range.
                        unsafe {
                            let cp = c.add(i * ldc + h * $w);
                            let base = match (m.first, m.beta == 0.0) {
                                (true, true) => $zero(),
                                (true, false) => $mul(beta, $load(cp)),
                                (false, _) => $load(cp),
                            };
                            $store(cp, $fma(alpha, s, base));
                        }
                    }
                }
            }
        };
    }

    tile_kernel!(
        avx2_tile,
        "avx2,fma",
        8,
        _mm256_setzero_ps,
        _mm256_set1_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_fmadd_ps,
        _mm256_mul_ps
    );
    tile_kernel!(
        avx512_tile,
        "avx512f,avx2,fma",
        16,
        _mm512_setzero_ps,
        _mm512_set1_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_fmadd_ps,
        _mm512_mul_ps
    );
}
