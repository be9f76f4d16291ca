//! Application of the contrast transfer function to simulated images in Fourier space. The
//! formula (RELION's sign, CONVENTIONS.md) lives in [`rbf_model::ctf`], shared with the model's
//! Fourier-space loss.
use std::sync::Arc;

use rbf_io::CtfParams;
use rbf_model::ctf::Ctf;
use rbf_model::fourier::frequency_index;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use crate::error::SimError;

/// Multiplies square images by a CTF in Fourier space, reusing its FFT plans and buffers.
pub struct CtfFilter {
    box_size: usize,
    pixel_size: f64,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    buffer: Vec<Complex<f64>>,
    transposed: Vec<Complex<f64>>,
}

impl CtfFilter {
    /// A filter for `box_size × box_size` images of `pixel_size` Å/pixel.
    pub fn new(box_size: usize, pixel_size: f64) -> Self {
        let mut planner = FftPlanner::new();
        CtfFilter {
            box_size,
            pixel_size,
            forward: planner.plan_fft_forward(box_size),
            inverse: planner.plan_fft_inverse(box_size),
            buffer: vec![Complex::default(); box_size * box_size],
            transposed: vec![Complex::default(); box_size * box_size],
        }
    }

    /// Replace `image` by the inverse FFT of `CTF · FFT(image)`. The CTF is real and even in s, so
    /// the result is real; the position of the image origin does not matter.
    ///
    /// # Shapes
    /// `image`: `[D, D]`, row-major `[y][x]`.
    ///
    /// # Errors
    /// [`SimError::Invalid`] when `image` is not `D·D` values long.
    pub fn apply(&mut self, image: &mut [f32], params: &CtfParams) -> Result<(), SimError> {
        let d = self.box_size;
        if image.len() != d * d {
            return Err(SimError::Invalid(format!("CTF filter for {d}×{d} images given {} values", image.len())));
        }
        for (b, &v) in self.buffer.iter_mut().zip(image.iter()) {
            *b = Complex::new(f64::from(v), 0.0);
        }
        // Along x (each row), then along y (each row of the transpose): transposed[kx][ky].
        self.forward.process(&mut self.buffer);
        transpose(&self.buffer, &mut self.transposed, d);
        self.forward.process(&mut self.transposed);
        let frequency_step = 1.0 / (d as f64 * self.pixel_size);
        let ctf = Ctf::new(params);
        for kx in 0..d {
            let s_x = frequency_index(kx, d) * frequency_step;
            for ky in 0..d {
                let s_y = frequency_index(ky, d) * frequency_step;
                self.transposed[kx * d + ky] *= ctf.value(s_x, s_y);
            }
        }
        self.inverse.process(&mut self.transposed);
        transpose(&self.transposed, &mut self.buffer, d);
        self.inverse.process(&mut self.buffer);
        let norm = 1.0 / (d * d) as f64;
        for (v, b) in image.iter_mut().zip(&self.buffer) {
            *v = (b.re * norm) as f32;
        }
        Ok(())
    }
}

fn transpose(from: &[Complex<f64>], to: &mut [Complex<f64>], d: usize) {
    for i in 0..d {
        for j in 0..d {
            to[j * d + i] = from[i * d + j];
        }
    }
}

/// Apply a CTF to one image (builds the FFT plans each call; use [`CtfFilter`] for many images).
///
/// # Shapes
/// `image`: `[box_size, box_size]`, row-major `[y][x]`.
///
/// # Errors
/// [`SimError::Invalid`] when `image` is not `box_size²` values long.
pub fn apply_ctf(image: &mut [f32], box_size: usize, pixel_size: f64, params: &CtfParams) -> Result<(), SimError> {
    CtfFilter::new(box_size, pixel_size).apply(image, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbf_model::ctf::ctf_value;

    fn params(df_u: f64, df_v: f64, angle: f64, phase: f64) -> CtfParams {
        CtfParams {
            defocus_u: df_u,
            defocus_v: df_v,
            defocus_angle: angle,
            voltage: 300.0,
            spherical_aberration: 2.7,
            amplitude_contrast: 0.1,
            phase_shift: phase,
        }
    }

    /// The FFT path against a plain inverse DFT of the CTF, for a point at the box center.
    #[test]
    fn apply_ctf_matches_a_naive_dft() {
        let (d, apix) = (16usize, 1.5);
        let p = params(9000.0, 11000.0, 20.0, 10.0);
        let mut image = vec![0.0f32; d * d];
        image[(d / 2) * d + d / 2] = 1.0;
        apply_ctf(&mut image, d, apix, &p).expect("sizes match");
        for (i, j) in [(8usize, 8usize), (3, 11), (0, 0), (15, 4)] {
            let (x, y) = (j as f64 - (d / 2) as f64, i as f64 - (d / 2) as f64);
            let mut sum = 0.0;
            for ky in 0..d {
                for kx in 0..d {
                    let (fx, fy) = (frequency_index(kx, d), frequency_index(ky, d));
                    let ctf = ctf_value(&p, fx / (d as f64 * apix), fy / (d as f64 * apix));
                    sum += ctf * (2.0 * std::f64::consts::PI * (fx * x + fy * y) / d as f64).cos();
                }
            }
            let expected = sum / (d * d) as f64;
            assert!((f64::from(image[i * d + j]) - expected).abs() < 1e-6, "pixel ({i}, {j})");
        }
    }

    #[test]
    fn apply_ctf_rejects_a_wrong_size() {
        let mut image = vec![0.0f32; 10];
        assert!(apply_ctf(&mut image, 16, 1.0, &params(1.0, 1.0, 0.0, 0.0)).is_err());
    }
}
