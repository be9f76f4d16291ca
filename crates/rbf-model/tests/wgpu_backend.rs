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
