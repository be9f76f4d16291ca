//! `cryorbf train`: homogeneous reconstruction — refine every RBF center, σ and a₀ of a
//! reference against particles with known poses (paper §3, §4.1).
use anyhow::Context;
use rbf_model::init::Init;
use rbf_train::data::ParticleSource;
use rbf_train::homogeneous::{HomogeneousConfig, Summary, output_files, train, validate};

use super::interrupt;
use super::progress::EpochBar;
use super::run_args::{HasRunArgs, RunArgs, resolve, start_run_folder};

/// Arguments of `cryorbf train`.
#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Args {
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
    /// Weight of the image term (0 trains on the priors alone).
    #[arg(long, default_value_t = 1.0)]
    pub image_weight: f64,
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
    /// Model each particle's CTF (RELION's convention, from the particle file): auto = on when
    /// every particle has CTF parameters; on = required of every particle; off = compare the
    /// projections with the images as they are.
    #[arg(long, value_enum, default_value_t = CtfMode::Auto)]
    #[serde(default = "CtfMode::off")]
    pub ctf: CtfMode,
    /// Units in which Adam learns the centers, which sets how far --lr moves them per step:
    /// box = fractions of the box length (coordinates normalized to the box, as in cryoDRGN-style
    /// code: up to lr × box length Å per step); angstrom = Å (up to lr Å per step).
    #[arg(long, value_enum, default_value_t = LrUnits::Box)]
    #[serde(default = "LrUnits::angstrom")]
    pub lr_units: LrUnits,
    /// Where the frame priors (--side-chain-frame-strength, --backbone-frame-strength) take their
    /// distances:
    /// reference = the reference structure; start = the start (its Cα trace with the reference's
    /// side chains rebuilt in its local frames), the honest choice when the reference is the
    /// truth of a benchmark and the start a moved copy of it.
    #[arg(long, value_enum, default_value_t = FrameFrom::Reference)]
    #[serde(default)]
    pub side_chain_frame_from: FrameFrom,
}

/// Where the frame priors take their distances.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameFrom {
    /// The reference structure.
    #[default]
    Reference,
    /// The start.
    Start,
}

/// The units of the centers for Adam.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrUnits {
    /// Fractions of the box length.
    Box,
    /// Ångström.
    Angstrom,
}

impl LrUnits {
    /// Run folders written before `--lr-units` existed learned in Å.
    fn angstrom() -> Self {
        LrUnits::Angstrom
    }

    /// The factor on the learning rate of the centers for a box of `box_length` Å.
    pub fn center_lr_scale(self, box_length: f64) -> f64 {
        match self {
            LrUnits::Box => box_length,
            LrUnits::Angstrom => 1.0,
        }
    }
}

/// Whether `cryorbf train` models the CTF.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CtfMode {
    /// On when every particle has CTF parameters.
    Auto,
    /// On; every particle must have CTF parameters.
    On,
    /// Off.
    Off,
}

impl CtfMode {
    /// Run folders written before `--ctf` existed trained without the CTF.
    fn off() -> Self {
        CtfMode::Off
    }

    /// Whether the CTF is on for `particles`.
    pub fn resolve(self, particles: &dyn ParticleSource) -> bool {
        match self {
            CtfMode::Auto => {
                if let Some((with, first)) = rbf_train::ctf::partial_ctf(particles) {
                    eprintln!(
                        "warning: only {with} of {} particles carry CTF parameters (particle {} is the first without: is a CTF column missing from its optics group?); training without the CTF (--ctf on would refuse)",
                        particles.len(),
                        first + 1
                    );
                }
                rbf_train::ctf::has_ctf(particles)
            }
            CtfMode::On => true,
            CtfMode::Off => false,
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
    pub fn config(&self) -> HomogeneousConfig {
        let run = &self.run;
        HomogeneousConfig::new()
            .with_epochs(run.epochs.unwrap_or(10))
            .with_warmup_epochs(run.warmup_epochs)
            .with_batch_size(run.batch)
            .with_learning_rate(run.lr)
            .with_seed(run.seed)
            .with_density(run.density())
            .with_priors(run.priors())
            .with_noise_variance(run.noise_variance)
            .with_amplitude_from_data(run.a0.is_none())
            .with_image_loss_weight(self.image_weight)
            .with_coarse_sigma(self.coarse_sigma)
            .with_anneal_noise(self.anneal_noise)
            .with_schedule_epochs(self.schedule_epochs)
            .with_frame_from_start(self.side_chain_frame_from == FrameFrom::Start)
    }
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<Summary> {
    let (args, out, resume) = resolve(args, "train")?;
    let run = &args.run;
    let init: Init = run.init.parse().with_context(|| format!("--init {}", run.init))?;
    let config = args.config();
    let device = rbf_train::Backend::from(run.device).device(true)?;
    let plain = rbf_train::Backend::from(run.device).device(false)?;
    let mut inputs = run.inputs.load(&plain)?;
    if run.no_side_chains {
        inputs.model = inputs.model.without_side_chains();
    }
    let start = run.start(&inputs.model, &init)?;
    let box_length = inputs.particles.box_size() as f64 * inputs.particles.pixel_size();
    let config = config
        .with_ctf(args.ctf.resolve(&inputs.particles))
        .with_center_lr_scale(args.lr_units.center_lr_scale(box_length));
    validate(&config, &inputs.model, &start, &inputs.particles).with_context(|| {
        let particles = run.inputs.particles.as_deref().unwrap_or(std::path::Path::new("the particles"));
        format!("training on {}", particles.display())
    })?;
    if !resume {
        start_run_folder(&args, &out)?;
        if !run.quiet {
            println!("{}; init {init}; CTF {}", inputs.describe(), if config.ctf { "on" } else { "off" });
        }
    }
    let mut bar = EpochBar::new(run.quiet);
    interrupt::catch_ctrl_c();
    let result = train(&config, &inputs.model, &start, &inputs.particles, inputs.truth.as_ref(), &device, &out, resume, &mut |p| {
        bar.update(p.epoch, p.epochs, p.step, p.steps, p.loss.total(), p.images_per_s);
        interrupt::flow()
    });
    bar.finish();
    let summary = result.map_err(|e| interrupt::explain(e, "train", &out))?;
    if !run.quiet {
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
