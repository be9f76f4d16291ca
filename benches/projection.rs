//! Criterion benches at the paper's shapes (batch 8, 141 residues = 282 RBFs, 128-pixel box,
//! latent dimension 1) on the CPU: the projection forward, forward and backward (fused CPU path
//! and the plain dense one side by side), and full training steps (forward, backward, Adam) of the
//! homogeneous model and the VAE. Throughput is in images (elements) per second; every timed
//! iteration reads its result back to the host and syncs the device.
//!
//! `cargo bench --bench projection` (add `-- --quick` for a short run).
use burn::prelude::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cryorbf::model::projection::{image_mse, project, project_plain};
use cryorbf::model::{ImageGrid, Poses};
use cryorbf::train::bench::{BenchConfig, BenchModel, StepBench, random_poses, synthetic_model};
use rand::SeedableRng;
use rand::rngs::StdRng;

const BATCH: usize = 8;
const RESIDUES: usize = 141;
const BOX: usize = 128;

type Render = fn(Tensor<3>, Tensor<1>, Tensor<1>, &Poses, &ImageGrid) -> Tensor<3>;
const RENDERERS: [(&str, Render); 2] = [("fused", project), ("plain", project_plain)];

/// Centers `[1, n_rbf, 3]`, amplitudes, σ, poses and the grid on `device`.
fn inputs(device: &Device) -> (Tensor<3>, Tensor<1>, Tensor<1>, Poses, ImageGrid) {
    let model = synthetic_model(RESIDUES).expect("synthetic model");
    let centers = cryorbf::model::density::centers_tensor(&model.centers, device).unsqueeze_dim(0);
    let amplitudes: Vec<f32> = model.electrons.iter().map(|&z| (0.1 * z) as f32).collect();
    let amplitudes = Tensor::from_data(TensorData::new(amplitudes, [model.n_rbf()]), device);
    let sigma = Tensor::from_data(TensorData::new(vec![3.71f32], [1]), device);
    let poses = random_poses(BATCH, &mut StdRng::seed_from_u64(0), device);
    (centers, amplitudes, sigma, poses, ImageGrid::new(BOX, 1.0).expect("grid"))
}

fn projection(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("projection_forward/batch{BATCH}_rbf{}_box{BOX}", 2 * RESIDUES));
    group.throughput(Throughput::Elements(BATCH as u64));
    let device = Device::flex();
    let (centers, amplitudes, sigma, poses, grid) = inputs(&device);
    for (name, render) in RENDERERS {
        group.bench_function(name, |b| {
            b.iter(|| {
                let images = render(centers.clone(), amplitudes.clone(), sigma.clone(), &poses, &grid).into_data();
                device.sync().expect("sync");
                images
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group(format!("projection_forward_backward/batch{BATCH}_rbf{}_box{BOX}", 2 * RESIDUES));
    group.throughput(Throughput::Elements(BATCH as u64));
    let device = Device::flex().autodiff();
    let (centers, amplitudes, sigma, poses, grid) = inputs(&device);
    let (centers, amplitudes, sigma) = (centers.require_grad(), amplitudes.require_grad(), sigma.require_grad());
    let target = Tensor::<3>::zeros([BATCH, BOX, BOX], &device);
    for (name, render) in RENDERERS {
        group.bench_function(name, |b| {
            b.iter(|| {
                let images = render(centers.clone(), amplitudes.clone(), sigma.clone(), &poses, &grid);
                let grads = image_mse(images, target.clone()).backward();
                let g = centers.grad(&grads).expect("a gradient").into_data();
                device.sync().expect("sync");
                g
            })
        });
    }
    group.finish();
}

fn training_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("training_step/batch{BATCH}_rbf{}_box{BOX}", 2 * RESIDUES));
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    let device = Device::flex().autodiff();
    let config = BenchConfig::new().with_batch(BATCH).with_residues(RESIDUES).with_box_size(BOX);
    for (name, model) in [("homogeneous", BenchModel::Homogeneous), ("vae", BenchModel::Vae)] {
        let mut bench = StepBench::new(model, &config, &device).expect("bench setup");
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                let loss = bench.step(i);
                bench.sync().expect("sync");
                loss
            })
        });
    }
    group.finish();
}

criterion_group!(benches, projection, training_steps);
criterion_main!(benches);
