//! Trainer throughput: one minibatch gradient of a 784-512-512-10 network at batch 128 and one
//! full-batch gradient on 2048 examples (f32, 1 and 2 threads), one full noise measurement on digits, and one at the paper's shape (784-512-512-10,
//! P = 60 minibatches of 100) on 1 and 2 threads; one AlexNet minibatch gradient.
use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use levylab::trainer::conv::{ConvNet, Shape};
use levylab::trainer::data;
use levylab::trainer::gradient_noise::measure;
use levylab::trainer::mlp::{Loss, Mlp, Workspace};
use levylab::trainer::model::Model;
use rand::RngExt;

fn gradient(c: &mut Criterion) {
    let net = Mlp::new(&[784, 512, 512, 10], false, 0);
    let mut r = levylab::rng::stream(1, 0);
    let x: Vec<f32> = (0..128 * 784).map(|_| r.random::<f32>()).collect();
    let y: Vec<u8> = (0..128).map(|i| (i % 10) as u8).collect();
    let mut rf = levylab::rng::stream(1, 1);
    let xf: Vec<f32> = (0..2048 * 784).map(|_| rf.random::<f32>()).collect();
    let yf: Vec<u8> = (0..2048).map(|i| (i % 10) as u8).collect();
    let mut ws = Workspace::default();
    let mut g = vec![0f32; net.n_params()];
    let mut grp = c.benchmark_group("trainer");
    grp.sample_size(30);
    for threads in [1, 2] {
        let pool = super::pool(threads);
        grp.bench_function(
            format!("gradient-784-512-512-10-batch128-{threads}-threads"),
            |b| {
                b.iter(|| {
                    pool.install(|| {
                        black_box(net.loss_grad(&x, &y, Loss::CrossEntropy, &mut ws, &mut g))
                    })
                })
            },
        );
        // The full-batch gradient of the escape experiments: 2048 examples in one pass
        // (compare per example with the minibatch above: time / 2048 against time / 128).
        grp.bench_function(
            format!("gradient-784-512-512-10-full2048-{threads}-threads"),
            |b| {
                b.iter(|| {
                    pool.install(|| {
                        black_box(net.loss_grad(&xf, &yf, Loss::CrossEntropy, &mut ws, &mut g))
                    })
                })
            },
        );
    }
    let (mut tr, mut te) = data::split(&data::digits().unwrap(), 0.2, 0);
    data::normalize(&mut tr, &mut te);
    let small = Model::Fc(Mlp::new(&[64, 256, 256, 10], false, 0));
    grp.sample_size(10);
    grp.bench_function("noise-measurement-digits-64-256-256-10", |b| {
        b.iter(|| {
            black_box(
                measure(&small, &tr.x, &tr.y, 100, Loss::CrossEntropy, 1_000_000, 0)
                    .map(|r| r.paper),
            )
        })
    });
    // The paper's shape at a tenth of Fashion-MNIST: 6000 synthetic 784-pixel examples, P = 60
    // minibatches of 100, a 784-512-512-10 net (M = 668 672), on 1 and 2 threads.
    let n = 6000;
    let big_x: Vec<f32> = (0..n * 784).map(|_| r.random::<f32>()).collect();
    let big_y: Vec<u8> = (0..n).map(|i| (i * 7 % 10) as u8).collect();
    let net = Model::Fc(net);
    for threads in [1, 2] {
        let pool = super::pool(threads);
        grp.bench_function(
            format!("noise-measurement-784-512-512-10-P60-{threads}-threads"),
            |b| {
                b.iter(|| {
                    pool.install(|| {
                        black_box(
                            measure(&net, &big_x, &big_y, 100, Loss::CrossEntropy, 1_000_000, 0)
                                .map(|r| r.paper),
                        )
                    })
                })
            },
        );
    }
    grp.finish();
}

/// One SGD-step gradient of the paper's AlexNet (dropout on, as in training) on a minibatch of 100
/// synthetic 28×28×1 images, for 16 and 64 channels, on 1 and 2 threads —
/// `scripts/compare_torch_alexnet.py` runs the same step in PyTorch.
fn alexnet(c: &mut Criterion) {
    let mut r = levylab::rng::stream(2, 0);
    let b = 100;
    let x: Vec<f32> = (0..b * 784)
        .map(|_| r.random::<f32>() * 2.0 - 1.0)
        .collect();
    let y: Vec<u8> = (0..b).map(|i| (i % 10) as u8).collect();
    let mut grp = c.benchmark_group("trainer");
    grp.sample_size(20);
    for ch in [16, 64] {
        let net = ConvNet::alexnet(Shape::new(28, 28, 1), 10, ch, 0.5, true, 0).unwrap();
        let mut g = vec![0f32; net.n_params()];
        for threads in [1, 2] {
            let pool = super::pool(threads);
            let mut step = 0u64;
            grp.bench_function(
                format!("alexnet-ch{ch}-gradient-batch100-{threads}-threads"),
                |bn| {
                    bn.iter(|| {
                        step += 1;
                        pool.install(|| {
                            black_box(net.loss_grad(
                                &x,
                                &y,
                                Loss::CrossEntropy,
                                &mut g,
                                Some((0, step)),
                            ))
                        })
                    })
                },
            );
        }
    }
    grp.finish();
}

criterion_group!(benches, gradient, alexnet);
