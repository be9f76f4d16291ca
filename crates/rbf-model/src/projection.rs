//! Real-space analytic projection of the RBF density into images (the paper's footnote 1).
//!
//! The line integral along z of a 3-D Gaussian of amplitude `a` and width σ is a 2-D Gaussian,
//! `a/(2πσ²)·exp(−((x−p_x)² + (y−p_y)²)/2σ²)`, where `p = (R·μ)_xy + t`. It factorises into an
//! x-part and a y-part, so a batch of images is one batched matrix product
//! `images[b] = Gyᵀ[b] · Gx[b]` with `Gy[b, n, i] = w_n·exp(−(y_i − p_y)²/2σ²)` and
//! `Gx[b, n, j] = exp(−(x_j − p_x)²/2σ²)`. Nothing of shape `[batch, n_rbf, D, D]` is ever made.
//!
//! [`reference`] holds a plain per-pixel implementation on the host, in f64, for tests.
use burn::prelude::*;

use crate::error::ModelError;

/// The square pixel grid of images (and the cubic voxel grid of volumes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageGrid {
    box_size: usize,
    pixel_size: f64,
}

impl ImageGrid {
    /// A grid of `box_size × box_size` pixels of `pixel_size` Å.
    ///
    /// # Errors
    /// [`ModelError::InvalidGrid`] if the box is empty or the pixel size is not a positive,
    /// finite number.
    pub fn new(box_size: usize, pixel_size: f64) -> Result<Self, ModelError> {
        if box_size < 2 {
            return Err(ModelError::InvalidGrid(format!("box size must be at least 2 pixels, got {box_size}")));
        }
        if !(pixel_size.is_finite() && pixel_size > 0.0) {
            return Err(ModelError::InvalidGrid(format!("pixel size must be positive, got {pixel_size} Å")));
        }
        Ok(ImageGrid { box_size, pixel_size })
    }

    /// Box edge (pixels).
    pub fn box_size(&self) -> usize {
        self.box_size
    }

    /// Pixel size (Å/pixel).
    pub fn pixel_size(&self) -> f64 {
        self.pixel_size
    }

    /// Coordinate (Å) of pixel index `i` along one axis: `(i − D/2)·pixel_size`.
    pub fn coordinate(&self, i: usize) -> f64 {
        (i as f64 - (self.box_size / 2) as f64) * self.pixel_size
    }

    /// All pixel coordinates along one axis (Å), `[box_size]`.
    pub fn coordinates(&self, device: &Device) -> Tensor<1> {
        let c: Vec<f32> = (0..self.box_size).map(|i| self.coordinate(i) as f32).collect();
        Tensor::from_data(TensorData::new(c, [self.box_size]), device)
    }

    /// Check that all `centers` (Å, box frame) lie inside the box, with `margin` Å to spare.
    ///
    /// # Errors
    /// [`ModelError::BoxTooSmall`] naming the farthest extent.
    pub fn check_fits(&self, centers: &[[f64; 3]], margin: f64) -> Result<(), ModelError> {
        let low = self.coordinate(0).abs();
        let high = self.coordinate(self.box_size - 1);
        let half_box = low.min(high);
        let extent = centers.iter().flatten().fold(0.0_f64, |m, &c| m.max(c.abs()));
        if extent + margin > half_box {
            return Err(ModelError::BoxTooSmall {
                extent,
                box_size: self.box_size,
                pixel_size: self.pixel_size,
                half_box,
            });
        }
        Ok(())
    }
}

/// A batch of poses.
#[derive(Debug, Clone)]
pub struct Poses {
    /// Rotations `R`, `[batch, 3, 3]`.
    pub rotations: Tensor<3>,
    /// In-plane shifts `t` (Å), `[batch, 2]`.
    pub shifts: Tensor<2>,
}

impl Poses {
    /// Upload poses from the host.
    ///
    /// # Shapes
    /// `rotations`: `[batch][3][3]`; `shifts`: `[batch][2]` (Å).
    pub fn from_host(rotations: &[[[f64; 3]; 3]], shifts: &[[f64; 2]], device: &Device) -> Self {
        let batch = rotations.len();
        let r: Vec<f32> = rotations.iter().flatten().flatten().map(|&v| v as f32).collect();
        let t: Vec<f32> = shifts.iter().flatten().map(|&v| v as f32).collect();
        Poses {
            rotations: Tensor::from_data(TensorData::new(r, [batch, 3, 3]), device),
            shifts: Tensor::from_data(TensorData::new(t, [shifts.len(), 2]), device),
        }
    }

    /// Number of poses.
    pub fn len(&self) -> usize {
        self.rotations.dims()[0]
    }

    /// Whether there are no poses.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Project RBFs into images with the separable real-space formula.
///
/// `centers` may be one structure for the whole batch (`[1, n_rbf, 3]`) or one per image
/// (`[batch, n_rbf, 3]`, as the VAE decodes).
///
/// On the CPU (`flex`, f32) this runs the fused operation of [`crate::projection_cpu`], which
/// evaluates each Gaussian only within [`crate::projection_cpu::CUTOFF_SIGMAS`]·σ of its center
/// and has an analytic backward; elsewhere, and as the reference, [`project_plain`].
///
/// # Shapes
/// - `centers`: `[1 or batch, n_rbf, 3]` (Å, box frame)
/// - `amplitudes`: `[n_rbf]` (the integral of each RBF, `a₀·Z_i`)
/// - `sigma`: `[1]` (Å)
/// - returns `[batch, D, D]`, indexed `[image][row = y][column = x]`
pub fn project(centers: Tensor<3>, amplitudes: Tensor<1>, sigma: Tensor<1>, poses: &Poses, grid: &ImageGrid) -> Tensor<3> {
    if !crate::projection_cpu::supported(&centers.device(), centers.dtype()) {
        return project_plain(centers, amplitudes, sigma, poses, grid);
    }
    let [batch, n_rbf] = [poses.len(), centers.dims()[1]];
    let (px, py) = image_plane_positions(centers, poses);
    let weights = amplitudes / sigma.clone().powi_scalar(2).mul_scalar(2.0 * std::f64::consts::PI);
    crate::projection_cpu::project_gaussians(px.reshape([batch, n_rbf]), py.reshape([batch, n_rbf]), weights, sigma, grid)
}

/// Where every RBF lands in every image, `p = (R·μ)_xy + t` (Å).
///
/// # Shapes
/// `centers`: `[1 or batch, n_rbf, 3]` → x and y, each `[batch, n_rbf, 1]`.
fn image_plane_positions(centers: Tensor<3>, poses: &Poses) -> (Tensor<3>, Tensor<3>) {
    let batch = poses.len();
    // p = R·μ for every RBF of every image: [batch, n_rbf, 3] = μ · Rᵀ
    let rotated = centers.matmul(poses.rotations.clone().swap_dims(1, 2));
    let shift_x = poses.shifts.clone().narrow(1, 0, 1).reshape([batch, 1, 1]);
    let shift_y = poses.shifts.clone().narrow(1, 1, 1).reshape([batch, 1, 1]);
    (rotated.clone().narrow(2, 0, 1) + shift_x, rotated.narrow(2, 1, 1) + shift_y)
}

/// Values (f32) in the largest intermediate tensor of [`project_plain`]: 2²⁴, 64 MiB, half of
/// the largest single buffer wgpu accepts (about 128 MiB).
pub const MAX_INTERMEDIATE: usize = 1 << 24;

/// [`project`] as dense tensor operations on any backend: `Gx` and `Gy` for every pixel of every
/// RBF, then one batched matrix product. The reference for the fused CPU path. Large structures
/// are projected [`MAX_INTERMEDIATE`] values of `Gx` at a time (see [`project_plain_chunked`]).
///
/// # Shapes
/// As [`project`].
pub fn project_plain(centers: Tensor<3>, amplitudes: Tensor<1>, sigma: Tensor<1>, poses: &Poses, grid: &ImageGrid) -> Tensor<3> {
    project_plain_chunked(centers, amplitudes, sigma, poses, grid, MAX_INTERMEDIATE)
}

/// [`project_plain`] with the RBFs taken `max_values / (batch·D)` at a time and their images
/// summed, so that no `[batch, n_rbf, D]` intermediate holds more than `max_values` values (at
/// least one RBF per chunk).
///
/// # Shapes
/// As [`project`].
pub fn project_plain_chunked(
    centers: Tensor<3>,
    amplitudes: Tensor<1>,
    sigma: Tensor<1>,
    poses: &Poses,
    grid: &ImageGrid,
    max_values: usize,
) -> Tensor<3> {
    let [_, n_rbf, _] = centers.dims();
    let (batch, d) = (poses.len(), grid.box_size());
    let chunk = (max_values / (batch * d).max(1)).max(1);
    if n_rbf <= chunk {
        return project_dense(centers, amplitudes, sigma, poses, grid);
    }
    let device = centers.device();
    (0..n_rbf).step_by(chunk).fold(Tensor::zeros([batch, d, d], &device), |image, start| {
        let len = chunk.min(n_rbf - start);
        let part = project_dense(centers.clone().narrow(1, start, len), amplitudes.clone().narrow(0, start, len), sigma.clone(), poses, grid);
        image + part
    })
}

/// One dense projection of all of `centers` (see [`project_plain`]).
fn project_dense(centers: Tensor<3>, amplitudes: Tensor<1>, sigma: Tensor<1>, poses: &Poses, grid: &ImageGrid) -> Tensor<3> {
    let device = centers.device();
    let [_, n_rbf, _] = centers.dims();
    let (px, py) = image_plane_positions(centers, poses); // [batch, n_rbf, 1]
    let coords = grid.coordinates(&device).reshape([1, 1, grid.box_size()]);
    let two_sigma_sq = sigma.clone().powi_scalar(2).mul_scalar(2.0).reshape([1, 1, 1]);
    let gauss = |p: Tensor<3>| (coords.clone() - p).powi_scalar(2).div(two_sigma_sq.clone()).neg().exp();
    // Weight of each RBF in the image: a/(2πσ²).
    let weights = amplitudes.reshape([1, n_rbf, 1]) / sigma.powi_scalar(2).mul_scalar(2.0 * std::f64::consts::PI).reshape([1, 1, 1]);
    let gx = gauss(px); // [batch, n_rbf, D]
    let gy = gauss(py) * weights; // [batch, n_rbf, D]
    gy.swap_dims(1, 2).matmul(gx)
}

/// Mean squared error between predicted and observed images, averaged over pixels and images.
///
/// # Shapes
/// `predicted`, `observed`: `[batch, D, D]` → `[1]`.
pub fn image_mse(predicted: Tensor<3>, observed: Tensor<3>) -> Tensor<1> {
    (predicted - observed).powi_scalar(2).mean()
}

/// Plain per-pixel reference implementations on the host, in f64, for tests of the fast paths.
pub mod reference {
    use super::ImageGrid;

    /// One image: the sum over RBFs of `a/(2πσ²)·exp(−‖pixel − ((R·μ)_xy + t)‖²/2σ²)`.
    ///
    /// # Shapes
    /// `centers`: `[n_rbf][3]`, `amplitudes`: `[n_rbf]` → `[D·D]` row-major `[y][x]`.
    pub fn project(
        centers: &[[f64; 3]],
        amplitudes: &[f64],
        sigma: f64,
        rotation: &[[f64; 3]; 3],
        shift: [f64; 2],
        grid: &ImageGrid,
    ) -> Vec<f64> {
        let d = grid.box_size();
        let mut image = vec![0.0; d * d];
        for (mu, &a) in centers.iter().zip(amplitudes) {
            let p: Vec<f64> = (0..2).map(|r| (0..3).map(|c| rotation[r][c] * mu[c]).sum::<f64>() + shift[r]).collect();
            let weight = a / (2.0 * std::f64::consts::PI * sigma * sigma);
            for i in 0..d {
                for j in 0..d {
                    let dx = grid.coordinate(j) - p[0];
                    let dy = grid.coordinate(i) - p[1];
                    image[i * d + j] += weight * (-(dx * dx + dy * dy) / (2.0 * sigma * sigma)).exp();
                }
            }
        }
        image
    }

    /// One volume: the sum over RBFs of `a·(2πσ²)^(-3/2)·exp(−‖voxel − μ‖²/2σ²)`.
    ///
    /// # Shapes
    /// `centers`: `[n_rbf][3]`, `amplitudes`: `[n_rbf]` → `[D·D·D]` row-major `[z][y][x]`.
    pub fn volume(centers: &[[f64; 3]], amplitudes: &[f64], sigma: f64, grid: &ImageGrid) -> Vec<f64> {
        let d = grid.box_size();
        let mut volume = vec![0.0; d * d * d];
        for (mu, &a) in centers.iter().zip(amplitudes) {
            let weight = a * (2.0 * std::f64::consts::PI * sigma * sigma).powf(-1.5);
            for z in 0..d {
                for y in 0..d {
                    for x in 0..d {
                        let r2 = (grid.coordinate(x) - mu[0]).powi(2)
                            + (grid.coordinate(y) - mu[1]).powi(2)
                            + (grid.coordinate(z) - mu[2]).powi(2);
                        volume[(z * d + y) * d + x] += weight * (-r2 / (2.0 * sigma * sigma)).exp();
                    }
                }
            }
        }
        volume
    }
}
