//! The contrast transfer function (CTF) with RELION's sign (CONVENTIONS.md): the one
//! implementation of the formula, used by the simulator (`rbf-sim`) and by the Fourier-space
//! image loss ([`crate::fourier`]).
//!
//! ```text
//! λ   = 12.2639 / sqrt(V + 0.97845e-6·V²)          (Å, V in volts)
//! df  = ½·[dfU + dfV + (dfU − dfV)·cos(2(α − θ))]
//! γ   = 2π·(−½·df·λ·s² + ¼·Cs·λ³·s⁴) − φ
//! CTF = −(√(1 − w²)·sin γ − w·cos γ)                 (+w at s = 0 when φ = 0)
//! ```
//!
//! `s = (s_x, s_y)` is the spatial frequency (1/Å) at angle α = atan2(s_y, s_x); dfU, dfV (Å) the
//! defocus along the astigmatism axes at angle θ (`rlnDefocusAngle`), Cs the spherical aberration
//! (mm, 10⁷ Å), w the amplitude contrast and φ the phase shift. Particles are "white" (protein
//! density positive) and the CTF is not negated (cryoDRGN's `compute_ctf` is). No B-factor
//! envelope is applied.
use burn::prelude::*;
pub use rbf_io::CtfParams;

use crate::fourier::{frequency_index, half_plane_width};
use crate::projection::ImageGrid;

/// Relativistic electron wavelength (Å) at `voltage_kv` kV.
pub fn wavelength(voltage_kv: f64) -> f64 {
    let v = voltage_kv * 1e3;
    12.2639 / (v + 0.97845e-6 * v * v).sqrt()
}

/// The CTF at spatial frequency `(s_x, s_y)` (1/Å), RELION's sign. For many frequencies of one
/// particle, build a [`Ctf`] once.
pub fn ctf_value(params: &CtfParams, s_x: f64, s_y: f64) -> f64 {
    Ctf::new(params).value(s_x, s_y)
}

/// One particle's CTF, with what does not depend on the frequency worked out once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ctf {
    /// ½·(dfU + dfV) (Å).
    mean_defocus: f64,
    /// ½·(dfU − dfV) (Å).
    half_astigmatism: f64,
    /// cos 2θ and sin 2θ of the astigmatism angle θ.
    cos_2theta: f64,
    sin_2theta: f64,
    /// Wavelength λ (Å).
    lambda: f64,
    /// Cs (Å).
    spherical_aberration: f64,
    /// √(1 − w²) and w.
    phase_contrast: f64,
    amplitude_contrast: f64,
    /// φ (radians).
    phase_shift: f64,
}

impl Ctf {
    /// The CTF of `params` (file units: Å, degrees, kV, mm).
    pub fn new(params: &CtfParams) -> Self {
        let theta = params.defocus_angle.to_radians();
        let w = params.amplitude_contrast;
        Ctf {
            mean_defocus: 0.5 * (params.defocus_u + params.defocus_v),
            half_astigmatism: 0.5 * (params.defocus_u - params.defocus_v),
            cos_2theta: (2.0 * theta).cos(),
            sin_2theta: (2.0 * theta).sin(),
            lambda: wavelength(params.voltage),
            spherical_aberration: params.spherical_aberration * 1e7,
            phase_contrast: (1.0 - w * w).sqrt(),
            amplitude_contrast: w,
            phase_shift: params.phase_shift.to_radians(),
        }
    }

    /// The value at spatial frequency `(s_x, s_y)` (1/Å).
    ///
    /// `cos 2(α − θ)` is expanded as `cos 2α·cos 2θ + sin 2α·sin 2θ` with
    /// `cos 2α = (s_x² − s_y²)/s²` and `sin 2α = 2·s_x·s_y/s²` (no `atan2`; at `s = 0` the defocus
    /// does not matter).
    pub fn value(&self, s_x: f64, s_y: f64) -> f64 {
        let s2 = s_x * s_x + s_y * s_y;
        let cos_2_alpha_minus_theta = if s2 > 0.0 {
            ((s_x * s_x - s_y * s_y) * self.cos_2theta + 2.0 * s_x * s_y * self.sin_2theta) / s2
        } else {
            1.0
        };
        let df = self.mean_defocus + self.half_astigmatism * cos_2_alpha_minus_theta;
        let lambda = self.lambda;
        let gamma = 2.0 * std::f64::consts::PI * (-0.5 * df * lambda * s2 + 0.25 * self.spherical_aberration * lambda.powi(3) * s2 * s2)
            - self.phase_shift;
        let (sin, cos) = gamma.sin_cos();
        -(self.phase_contrast * sin - self.amplitude_contrast * cos)
    }

    /// The CTF on the half plane of the DFT of images on `grid` (the layout of
    /// [`crate::fourier::HalfPlane`]): row `ky` over all `D` frequencies in FFT order, column
    /// `kx = 0..=D/2`, at `s = k/(D·pixel_size)`.
    ///
    /// # Shapes
    /// Returns `[D, D/2 + 1]` row-major.
    pub fn half_plane(&self, grid: &ImageGrid) -> Vec<f32> {
        let d = grid.box_size();
        let step = 1.0 / (d as f64 * grid.pixel_size());
        let width = half_plane_width(d);
        let mut out = Vec::with_capacity(d * width);
        for ky in 0..d {
            let s_y = frequency_index(ky, d) * step;
            out.extend((0..width).map(|kx| self.value(kx as f64 * step, s_y) as f32));
        }
        out
    }
}

/// The CTFs of a batch of particles on the half plane of `grid`'s DFT, as a tensor (see
/// [`Ctf::half_plane`]).
///
/// # Shapes
/// `params`: `[batch]` → `[batch, D, D/2 + 1]`.
pub fn half_plane_batch(params: &[CtfParams], grid: &ImageGrid, device: &Device) -> Tensor<3> {
    let values: Vec<f32> = params.iter().flat_map(|p| Ctf::new(p).half_plane(grid)).collect();
    Tensor::from_data(TensorData::new(values, [params.len(), grid.box_size(), half_plane_width(grid.box_size())]), device)
}
