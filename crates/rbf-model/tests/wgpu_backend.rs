//! The wgpu backend (software Vulkan in CI) agrees with the CPU backend. Built with the `wgpu`
//! feature only; if no wgpu device can be created the test fails.
#![cfg(feature = "wgpu")]
mod common;

use burn::prelude::*;
use burn::tensor::DeviceKind;
use common::*;
use rand::Rng;
use rbf_model::{ImageGrid, Poses, RbfDensityConfig};

#[test]
fn projection_and_volume_on_wgpu_match_the_cpu() {
    let mut rng = rng(4);
    let grid = ImageGrid::new(32, 1.1).unwrap();
    let n_rbf = 40;
    let centers = random_points(&mut rng, n_rbf, 10.0);
    let electrons: Vec<f64> = (0..n_rbf).map(|_| rng.random_range(6.0..40.0)).collect();
    let rotations: Vec<_> = (0..6).map(|_| random_rotation(&mut rng)).collect();
    let shifts: Vec<[f64; 2]> = (0..6).map(|_| [rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0)]).collect();
    let run = |device: &Device| {
        let density = RbfDensityConfig::new().init(&centers, &electrons, device);
        let poses = Poses::from_host(&rotations, &shifts, device);
        (to_vec(density.project(&poses, &grid)), to_vec(density.volume(&grid)))
    };
    let (cpu_images, cpu_volume) = run(&cpu());
    let (gpu_images, gpu_volume) = run(&Device::wgpu(DeviceKind::DefaultDevice));
    let as_f64 = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    let e_img = relative_error(&gpu_images, &as_f64(&cpu_images));
    let e_vol = relative_error(&gpu_volume, &as_f64(&cpu_volume));
    assert!(e_img < 1e-4 && e_vol < 1e-4, "images {e_img}, volume {e_vol}");
}

#[test]
fn a_projection_whose_dense_intermediate_exceeds_a_wgpu_buffer_runs_in_chunks() {
    // Gx of 128 images × 8,200 RBFs × 32 pixels is 33.6 M values (134 MB), over wgpu's 128 MiB
    // buffer limit: project_plain splits the RBFs, and the result equals the CPU's.
    let mut rng = rng(5);
    let grid = ImageGrid::new(32, 1.0).unwrap();
    let (batch, n_rbf) = (128, 8_200);
    assert!(batch * n_rbf * grid.box_size() > (128 << 20) / 4);
    let centers = random_points(&mut rng, n_rbf, 10.0);
    let electrons: Vec<f64> = (0..n_rbf).map(|_| rng.random_range(6.0..40.0)).collect();
    let rotations: Vec<_> = (0..batch).map(|_| random_rotation(&mut rng)).collect();
    let shifts = vec![[0.0; 2]; batch];
    let run = |device: &Device| {
        let density = RbfDensityConfig::new().init(&centers, &electrons, device);
        to_vec(density.project(&Poses::from_host(&rotations, &shifts, device), &grid))
    };
    let cpu_images = run(&cpu());
    let gpu_images = run(&Device::wgpu(DeviceKind::DefaultDevice));
    let e = relative_error(&gpu_images, &cpu_images.iter().map(|&x| f64::from(x)).collect::<Vec<_>>());
    assert!(e < 1e-4, "relative error {e}");
}
