//! `cryorbf train-vae`: heterogeneous reconstruction — a VAE whose decoder moves every RBF center
//! of a reference as a function of a per-image latent, trained end to end with the base centers,
//! σ and a₀ against particles with known poses (paper §3, §4.2).
use std::path::PathBuf;

use anyhow::Context;
use rbf_model::RbfDensityConfig;
use rbf_model::init::{Init, initial_centers};
use rbf_model::priors::PriorConfig;
use rbf_train::analysis::StateTruth;
use rbf_train::data::ParticleSource;
use rbf_train::heterogeneous::{HeterogeneousConfig, Summary, output_files, train_vae};

use super::DeviceArg;
use super::inputs::{InputArgs, prepare_out_dir};
use super::progress::EpochBar;

const ARGS_FILE: &str = "args.json";

/// Arguments of `cryorbf train-vae`.
#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Args {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Initial base centers: exact, noise:<Å>, approx:<Å>, random:<Å> (as for `cryorbf train`).
    #[arg(long, default_value = "exact", value_name = "MODE")]
    pub init: String,
    /// Latent dimension.
    #[arg(long, default_value_t = 1)]
    pub zdim: usize,
    /// Weight of the KL term (1: the evidence lower bound).
    #[arg(long, default_value_t = 1.0)]
    pub kl_weight: f64,
    /// Hidden width of the encoder and the decoder.
    #[arg(long, default_value_t = 256)]
    pub width: usize,
    /// Hidden layers of the encoder and the decoder.
    #[arg(long, default_value_t = 3)]
    pub layers: usize,
    /// Epochs after the warm-up [default: 10].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Warm-up epochs that refine σ and a₀ before the centers and networks are reset.
    #[arg(long, default_value_t = 1)]
    pub warmup_epochs: usize,
    /// Images per minibatch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-4)]
    pub lr: f64,
    /// Seed of the initialization, the network weights, the shuffling and the latent noise.
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
    /// Initial RBF width σ (Å).
    #[arg(long, default_value_t = 3.71)]
    pub sigma: f64,
    /// Initial amplitude scale a₀; default: from the images' mean total intensity.
    #[arg(long)]
    pub a0: Option<f64>,
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
    pub fn config(&self) -> HeterogeneousConfig {
        let mut density = RbfDensityConfig::new().with_sigma(self.sigma);
        if let Some(a0) = self.a0 {
            density = density.with_amplitude_scale(a0);
        }
        HeterogeneousConfig::new()
            .with_epochs(self.epochs.unwrap_or(10))
            .with_warmup_epochs(self.warmup_epochs)
            .with_batch_size(self.batch)
            .with_learning_rate(self.lr)
            .with_seed(self.seed)
            .with_latent_dim(self.zdim)
            .with_width(self.width)
            .with_layers(self.layers)
            .with_kl_weight(self.kl_weight)
            .with_density(density)
            .with_priors(PriorConfig::new().with_bond_strength(self.bond_strength).with_side_chain_strength(self.side_chain_strength))
            .with_noise_variance(self.noise_variance)
            .with_amplitude_from_data(self.a0.is_none())
    }
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<Summary> {
    let (args, out, resume) = match &args.resume {
        Some(dir) => {
            let path = dir.join(ARGS_FILE);
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot resume: {} is not readable", path.display()))?;
            let mut saved: Args =
                serde_json::from_str(&text).with_context(|| format!("cannot resume: {} is not a cryorbf train-vae record", path.display()))?;
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
    anyhow::ensure!(args.zdim >= 1, "--zdim must be at least 1");
    anyhow::ensure!(args.width >= 1 && args.layers >= 1, "--width and --layers must be at least 1");
    let init: Init = args.init.parse().with_context(|| format!("--init {}", args.init))?;
    let config = args.config();
    let device = rbf_train::Backend::from(args.device).device(true)?;
    let plain = rbf_train::Backend::from(args.device).device(false)?;
    // The truth of a heterogeneous run is a simulated motion, read below; not a single structure.
    let mut input_args = args.inputs.clone();
    input_args.truth = None;
    let mut inputs = input_args.load(&plain)?;
    if args.no_side_chains {
        inputs.model = inputs.model.without_side_chains();
    }
    let truth = match &args.inputs.truth {
        None => None,
        Some(path) => {
            let dir = if path.is_dir() { path.clone() } else { path.parent().map(PathBuf::from).unwrap_or_default() };
            anyhow::ensure!(
                StateTruth::is_simulation(&dir),
                "--truth {}: train-vae needs the folder of a simulated motion (with states.npy and truth.pdb)",
                path.display()
            );
            Some(StateTruth::from_simulation(&dir, &inputs.model)?)
        }
    };
    let start = initial_centers(&inputs.model, &inputs.model.centers, &init, args.seed)?;
    if !resume {
        prepare_out_dir(&out, args.force)?;
        let json = serde_json::to_vec_pretty(&args)?;
        rbf_io::atomic::write_atomically(&out.join(ARGS_FILE), |w| std::io::Write::write_all(w, &json))?;
        if !args.quiet {
            println!(
                "{} particles, box {} px at {} Å/px; reference {} residues, {} RBFs ({}); latent dimension {}",
                inputs.particles.len(),
                inputs.particles.box_size(),
                inputs.particles.pixel_size(),
                inputs.model.n_residues(),
                inputs.model.n_rbf(),
                inputs.placement,
                args.zdim
            );
        }
    }
    let mut bar = EpochBar::new(args.quiet);
    let summary = train_vae(&config, &inputs.model, &start, &inputs.particles, truth.as_ref(), &device, &out, resume, &mut |p| {
        bar.update(p.epoch, p.epochs, p.step, p.steps, p.loss.total(), p.images_per_s)
    })?;
    bar.finish();
    if !args.quiet {
        println!("σ {:.3} Å, a₀ {:.4}, {} epochs in {:.1} s", summary.sigma, summary.amplitude_scale, summary.epochs, summary.train_seconds);
        for (k, [lo, hi]) in summary.latent_range.iter().enumerate() {
            println!("latent {}: {lo:.3} … {hi:.3}", k + 1);
        }
        if let Some(a) = summary.final_accuracy {
            println!(
                "Spearman ρ {:.3}; Cα RMSE at the true states: mean {:.2} Å, max {:.2} Å",
                a.spearman, a.mean_ca_rmse, a.max_ca_rmse
            );
        }
        let files: Vec<String> = output_files(&out).iter().map(|p| p.display().to_string()).collect();
        println!("wrote {}", files.join(", "));
    }
    Ok(summary)
}
