//! Particles for training: an image and a pose per particle, from memory or from files.
use rbf_io::{CtfParams, IoError, ParticleImages, ParticleTable};

use crate::TrainError;

/// A set of particles with known poses.
pub trait ParticleSource: Send + Sync {
    /// Number of particles.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Box edge (pixels).
    fn box_size(&self) -> usize;
    /// Pixel size (Å/pixel).
    fn pixel_size(&self) -> f64;
    /// Rotation and in-plane shift (Å) of particle `i`.
    fn pose(&self, i: usize) -> ([[f64; 3]; 3], [f64; 2]);
    /// Read particle `i`'s image into `out` (`[D, D]`, row-major `[y][x]`).
    ///
    /// # Errors
    /// When the image cannot be read.
    fn read_image(&self, i: usize, out: &mut [f32]) -> Result<(), TrainError>;
    /// The CTF of particle `i`, when the particles carry CTF parameters.
    fn ctf(&self, _i: usize) -> Option<CtfParams> {
        None
    }
    /// The noise variance per pixel, over up to `max_images` images: [`background_variance`];
    /// sources that zero the background (a mask, [`crate::preprocess`]) measure it before.
    ///
    /// # Errors
    /// As [`background_variance`].
    fn noise_variance(&self, max_images: usize) -> Result<f64, TrainError> {
        background_variance(self, max_images)
    }
}

/// Particles held in memory (for examples and tests).
#[derive(Debug, Clone)]
pub struct InMemoryParticles {
    /// Images, `[n, D, D]` flattened.
    pub images: Vec<f32>,
    /// Rotations, `[n]`.
    pub rotations: Vec<[[f64; 3]; 3]>,
    /// Shifts (Å), `[n]`.
    pub shifts: Vec<[f64; 2]>,
    /// Box edge (pixels).
    pub box_size: usize,
    /// Pixel size (Å/pixel).
    pub pixel_size: f64,
    /// CTF parameters, `[n]`, or empty when the particles carry none.
    pub ctf: Vec<CtfParams>,
}

impl ParticleSource for InMemoryParticles {
    fn len(&self) -> usize {
        self.rotations.len()
    }
    fn box_size(&self) -> usize {
        self.box_size
    }
    fn pixel_size(&self) -> f64 {
        self.pixel_size
    }
    fn pose(&self, i: usize) -> ([[f64; 3]; 3], [f64; 2]) {
        (self.rotations[i], self.shifts[i])
    }
    fn read_image(&self, i: usize, out: &mut [f32]) -> Result<(), TrainError> {
        let n = self.box_size * self.box_size;
        out.copy_from_slice(&self.images[i * n..(i + 1) * n]);
        Ok(())
    }
    fn ctf(&self, i: usize) -> Option<CtfParams> {
        self.ctf.get(i).copied()
    }
}

/// Particles of a STAR or `.cs` file, their images read from memory-mapped MRC stacks.
#[derive(Debug)]
pub struct FileParticles {
    images: ParticleImages,
    poses: Vec<([[f64; 3]; 3], [f64; 2])>,
    ctf: Vec<Option<CtfParams>>,
    box_size: usize,
    pixel_size: f64,
}

impl FileParticles {
    /// Open the images of `table` and check that every particle has a pose, a pixel size and
    /// square images, and that every image is finite (each is read once, so that a NaN or Inf
    /// pixel is reported before training writes anything).
    ///
    /// # Errors
    /// [`TrainError::Io`] naming the file when poses or the pixel size are missing, when a stack
    /// cannot be opened, when the images are not square, or naming the stack and image that holds
    /// a NaN or Inf pixel.
    pub fn new(table: &ParticleTable) -> Result<Self, TrainError> {
        table.require_poses()?;
        let images = table.open_images()?;
        let (ny, nx) = images.image_shape();
        if ny != nx {
            return Err(IoError::NotSquare { path: table.source.clone(), ny, nx }.into());
        }
        let pixel_size = table.particles.first().and_then(|p| p.pixel_size).ok_or_else(|| {
            TrainError::Data(format!("{}: no pixel size (rlnImagePixelSize or detector pixel size and magnification)", table.source.display()))
        })?;
        let poses = table.particles.iter().filter_map(|p| p.pose).map(|p| (p.rotation, p.shift)).collect();
        let mut image = vec![0.0f32; ny * nx];
        for i in 0..images.len() {
            images.read(i, &mut image)?;
        }
        let ctf = table.particles.iter().map(|p| p.ctf).collect();
        Ok(FileParticles { images, poses, ctf, box_size: nx, pixel_size })
    }
}

impl ParticleSource for FileParticles {
    fn len(&self) -> usize {
        self.poses.len()
    }
    fn box_size(&self) -> usize {
        self.box_size
    }
    fn pixel_size(&self) -> f64 {
        self.pixel_size
    }
    fn pose(&self, i: usize) -> ([[f64; 3]; 3], [f64; 2]) {
        self.poses[i]
    }
    fn read_image(&self, i: usize, out: &mut [f32]) -> Result<(), TrainError> {
        Ok(self.images.read(i, out)?)
    }
    fn ctf(&self, i: usize) -> Option<CtfParams> {
        self.ctf[i]
    }
}

/// Indices (row-major `[y][x]`) of the pixels of a `d`×`d` image whose centers lie farther than
/// `radius` pixels from the point `(center, center)` (pixel coordinates, pixel `i` at `i`): the
/// background of the noise estimate, the normalization ([`crate::preprocess`]) and the particle
/// center ([`crate::center`]).
pub fn pixels_outside_circle(d: usize, center: f64, radius: f64) -> Vec<usize> {
    (0..d * d)
        .filter(|&p| {
            let (y, x) = ((p / d) as f64 - center, (p % d) as f64 - center);
            x * x + y * y > radius * radius
        })
        .collect()
}

/// The noise variance of the images, estimated from the background: the pixels outside the
/// inscribed circle of the box, over up to `max_images` images spread through the set.
///
/// # Errors
/// When an image cannot be read, or there are no background pixels (boxes under 4 pixels).
pub fn background_variance<S: ParticleSource + ?Sized>(data: &S, max_images: usize) -> Result<f64, TrainError> {
    let d = data.box_size();
    let radius = d as f64 / 2.0;
    // The inscribed circle, centered on the middle of the box's pixel grid.
    let background = pixels_outside_circle(d, radius - 0.5, radius);
    if background.is_empty() || data.is_empty() {
        return Err(TrainError::Data(format!("cannot estimate the noise: no background pixels in a {d}-pixel box")));
    }
    let step = (data.len() / max_images.max(1)).max(1);
    let (mut n, mut sum, mut sum_sq) = (0usize, 0.0f64, 0.0f64);
    let mut image = vec![0.0f32; d * d];
    for i in (0..data.len()).step_by(step).take(max_images) {
        data.read_image(i, &mut image)?;
        for &p in &background {
            let v = f64::from(image[p]);
            n += 1;
            sum += v;
            sum_sq += v * v;
        }
    }
    let mean = sum / n as f64;
    Ok((sum_sq / n as f64 - mean * mean).max(f64::MIN_POSITIVE))
}

/// The mean total intensity of the images (Σ pixels · pixel area), over up to `max_images` images
/// spread through the set: the mass of the density, `a₀·ΣZ`, when images are projections without
/// a CTF (noise averages out).
///
/// # Errors
/// When an image cannot be read, or there are no images.
pub fn mean_image_mass(data: &dyn ParticleSource, max_images: usize) -> Result<f64, TrainError> {
    image_mass_per_weight(data, max_images, |_| Ok(1.0))
}

/// The images' total intensity (Σ pixels · pixel area) over up to `max_images` images spread
/// through the set, divided by the sum of `weight` over the same particles; 0 when that sum is
/// not positive. With a weight of 1 it is the mean image mass; with each particle's CTF at zero
/// frequency, the mass behind CTF-modulated images ([`crate::ctf::mean_image_mass_with_ctf`]).
///
/// # Errors
/// When an image cannot be read, there are no images, or `weight` fails.
pub(crate) fn image_mass_per_weight(
    data: &dyn ParticleSource,
    max_images: usize,
    weight: impl Fn(usize) -> Result<f64, TrainError>,
) -> Result<f64, TrainError> {
    if data.is_empty() {
        return Err(TrainError::Data("no particles".into()));
    }
    let d = data.box_size();
    let step = (data.len() / max_images.max(1)).max(1);
    let (mut intensity, mut total_weight) = (0.0f64, 0.0f64);
    let mut image = vec![0.0f32; d * d];
    for i in (0..data.len()).step_by(step).take(max_images) {
        data.read_image(i, &mut image)?;
        intensity += image.iter().map(|&v| f64::from(v)).sum::<f64>();
        total_weight += weight(i)?;
    }
    Ok(if total_weight > 0.0 { intensity / total_weight * data.pixel_size() * data.pixel_size() } else { 0.0 })
}
