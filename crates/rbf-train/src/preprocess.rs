//! The preprocessing users expect of particle images, applied as each image is read
//! ([`Preprocessed`] wraps any [`ParticleSource`]). All steps are off by default (the paper's
//! synthetic images need none); when on, they run in this order:
//!
//! 1. **Normalization** (RELION's `relion_preprocess --norm`): subtract the mean of the image's
//!    background and divide by its standard deviation. The background is the pixels farther than
//!    `0.375·D` pixels from the box center (pixel `D/2`): outside the circle whose diameter is 75%
//!    of the box, RELION's default "Diameter background circle". RELION also subtracts a plane
//!    fitted to the background unless `--no_ramp` is given; this does not.
//! 2. **Low-pass** to a resolution `r` (Å): the image's DFT is multiplied by a gain of 1 up to
//!    `1/r − w`, falling as a raised cosine to 0 at `1/r` and 0 beyond, with
//!    `w =` [`LOWPASS_EDGE_SHELLS`] Fourier shells (`1/(D·pixel_size)` each): nothing finer than
//!    `r` passes. `r` must be at least the Nyquist resolution, `2·pixel_size`, and at most the box.
//! 3. **Mask** of radius `R` (Å): the image is multiplied by 1 within `R − e` of the box center, a
//!    raised cosine falling to 0 at `R`, and 0 beyond, with `e =` [`MASK_EDGE_PIXELS`] pixels
//!    (RELION's default soft edge; at most `R`). Nothing beyond `R` is kept. `R` must be positive
//!    and within the box (`R ≤ (D/2)·pixel_size`).
//!
//! # Targets only
//! The steps change the observed images, not the model's projections, as RELION masks the
//! experimental images and not the CTF-modulated projections it compares them with. Without a CTF
//! the projections of the RBFs are confined to the molecule, so a mask that encloses it changes
//! nothing they would be compared with (on 1000 simulated images of 5NI1 chain A, box 128 at
//! 1.2 Å, one epoch from a 2 Å start gives the same Cα RMSE, 1.11 Å, with or without a 45 Å
//! mask). A CTF spreads each projection into fringes (about `λ·Δf·s`, 70 Å at 1.5 µm defocus
//! and 4 Å); a mask that cuts them from the targets but not from the projections biases the fit
//! (the same run with a CTF: 1.08 Å without a mask, 1.28 Å with a 60 Å one). Masking the
//! projections of the Fourier-space loss ([`crate::ctf`]) would need an inverse DFT of every
//! projection at every step. So: choose a radius that encloses the particle and, with a CTF, its
//! fringes; and a low-pass no coarser than the detail the model should fit (the RBFs, σ = 3.71 Å,
//! carry detail to about 8 Å; a 6 Å low-pass gave 1.43 Å in the run above).
//!
//! # The noise variance
//! A mask zeroes the background, where [`background_variance`] measures the noise:
//! [`ParticleSource::noise_variance`] of a masked source measures it on the images before the
//! mask (normalized and low-passed as the targets are).
use std::sync::{Mutex, PoisonError};

use rbf_io::CtfParams;
use rbf_model::fourier::{HalfPlaneFft, frequency_index, half_plane_width};

use crate::TrainError;
use crate::data::{ParticleSource, background_variance, pixels_outside_circle};

/// The background of the normalization: pixels outside the circle of this diameter, as a fraction
/// of the box (RELION's default).
pub const BACKGROUND_DIAMETER: f64 = 0.75;
/// The soft edge of the mask (pixels), inside its radius.
pub const MASK_EDGE_PIXELS: f64 = 5.0;
/// The Fourier shells over which the low-pass falls from 1 to 0, below its cutoff.
pub const LOWPASS_EDGE_SHELLS: f64 = 2.0;

/// Which preprocessing steps to apply (see the module docs); all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Preprocessing {
    /// Normalize each image by its background.
    pub normalize: bool,
    /// Low-pass the images to this resolution (Å).
    pub lowpass: Option<f64>,
    /// Mask the images with a soft-edged circle of this radius (Å).
    pub mask_radius: Option<f64>,
}

impl Preprocessing {
    /// Whether no step is on.
    pub fn is_off(&self) -> bool {
        *self == Preprocessing::default()
    }

    /// Check the values against images of `box_size` pixels of `pixel_size` Å.
    ///
    /// # Errors
    /// [`TrainError::Data`] naming the value: a mask radius that is not positive or reaches beyond
    /// the box, a low-pass finer than the Nyquist resolution (`2·pixel_size`) or coarser than the
    /// box.
    pub fn check(&self, box_size: usize, pixel_size: f64) -> Result<(), TrainError> {
        let half_box = (box_size / 2) as f64 * pixel_size;
        if let Some(radius) = self.mask_radius
            && !(radius.is_finite() && radius > 0.0 && radius <= half_box)
        {
            return Err(TrainError::Data(format!(
                "mask radius {radius} Å: it must be positive and within the box ({box_size} pixels of {pixel_size} Å reach {half_box} Å from the center)"
            )));
        }
        if let Some(resolution) = self.lowpass {
            let (nyquist, extent) = (2.0 * pixel_size, box_size as f64 * pixel_size);
            if resolution.is_nan() || resolution < nyquist {
                return Err(TrainError::Data(format!(
                    "low-pass {resolution} Å: it must be at least the Nyquist resolution, 2 × {pixel_size} Å = {nyquist} Å"
                )));
            }
            if resolution > extent {
                return Err(TrainError::Data(format!(
                    "low-pass {resolution} Å is coarser than the box ({extent} Å): it would keep only the mean of each image"
                )));
            }
        }
        Ok(())
    }

    /// The steps that are on, for the log: e.g. `normalized, low-pass 8 Å, mask 60 Å`, or `none`.
    pub fn describe(&self) -> String {
        let mut steps = Vec::new();
        if self.normalize {
            steps.push("normalized".to_string());
        }
        if let Some(r) = self.lowpass {
            steps.push(format!("low-pass {r} Å"));
        }
        if let Some(r) = self.mask_radius {
            steps.push(format!("mask {r} Å"));
        }
        if steps.is_empty() { "none".into() } else { steps.join(", ") }
    }
}

/// The particles of `S`, their images preprocessed as they are read (see the module docs).
#[derive(Debug)]
pub struct Preprocessed<S> {
    inner: S,
    options: Preprocessing,
    /// Indices of the background pixels, when normalizing.
    background: Vec<usize>,
    /// The mask, `[D, D]`, when masking.
    mask: Option<Vec<f32>>,
    /// The low-pass, when on.
    lowpass: Option<Mutex<LowPass>>,
}

/// The transforms and the gain of the low-pass on the half plane, `[D, D/2 + 1]`.
#[derive(Debug)]
struct LowPass {
    fft: HalfPlaneFft,
    gain: Vec<f32>,
}

impl<S: ParticleSource> Preprocessed<S> {
    /// The particles of `inner` with `options` applied to their images.
    ///
    /// # Errors
    /// As [`Preprocessing::check`] for the particles' box and pixel size.
    pub fn new(inner: S, options: Preprocessing) -> Result<Self, TrainError> {
        let (d, pixel_size) = (inner.box_size(), inner.pixel_size());
        options.check(d, pixel_size)?;
        let center = (d / 2) as f64;
        let radius_px = |p: usize| ((p / d) as f64 - center).hypot((p % d) as f64 - center);
        let background = if options.normalize {
            pixels_outside_circle(d, center, BACKGROUND_DIAMETER * d as f64 / 2.0)
        } else {
            Vec::new()
        };
        let mask = options.mask_radius.map(|radius| {
            let edge = (MASK_EDGE_PIXELS * pixel_size).min(radius);
            (0..d * d).map(|p| soft_step(radius_px(p) * pixel_size, radius - edge, radius) as f32).collect()
        });
        let lowpass = options.lowpass.map(|resolution| {
            let (width, shell) = (half_plane_width(d), 1.0 / (d as f64 * pixel_size));
            let cutoff = 1.0 / resolution;
            let start = (cutoff - LOWPASS_EDGE_SHELLS * shell).max(0.0);
            let gain = (0..d * width)
                .map(|k| {
                    let s = frequency_index(k / width, d).hypot(frequency_index(k % width, d)) * shell;
                    soft_step(s, start, cutoff) as f32
                })
                .collect();
            Mutex::new(LowPass { fft: HalfPlaneFft::new(d), gain })
        });
        Ok(Preprocessed { inner, options, background, mask, lowpass })
    }

    /// The steps applied.
    pub fn options(&self) -> Preprocessing {
        self.options
    }

    /// The particles as they are read, before preprocessing.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Read image `i` normalized and low-passed, not masked.
    fn read_unmasked(&self, i: usize, out: &mut [f32]) -> Result<(), TrainError> {
        self.inner.read_image(i, out)?;
        if self.options.normalize {
            normalize(out, &self.background).ok_or_else(|| {
                TrainError::Data(format!(
                    "particle {}: its background (the pixels beyond {}% of the box's half-width from its center) is constant, so it cannot be normalized",
                    i + 1,
                    BACKGROUND_DIAMETER * 100.0
                ))
            })?;
        }
        if let Some(lowpass) = &self.lowpass {
            // The FFT buffers are scratch space, rewritten by every read: a panic elsewhere leaves
            // nothing to distrust in them.
            let mut lowpass = lowpass.lock().unwrap_or_else(PoisonError::into_inner);
            let (mut re, mut im) = lowpass.fft.forward(out)?;
            for (k, (re, im)) in re.iter_mut().zip(&mut im).enumerate() {
                let g = lowpass.gain[k];
                *re *= g;
                *im *= g;
            }
            let d = self.inner.box_size();
            lowpass.fft.inverse(&re, &im, 1.0 / (d * d) as f64, out)?;
        }
        Ok(())
    }
}

/// 1 up to `start`, a raised cosine down to 0 at `end`, 0 beyond (a step at `end` when they meet).
fn soft_step(x: f64, start: f64, end: f64) -> f64 {
    if x <= start {
        1.0
    } else if x >= end {
        0.0
    } else {
        0.5 * (1.0 + (std::f64::consts::PI * (x - start) / (end - start)).cos())
    }
}

/// Subtract the mean of the `background` pixels and divide by their standard deviation; `None`
/// when that is zero (or not finite).
fn normalize(image: &mut [f32], background: &[usize]) -> Option<()> {
    let n = background.len() as f64;
    let mean = background.iter().map(|&p| f64::from(image[p])).sum::<f64>() / n;
    let variance = background.iter().map(|&p| (f64::from(image[p]) - mean).powi(2)).sum::<f64>() / n;
    let std = variance.sqrt();
    if !(std > 0.0 && std.is_finite()) {
        return None;
    }
    for v in image.iter_mut() {
        *v = ((f64::from(*v) - mean) / std) as f32;
    }
    Some(())
}

/// The images of a [`Preprocessed`] source before the mask.
struct Unmasked<'a, S>(&'a Preprocessed<S>);

impl<S: ParticleSource> ParticleSource for Unmasked<'_, S> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn box_size(&self) -> usize {
        self.0.box_size()
    }
    fn pixel_size(&self) -> f64 {
        self.0.pixel_size()
    }
    fn pose(&self, i: usize) -> ([[f64; 3]; 3], [f64; 2]) {
        self.0.pose(i)
    }
    fn read_image(&self, i: usize, out: &mut [f32]) -> Result<(), TrainError> {
        self.0.read_unmasked(i, out)
    }
}

impl<S: ParticleSource> ParticleSource for Preprocessed<S> {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn box_size(&self) -> usize {
        self.inner.box_size()
    }
    fn pixel_size(&self) -> f64 {
        self.inner.pixel_size()
    }
    fn pose(&self, i: usize) -> ([[f64; 3]; 3], [f64; 2]) {
        self.inner.pose(i)
    }
    fn read_image(&self, i: usize, out: &mut [f32]) -> Result<(), TrainError> {
        self.read_unmasked(i, out)?;
        if let Some(mask) = &self.mask {
            for (v, m) in out.iter_mut().zip(mask) {
                *v *= m;
            }
        }
        Ok(())
    }
    fn ctf(&self, i: usize) -> Option<CtfParams> {
        self.inner.ctf(i)
    }
    fn noise_variance(&self, max_images: usize) -> Result<f64, TrainError> {
        if self.mask.is_some() { background_variance(&Unmasked(self), max_images) } else { background_variance(self, max_images) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::InMemoryParticles;

    fn particles(images: Vec<f32>, box_size: usize, pixel_size: f64) -> InMemoryParticles {
        let n = images.len() / (box_size * box_size);
        InMemoryParticles { images, rotations: vec![[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]; n], shifts: vec![[0.0; 2]; n], box_size, pixel_size, ctf: Vec::new() }
    }

    fn options(normalize: bool, lowpass: Option<f64>, mask_radius: Option<f64>) -> Preprocessing {
        Preprocessing { normalize, lowpass, mask_radius }
    }

    #[test]
    fn bad_values_are_refused_naming_them() {
        let check = |o: Preprocessing| o.check(64, 1.5).expect_err("must be refused").to_string();
        for radius in [0.0, -3.0, 48.5, f64::NAN] {
            assert!(check(options(false, None, Some(radius))).contains(&format!("mask radius {radius} Å")), "{radius}");
        }
        assert!(options(false, None, Some(48.0)).check(64, 1.5).is_ok(), "the half box itself is allowed");
        let message = check(options(false, Some(2.9), None));
        assert!(message.contains("low-pass 2.9 Å") && message.contains("Nyquist"), "{message}");
        assert!(check(options(false, Some(97.0), None)).contains("coarser than the box"));
        assert!(options(false, Some(3.0), None).check(64, 1.5).is_ok(), "Nyquist itself is allowed");
        assert_eq!(options(true, Some(8.0), Some(40.0)).describe(), "normalized, low-pass 8 Å, mask 40 Å");
        assert!(Preprocessing::default().is_off() && Preprocessing::default().describe() == "none");
    }

    /// Pixels at and beyond the radius are zero, pixels inside its soft edge untouched, the edge
    /// in between.
    #[test]
    fn the_mask_zeroes_pixels_beyond_its_radius() {
        let (d, pixel_size, radius) = (32usize, 2.0, 20.0);
        let data = Preprocessed::new(particles(vec![3.0; d * d], d, pixel_size), options(false, None, Some(radius))).expect("valid");
        let mut image = vec![0.0; d * d];
        data.read_image(0, &mut image).expect("in memory");
        let edge_start = radius - MASK_EDGE_PIXELS * pixel_size;
        let (mut beyond, mut inside, mut edge) = (0, 0, 0);
        for (p, &v) in image.iter().enumerate() {
            let r = ((p / d) as f64 - 16.0).hypot((p % d) as f64 - 16.0) * pixel_size;
            if r >= radius {
                assert_eq!(v, 0.0, "pixel {p} at {r} Å");
                beyond += 1;
            } else if r <= edge_start {
                assert_eq!(v, 3.0, "pixel {p} at {r} Å");
                inside += 1;
            } else {
                assert!(v > 0.0 && v < 3.0, "pixel {p} at {r} Å: {v}");
                edge += 1;
            }
        }
        assert!(beyond > 0 && inside > 0 && edge > 0);
    }

    /// A plane wave of 2 cycles per box (30 Å at 1 Å/pixel in a 60-pixel box) passes a 10 Å
    /// low-pass untouched; one of 15 cycles (4 Å) is removed.
    #[test]
    fn the_low_pass_keeps_low_frequencies_and_removes_high_ones() {
        let d = 60usize;
        let wave = |cycles: f64, angle: f64| -> Vec<f32> {
            let (kx, ky) = (cycles * angle.cos(), cycles * angle.sin());
            (0..d * d).map(|p| ((2.0 * std::f64::consts::PI * (kx * (p % d) as f64 + ky * (p / d) as f64) / d as f64).cos()) as f32).collect()
        };
        let low = wave(2.0, 0.0);
        let high: Vec<f32> = wave(15.0, std::f64::consts::FRAC_PI_2).iter().zip(wave(12.0, 0.0)).map(|(a, b)| a + b).collect();
        let images: Vec<f32> = low.iter().zip(&high).map(|(a, b)| a + b).chain(high.iter().copied()).collect();
        let data = Preprocessed::new(particles(images, d, 1.0), options(false, Some(10.0), None)).expect("valid");
        let mut image = vec![0.0; d * d];
        data.read_image(0, &mut image).expect("in memory");
        let error = image.iter().zip(&low).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(error < 1e-5, "the low frequency is kept and the high ones removed: max error {error}");
        data.read_image(1, &mut image).expect("in memory");
        let left = image.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
        assert!(left < 1e-5, "nothing of the high frequencies is left: {left}");
    }

    /// The background of a normalized image has mean 0 and standard deviation 1, whatever the
    /// offset and scale of the raw image; a constant background is refused.
    #[test]
    fn normalization_is_relative_to_the_background() {
        let d = 16usize;
        let raw: Vec<f32> = (0..d * d).map(|p| ((p * 7919) % 23) as f32 * 0.1).collect();
        let scaled: Vec<f32> = raw.iter().map(|v| 4.0 * v - 7.0).collect();
        let data = Preprocessed::new(particles([raw, scaled].concat(), d, 1.0), options(true, None, None)).expect("valid");
        let (mut a, mut b) = (vec![0.0; d * d], vec![0.0; d * d]);
        data.read_image(0, &mut a).expect("in memory");
        data.read_image(1, &mut b).expect("in memory");
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5), "offset and scale are removed");
        let background: Vec<f64> = (0..d * d).filter(|&p| ((p / d) as f64 - 8.0).hypot((p % d) as f64 - 8.0) > 6.0).map(|p| f64::from(a[p])).collect();
        let mean = background.iter().sum::<f64>() / background.len() as f64;
        let std = (background.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / background.len() as f64).sqrt();
        assert!(mean.abs() < 1e-6 && (std - 1.0).abs() < 1e-6, "mean {mean}, std {std}");

        let flat = Preprocessed::new(particles(vec![2.0; d * d], d, 1.0), options(true, None, None)).expect("valid");
        let message = flat.read_image(0, &mut a).expect_err("constant background").to_string();
        assert!(message.contains("particle 1") && message.contains("constant"), "{message}");
    }

    /// With a mask, the noise variance is measured before it (the masked background is zero).
    #[test]
    fn the_noise_variance_of_masked_images_is_measured_before_the_mask() {
        let d = 32usize;
        let noise: Vec<f32> = (0..4 * d * d).map(|p| if (p * 2_654_435_761) % 7 < 3 { 1.0 } else { -1.0 }).collect();
        let plain = particles(noise.clone(), d, 1.0);
        let expected = background_variance(&plain, 4).expect("background");
        let masked = Preprocessed::new(particles(noise, d, 1.0), options(false, None, Some(10.0))).expect("valid");
        assert!(background_variance(&masked, 4).expect("background") < 1e-12, "the mask zeroes the background");
        assert!((masked.noise_variance(4).expect("background") - expected).abs() < 1e-12);
        assert!(expected > 0.5);
    }
}
