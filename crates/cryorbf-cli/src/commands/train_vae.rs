//! `cryorbf train-vae`: heterogeneous reconstruction — a VAE whose decoder moves every RBF center
//! of a reference as a function of a per-image latent, trained end to end with the base centers,
//! σ and a₀ against particles with known poses (paper §3, §4.2).
use std::path::PathBuf;

use anyhow::Context;
use rbf_model::init::Init;
use rbf_train::analysis::StateTruth;
use rbf_train::heterogeneous::{EncoderInput, HeterogeneousConfig, Summary, output_files, train_vae, validate};

use super::interrupt;
use super::progress::EpochBar;
use super::run_args::{HasRunArgs, RunArgs, resolve, start_run_folder};

/// Arguments of `cryorbf train-vae`.
#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Args {
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
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
    /// What the encoder reads of each particle: `image` (its pixels, the paper's encoder) or
    /// `score` (how each RBF of the base structure would have to move to explain the image at its
    /// known pose; independent of the pose).
    #[arg(long, value_enum, default_value_t = EncoderInputArg::Image)]
    #[serde(default)]
    pub encoder_input: EncoderInputArg,
}

/// What the encoder reads of each particle.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncoderInputArg {
    /// The image's pixels (the paper's encoder).
    #[default]
    Image,
    /// The image's score with respect to every base RBF center.
    Score,
}

impl From<EncoderInputArg> for EncoderInput {
    fn from(arg: EncoderInputArg) -> Self {
        match arg {
            EncoderInputArg::Image => EncoderInput::Image,
            EncoderInputArg::Score => EncoderInput::Score,
        }
    }
}

impl HasRunArgs for Args {
    fn run_args(&self) -> &RunArgs {
        &self.run
    }
    fn run_args_mut(&mut self) -> &mut RunArgs {
        &mut self.run
    }
}

impl Args {
    /// The library's run configuration.
    pub fn config(&self) -> HeterogeneousConfig {
        let run = &self.run;
        HeterogeneousConfig::new()
            .with_epochs(run.epochs.unwrap_or(10))
            .with_warmup_epochs(run.warmup_epochs)
            .with_batch_size(run.batch)
            .with_learning_rate(run.lr)
            .with_seed(run.seed)
            .with_latent_dim(self.zdim)
            .with_width(self.width)
            .with_layers(self.layers)
            .with_kl_weight(self.kl_weight)
            .with_density(run.density())
            .with_priors(run.priors())
            .with_noise_variance(run.noise_variance)
            .with_amplitude_from_data(run.a0.is_none())
            .with_encoder_input(self.encoder_input.into())
    }
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<Summary> {
    let (args, out, resume) = resolve(args, "train-vae")?;
    anyhow::ensure!(args.zdim >= 1, "--zdim must be at least 1");
    anyhow::ensure!(args.width >= 1 && args.layers >= 1, "--width and --layers must be at least 1");
    let run = &args.run;
    let init: Init = run.init.parse().with_context(|| format!("--init {}", run.init))?;
    let config = args.config();
    let device = rbf_train::Backend::from(run.device).device(true)?;
    let plain = rbf_train::Backend::from(run.device).device(false)?;
    // The truth of a heterogeneous run is a simulated motion, read below; not a single structure.
    let mut input_args = run.inputs.clone();
    input_args.truth = None;
    let mut inputs = input_args.load(&plain)?;
    if run.no_side_chains {
        inputs.model = inputs.model.without_side_chains();
    }
    let truth = match &run.inputs.truth {
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
    let start = run.start(&inputs.model, &init)?;
    validate(&config, &inputs.model, &start, &inputs.particles, truth.as_ref())?;
    if !resume {
        start_run_folder(&args, &out)?;
        if !run.quiet {
            println!("{}; latent dimension {}", inputs.describe(), args.zdim);
        }
    }
    let mut bar = EpochBar::new(run.quiet);
    interrupt::catch_ctrl_c();
    let result = train_vae(&config, &inputs.model, &start, &inputs.particles, truth.as_ref(), &device, &out, resume, &mut |p| {
        bar.update(p.epoch, p.epochs, p.step, p.steps, p.loss.total(), p.images_per_s);
        interrupt::flow()
    });
    bar.finish();
    let summary = result.map_err(|e| interrupt::explain(e, "train-vae", &out))?;
    if !run.quiet {
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
