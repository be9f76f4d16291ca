//! `cryorbf train`: homogeneous reconstruction — refine every RBF center, σ and a₀ of a
//! reference against particles with known poses (paper §3, §4.1).
use std::path::PathBuf;

use anyhow::Context;
use rbf_model::init::{Init, initial_centers};
use rbf_model::priors::PriorConfig;
use rbf_model::RbfDensityConfig;
use rbf_train::data::ParticleSource;
use rbf_train::homogeneous::{HomogeneousConfig, Summary, output_files, train};

use super::inputs::{InputArgs, prepare_out_dir};
use super::progress::EpochBar;
use super::DeviceArg;

const ARGS_FILE: &str = "args.json";

/// Arguments of `cryorbf train`.
#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Args {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Initial centers: exact, noise:<Å> (uniform noise on each Cα), approx:<Å> (an elastic-network
    /// deformation at that Cα RMSD), random:<Å> (Cα uniform in a cube of that edge).
    #[arg(long, default_value = "exact", value_name = "MODE")]
    pub init: String,
    /// Epochs after the warm-up [default: 10].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Warm-up epochs that refine σ and a₀ before the centers are reset to the start.
    #[arg(long, default_value_t = 1)]
    pub warmup_epochs: usize,
    /// Images per minibatch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-4)]
    pub lr: f64,
    /// Seed of the initialization and the shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Strength of the harmonic Cα–Cα bonds (0 turns them off).
    #[arg(long, default_value_t = 1.0)]
    pub bond_strength: f64,
    /// Strength of the one-sided side-chain bounds (0 turns them off).
    #[arg(long, default_value_t = 1.0)]
    pub side_chain_strength: f64,
    /// One RBF per residue (no side-chain RBFs).
    #[arg(long)]
    pub no_side_chains: bool,
    /// Weight of the image term (0 trains on the priors alone).
    #[arg(long, default_value_t = 1.0)]
    pub image_weight: f64,
    /// Initial RBF width σ (Å).
    #[arg(long, default_value_t = 3.71)]
    pub sigma: f64,
    /// Initial amplitude scale a₀; default: from the images' mean total intensity.
    #[arg(long)]
    pub a0: Option<f64>,
    /// Coarse-to-fine: hold σ at least at this width (Å) at the start, the floor shrinking to 0
    /// over the first --schedule-epochs epochs (0: off).
    #[arg(long, default_value_t = 0.0)]
    #[serde(default)]
    pub coarse_sigma: f64,
    /// Annealing: Gaussian noise (Å) added to every center after each step, shrinking to 0 over
    /// the first --schedule-epochs epochs (0: off).
    #[arg(long, default_value_t = 0.0)]
    #[serde(default)]
    pub anneal_noise: f64,
    /// Epochs over which --coarse-sigma and --anneal-noise decay to 0.
    #[arg(long, default_value_t = 5.0)]
    #[serde(default)]
    pub schedule_epochs: f64,
    /// Noise variance per pixel; default: estimated from the images' background.
    #[arg(long)]
    pub noise_variance: Option<f64>,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Output folder.
    #[arg(long, short, value_name = "DIR", required_unless_present = "resume")]
    pub out: Option<PathBuf>,
    /// Write into an existing, non-empty output folder.
    #[arg(long)]
    pub force: bool,
    /// Continue the interrupted run in DIR (with the settings it was started with; --epochs may
    /// extend it).
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    #[serde(skip)]
    pub resume: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl Args {
    /// The library's run configuration.
    pub fn config(&self) -> HomogeneousConfig {
        let mut density = RbfDensityConfig::new().with_sigma(self.sigma);
        if let Some(a0) = self.a0 {
            density = density.with_amplitude_scale(a0);
        }
        HomogeneousConfig::new()
            .with_epochs(self.epochs.unwrap_or(10))
            .with_warmup_epochs(self.warmup_epochs)
            .with_batch_size(self.batch)
            .with_learning_rate(self.lr)
            .with_seed(self.seed)
            .with_density(density)
            .with_priors(PriorConfig::new().with_bond_strength(self.bond_strength).with_side_chain_strength(self.side_chain_strength))
            .with_noise_variance(self.noise_variance)
            .with_amplitude_from_data(self.a0.is_none())
            .with_image_loss_weight(self.image_weight)
            .with_coarse_sigma(self.coarse_sigma)
            .with_anneal_noise(self.anneal_noise)
            .with_schedule_epochs(self.schedule_epochs)
    }
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<Summary> {
    let (args, out, resume) = match &args.resume {
        Some(dir) => {
            let path = dir.join(ARGS_FILE);
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot resume: {} is not readable", path.display()))?;
            let mut saved: Args = serde_json::from_str(&text).with_context(|| format!("cannot resume: {} is not a cryorbf train record", path.display()))?;
            if args.epochs.is_some() {
                saved.epochs = args.epochs;
            }
            saved.quiet = args.quiet;
            (saved, dir.clone(), true)
        }
        None => {
            let out = args.out.clone().context("--out is required")?;
            (args.clone(), out, false)
        }
    };
    let init: Init = args.init.parse().with_context(|| format!("--init {}", args.init))?;
    let config = args.config();
    let device = rbf_train::Backend::from(args.device).device(true)?;
    let plain = rbf_train::Backend::from(args.device).device(false)?;
    let mut inputs = args.inputs.load(&plain)?;
    if args.no_side_chains {
        inputs.model = inputs.model.without_side_chains();
    }
    let start = initial_centers(&inputs.model, &inputs.model.centers, &init, args.seed)?;
    if !resume {
        prepare_out_dir(&out, args.force)?;
        let json = serde_json::to_vec_pretty(&args)?;
        rbf_io::atomic::write_atomically(&out.join(ARGS_FILE), |w| std::io::Write::write_all(w, &json))?;
        if !args.quiet {
            println!(
                "{} particles, box {} px at {} Å/px; reference {} residues, {} RBFs ({}); init {init}",
                inputs.particles.len(),
                inputs.particles.box_size(),
                inputs.particles.pixel_size(),
                inputs.model.n_residues(),
                inputs.model.n_rbf(),
                inputs.placement
            );
        }
    }
    let mut bar = EpochBar::new(args.quiet);
    let summary = train(&config, &inputs.model, &start, &inputs.particles, inputs.truth.as_ref(), &device, &out, resume, &mut |p| {
        bar.update(p.epoch, p.epochs, p.step, p.steps, p.loss.total(), p.images_per_s)
    })?;
    bar.finish();
    if !args.quiet {
        print_summary(&summary);
        let files: Vec<String> = output_files(&out).iter().map(|p| p.display().to_string()).collect();
        println!("wrote {}", files.join(", "));
    }
    Ok(summary)
}

fn print_summary(s: &Summary) {
    println!("σ {:.3} Å, a₀ {:.4}, {} epochs in {:.1} s", s.sigma, s.amplitude_scale, s.epochs, s.train_seconds);
    if let (Some(i), Some(f)) = (s.initial, s.final_accuracy) {
        println!("| | Cα RMSE (Å) | superposed (Å) | % Cα within 3 Å | volume NMSE |");
        println!("|---|---|---|---|---|");
        for (name, a) in [("start", i), ("result", f)] {
            let nmse = a.volume_nmse.map_or("–".to_string(), |v| format!("{v:.3}"));
            println!("| {name} | {:.2} | {:.2} | {:.1} | {nmse} |", a.ca_rmse, a.ca_rmse_superposed, a.percent_within_3a);
        }
    }
}
