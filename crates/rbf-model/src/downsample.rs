//! Downsampling images by Fourier cropping: a `D×D` image of pixel size `p` becomes a `D'×D'`
//! image of pixel size `p·D/D'` covering the same box, holding the frequencies below the new
//! Nyquist frequency and nothing else.
//!
//! The half plane of the image's DFT ([`HalfPlaneFft`], layout in [`crate::fourier`]) is cut to
//! rows `ky ∈ [−D'/2, D'/2)` and columns `kx ∈ [0, D'/2]` and transformed back. `D` and `D'` must be
//! even, with `8 ≤ D' ≤ D`.
//!
//! # Scaling
//! Pixel values keep their meaning: a pixel is the line integral of the density along z (see the
//! crate root), which does not depend on the pixel size. The DFT is a sum over pixels, so the same
//! smooth image holds `(D/D')²` times less in each coefficient on the coarser grid; the inverse
//! is therefore scaled by `1/D²` instead of `1/D'²`. The mean pixel value is unchanged (the zero
//! frequency is kept exactly) and so is the image's integral, `Σ pixels · pixel_size²` (Å²·e/Å²).
//! cryoDRGN's `downsample` divides by `D'²` instead, which keeps the pixel sum and multiplies the
//! values by `(D/D')²`.
//!
//! # The frame
//! For even `D`, pixel 0 sits at `−(D/2)·p = −(D'/2)·p'` in both boxes, so the box center stays at
//! pixel `D'/2` and the crop needs no phase shift; odd boxes would move it by half a pixel and are
//! refused.
//!
//! # Accuracy
//! For an image band-limited below the new Nyquist frequency `1/(2p')`, the result is the same
//! image sampled at the coarser pixels, to rounding: Gaussians of width σ rendered at `p` and
//! cropped agree with the same Gaussians rendered at `p'` to within their spectrum beyond `1/(2p')`,
//! `exp(−π²σ²/(2p'²))` of the zero frequency (4·10⁻⁸ at σ = 1.86 p'). The new Nyquist
//! frequencies ±D'/2 fall on one bin; its Hermitian part is kept.
use crate::error::ModelError;
use crate::fourier::{HalfPlaneFft, frequency_index, half_plane_width};

/// Downsamples `D×D` images to `D'×D'` by Fourier cropping (see the module docs), reusing its FFT
/// plans and buffers.
pub struct FourierCrop {
    from: usize,
    to: usize,
    forward: HalfPlaneFft,
    inverse: HalfPlaneFft,
    re: Vec<f32>,
    im: Vec<f32>,
}

impl std::fmt::Debug for FourierCrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FourierCrop").field("from", &self.from).field("to", &self.to).finish_non_exhaustive()
    }
}

impl FourierCrop {
    /// The smallest box (pixels) images are downsampled to.
    pub const MIN_BOX: usize = 8;

    /// Downsample `from × from` images to `to × to`.
    ///
    /// # Errors
    /// [`ModelError::InvalidGrid`] naming the values when `to` is odd, under [`Self::MIN_BOX`] or
    /// larger than `from`, or `from` is odd.
    pub fn new(from: usize, to: usize) -> Result<Self, ModelError> {
        let refuse = |why: String| Err(ModelError::InvalidGrid(format!("cannot downsample {from}-pixel images to {to} pixels: {why}")));
        if !to.is_multiple_of(2) {
            return refuse(format!("the new box must be even ({} or {})", to - 1, to + 1));
        }
        if to < Self::MIN_BOX {
            return refuse(format!("the new box must be at least {} pixels", Self::MIN_BOX));
        }
        if to > from {
            return refuse(format!("the new box must not be larger than the images' {from} pixels"));
        }
        if !from.is_multiple_of(2) {
            return refuse("Fourier cropping needs images of an even box".into());
        }
        Ok(FourierCrop { from, to, forward: HalfPlaneFft::new(from), inverse: HalfPlaneFft::new(to), re: Vec::new(), im: Vec::new() })
    }

    /// Box edge of the images taken (pixels).
    pub fn from_box(&self) -> usize {
        self.from
    }

    /// Box edge of the images made (pixels).
    pub fn to_box(&self) -> usize {
        self.to
    }

    /// The pixel size (Å/pixel) of the images made from images of `pixel_size`: `pixel_size·D/D'`.
    pub fn pixel_size(&self, pixel_size: f64) -> f64 {
        pixel_size * self.from as f64 / self.to as f64
    }

    /// Downsample a batch of images into `out`; with `D' = D` a copy.
    ///
    /// # Shapes
    /// `images`: `[batch, D, D]` → `out`: `[batch, D', D']`, row-major `[y][x]`.
    ///
    /// # Errors
    /// [`ModelError::InvalidGrid`] when `images` is not a whole number of `D×D` images or `out`
    /// does not hold as many `D'×D'` images.
    pub fn apply(&mut self, images: &[f32], out: &mut [f32]) -> Result<(), ModelError> {
        let (from, to) = (self.from, self.to);
        if !images.len().is_multiple_of(from * from) || out.len() != images.len() / (from * from) * to * to {
            return Err(ModelError::InvalidGrid(format!(
                "downsampling {} values of {from}×{from} images into {} values of {to}×{to} images",
                images.len(),
                out.len()
            )));
        }
        if from == to {
            out.copy_from_slice(images);
            return Ok(());
        }
        let (width_from, width_to) = (half_plane_width(from), half_plane_width(to));
        // One image at a time, so that memory does not grow with the batch.
        for (image, small) in images.chunks_exact(from * from).zip(out.chunks_exact_mut(to * to)) {
            let (re, im) = self.forward.forward(image)?;
            self.re.clear();
            self.im.clear();
            for row in 0..to {
                // Signed frequency ky ∈ [−D'/2, D'/2) of the new row, at its index in the old one.
                let ky = frequency_index(row, to) as i64;
                let source = ky.rem_euclid(from as i64) as usize * width_from;
                self.re.extend_from_slice(&re[source..source + width_to]);
                self.im.extend_from_slice(&im[source..source + width_to]);
            }
            self.inverse.inverse(&self.re, &self.im, 1.0 / (from * from) as f64, small)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(-1.0f32..1.0) + 0.3).collect()
    }

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    /// The inverse half-plane transform undoes the forward one, for even and odd boxes.
    #[test]
    fn half_plane_inverse_undoes_forward() {
        for d in [16usize, 15, 64] {
            let images = noise(3 * d * d, d as u64);
            let mut fft = HalfPlaneFft::new(d);
            let (re, im) = fft.forward(&images).expect("whole images");
            let mut back = vec![0.0f32; images.len()];
            fft.inverse(&re, &im, 1.0 / (d * d) as f64, &mut back).expect("whole half planes");
            assert!(max_abs_diff(&images, &back) < 1e-5, "D = {d}: {}", max_abs_diff(&images, &back));
            assert!(fft.inverse(&re, &im, 1.0, &mut back[1..]).is_err());
        }
    }

    /// The mean of any image survives the crop (its zero frequency is kept, scaled by 1/D²), and
    /// cropping to the same box copies.
    #[test]
    fn crop_keeps_the_mean_and_the_same_box_copies() {
        let (from, to) = (40usize, 10usize);
        let images = noise(2 * from * from, 1);
        let mut out = vec![0.0f32; 2 * to * to];
        FourierCrop::new(from, to).expect("valid sizes").apply(&images, &mut out).expect("whole images");
        for (image, small) in images.chunks(from * from).zip(out.chunks(to * to)) {
            let mean = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
            assert!((mean(image) - mean(small)).abs() < 1e-6, "{} vs {}", mean(image), mean(small));
        }
        let mut copy = vec![0.0f32; images.len()];
        FourierCrop::new(from, from).expect("valid sizes").apply(&images, &mut copy).expect("whole images");
        assert_eq!(copy, images);
    }

    #[test]
    fn bad_sizes_are_refused_with_their_values() {
        for (from, to, words) in [
            (64, 31, ["31", "even (30 or 32)"]),
            (64, 6, ["6", "at least 8"]),
            (64, 66, ["66", "larger than the images' 64"]),
            (63, 32, ["63", "even box"]),
        ] {
            let message = FourierCrop::new(from, to).expect_err("refused").to_string();
            for word in words {
                assert!(message.contains(word), "{message}");
            }
        }
        let mut crop = FourierCrop::new(16, 8).expect("valid sizes");
        assert!(crop.apply(&[0.0; 255], &mut [0.0; 64]).is_err());
        assert!(crop.apply(&[0.0; 256], &mut [0.0; 63]).is_err());
    }
}
