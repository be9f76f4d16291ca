//! The separable projection and volume rendering against the plain per-pixel references, and
//! the pixel convention of CONVENTIONS.md.
mod common;

use burn::prelude::*;
use common::*;
use rand::Rng;
use rbf_model::density::centers_tensor;
use rbf_model::projection::{project, project_plain_chunked, reference};
use rbf_model::volume::render_volume;
use rbf_model::{ImageGrid, Poses};

fn tensor1(v: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.iter().map(|&x| x as f32).collect::<Vec<_>>(), [v.len()]), device)
}

#[test]
fn separable_projection_matches_per_pixel_reference_for_random_poses() {
    let device = cpu();
    let mut rng = rng(7);
    let grid = ImageGrid::new(24, 1.3).unwrap();
    let (batch, n_rbf, sigma) = (5, 17, 2.2);
    let centers = random_points(&mut rng, n_rbf, 9.0);
    let amplitudes: Vec<f64> = (0..n_rbf).map(|_| rng.random_range(1.0..30.0)).collect();
    let rotations: Vec<_> = (0..batch).map(|_| random_rotation(&mut rng)).collect();
    let shifts: Vec<[f64; 2]> = (0..batch).map(|_| [rng.random_range(-4.0..4.0), rng.random_range(-4.0..4.0)]).collect();
    let poses = Poses::from_host(&rotations, &shifts, &device);
    let images = to_vec(project(
        centers_tensor(&centers, &device).unsqueeze_dim(0),
        tensor1(&amplitudes, &device),
        tensor1(&[sigma], &device),
        &poses,
        &grid,
    ));
    let d = grid.box_size();
    assert_eq!(images.len(), batch * d * d);
    for b in 0..batch {
        let want = reference::project(&centers, &amplitudes, sigma, &rotations[b], shifts[b], &grid);
        let err = relative_error(&images[b * d * d..(b + 1) * d * d], &want);
        assert!(err < 1e-4, "image {b}: relative error {err}");
    }
}

#[test]
fn separable_projection_accepts_one_structure_per_image() {
    let device = cpu();
    let mut rng = rng(11);
    let grid = ImageGrid::new(20, 1.0).unwrap();
    let (batch, n_rbf, sigma) = (4, 9, 1.8);
    let structures: Vec<Vec<[f64; 3]>> = (0..batch).map(|_| random_points(&mut rng, n_rbf, 7.0)).collect();
    let amplitudes: Vec<f64> = (0..n_rbf).map(|_| rng.random_range(1.0..10.0)).collect();
    let rotations: Vec<_> = (0..batch).map(|_| random_rotation(&mut rng)).collect();
    let shifts: Vec<[f64; 2]> = (0..batch).map(|_| [rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)]).collect();
    let flat: Vec<[f64; 3]> = structures.iter().flatten().copied().collect();
    let centers = centers_tensor(&flat, &device).reshape([batch, n_rbf, 3]);
    let poses = Poses::from_host(&rotations, &shifts, &device);
    let images = to_vec(project(centers, tensor1(&amplitudes, &device), tensor1(&[sigma], &device), &poses, &grid));
    let d = grid.box_size();
    for b in 0..batch {
        let want = reference::project(&structures[b], &amplitudes, sigma, &rotations[b], shifts[b], &grid);
        let err = relative_error(&images[b * d * d..(b + 1) * d * d], &want);
        assert!(err < 1e-4, "image {b}: relative error {err}");
        // and each image really is its own structure's, not the first one's
        if b > 0 {
            let other = reference::project(&structures[0], &amplitudes, sigma, &rotations[b], shifts[b], &grid);
            assert!(relative_error(&images[b * d * d..(b + 1) * d * d], &other) > 1e-2);
        }
    }
}

/// A narrow Gaussian at μ = (6, −4, 3) Å, rotated 90° about z (x → y, y → −x) and shifted by
/// t = (2, 5) Å, lands at (R·μ)_xy + t = (4 + 2, 6 + 5) = (6, 11) Å. With D = 32, 1 Å/pixel the
/// center pixel is 16, so the peak is at column 16 + 6 = 22, row 16 + 11 = 27.
#[test]
fn a_gaussian_lands_at_the_pixel_the_conventions_predict() {
    let device = cpu();
    let grid = ImageGrid::new(32, 1.0).unwrap();
    let rotation = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    let poses = Poses::from_host(&[rotation], &[[2.0, 5.0]], &device);
    let image = to_vec(project(
        centers_tensor(&[[6.0, -4.0, 3.0]], &device).unsqueeze_dim(0),
        tensor1(&[1.0], &device),
        tensor1(&[0.7], &device),
        &poses,
        &grid,
    ));
    let peak = image.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    assert_eq!((peak / 32, peak % 32), (27, 22), "(row, column) of the peak");
    // The projection integrates to the amplitude (pixel area 1 Å²).
    let total: f32 = image.iter().sum();
    assert!((total - 1.0).abs() < 1e-3, "integral {total}");
}

/// With a pixel size of 2 Å the same point lands half as many pixels from the center.
#[test]
fn pixel_size_scales_the_landing_pixel() {
    let device = cpu();
    let grid = ImageGrid::new(16, 2.0).unwrap();
    let poses = Poses::from_host(&[[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]], &[[0.0, 0.0]], &device);
    let image = to_vec(project(
        centers_tensor(&[[-6.0, 4.0, 0.0]], &device).unsqueeze_dim(0),
        tensor1(&[1.0], &device),
        tensor1(&[1.0], &device),
        &poses,
        &grid,
    ));
    let peak = image.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    assert_eq!((peak / 16, peak % 16), (8 + 2, 8 - 3));
}

#[test]
fn separable_volume_matches_per_voxel_reference() {
    let device = cpu();
    let mut rng = rng(3);
    let grid = ImageGrid::new(18, 1.5).unwrap();
    let (n_rbf, sigma) = (11, 2.5);
    // Within ±4 Å of the center of a ±13.5 Å box, so that every Gaussian lies inside (> 3.8σ).
    let centers = random_points(&mut rng, n_rbf, 4.0);
    let amplitudes: Vec<f64> = (0..n_rbf).map(|_| rng.random_range(1.0..30.0)).collect();
    let volume = to_vec(render_volume(
        centers_tensor(&centers, &device),
        tensor1(&amplitudes, &device),
        tensor1(&[sigma], &device),
        &grid,
    ));
    let want = reference::volume(&centers, &amplitudes, sigma, &grid);
    let err = relative_error(&volume, &want);
    assert!(err < 1e-4, "relative error {err}");
    // The volume's sum times the voxel volume is the total amplitude.
    let total: f64 = volume.iter().map(|&v| f64::from(v)).sum::<f64>() * 1.5f64.powi(3);
    let expected: f64 = amplitudes.iter().sum();
    assert!((total - expected).abs() / expected < 1e-3, "{total} vs {expected}");
}

#[test]
fn grid_rejects_bad_sizes_and_checks_the_fit() {
    assert!(ImageGrid::new(0, 1.0).is_err());
    assert!(ImageGrid::new(64, 0.0).is_err());
    assert!(ImageGrid::new(64, -1.0).is_err());
    assert!(ImageGrid::new(64, f64::NAN).is_err());
    let grid = ImageGrid::new(32, 1.0).unwrap();
    assert!(grid.check_fits(&[[10.0, -10.0, 5.0]], 2.0).is_ok());
    let err = grid.check_fits(&[[20.0, 0.0, 0.0]], 0.0).unwrap_err().to_string();
    assert!(err.contains("does not fit") && err.contains("20.0"), "{err}");
}

#[test]
fn chunked_dense_projection_equals_one_chunk_in_values_and_gradients() {
    // 17 RBFs, 5 images of 24 pixels: 120 values per RBF, so a limit of 500 takes 4 RBFs at a
    // time (5 chunks, the last of 1).
    let device = cpu().autodiff();
    let mut rng = rng(21);
    let grid = ImageGrid::new(24, 1.3).unwrap();
    let (batch, n_rbf) = (5, 17);
    let centers = random_points(&mut rng, n_rbf, 9.0);
    let amplitudes: Vec<f64> = (0..n_rbf).map(|_| rng.random_range(1.0..30.0)).collect();
    let rotations: Vec<_> = (0..batch).map(|_| random_rotation(&mut rng)).collect();
    let shifts: Vec<[f64; 2]> = (0..batch).map(|_| [rng.random_range(-4.0..4.0), rng.random_range(-4.0..4.0)]).collect();
    let poses = Poses::from_host(&rotations, &shifts, &device);
    let weights: Vec<f32> = (0..batch * 24 * 24).map(|_| rng.random_range(-1.0..1.0)).collect();
    let weights = Tensor::<3>::from_data(TensorData::new(weights, [batch, 24, 24]), &device);
    let run = |max_values: usize| {
        let mu = centers_tensor(&centers, &device).unsqueeze_dim::<3>(0).require_grad();
        let sigma = tensor1(&[2.2], &device).require_grad();
        let images = project_plain_chunked(mu.clone(), tensor1(&amplitudes, &device), sigma.clone(), &poses, &grid, max_values);
        let grads = (images.clone() * weights.clone()).sum().backward();
        let mu_grad = mu.grad(&grads).expect("a gradient for the centers");
        let sigma_grad = sigma.grad(&grads).expect("a gradient for σ");
        (to_vec(images), to_vec(mu_grad), to_vec(sigma_grad))
    };
    let (one_images, one_mu, one_sigma) = run(usize::MAX);
    let (images, mu, sigma) = run(500);
    let as_f64 = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    assert!(relative_error(&images, &as_f64(&one_images)) < 1e-6, "images");
    assert!(relative_error(&mu, &as_f64(&one_mu)) < 1e-5, "center gradients");
    assert!(relative_error(&sigma, &as_f64(&one_sigma)) < 1e-5, "σ gradient");
    assert!(one_mu.iter().any(|&g| g != 0.0), "the gradients are not trivially zero");
}
