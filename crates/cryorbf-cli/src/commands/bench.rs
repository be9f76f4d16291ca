//! `cryorbf bench`: images per second of full training steps (forward, backward, Adam) on a
//! synthetic structure of a chosen size, on the CPU or a GPU. The steps and the timing are
//! [`rbf_train::bench`]'s.
use rbf_train::bench::{BenchConfig, BenchModel, BenchResult};

use super::DeviceArg;

/// Which model's training step to time.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum BenchModelArg {
    /// All centers, σ and a₀ learned directly.
    Homogeneous,
    /// The heterogeneous VAE: encoder, decoder and base density, as `train-vae` steps them.
    Vae,
}

impl From<BenchModelArg> for BenchModel {
    fn from(m: BenchModelArg) -> Self {
        match m {
            BenchModelArg::Homogeneous => BenchModel::Homogeneous,
            BenchModelArg::Vae => BenchModel::Vae,
        }
    }
}

/// Arguments of `cryorbf bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model whose step is timed.
    #[arg(long, value_enum, default_value_t = BenchModelArg::Homogeneous)]
    pub model: BenchModelArg,
    /// Images per step.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Residues of the synthetic structure (about two RBFs each).
    #[arg(long, default_value_t = 141)]
    pub residues: usize,
    /// Box edge (pixels, 1 Å/pixel).
    #[arg(long = "box", default_value_t = 128)]
    pub box_size: usize,
    /// Latent dimension of the VAE (ignored for the homogeneous model).
    #[arg(long, default_value_t = 1)]
    pub zdim: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// Untimed warm-up steps (shader compilation, allocator warm-up).
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Print one JSON line instead of a sentence.
    #[arg(long)]
    pub json: bool,
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<BenchResult> {
    let config = BenchConfig::new()
        .with_batch(args.batch)
        .with_residues(args.residues)
        .with_box_size(args.box_size)
        .with_latent_dim(args.zdim)
        .with_steps(args.steps)
        .with_warmup(args.warmup);
    let result = rbf_train::bench::run(args.model.into(), &config, args.device.into())?;
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        println!(
            "{:?} step on {}: batch {}, {} residues ({} RBFs), box {}: {:.0} images/s ({} steps in {:.2} s)",
            result.model, result.device, result.batch, result.residues, result.n_rbf, result.box_size, result.images_per_s, result.steps, result.seconds
        );
    }
    Ok(result)
}
