//! Particles downsampled on the fly: each image is Fourier-cropped ([`FourierCrop`]) as it is
//! read ([`Downsampled`]), so a run on `D'`-pixel images needs no downsampled copy of the stack on
//! disk; or once, into a new stack and STAR file ([`write_downsampled`], `cryorbf downsample`).
//!
//! The images keep their box in Å: the pixel size becomes `pixel_size·D/D'`, and the poses (shifts
//! in Å) and the CTF parameters are the ones of the original particles, unchanged. Pixel values
//! keep their meaning (the mean of each image is unchanged; see [`rbf_model::downsample`]).
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rbf_io::atomic::StagingDir;
use rbf_io::mrc::StackWriter;
use rbf_io::relion::{StarParticle, image_name, write_particle_star};
use rbf_io::{CtfParams, IoError, ParticleTable};
use rbf_model::downsample::FourierCrop;

use crate::TrainError;
use crate::data::ParticleSource;

/// The particles of `S`, their images downsampled to a smaller box as they are read (or passed
/// through as they are).
#[derive(Debug)]
pub struct Downsampled<S> {
    inner: S,
    box_size: usize,
    pixel_size: f64,
    crop: Option<Mutex<Crop>>,
}

/// The crop and a buffer for one image at the original size.
#[derive(Debug)]
struct Crop {
    fourier: FourierCrop,
    image: Vec<f32>,
}

impl<S: ParticleSource> Downsampled<S> {
    /// The particles of `inner` with their images downsampled to `box_size × box_size` pixels, or
    /// as they are for `None`.
    ///
    /// # Errors
    /// [`TrainError::Model`] naming the sizes when `box_size` is odd, under
    /// [`FourierCrop::MIN_BOX`] or larger than the particles' box, or their box is odd.
    pub fn new(inner: S, box_size: Option<usize>) -> Result<Self, TrainError> {
        let from = inner.box_size();
        let Some(to) = box_size else {
            return Ok(Downsampled { box_size: from, pixel_size: inner.pixel_size(), inner, crop: None });
        };
        let fourier = FourierCrop::new(from, to)?;
        let pixel_size = fourier.pixel_size(inner.pixel_size());
        Ok(Downsampled { inner, box_size: to, pixel_size, crop: Some(Mutex::new(Crop { fourier, image: vec![0.0; from * from] })) })
    }

    /// The particles at their original size.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Whether the images are downsampled (else they pass through as read).
    pub fn is_downsampled(&self) -> bool {
        self.crop.is_some()
    }
}

impl<S: ParticleSource> ParticleSource for Downsampled<S> {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn box_size(&self) -> usize {
        self.box_size
    }
    fn pixel_size(&self) -> f64 {
        self.pixel_size
    }
    fn pose(&self, i: usize) -> ([[f64; 3]; 3], [f64; 2]) {
        self.inner.pose(i)
    }
    fn read_image(&self, i: usize, out: &mut [f32]) -> Result<(), TrainError> {
        let Some(crop) = &self.crop else { return self.inner.read_image(i, out) };
        // The buffers are scratch space, rewritten by every read: a panic elsewhere leaves nothing
        // to distrust in them.
        let mut crop = crop.lock().unwrap_or_else(PoisonError::into_inner);
        let Crop { fourier, image } = &mut *crop;
        self.inner.read_image(i, image)?;
        Ok(fourier.apply(image, out)?)
    }
    fn ctf(&self, i: usize) -> Option<CtfParams> {
        self.inner.ctf(i)
    }
}

/// Name of the stack [`write_downsampled`] writes.
pub const STACK_FILE: &str = "particles.mrcs";
/// Name of the STAR file [`write_downsampled`] writes.
pub const STAR_FILE: &str = "particles.star";

/// What [`write_downsampled`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct DownsampleSummary {
    /// Number of images.
    pub n_images: usize,
    /// Box edge of the particles read (pixels).
    pub from_box: usize,
    /// Box edge of the images written (pixels).
    pub to_box: usize,
    /// Pixel size of the first particle read (Å/pixel).
    pub from_pixel_size: f64,
    /// Its pixel size as written (Å/pixel), in the stack's header.
    pub to_pixel_size: f64,
}

/// Write the particles of `table` downsampled to `box_size × box_size` pixels into `out_dir`:
/// [`STACK_FILE`] (one mode-2 MRC stack, the first particle's new pixel size in its header) and
/// [`STAR_FILE`] (RELION 3.1, [`rbf_io::relion`]: each particle's new pixel size and box in its
/// optics group, its pose, its shift in Å and its CTF as read, `rlnImageName` pointing into the new
/// stack, in the table's order). The pixel sizes are the table's (a STAR file's over a stack
/// header's, as RELION reads them).
///
/// Images are read, cropped and written `chunk_size` at a time; `on_progress` gets the number
/// written so far after each chunk and may stop the work. Both files are written into a staging
/// folder beside `out_dir` and moved into it only when both are complete: a failed or stopped run
/// leaves nothing in `out_dir`.
///
/// # Errors
/// [`TrainError::Data`] naming the file for an empty table, a particle without a pixel size, or a
/// stop asked by `on_progress`; [`TrainError::Model`] naming the sizes for a box that cannot be
/// made ([`FourierCrop::new`]); [`TrainError::Io`] naming the file for stacks that cannot be read
/// (or hold non-square or non-finite images) and outputs that cannot be written.
pub fn write_downsampled(
    table: &ParticleTable,
    box_size: usize,
    out_dir: &Path,
    chunk_size: usize,
    on_progress: &mut dyn FnMut(usize) -> ControlFlow<()>,
) -> Result<DownsampleSummary, TrainError> {
    let source = table.source.display();
    if table.is_empty() {
        return Err(TrainError::Data(format!("{source}: no particles")));
    }
    let images = table.open_images()?;
    let (ny, from) = images.image_shape();
    if ny != from {
        return Err(IoError::NotSquare { path: table.source.clone(), ny, nx: from }.into());
    }
    let mut crop = FourierCrop::new(from, box_size)?;
    let rows = table
        .particles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let pixel_size = p.pixel_size.ok_or_else(|| {
                TrainError::Data(format!("{source}: particle {} (counting from 1) has no pixel size (rlnImagePixelSize, or rlnDetectorPixelSize and rlnMagnification)", i + 1))
            })?;
            Ok(StarParticle {
                image_name: image_name(i, STACK_FILE),
                pixel_size: crop.pixel_size(pixel_size),
                box_size,
                pose: p.pose,
                ctf: p.ctf,
                extra: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, TrainError>>()?;
    let summary = DownsampleSummary {
        n_images: rows.len(),
        from_box: from,
        to_box: box_size,
        from_pixel_size: table.particles[0].pixel_size.unwrap_or_default(),
        to_pixel_size: rows[0].pixel_size,
    };
    let staging = StagingDir::create(out_dir)?;
    let mut writer = StackWriter::create(staging.path().join(STACK_FILE), box_size, box_size, summary.to_pixel_size)?;
    let chunk_size = chunk_size.max(1);
    let mut input = vec![0.0f32; chunk_size * from * from];
    let mut output = vec![0.0f32; chunk_size * box_size * box_size];
    let mut done = 0;
    while done < rows.len() {
        let n = chunk_size.min(rows.len() - done);
        for (k, image) in input.chunks_exact_mut(from * from).take(n).enumerate() {
            images.read(done + k, image)?;
        }
        crop.apply(&input[..n * from * from], &mut output[..n * box_size * box_size])?;
        writer.append(&output[..n * box_size * box_size])?;
        done += n;
        if on_progress(done).is_break() {
            return Err(TrainError::Data(format!("stopped after {done} of {} images; nothing was written to {}", rows.len(), out_dir.display())));
        }
    }
    writer.finish()?;
    write_particle_star(staging.path().join(STAR_FILE), &rows, &[])?;
    staging.commit(out_dir, &[STACK_FILE.to_string(), STAR_FILE.to_string()], &[])?;
    Ok(summary)
}
