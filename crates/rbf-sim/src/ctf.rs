//! The contrast transfer function with RELION's sign (CONVENTIONS.md), and its application to
//! images in Fourier space.
//!
//! ```text
//! λ   = 12.2639 / sqrt(V + 0.97845e-6·V²)          (Å, V in volts)
//! df  = ½·[dfU + dfV + (dfU − dfV)·cos(2(α − θ))]
//! γ   = 2π·(−½·df·λ·s² + ¼·Cs·λ³·s⁴) − φ
//! CTF = −(√(1 − w²)·sin γ − w·cos γ)                 (+w at s = 0 when φ = 0)
//! ```
use std::sync::Arc;

use rbf_io::CtfParams;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use crate::error::SimError;

/// Relativistic electron wavelength (Å) at `voltage_kv` kV.
pub fn wavelength(voltage_kv: f64) -> f64 {
    let v = voltage_kv * 1e3;
    12.2639 / (v + 0.97845e-6 * v * v).sqrt()
}

/// The CTF at spatial frequency `(s_x, s_y)` (1/Å), RELION's sign.
pub fn ctf_value(params: &CtfParams, s_x: f64, s_y: f64) -> f64 {
    let lambda = wavelength(params.voltage);
    let cs = params.spherical_aberration * 1e7;
    let w = params.amplitude_contrast;
    let s2 = s_x * s_x + s_y * s_y;
    let alpha = s_y.atan2(s_x);
    let theta = params.defocus_angle.to_radians();
    let df = 0.5 * (params.defocus_u + params.defocus_v + (params.defocus_u - params.defocus_v) * (2.0 * (alpha - theta)).cos());
    let gamma = 2.0 * std::f64::consts::PI * (-0.5 * df * lambda * s2 + 0.25 * cs * lambda.powi(3) * s2 * s2) - params.phase_shift.to_radians();
    -((1.0 - w * w).sqrt() * gamma.sin() - w * gamma.cos())
}

/// Signed frequency index of FFT bin `k` of `n` bins (`numpy.fft.fftfreq(n) · n`).
fn signed_index(k: usize, n: usize) -> f64 {
    if k < n.div_ceil(2) { k as f64 } else { k as f64 - n as f64 }
}

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
        for kx in 0..d {
            let s_x = signed_index(kx, d) * frequency_step;
            for ky in 0..d {
                let s_y = signed_index(ky, d) * frequency_step;
                self.transposed[kx * d + ky] *= ctf_value(params, s_x, s_y);
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

    #[test]
    fn zero_frequency_is_plus_w_and_phase_shift_enters_gamma() {
        let p = params(15000.0, 17000.0, 30.0, 0.0);
        assert!((ctf_value(&p, 0.0, 0.0) - 0.1).abs() < 1e-12);
        // γ = −90°: CTF = −(√(1−w²)·(−1) − 0) = √(1−w²).
        let p = params(15000.0, 17000.0, 30.0, 90.0);
        assert!((ctf_value(&p, 0.0, 0.0) - (1.0f64 - 0.01).sqrt()).abs() < 1e-12);
    }

    /// Values of the CONVENTIONS.md formula computed independently (Python, f64) at chosen
    /// frequencies, with astigmatism, Cs, amplitude contrast and a phase shift.
    #[test]
    fn values_match_the_conventions_formula_at_chosen_frequencies() {
        let cases = [
            ((0.05, 0.02), 0.3395558430385859, -0.42499242678652344),
            ((-0.1, 0.07), 0.3361377699894375, -0.4282769394389157),
            ((0.2, 0.0), 0.22731020830271303, 0.8493290133281143),
            ((0.013, -0.031), 0.9596169074114637, 0.8774679253352303),
        ];
        for ((s_x, s_y), no_phase, phase_45) in cases {
            assert!((ctf_value(&params(15000.0, 17000.0, 30.0, 0.0), s_x, s_y) - no_phase).abs() < 1e-9, "({s_x}, {s_y})");
            assert!((ctf_value(&params(15000.0, 17000.0, 30.0, 45.0), s_x, s_y) - phase_45).abs() < 1e-9, "({s_x}, {s_y})");
        }
        // Without Cs and amplitude contrast, CTF = sin(π·df·λ·s²): 1 at π/2, 0 at π (first zero).
        let p = CtfParams { spherical_aberration: 0.0, amplitude_contrast: 0.0, ..params(20000.0, 20000.0, 0.0, 0.0) };
        let lambda = 12.2639 / (300e3_f64 + 0.97845e-6 * 300e3 * 300e3).sqrt();
        let s_peak = (0.5 / (20000.0 * lambda)).sqrt();
        let s_zero = (1.0 / (20000.0 * lambda)).sqrt();
        assert!((ctf_value(&p, s_peak, 0.0) - 1.0).abs() < 1e-12);
        assert!(ctf_value(&p, 0.0, s_zero).abs() < 1e-12);
        assert!(ctf_value(&p, 0.0, 0.9 * s_zero) > 0.0 && ctf_value(&p, 0.0, 1.1 * s_zero) < 0.0);
    }

    #[test]
    fn wavelength_at_300_kv() {
        // 300 kV electrons: λ = 0.019687 Å.
        assert!((wavelength(300.0) - 0.019687).abs() < 1e-6);
    }

    #[test]
    fn astigmatism_axes_carry_df_u_and_df_v() {
        let theta = 35.0_f64;
        let astig = params(12000.0, 20000.0, theta, 0.0);
        let s = 0.08;
        let (c, sn) = (theta.to_radians().cos(), theta.to_radians().sin());
        let along_u = ctf_value(&astig, s * c, s * sn);
        let along_v = ctf_value(&astig, -s * sn, s * c);
        assert!((along_u - ctf_value(&params(12000.0, 12000.0, 0.0, 0.0), s, 0.0)).abs() < 1e-12);
        assert!((along_v - ctf_value(&params(20000.0, 20000.0, 0.0, 0.0), s, 0.0)).abs() < 1e-12);
        assert!((along_u - along_v).abs() > 1e-3);
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
                    let (fx, fy) = (signed_index(kx, d), signed_index(ky, d));
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
