//! `cryorbf simulate`: particle images of an atomic structure, as RELION writes them.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use rbf_sim::{AtomSelection, CtfRange, DihedralAngle, DihedralMotion, Distribution, Motion, SimulationConfig};

use super::{DeviceArg, StructureArgs};

/// Which atoms make up the ground-truth density.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum AtomsArg {
    /// Every heavy atom.
    All,
    /// Cα only.
    Ca,
    /// Cα and Cβ.
    CaCb,
}

/// A conformational motion.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum MotionArg {
    /// Rotate one backbone dihedral (φ or ψ) of one residue, moving everything downstream.
    Dihedral,
}

/// Which backbone dihedral to rotate.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DihedralArg {
    /// φ, about the N–Cα bond.
    Phi,
    /// ψ, about the Cα–C bond.
    Psi,
}

/// Arguments of `cryorbf simulate`. Defaults are the paper's homogeneous dataset (App. A.1).
#[derive(clap::Args, Debug)]
#[command(after_help = "Writes into --out: particles.mrcs (float32 stack), particles.star (RELION 3.1: optics and \
particles blocks with poses, origins in Å and CTF columns), truth.pdb (all-atom ground truth in the box frame; \
one MODEL per state for motions), states.npy and reaction_coordinates.npy (motions only) and simulation.json \
(every setting).\n\nExamples:\n  cryorbf simulate --structure 5ni1_updated.cif --chain A --out homogeneous\n  \
cryorbf simulate --structure 5ni1_updated.cif --chain A --out dihedral --motion dihedral --distribution two-clusters")]
pub struct Args {
    #[command(flatten)]
    pub structure: StructureArgs,
    /// Output folder (must not exist or be empty, unless --force).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into an existing, non-empty output folder (files of the same names are replaced).
    #[arg(long)]
    pub force: bool,
    /// Number of particle images.
    #[arg(long, short = 'n', default_value_t = 50_000, value_name = "N")]
    pub n_images: usize,
    /// Box edge (pixels).
    #[arg(long = "box", default_value_t = 128, value_name = "D")]
    pub box_size: usize,
    /// Pixel size (Å/pixel).
    #[arg(long, default_value_t = 1.0, value_name = "Å", allow_negative_numbers = true)]
    pub pixel_size: f64,
    /// Atoms of the ground truth: one Gaussian per atom, weight = atomic number.
    #[arg(long, value_enum, default_value_t = AtomsArg::All)]
    pub atoms: AtomsArg,
    /// Also include ligands (hetero residues other than water).
    #[arg(long)]
    pub ligands: bool,
    /// Also include waters.
    #[arg(long)]
    pub waters: bool,
    /// Resolution of the ground truth (Å); each Gaussian has σ = resolution / (π·√2).
    #[arg(long, default_value_t = 3.0, value_name = "Å", allow_negative_numbers = true)]
    pub resolution: f64,
    /// In-plane shifts are uniform in ±this many pixels along x and y.
    #[arg(long, default_value_t = 10.0, value_name = "PIXELS", allow_negative_numbers = true)]
    pub max_shift: f64,
    /// Signal-to-noise ratio: signal variance / noise variance over the stack.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub snr: f64,
    /// Write clean images (no noise; --snr is ignored).
    #[arg(long)]
    pub no_noise: bool,
    /// Apply a random astigmatic CTF per particle (RELION's sign), in Fourier space.
    #[arg(long)]
    pub ctf: bool,
    /// Smallest defocus (Å); dfU and dfV are drawn uniformly in [min, max].
    #[arg(long, default_value_t = 10_000.0, value_name = "Å", allow_negative_numbers = true)]
    pub defocus_min: f64,
    /// Largest defocus (Å).
    #[arg(long, default_value_t = 25_000.0, value_name = "Å", allow_negative_numbers = true)]
    pub defocus_max: f64,
    /// Acceleration voltage (kV).
    #[arg(long, default_value_t = 300.0, value_name = "KV", allow_negative_numbers = true)]
    pub voltage: f64,
    /// Spherical aberration (mm).
    #[arg(long, default_value_t = 2.7, value_name = "MM", allow_negative_numbers = true)]
    pub cs: f64,
    /// Amplitude contrast (fraction).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub amplitude_contrast: f64,
    /// Make the dataset heterogeneous with a motion.
    #[arg(long, value_enum)]
    pub motion: Option<MotionArg>,
    /// Residue number of the rotated dihedral (default: the middle residue).
    #[arg(long, value_name = "NUMBER", allow_negative_numbers = true)]
    pub residue: Option<isize>,
    /// Which dihedral to rotate.
    #[arg(long, value_enum, default_value_t = DihedralArg::Psi)]
    pub dihedral: DihedralArg,
    /// Total rotation of the dihedral from the first to the last state (radians).
    #[arg(long, default_value_t = 0.25, value_name = "RAD", allow_negative_numbers = true)]
    pub total_angle: f64,
    /// Number of states of the motion.
    #[arg(long, default_value_t = 50)]
    pub states: usize,
    /// How particles spread over the states: uniform, barrier, barrier2, two-clusters or
    /// weights:FILE (one weight per state per line).
    #[arg(long, default_value = "uniform", value_name = "DIST")]
    pub distribution: String,
    /// Random seed; the same seed and settings give identical files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Images rendered and written at a time.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub chunk_size: usize,
    /// Compute backend for the projections.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl Args {
    /// The library configuration of these arguments.
    ///
    /// # Errors
    /// When the distribution is not recognised, or given without a motion.
    pub fn config(&self) -> anyhow::Result<SimulationConfig> {
        let distribution: Distribution = self.distribution.parse().with_context(|| "--distribution".to_string())?;
        let motion = self.motion.map(|MotionArg::Dihedral| {
            Motion::Dihedral(DihedralMotion {
                residue: self.residue,
                angle: match self.dihedral {
                    DihedralArg::Phi => DihedralAngle::Phi,
                    DihedralArg::Psi => DihedralAngle::Psi,
                },
                total: self.total_angle,
                states: self.states,
            })
        });
        anyhow::ensure!(
            motion.is_some() || distribution == Distribution::Uniform,
            "--distribution {distribution} needs --motion dihedral"
        );
        anyhow::ensure!(motion.is_some() || self.residue.is_none(), "--residue needs --motion dihedral");
        Ok(SimulationConfig {
            structure: self.structure.structure.clone(),
            chains: self.structure.chain.clone(),
            out_dir: self.out.clone(),
            force: self.force,
            atoms: match self.atoms {
                AtomsArg::All => AtomSelection::All,
                AtomsArg::Ca => AtomSelection::Ca,
                AtomsArg::CaCb => AtomSelection::CaCb,
            },
            ligands: self.ligands,
            waters: self.waters,
            resolution: self.resolution,
            n_images: self.n_images,
            box_size: self.box_size,
            pixel_size: self.pixel_size,
            max_shift: self.max_shift,
            ctf: self.ctf.then_some(CtfRange {
                defocus_min: self.defocus_min,
                defocus_max: self.defocus_max,
                voltage: self.voltage,
                spherical_aberration: self.cs,
                amplitude_contrast: self.amplitude_contrast,
            }),
            noise: !self.no_noise,
            snr: self.snr,
            motion,
            distribution,
            seed: self.seed,
            chunk_size: self.chunk_size,
            ..SimulationConfig::default()
        })
    }
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.config()?;
    config.validate()?;
    rbf_sim::simulate::check_output_dir(&config.out_dir, config.force)?;
    let device = rbf_train::Backend::from(args.device).device(false)?;
    let bar = if args.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(config.n_images as u64) };
    bar.set_style(
        indicatif::ProgressStyle::with_template("simulate [{bar:30}] {pos}/{len} images ({per_sec}, {elapsed}<{eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let start = Instant::now();
    let summary = rbf_sim::simulate(&config, &device, |done| bar.set_position(done as u64))?;
    bar.finish();
    println!(
        "wrote {} images of {}×{} px ({} Å/px) to {} in {:.1} s: {} atoms, σ = {:.3} Å{}{}",
        config.n_images,
        config.box_size,
        config.box_size,
        config.pixel_size,
        config.out_dir.display(),
        start.elapsed().as_secs_f64(),
        summary.n_atoms,
        summary.sigma,
        summary.achieved_snr.map_or(String::new(), |s| format!(", SNR {s:.4}")),
        summary.motion_site.as_ref().map_or(String::new(), |m| format!(
            ", {} states of {:?} of {} {} (chain {})",
            summary.n_states, m.angle, m.residue_name, m.residue_number, m.chain
        )),
    );
    Ok(())
}
