//! `cryorbf analyze`: what a heterogeneous run learned — latent histogram (and a PCA view for
//! zdim > 1), a trajectory along the latent as a multi-model PDB, and with a simulated ground truth
//! the latent against the true coordinate (Spearman) and the Cα RMSE at every true coordinate
//! (the paper's Fig. 4).
use std::path::{Path, PathBuf};

use anyhow::Context;
use rbf_train::analysis::{StateTruth, VaeRun, analyze, markdown_table};

use super::DeviceArg;

/// Arguments of `cryorbf analyze`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Run folder of `cryorbf train-vae`.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
    /// Output folder [default: RUN/analysis].
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folder of the simulated motion the particles came from (states.npy, truth.pdb). Default:
    /// the run's particle folder, when it is one.
    #[arg(long, value_name = "DIR")]
    pub truth: Option<PathBuf>,
    /// Ignore any ground truth.
    #[arg(long, conflicts_with = "truth")]
    pub no_truth: bool,
    /// Also write the volume of every trajectory frame as MRC.
    #[arg(long)]
    pub volumes: bool,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

/// The particle folder recorded in the run's `args.json`, if it is a simulated motion.
fn recorded_simulation(run: &Path) -> Option<PathBuf> {
    let args: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("args.json")).ok()?).ok()?;
    let particles = PathBuf::from(args["particles"].as_str()?);
    let dir = if particles.is_dir() { particles } else { particles.parent()?.to_path_buf() };
    StateTruth::is_simulation(&dir).then_some(dir)
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let device = rbf_train::Backend::from(args.device).device(false)?;
    let run = VaeRun::open(&args.run, &device)?;
    let truth_dir = match (&args.truth, args.no_truth) {
        (_, true) => None,
        (Some(dir), false) => {
            anyhow::ensure!(StateTruth::is_simulation(dir), "--truth {}: no states.npy and truth.pdb there", dir.display());
            Some(dir.clone())
        }
        (None, false) => recorded_simulation(&args.run),
    };
    let truth = match &truth_dir {
        Some(dir) => Some(StateTruth::from_simulation(dir, &run.model).with_context(|| format!("ground truth in {}", dir.display()))?),
        None => None,
    };
    let out = args.out.clone().unwrap_or_else(|| args.run.join("analysis"));
    let summary = analyze(&run, truth.as_ref(), &out, args.volumes)?;
    let [p5, p50, p95] = summary.latent_percentiles;
    println!("{} particles, latent dimension {}: 5th/50th/95th percentile {p5:.3} / {p50:.3} / {p95:.3}", summary.particles, summary.latent_dim);
    if let (Some(rho), Some(rows)) = (summary.spearman, &summary.states) {
        println!("ground truth from {}\n", truth_dir.as_deref().unwrap_or(Path::new("?")).display());
        print!("{}", markdown_table(rows, rho));
    }
    let names: Vec<String> = summary.files.iter().map(|p| p.display().to_string()).collect();
    println!("wrote {}", names.join(", "));
    Ok(())
}
