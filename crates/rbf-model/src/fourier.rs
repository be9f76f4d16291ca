//! The RBF projections in Fourier space, where a CTF is a product: their analytic transform, a
//! differentiable DFT of rendered images, and the image error computed in Fourier space.
//!
//! # Layout
//! An image's DFT is the one rustfft and numpy compute, unnormalised, over the pixel array as
//! stored (pixel `(0, 0)` first, not the box center):
//! `F[ky, kx] = Σ_{i,j} image[i, j]·exp(−2πi·(kx·j + ky·i)/D)`. Images are real, so
//! `F[−ky, −kx] = conj F[ky, kx]` and the half plane `kx = 0..=D/2` holds everything: a
//! [`HalfPlane`] is `[batch, D, D/2 + 1]` (row `ky` over all `D` frequencies in FFT order
//! `0, 1, …, −1`; column `kx`), real and imaginary parts as two real tensors. Spatial frequency
//! (1/Å) is `s = k/(D·pixel_size)` with `k` the signed index ([`frequency_index`]).
//!
//! # The analytic transform
//! A projected RBF `a/(2πσ²)·exp(−‖r − p‖²/2σ²)` sampled at the pixel centers has the DFT
//!
//! ```text
//! F(s) = (a / pixel_size²) · exp(−2π²σ²‖s‖²) · exp(−2πi·s·(p − x₀))
//! ```
//!
//! with `x₀ = −(D/2)·pixel_size` the coordinate of pixel 0 (the box center is at index `D/2`), so
//! `exp(2πi·s·x₀)` is the phase of the grid origin. This is the sum over all integer pixels by
//! Poisson summation; it differs from the DFT of the `D×D` image by
//! - aliasing: the neglected copies are at most `exp(−2π²(σ/pixel_size)²(1 − |ν|)²)` of the
//!   zero-frequency value at `ν = k/D` (at the Nyquist frequency ν = ½: 7·10⁻³ for σ = 1 pixel,
//!   1.5·10⁻⁵ for 1.5 pixels, 3·10⁻⁹ for 2 pixels; the paper's σ = 3.71 Å at ≤ 2 Å/pixel is
//!   below 10⁻⁷);
//! - truncation: the part of each Gaussian outside the box (nothing for RBFs several σ inside).
//!
//! Over a batch, `F[b, ky, kx] = Σ_n E_y[b, n, ky]·E_x[b, n, kx]` with complex
//! `E_x = exp(−2πi·s_x·(p_x − x₀))` and `E_y = (a_n/pixel_size²)·exp(−2πi·s_y·(p_y − y₀))`, times
//! the envelope `exp(−2π²σ²‖s‖²)`: one batched real matrix product
//! `[Re | Im] = [C_y; S_y]ᵀ · [[C_x, −S_x], [−S_x, −C_x]]` (C = cos, S = sin of the phases,
//! weights folded into `C_y`, `S_y`). Nothing of shape `[batch, n_rbf, D, D]` is made.
//!
//! # The DFT of rendered images
//! [`HalfPlaneDft`] transforms images on the device as two batched real matrix products (the
//! DFT is separable), so autodiff sees through it: the exact DFT of the real-space render, no
//! aliasing. Training with a CTF renders in real space ([`crate::projection::project`], fused on
//! the CPU) and transforms with it, because that measured faster than [`project`] here: at
//! batch 8, 282 RBFs, box 128 on 2 CPU cores the analytic transform spends ~7 ms in `sin`/`cos`
//! of its `[8, 282, 193]` phases alone, while render + DFT forward and backward take ~6 ms.
//! [`project`] stays the model's transform in closed form, tested against both.
//!
//! # The loss (Parseval)
//! `Σ_pixels (x̂ − x)² = (1/D²)·Σ_k |X̂_k − X_k|²`, and over the half plane every column but
//! `kx = 0` (and `kx = D/2` for even `D`) stands for two, its conjugate not being stored:
//! [`half_plane_mse`] weights those by 2, so it equals the real-space mean squared error of the
//! CTF-modulated images without transforming back.
//!
//! [`HalfPlaneFft`] transforms observed images on the host (rustfft, f64), the reference for
//! [`HalfPlaneDft`].
use std::sync::Arc;

use burn::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use crate::error::ModelError;
use crate::projection::{ImageGrid, Poses};

/// Signed frequency index of DFT bin `k` of `n` bins: `k` for `k < ⌈n/2⌉`, else `k − n`
/// (`numpy.fft.fftfreq(n)·n`).
pub fn frequency_index(k: usize, n: usize) -> f64 {
    if k < n.div_ceil(2) { k as f64 } else { k as f64 - n as f64 }
}

/// Columns of the half plane of a `box_size`-pixel image's DFT: `box_size/2 + 1`.
pub fn half_plane_width(box_size: usize) -> usize {
    box_size / 2 + 1
}

/// The half plane of the DFTs of a batch of real images (see the module docs for the layout).
#[derive(Debug, Clone)]
pub struct HalfPlane {
    /// Real parts, `[batch, D, D/2 + 1]`.
    pub re: Tensor<3>,
    /// Imaginary parts, `[batch, D, D/2 + 1]`.
    pub im: Tensor<3>,
}

impl HalfPlane {
    /// Multiply every frequency by a real factor, e.g. each particle's CTF
    /// ([`crate::ctf::half_plane_batch`]).
    ///
    /// # Shapes
    /// `factor`: `[batch or 1, D, D/2 + 1]`.
    pub fn times(self, factor: Tensor<3>) -> HalfPlane {
        HalfPlane { re: self.re * factor.clone(), im: self.im * factor }
    }

    /// Upload half planes computed on the host.
    ///
    /// # Shapes
    /// `re`, `im`: `[batch·D·(D/2 + 1)]` row-major.
    ///
    /// # Errors
    /// [`ModelError::InvalidGrid`] when the lengths are not a whole number of half planes of
    /// `grid`, or differ.
    pub fn from_host(re: Vec<f32>, im: Vec<f32>, grid: &ImageGrid, device: &Device) -> Result<Self, ModelError> {
        let d = grid.box_size();
        let plane = d * half_plane_width(d);
        if re.len() != im.len() || re.len() % plane != 0 {
            return Err(ModelError::InvalidGrid(format!(
                "{} real and {} imaginary values are not whole {d}×{} half planes",
                re.len(),
                im.len(),
                half_plane_width(d)
            )));
        }
        let shape = [re.len() / plane, d, half_plane_width(d)];
        Ok(HalfPlane {
            re: Tensor::from_data(TensorData::new(re, shape), device),
            im: Tensor::from_data(TensorData::new(im, shape), device),
        })
    }
}

/// Spatial frequencies `2π·s` (radians/Å) of the DFT bins along one axis: the first `count` of
/// `D` bins in FFT order, `[1, 1, count]`.
fn angular_frequencies(grid: &ImageGrid, count: usize, device: &Device) -> Tensor<3> {
    let d = grid.box_size();
    let step = 2.0 * std::f64::consts::PI / (d as f64 * grid.pixel_size());
    let values: Vec<f32> = (0..count).map(|k| (frequency_index(k, d) * step) as f32).collect();
    Tensor::from_data(TensorData::new(values, [1, 1, count]), device)
}

/// `‖s‖²` (1/Å²) over the half plane, `[1, D, D/2 + 1]`.
fn squared_frequencies(grid: &ImageGrid, device: &Device) -> Tensor<3> {
    let d = grid.box_size();
    let width = half_plane_width(d);
    let step = 1.0 / (d as f64 * grid.pixel_size());
    let values: Vec<f32> = (0..d)
        .flat_map(|ky| {
            let s_y = frequency_index(ky, d) * step;
            (0..width).map(move |kx| {
                let s_x = kx as f64 * step;
                (s_x * s_x + s_y * s_y) as f32
            })
        })
        .collect();
    Tensor::from_data(TensorData::new(values, [1, d, width]), device)
}

/// Project RBFs into the half planes of the images' DFTs, analytically (see the module docs).
/// Equals the DFT of [`crate::projection::project`]'s images up to aliasing and truncation.
///
/// # Shapes
/// - `centers`: `[1 or batch, n_rbf, 3]` (Å, box frame)
/// - `amplitudes`: `[n_rbf]` (the integral of each RBF, `a₀·Z_i`)
/// - `sigma`: `[1]` (Å)
/// - returns `[batch, D, D/2 + 1]` real and imaginary parts
pub fn project(centers: Tensor<3>, amplitudes: Tensor<1>, sigma: Tensor<1>, poses: &Poses, grid: &ImageGrid) -> HalfPlane {
    let device = centers.device();
    let [_, n_rbf, _] = centers.dims();
    let batch = poses.len();
    let d = grid.box_size();
    let width = half_plane_width(d);
    // p − x₀ for every RBF of every image, p = (R·μ)_xy + t: [batch, n_rbf, 1] per axis.
    let rotated = centers.matmul(poses.rotations.clone().swap_dims(1, 2));
    let origin = grid.coordinate(0);
    let shift = |axis: usize| poses.shifts.clone().narrow(1, axis, 1).reshape([batch, 1, 1]).sub_scalar(origin);
    let px = rotated.clone().narrow(2, 0, 1) + shift(0);
    let py = rotated.narrow(2, 1, 1) + shift(1);
    let phase_x = px * angular_frequencies(grid, width, &device); // [batch, n_rbf, W]
    let phase_y = py * angular_frequencies(grid, d, &device); // [batch, n_rbf, D]
    let weights = amplitudes.reshape([1, n_rbf, 1]).div_scalar(grid.pixel_size() * grid.pixel_size());
    let (cos_x, sin_x) = (phase_x.clone().cos(), phase_x.sin());
    let (cos_y, sin_y) = (phase_y.clone().cos() * weights.clone(), phase_y.sin() * weights);
    // (C_y − iS_y)(C_x − iS_x) = C_y·C_x − S_y·S_x − i(C_y·S_x + S_y·C_x), as one product.
    let left = Tensor::cat(vec![cos_y, sin_y], 1).swap_dims(1, 2); // [batch, D, 2·n_rbf]
    let right = Tensor::cat(
        vec![Tensor::cat(vec![cos_x.clone(), sin_x.clone().neg()], 2), Tensor::cat(vec![sin_x.neg(), cos_x.neg()], 2)],
        1,
    ); // [batch, 2·n_rbf, 2·W]
    let both = left.matmul(right); // [batch, D, 2·W]
    let two_pi_sq_sigma_sq = sigma.powi_scalar(2).mul_scalar(2.0 * std::f64::consts::PI * std::f64::consts::PI).reshape([1, 1, 1]);
    let envelope = (squared_frequencies(grid, &device) * two_pi_sq_sigma_sq).neg().exp(); // [1, D, W]
    HalfPlane { re: both.clone().narrow(2, 0, width) * envelope.clone(), im: both.narrow(2, width, width) * envelope }
}

/// Weight of each half-plane column in a sum over the whole plane: 1 for `kx = 0` and (even `D`)
/// `kx = D/2`, else 2. `[1, 1, D/2 + 1]`.
fn column_weights(box_size: usize, device: &Device) -> Tensor<3> {
    let width = half_plane_width(box_size);
    let values: Vec<f32> = (0..width).map(|kx| if kx == 0 || 2 * kx == box_size { 1.0 } else { 2.0 }).collect();
    Tensor::from_data(TensorData::new(values, [1, 1, width]), device)
}

/// Mean squared error of the real-space images, averaged over pixels and images, computed from
/// their half-plane DFTs (Parseval; see the module docs): equal to
/// [`crate::projection::image_mse`] of the inverse transforms.
///
/// # Shapes
/// `predicted`, `observed`: `[batch, D, D/2 + 1]` each part → `[1]`.
pub fn half_plane_mse(predicted: HalfPlane, observed: HalfPlane) -> Tensor<1> {
    let [batch, d, _] = predicted.re.dims();
    let weights = column_weights(d, &predicted.re.device());
    let squared = (predicted.re - observed.re).powi_scalar(2) + (predicted.im - observed.im).powi_scalar(2);
    let pixels = (d * d) as f64;
    (squared * weights).sum().div_scalar(batch as f64 * pixels * pixels)
}

/// The half-plane DFT of a batch of images on the device, as batched real matrix products that
/// autodiff differentiates: along x `[A_re | A_im] = image · [cos | −sin]`, then along y
/// `[F_re; F_im] = [[C, S], [−S, C]] · [A_re; A_im]` with `C`, `S` the cosines and sines of
/// `2π·ky·y/D`. [`HalfPlaneFft`] is the reference.
#[derive(Debug, Clone)]
pub struct HalfPlaneDft {
    /// `[cos | −sin](2π·kx·j/D)`, `[1, D, 2·(D/2 + 1)]`.
    along_x: Tensor<3>,
    /// `[[C, S], [−S, C]]`, `[1, 2·D, 2·D]`.
    along_y: Tensor<3>,
}

impl HalfPlaneDft {
    /// The DFT of `box_size × box_size` images, its matrices on `device`.
    pub fn new(box_size: usize, device: &Device) -> Self {
        let d = box_size;
        let width = half_plane_width(d);
        // cos and sin of 2π·k·j/D, with k·j reduced modulo D first (exact in f64).
        let trig = |k: usize, j: usize| {
            let angle = 2.0 * std::f64::consts::PI * ((k * j) % d) as f64 / d as f64;
            (angle.cos() as f32, angle.sin() as f32)
        };
        let mut along_x = vec![0.0f32; d * 2 * width];
        for j in 0..d {
            for kx in 0..width {
                let (cos, sin) = trig(kx, j);
                along_x[j * 2 * width + kx] = cos;
                along_x[j * 2 * width + width + kx] = -sin;
            }
        }
        let mut along_y = vec![0.0f32; 4 * d * d];
        for ky in 0..d {
            for y in 0..d {
                let (cos, sin) = trig(ky, y);
                along_y[ky * 2 * d + y] = cos;
                along_y[ky * 2 * d + d + y] = sin;
                along_y[(d + ky) * 2 * d + y] = -sin;
                along_y[(d + ky) * 2 * d + d + y] = cos;
            }
        }
        HalfPlaneDft {
            along_x: Tensor::from_data(TensorData::new(along_x, [1, d, 2 * width]), device),
            along_y: Tensor::from_data(TensorData::new(along_y, [1, 2 * d, 2 * d]), device),
        }
    }

    /// The half planes of `images`.
    ///
    /// # Shapes
    /// `images`: `[batch, D, D]` → `[batch, D, D/2 + 1]` each part.
    pub fn forward(&self, images: Tensor<3>) -> HalfPlane {
        let [_, d, _] = images.dims();
        let width = half_plane_width(d);
        let rows = images.matmul(self.along_x.clone()); // [batch, D, 2·W]: [A_re | A_im]
        let stacked = Tensor::cat(vec![rows.clone().narrow(2, 0, width), rows.narrow(2, width, width)], 1); // [batch, 2·D, W]
        let both = self.along_y.clone().matmul(stacked); // [batch, 2·D, W]: [F_re; F_im]
        HalfPlane { re: both.clone().narrow(1, 0, d), im: both.narrow(1, d, d) }
    }
}

/// Half-plane DFTs of real images on the host (rustfft, f64), forward and inverse, reusing plans
/// and buffers.
pub struct HalfPlaneFft {
    box_size: usize,
    fft: Arc<dyn Fft<f64>>,
    inverse_fft: Arc<dyn Fft<f64>>,
    rows: Vec<Complex<f64>>,
    columns: Vec<Complex<f64>>,
}

impl std::fmt::Debug for HalfPlaneFft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HalfPlaneFft").field("box_size", &self.box_size).finish_non_exhaustive()
    }
}

impl HalfPlaneFft {
    /// Transforms of `box_size × box_size` images (and back).
    pub fn new(box_size: usize) -> Self {
        let mut planner = FftPlanner::new();
        let width = half_plane_width(box_size);
        HalfPlaneFft {
            box_size,
            fft: planner.plan_fft_forward(box_size),
            inverse_fft: planner.plan_fft_inverse(box_size),
            rows: vec![Complex::default(); box_size * box_size],
            columns: vec![Complex::default(); width * box_size],
        }
    }

    /// The half planes of `images`: row FFTs, then column FFTs of the kept columns.
    ///
    /// # Shapes
    /// `images`: `[batch, D, D]` row-major → real and imaginary parts, `[batch, D, D/2 + 1]` each.
    ///
    /// # Errors
    /// [`ModelError::InvalidGrid`] when `images` is not a whole number of `D×D` images.
    pub fn forward(&mut self, images: &[f32]) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        let d = self.box_size;
        if images.len() % (d * d) != 0 {
            return Err(ModelError::InvalidGrid(format!("{} values are not whole {d}×{d} images", images.len())));
        }
        let width = half_plane_width(d);
        let mut re = Vec::with_capacity(images.len() / d * width);
        let mut im = Vec::with_capacity(re.capacity());
        for image in images.chunks_exact(d * d) {
            for (b, &v) in self.rows.iter_mut().zip(image) {
                *b = Complex::new(f64::from(v), 0.0);
            }
            self.fft.process(&mut self.rows); // along x, each row
            for kx in 0..width {
                for y in 0..d {
                    self.columns[kx * d + y] = self.rows[y * d + kx];
                }
            }
            self.fft.process(&mut self.columns); // along y, each kept column
            for ky in 0..d {
                for kx in 0..width {
                    let v = self.columns[kx * d + ky];
                    re.push(v.re as f32);
                    im.push(v.im as f32);
                }
            }
        }
        Ok((re, im))
    }

    /// The real images whose half planes are `re`, `im`, times `scale`: the inverse of
    /// [`HalfPlaneFft::forward`] when `scale = 1/D²`. Column `kx` stands for itself and its
    /// conjugate at `−kx`; the result is the real part of the inverse DFT of that whole plane, so
    /// the `kx = D/2` column (which should be real along `ky ↔ −ky`) counts by its Hermitian part.
    ///
    /// # Shapes
    /// `re`, `im`: `[batch, D, D/2 + 1]` → `out`: `[batch, D, D]` row-major `[y][x]`.
    ///
    /// # Errors
    /// [`ModelError::InvalidGrid`] when the lengths are not a whole number of half planes, differ,
    /// or `out` does not hold the same number of images.
    pub fn inverse(&mut self, re: &[f32], im: &[f32], scale: f64, out: &mut [f32]) -> Result<(), ModelError> {
        let d = self.box_size;
        let width = half_plane_width(d);
        let plane = d * width;
        if re.len() != im.len() || !re.len().is_multiple_of(plane) || out.len() != re.len() / plane * d * d {
            return Err(ModelError::InvalidGrid(format!(
                "{} real and {} imaginary values are not whole {d}×{width} half planes of {} {d}×{d} images",
                re.len(),
                im.len(),
                out.len() as f64 / (d * d) as f64
            )));
        }
        for ((re, im), image) in re.chunks_exact(plane).zip(im.chunks_exact(plane)).zip(out.chunks_exact_mut(d * d)) {
            for ky in 0..d {
                for kx in 0..width {
                    self.columns[kx * d + ky] = Complex::new(f64::from(re[ky * width + kx]), f64::from(im[ky * width + kx]));
                }
            }
            self.inverse_fft.process(&mut self.columns); // along y, each stored column
            for y in 0..d {
                let row = &mut self.rows[y * d..(y + 1) * d];
                for kx in 0..width {
                    let v = self.columns[kx * d + y];
                    row[kx] = v;
                    if kx > 0 && d - kx != kx {
                        row[d - kx] = v.conj();
                    }
                }
            }
            self.inverse_fft.process(&mut self.rows); // along x, each row
            for (v, b) in image.iter_mut().zip(&self.rows) {
                *v = (b.re * scale) as f32;
            }
        }
        Ok(())
    }
}
