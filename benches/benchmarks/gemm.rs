//! Single-precision GEMM on the trainer's shapes: levylab's kernel (1 and 2 threads) beside
//! matrixmultiply 0.3 (the kernel it replaced, single-threaded). Report GFLOP/s = 2mnk / time.
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use levylab::trainer::gemm::sgemm;
use rand::RngExt;

/// (name, m, k, n, a_t, b_t): the 784-512-512-10 net at batch 128 (forward, weight gradient,
/// input gradient of the first layer) and AlexNet ch 64's second convolution on a sub-batch of
/// 25 (im2col rows × 5·5·64 patch × 64 channels).
const SHAPES: [(&str, usize, usize, usize, bool, bool); 4] = [
    ("fc-forward-128x784x512", 128, 784, 512, false, true),
    ("fc-weight-grad-512x128x784", 512, 128, 784, true, false),
    ("fc-input-grad-128x512x784", 128, 512, 784, false, false),
    ("conv-25x7x7-1600-64", 25 * 49, 1600, 64, false, true),
];

#[allow(unsafe_code, clippy::too_many_arguments)]
fn matrixmultiply_sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    a_t: bool,
    b: &[f32],
    b_t: bool,
    c: &mut [f32],
) {
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
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // SAFETY: the strides address only elements inside the slices (asserted lengths).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

fn gemm(c: &mut Criterion) {
    let mut r = levylab::rng::stream(3, 0);
    let mut grp = c.benchmark_group("gemm");
    grp.sample_size(20);
    let pools: Vec<_> = [1, 2].map(super::pool).into();
    for (name, m, k, n, a_t, b_t) in SHAPES {
        let a: Vec<f32> = (0..m * k).map(|_| r.random::<f32>() - 0.5).collect();
        let b: Vec<f32> = (0..k * n).map(|_| r.random::<f32>() - 0.5).collect();
        let mut out = vec![0f32; m * n];
        grp.throughput(Throughput::Elements((2 * m * n * k) as u64));
        for (t, pool) in pools.iter().enumerate() {
            grp.bench_function(format!("{name}/levylab-{}-threads", t + 1), |bn| {
                bn.iter(|| {
                    pool.install(|| sgemm(m, k, n, 1.0, &a, a_t, &b, b_t, 0.0, black_box(&mut out)))
                })
            });
        }
        grp.bench_function(format!("{name}/matrixmultiply-1-thread"), |bn| {
            bn.iter(|| matrixmultiply_sgemm(m, k, n, &a, a_t, &b, b_t, black_box(&mut out)))
        });
    }
    grp.finish();
}

criterion_group!(benches, gemm);
