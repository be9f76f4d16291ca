//! `cryorbf downsample`: particles downsampled by Fourier cropping into a new stack and RELION 3.1
//! STAR file (as cryoDRGN's `downsample`, which writes the stack only).
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use rbf_train::downsample::{STACK_FILE, STAR_FILE, write_downsampled};

use super::inputs::{read_particles, warn_pixel_size_mismatches};
use super::interrupt;

/// Arguments of `cryorbf downsample`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Writes into --out: particles.mrcs (float32 stack, the new pixel size in its header) and \
particles.star (RELION 3.1: an optics group with the new rlnImagePixelSize and rlnImageSize, and each particle's \
pose, origin in Å and CTF as read, its rlnImageName pointing into the new stack). Pixel values keep their \
meaning: each image's mean is unchanged.\n\nExample:\n  cryorbf downsample --particles particles.star -D 64 --out ds64")]
pub struct Args {
    /// Particles: a RELION STAR file, a cryoSPARC .cs file, or a folder written by
    /// `cryorbf simulate` (its particles.star is used).
    #[arg(long, value_name = "FILE|DIR")]
    pub particles: PathBuf,
    /// Folder the image paths of the particle file are relative to (default: the file's folder).
    #[arg(long, value_name = "DIR")]
    pub datadir: Option<PathBuf>,
    /// New box edge (pixels): even, at least 8, at most the particles' box.
    #[arg(short = 'D', long = "box", value_name = "PIXELS")]
    pub box_size: usize,
    /// Output folder (must not exist or be empty, unless --force).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into an existing, non-empty output folder (particles.mrcs and particles.star are replaced).
    #[arg(long)]
    pub force: bool,
    /// Images read, cropped and written at a time (memory: this many images at the original size).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..), value_name = "N")]
    pub chunk: u64,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    rbf_sim::simulate::check_output_dir(&args.out, args.force)?;
    let table = read_particles(&args.particles, args.datadir.as_deref())?;
    warn_pixel_size_mismatches(&table)?;
    let bar = if args.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(table.len() as u64) };
    bar.set_style(
        indicatif::ProgressStyle::with_template("downsample [{bar:30}] {pos}/{len} images ({per_sec}, {elapsed}<{eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    interrupt::catch_ctrl_c();
    let start = Instant::now();
    let chunk = usize::try_from(args.chunk).unwrap_or(usize::MAX);
    let summary = write_downsampled(&table, args.box_size, &args.out, chunk, &mut |done| {
        bar.set_position(done as u64);
        interrupt::flow()
    })
    .with_context(|| format!("-D {} for the particles of {}", args.box_size, table.source.display()))?;
    bar.finish();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "wrote {} images of {}×{} px at {} Å/px (from {} px at {} Å/px) to {} and {} in {seconds:.1} s ({:.0} images/s)",
        summary.n_images,
        summary.to_box,
        summary.to_box,
        summary.to_pixel_size,
        summary.from_box,
        summary.from_pixel_size,
        args.out.join(STACK_FILE).display(),
        args.out.join(STAR_FILE).display(),
        summary.n_images as f64 / seconds.max(1e-9),
    );
    Ok(())
}
