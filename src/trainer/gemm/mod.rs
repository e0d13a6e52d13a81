//! Single-precision GEMM for the trainer: packed panels, fixed blocking, one micro-kernel per
//! instruction set, and results that do not depend on the instruction set or the thread count.
//!
//! `C = α·op(A)·op(B) + β·C` is computed BLIS-style: k is cut into blocks of [`KC`] (a constant, not
//! a cache-size guess, so the order of every sum is fixed), B's block is packed into panels of
//! `NR` columns, A's into panels of `MR` rows, and a micro-kernel ([`kernel`]) computes each
//! `MR × NR` tile. Within a block each element is one chain of fused multiply-adds in k order,
//! merged into C by one more; see [`kernel`] for why the scalar, AVX2 and AVX-512 kernels give the
//! same bits. Tiles are spread over rayon's threads in blocks of rows and columns; a tile is
//! computed the same way whichever thread runs it, so the thread count does not change the result
//! either.
//!
//! Operands that already hold each p's values contiguously (A stored transposed, B stored as is)
//! are read in place; the others are packed, with 8 × 8 register transposes where the CPU has AVX.
//!
//! This replaced matrixmultiply 0.3.11 in the trainer: matrixmultiply picks its kernel (AVX-512,
//! FMA, AVX, SSE2) for the CPU, so its bits depend on the machine, and it ran single-threaded
//! here. (Its AVX-512 kernel computes the same per-element FMA chain in blocks of 256, so on
//! AVX-512 machines the trainer's numbers did not change to the bit.) The criterion group `gemm/` measures both on the trainer's shapes; the README (section
//! Speed) has the numbers. This module holds the trainer's unsafe code: the micro-kernels, the 8 × 8
//! transpose and the shared pointer to C in the parallel loop, each with its argument beside it.
#![allow(unsafe_code)]

mod kernel;

use std::cell::Cell;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::simd::Isa;
use kernel::{Merge, Micro};

/// Depth of a k-block: every sum over k runs in blocks of this many terms, on every CPU.
pub const KC: usize = 256;

/// Row blocks hold this many micro-panels of A.
const ROW_PANELS: usize = 8;

/// Column groups hold about this many columns of B (whole panels).
const GROUP_COLUMNS: usize = 256;

/// Below this many flops per k-block the tiles run on the calling thread.
const PARALLEL_FLOPS: usize = 1 << 22;

thread_local! {
    /// Reused packing buffers (taken out while in use, so a nested call allocates its own).
    static A_PACK: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static B_PACK: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// The instruction set [`sgemm`] uses: [`Isa::detect`] once per process.
pub fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(Isa::detect)
}

/// `C (m×n, row-major) = α·op(A)·op(B) + β·C`, with `A` stored row-major as m×k (or k×m if
/// `a_t`) and `B` as k×n (or n×k if `b_t`). When β = 0, C is not read (NaN in it does not
/// propagate).
///
/// # Panics
/// If a slice is shorter than its matrix.
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
    product(isa(), (m, k, n), alpha, (a, a_t), (b, b_t), beta, c)
}

/// [`sgemm`] on a given instruction set (every one gives the same bits; tests compare them).
///
/// # Panics
/// If a slice is shorter than its matrix, or `isa` is not available on this CPU.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_on(
    isa: Isa,
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
        Isa::available().contains(&isa),
        "{} is not available on this CPU",
        isa.name()
    );
    product(isa, (m, k, n), alpha, (a, a_t), (b, b_t), beta, c)
}

/// [`sgemm_on`] for an instruction set known to be on this CPU.
fn product(
    isa: Isa,
    (m, k, n): (usize, usize, usize),
    alpha: f32,
    (a, a_t): (&[f32], bool),
    (b, b_t): (&[f32], bool),
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
    if k == 0 {
        for v in &mut c[..m * n] {
            *v = if beta == 0.0 { 0.0 } else { beta * *v };
        }
        return;
    }
    let op = Operands {
        m,
        k,
        n,
        a,
        a_t,
        b,
        b_t,
    };
    let c = &mut c[..m * n];
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => blocked::<kernel::Avx512>(&op, alpha, beta, c),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => blocked::<kernel::Avx2>(&op, alpha, beta, c),
        _ => blocked::<kernel::Scalar>(&op, alpha, beta, c),
    }
}

/// The two factors and their layout.
struct Operands<'a> {
    m: usize,
    k: usize,
    n: usize,
    a: &'a [f32],
    a_t: bool,
    b: &'a [f32],
    b_t: bool,
}

/// One micro-panel: `width` values for each p of a k-block, `step` floats apart (`width` for a
/// packed panel; the matrix's row length when the panel is read in place).
#[derive(Clone, Copy)]
struct Panel<'a> {
    data: &'a [f32],
    step: usize,
}

impl<'a> Panel<'a> {
    /// A panel of `width` values per p over `kc` p's, checked to lie inside `data` — the bound
    /// the kernels rely on.
    fn new(data: &'a [f32], step: usize, kc: usize, width: usize) -> Self {
        assert!(
            data.len() >= (kc - 1) * step + width,
            "gemm: panel outside its matrix"
        );
        Panel { data, step }
    }
}

/// How one operand lies in memory, seen from its panels: each k-step's values along the panel's
/// width are contiguous (`contiguous`, `step` floats from one k-step to the next), or each
/// width index's k-steps are (`step` floats from one width index to the next).
#[derive(Clone, Copy)]
struct Layout<'a> {
    data: &'a [f32],
    step: usize,
    contiguous: bool,
}

impl Layout<'_> {
    /// Packs width range `range` × k-range `pc..pc + kc` into panels of `width`: panel q holds,
    /// for each p, the `width` values at (range.start + q·width + j, pc + p), zero past the end.
    fn pack<'b>(
        &self,
        range: std::ops::Range<usize>,
        (pc, kc): (usize, usize),
        (width, avx): (usize, bool),
        buf: &'b mut Vec<f32>,
    ) -> &'b [f32] {
        let dst = aligned(buf, range.len().div_ceil(width) * kc * width);
        for (q, panel) in dst.chunks_exact_mut(kc * width).enumerate() {
            let j0 = range.start + q * width;
            let live = width.min(range.end - j0);
            if self.contiguous {
                for (p, out) in panel.chunks_exact_mut(width).enumerate() {
                    let at = (pc + p) * self.step + j0;
                    out[..live].copy_from_slice(&self.data[at..at + live]);
                }
            } else {
                let src = &self.data[j0 * self.step + pc..];
                kernel::transpose(src, self.step, (live, kc), panel, width, avx);
            }
        }
        dst
    }
}

impl Operands<'_> {
    /// op(A) seen from its row panels: A stored k×m (`a_t`) has each p's rows contiguous.
    fn a_layout(&self) -> Layout<'_> {
        let step = if self.a_t { self.m } else { self.k };
        Layout {
            data: self.a,
            step,
            contiguous: self.a_t,
        }
    }

    /// op(B) seen from its column panels: B stored k×n has each p's columns contiguous.
    fn b_layout(&self) -> Layout<'_> {
        let step = if self.b_t { self.k } else { self.n };
        Layout {
            data: self.b,
            step,
            contiguous: !self.b_t,
        }
    }

    /// Packs rows `rows` × k-range `pc..pc + kc` of op(A) into panels of `MR` rows.
    fn pack_a<'b, K: Micro>(
        &self,
        rows: std::ops::Range<usize>,
        pc: usize,
        kc: usize,
        buf: &'b mut Vec<f32>,
    ) -> &'b [f32] {
        self.a_layout().pack(rows, (pc, kc), (K::MR, K::AVX), buf)
    }

    /// Packs k-range `pc..pc + kc` of op(B), columns `cols`, into panels of `NR` columns.
    fn pack_b<'b, K: Micro>(
        &self,
        cols: std::ops::Range<usize>,
        pc: usize,
        kc: usize,
        buf: &'b mut Vec<f32>,
    ) -> &'b [f32] {
        self.b_layout().pack(cols, (pc, kc), (K::NR, K::AVX), buf)
    }
}

/// The micro-panels of one operand for one k-block: packed, or read in place where the matrix
/// already holds each p's values contiguously (A transposed, B not), with only a ragged last
/// panel packed.
struct Panels<'a> {
    /// Packed panels, `kc·width` apart (all of them, or the ragged last one).
    packed: &'a [f32],
    /// In place: the matrix from the block's first value, its row length, and how many whole
    /// panels it serves.
    direct: Option<(&'a [f32], usize, usize)>,
    kc: usize,
    width: usize,
}

impl<'a> Panels<'a> {
    fn get(&self, index: usize) -> Panel<'a> {
        match self.direct {
            Some((data, row, whole)) if index < whole => {
                Panel::new(&data[index * self.width..], row, self.kc, self.width)
            }
            Some((_, _, whole)) => Panel::new(
                &self.packed[(index - whole) * self.kc * self.width..],
                self.width,
                self.kc,
                self.width,
            ),
            None => Panel::new(
                &self.packed[index * self.kc * self.width..],
                self.width,
                self.kc,
                self.width,
            ),
        }
    }
}

/// `len` zeroed floats of `buf` starting on a 64-byte boundary (a cache line: the kernels' vector
/// loads from the packed panels then never straddle two lines).
fn aligned(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    const LINE: usize = 64 / std::mem::size_of::<f32>();
    buf.clear();
    buf.resize(len + LINE - 1, 0.0);
    let skip = buf.as_ptr().align_offset(64).min(LINE - 1);
    &mut buf[skip..skip + len]
}

/// C's storage, shared by the tasks of one k-block.
#[derive(Clone, Copy)]
struct SharedC {
    ptr: *mut f32,
    n: usize,
}

// SAFETY: the tasks of a k-block write disjoint tiles of C (each tile belongs to exactly one
// (row block, column group) task), and the exclusive borrow of C outlives the parallel loop.
unsafe impl Send for SharedC {}
unsafe impl Sync for SharedC {}

/// The blocked product on micro-kernel `K`.
fn blocked<K: Micro>(op: &Operands, alpha: f32, beta: f32, c: &mut [f32]) {
    let (m, k, n) = (op.m, op.k, op.n);
    let row_block = ROW_PANELS * K::MR;
    let group = (GROUP_COLUMNS / K::NR).max(1);
    let col_panels = n.div_ceil(K::NR);
    let tasks: Vec<(usize, usize)> = (0..m)
        .step_by(row_block)
        .flat_map(|i0| (0..col_panels).step_by(group).map(move |q0| (i0, q0)))
        .collect();
    let shared = SharedC {
        ptr: c.as_mut_ptr(),
        n,
    };
    let mut b_pack = B_PACK.take();
    for pc in (0..k).step_by(KC) {
        let kc = KC.min(k - pc);
        let b_panels = if op.b_t {
            Panels {
                packed: op.pack_b::<K>(0..n, pc, kc, &mut b_pack),
                direct: None,
                kc,
                width: K::NR,
            }
        } else {
            let whole = n / K::NR;
            Panels {
                packed: op.pack_b::<K>(whole * K::NR..n, pc, kc, &mut b_pack),
                direct: Some((&op.b[pc * n..], n, whole)),
                kc,
                width: K::NR,
            }
        };
        let merge = Merge {
            alpha,
            beta,
            first: pc == 0,
        };
        let run = |&(i0, q0): &(usize, usize)| {
            let rows = i0..(i0 + row_block).min(m);
            let panels = q0..(q0 + group).min(col_panels);
            let mut a_pack = A_PACK.take();
            let a_panels = if op.a_t {
                let whole = rows.len() / K::MR;
                let edge = rows.start + whole * K::MR..rows.end;
                Panels {
                    packed: op.pack_a::<K>(edge, pc, kc, &mut a_pack),
                    direct: Some((&op.a[pc * m + rows.start..], m, whole)),
                    kc,
                    width: K::MR,
                }
            } else {
                Panels {
                    packed: op.pack_a::<K>(rows.clone(), pc, kc, &mut a_pack),
                    direct: None,
                    kc,
                    width: K::MR,
                }
            };
            for q in panels {
                let bp = b_panels.get(q);
                for r in 0..rows.len().div_ceil(K::MR) {
                    let i = rows.start + r * K::MR;
                    tile::<K>(
                        kc,
                        a_panels.get(r),
                        bp,
                        shared,
                        (i, q * K::NR),
                        (m, n),
                        merge,
                    );
                }
            }
            A_PACK.set(a_pack);
        };
        if 2 * m * n * kc >= PARALLEL_FLOPS && tasks.len() > 1 {
            tasks.par_iter().for_each(run);
        } else {
            tasks.iter().for_each(run);
        }
    }
    B_PACK.set(b_pack);
}

/// One tile with its top-left corner at `(i, j)`; a tile that crosses C's edge goes through a
/// full scratch tile so that the kernel never touches memory outside C.
fn tile<K: Micro>(
    kc: usize,
    ap: Panel,
    bp: Panel,
    c: SharedC,
    (i, j): (usize, usize),
    (m, n): (usize, usize),
    merge: Merge,
) {
    let (rows, cols) = (K::MR.min(m - i), K::NR.min(n - j));
    if rows == K::MR && cols == K::NR {
        // SAFETY: the panels hold their kc rows of MR and NR values (checked by Panel::new); rows i..i+MR
        // and columns j..j+NR lie inside C (m × n, stride n); this task alone writes the tile;
        // the dispatcher checked the CPU for K's instruction set.
        unsafe {
            K::tile(
                kc,
                (ap.data.as_ptr(), ap.step),
                (bp.data.as_ptr(), bp.step),
                c.ptr.add(i * c.n + j),
                c.n,
                merge,
            )
        }
        return;
    }
    let mut scratch = [0f32; 8 * 32];
    assert!(K::MR * K::NR <= scratch.len());
    for r in 0..rows {
        // SAFETY: row i + r, columns j..j + cols lie inside C; this task alone touches them.
        let src = unsafe { std::slice::from_raw_parts(c.ptr.add((i + r) * c.n + j), cols) };
        scratch[r * K::NR..][..cols].copy_from_slice(src);
    }
    // SAFETY: as above, with C replaced by the MR × NR scratch tile (stride NR).
    unsafe {
        K::tile(
            kc,
            (ap.data.as_ptr(), ap.step),
            (bp.data.as_ptr(), bp.step),
            scratch.as_mut_ptr(),
            K::NR,
            merge,
        )
    }
    for r in 0..rows {
        // SAFETY: as for the copy in.
        let dst = unsafe { std::slice::from_raw_parts_mut(c.ptr.add((i + r) * c.n + j), cols) };
        dst.copy_from_slice(&scratch[r * K::NR..][..cols]);
    }
}

/// `params ← params − lr·grad`.
pub fn sgd_step(params: &mut [f32], grad: &[f32], lr: f32) {
    for (p, g) in params.iter_mut().zip(grad) {
        *p -= lr * g;
    }
}

/// The ReLU derivative applied to a back-propagated `delta`: zero where the layer's output `out`
/// (= ReLU of its input) is ≤ 0, unchanged elsewhere. Written as a select so that it vectorizes
/// (the branch on each sign mispredicted about half the time).
pub fn relu_mask(delta: &mut [f32], out: &[f32]) {
    for (d, &o) in delta.iter_mut().zip(out) {
        *d = if o <= 0.0 { 0.0 } else { *d };
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

    fn get(x: &[f32], t: bool, rows: usize, cols: usize, i: usize, j: usize) -> f32 {
        if t { x[j * rows + i] } else { x[i * cols + j] }
    }

    /// The arithmetic the module promises, element by element: one fused multiply-add chain per
    /// k-block, merged into C by one more (written independently of the packed driver).
    #[allow(clippy::too_many_arguments)]
    fn specified(
        (m, k, n): (usize, usize, usize),
        alpha: f32,
        a: &[f32],
        a_t: bool,
        b: &[f32],
        b_t: bool,
        beta: f32,
        c0: &[f32],
    ) -> Vec<f32> {
        let mut c = c0.to_vec();
        for i in 0..m {
            for j in 0..n {
                for pc in (0..k).step_by(KC) {
                    let mut acc = 0f32;
                    for p in pc..(pc + KC).min(k) {
                        acc = get(a, a_t, m, k, i, p).mul_add(get(b, b_t, k, n, p, j), acc);
                    }
                    let old = c[i * n + j];
                    let base = match (pc == 0, beta == 0.0) {
                        (true, true) => 0.0,
                        (true, false) => beta * old,
                        (false, _) => old,
                    };
                    c[i * n + j] = alpha.mul_add(acc, base);
                }
            }
        }
        c
    }

    fn random(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    /// Shapes with edges in every direction, k over several blocks, and the trainer's own.
    const SHAPES: [(usize, usize, usize); 9] = [
        (1, 1, 1),
        (5, 7, 3),
        (13, 33, 31),
        (12, 256, 32),
        (25, 257, 65),
        (37, 600, 70),
        (128, 784, 96),
        (10, 128, 512),
        (200, 100, 9),
    ];

    #[test]
    fn every_isa_computes_the_specified_arithmetic_to_the_bit() {
        for (s, &(m, k, n)) in SHAPES.iter().enumerate() {
            let a = random(m * k, 3 * s as u64 + 1);
            let b = random(k * n, 3 * s as u64 + 2);
            let c0 = random(m * n, 3 * s as u64 + 3);
            for (at, bt) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(1.0, 0.0), (-0.7, 0.0), (1.0, 1.0), (0.3, -2.5)] {
                    let want = specified((m, k, n), alpha, &a, at, &b, bt, beta, &c0);
                    for isa in Isa::available() {
                        let mut c = c0.clone();
                        sgemm_on(isa, m, k, n, alpha, &a, at, &b, bt, beta, &mut c);
                        let same = c.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits());
                        assert!(
                            same,
                            "{m}x{k}x{n} a_t={at} b_t={bt} α={alpha} β={beta} on {isa:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn products_are_within_the_rounding_bound_of_the_exact_product() {
        // |ĉ − c| ≤ (k + 2)·u·(Σ_p |a_ip b_pj| + |β c_ij|), u = 2⁻²⁴ (Higham, Accuracy and
        // Stability of Numerical Algorithms, §3.1), the exact product computed in f64.
        let u = f64::from(f32::EPSILON) / 2.0;
        for (s, &(m, k, n)) in SHAPES.iter().enumerate() {
            let a = random(m * k, 7 * s as u64 + 1);
            let b = random(k * n, 7 * s as u64 + 2);
            let c0 = random(m * n, 7 * s as u64 + 3);
            for (at, bt) in [(false, true), (true, false)] {
                let (alpha, beta) = (1.0f32, 0.5f32);
                let mut c = c0.clone();
                sgemm(m, k, n, alpha, &a, at, &b, bt, beta, &mut c);
                for i in 0..m {
                    for j in 0..n {
                        let (mut exact, mut size) = (0f64, 0f64);
                        for p in 0..k {
                            let t = f64::from(get(&a, at, m, k, i, p))
                                * f64::from(get(&b, bt, k, n, p, j));
                            exact += t;
                            size += t.abs();
                        }
                        let old = f64::from(c0[i * n + j]);
                        exact += f64::from(beta) * old;
                        size += (f64::from(beta) * old).abs();
                        let err = (f64::from(c[i * n + j]) - exact).abs();
                        assert!(err <= (k as f64 + 2.0) * u * size, "{m}x{k}x{n}: {err:e}");
                    }
                }
            }
        }
    }

    #[test]
    fn thread_count_does_not_change_a_bit() {
        let (m, k, n) = (300, 700, 520);
        let a = random(m * k, 11);
        let b = random(k * n, 12);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut c = vec![f32::NAN; m * n];
            pool.install(|| sgemm(m, k, n, 1.0, &a, false, &b, true, 0.0, &mut c));
            c
        };
        let one = run(1);
        assert!(one.iter().all(|v| v.is_finite()), "β = 0 must not read C");
        for threads in [2, 3] {
            let other = run(threads);
            assert!(
                one.iter()
                    .zip(&other)
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn empty_inner_dimension_scales_c() {
        let mut c = vec![2.0, f32::NAN];
        sgemm(1, 0, 2, 1.0, &[], false, &[], false, 0.0, &mut c);
        assert_eq!(c, [0.0, 0.0]);
        let mut c = vec![2.0, -4.0];
        sgemm(1, 0, 2, 1.0, &[], false, &[], false, 0.5, &mut c);
        assert_eq!(c, [1.0, -2.0]);
    }
}
