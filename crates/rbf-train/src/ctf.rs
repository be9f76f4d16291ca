//! Training against particles with a CTF. The image term is computed in Fourier space, where each
//! particle's CTF multiplies the analytic render ([`rbf_model::fourier`], [`rbf_model::ctf`]).
//!
//! Per batch the observed images are transformed on the host (rustfft, f64, the half plane
//! `[batch, D, D/2 + 1]`) and each particle's CTF is evaluated on the same half plane; both go to
//! the device as a [`CtfBatch`] for [`crate::HomogeneousTrainer::step_ctf`]. By Parseval the
//! Fourier-space error equals the real-space mean squared error between the CTF-modulated
//! projections and the images, so the noise model, loss weights and priors are those of the
//! CTF-free path.
use burn::prelude::*;
use rbf_model::ctf::{Ctf, half_plane_batch};
use rbf_model::fourier::{HalfPlane, HalfPlaneFft};
use rbf_model::ImageGrid;

use crate::data::{ParticleSource, image_mass_per_weight};
use crate::TrainError;

/// A batch of particles for the CTF image term.
#[derive(Debug, Clone)]
pub struct CtfBatch {
    /// Half-plane DFTs of the observed images, `[batch, D, D/2 + 1]` each part.
    pub observed: HalfPlane,
    /// Each particle's CTF on the half plane, `[batch, D, D/2 + 1]`.
    pub ctf: Tensor<3>,
}

/// Builds [`CtfBatch`]es, reusing the FFT plans.
#[derive(Debug)]
pub struct CtfBatcher {
    fft: HalfPlaneFft,
    grid: ImageGrid,
}

impl CtfBatcher {
    /// Batches of images on `grid`.
    pub fn new(grid: ImageGrid) -> Self {
        CtfBatcher { fft: HalfPlaneFft::new(grid.box_size()), grid }
    }

    /// The batch of particles `indices` of `data`, whose images have been read into `images`.
    ///
    /// # Shapes
    /// `images`: `[indices.len(), D, D]` row-major.
    ///
    /// # Errors
    /// [`TrainError::Data`] naming the first particle without CTF parameters, or when `images`
    /// does not hold one image per index.
    pub fn batch(&mut self, data: &dyn ParticleSource, indices: &[usize], images: &[f32], device: &Device) -> Result<CtfBatch, TrainError> {
        let d = self.grid.box_size();
        if images.len() != indices.len() * d * d {
            return Err(TrainError::Data(format!("{} image values for {} particles of {d}×{d} pixels", images.len(), indices.len())));
        }
        let params = indices.iter().map(|&i| data.ctf(i).ok_or_else(|| missing(i))).collect::<Result<Vec<_>, _>>()?;
        let (re, im) = self.fft.forward(images)?;
        Ok(CtfBatch { observed: HalfPlane::from_host(re, im, &self.grid, device)?, ctf: half_plane_batch(&params, &self.grid, device) })
    }
}

fn missing(particle: usize) -> TrainError {
    TrainError::Data(format!("particle {} has no CTF parameters (the CTF is on)", particle + 1))
}

/// Whether every particle carries CTF parameters (what `--ctf auto` asks).
pub fn has_ctf(data: &dyn ParticleSource) -> bool {
    !data.is_empty() && (0..data.len()).all(|i| data.ctf(i).is_some())
}

/// Defocus values (Å) a CTF is fitted with: below 100 Å (0 included) or above 20 µm they are
/// almost surely a unit or column mistake (µm or nm read as Å, an unfitted 0).
pub const DEFOCUS_RANGE: std::ops::RangeInclusive<f64> = 100.0..=200_000.0;

/// Check that every particle carries CTF parameters, and that they make sense: defocus U and V in
/// [`DEFOCUS_RANGE`], a positive voltage, an amplitude contrast in [0, 1), all finite.
///
/// # Errors
/// [`TrainError::Data`] naming the first particle without them, or the first particle, parameter
/// and value that does not make sense.
pub fn require_ctf(data: &dyn ParticleSource) -> Result<(), TrainError> {
    for i in 0..data.len() {
        let ctf = data.ctf(i).ok_or_else(|| missing(i))?;
        let bad = |what: &str, value: f64, expected: &str| {
            Err(TrainError::Data(format!("particle {}: {what} {value} is {expected}", i + 1)))
        };
        for (what, value) in [("defocus U", ctf.defocus_u), ("defocus V", ctf.defocus_v)] {
            if !DEFOCUS_RANGE.contains(&value) {
                return bad(what, value, "not a defocus in Å (expected 100 to 200,000 Å)");
            }
        }
        if !(ctf.voltage.is_finite() && ctf.voltage > 0.0) {
            return bad("voltage", ctf.voltage, "not a voltage in kV (expected > 0)");
        }
        if !(0.0..1.0).contains(&ctf.amplitude_contrast) {
            return bad("amplitude contrast", ctf.amplitude_contrast, "not a fraction in [0, 1)");
        }
        for (what, value) in [("astigmatism angle", ctf.defocus_angle), ("Cs", ctf.spherical_aberration), ("phase shift", ctf.phase_shift)] {
            if !value.is_finite() {
                return bad(what, value, "not finite");
            }
        }
    }
    Ok(())
}

/// How many particles carry CTF parameters and the first that does not, when some but not all
/// do (typically a CTF column missing from one optics group).
pub fn partial_ctf(data: &dyn ParticleSource) -> Option<(usize, usize)> {
    let with = (0..data.len()).filter(|&i| data.ctf(i).is_some()).count();
    let first_without = (0..data.len()).find(|&i| data.ctf(i).is_none())?;
    (with > 0).then_some((with, first_without))
}

/// The mass of the density, `a₀·ΣZ`, from images with a CTF: the images' total intensity
/// (Σ pixels · pixel area) is the mass times the CTF at zero frequency, so the ratio of their sums
/// over up to `max_images` images spread through the set. 0 when the CTFs vanish at zero frequency.
///
/// # Errors
/// When an image cannot be read, there are no images, or a particle has no CTF parameters.
pub fn mean_image_mass_with_ctf(data: &dyn ParticleSource, max_images: usize) -> Result<f64, TrainError> {
    image_mass_per_weight(data, max_images, |i| Ok(Ctf::new(&data.ctf(i).ok_or_else(|| missing(i))?).value(0.0, 0.0)))
}
