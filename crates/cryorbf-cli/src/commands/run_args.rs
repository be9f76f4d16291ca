//! The arguments every training command shares (`train`, `train-vae`): inputs, start, schedule,
//! priors, device, output folder and `--resume`; and the one way a run folder is started or
//! resumed.
use std::path::PathBuf;

use anyhow::Context;
use rbf_model::init::{Init, initial_centers, side_chains_in_frames};
use rbf_model::{CoarseModel, RbfDensityConfig};
use rbf_model::priors::PriorConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DeviceArg;
use super::inputs::{InputArgs, prepare_out_dir};

/// The file in a run folder that holds the command's arguments, for `--resume`.
pub const ARGS_FILE: &str = "args.json";

/// Arguments shared by the training commands.
#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub inputs: InputArgs,
    /// Initial centers: exact, noise:<Å> (uniform noise on each Cα), approx:<Å> (an elastic-network
    /// deformation at that Cα RMSD), random:<Å> (Cα uniform in a cube of that edge).
    #[arg(long, default_value = "exact", value_name = "MODE")]
    pub init: String,
    /// Where the side-chain RBFs of a moved start (noise, approx, random) begin.
    #[arg(long, value_enum, default_value_t = SideChainStart::Ca)]
    #[serde(default)]
    pub side_chain_start: SideChainStart,
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
    /// Seed of the initialization, the shuffling and (for the VAE) the weights and latent noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Strength of the harmonic Cα–Cα bonds (0 turns them off).
    #[arg(long, default_value_t = 1.0)]
    pub bond_strength: f64,
    /// Strength of the one-sided side-chain bounds (0 turns them off).
    #[arg(long, default_value_t = 1.0)]
    pub side_chain_strength: f64,
    /// Strength of the steric prior that keeps non-bonded Cα at least 4 Å apart (4.8 Å for Cα
    /// bonded to a common Cα); 0, the paper's model, turns it off.
    #[arg(long, default_value_t = 0.0)]
    #[serde(default)]
    pub steric_strength: f64,
    /// Strength of the side-chain frame prior that holds each side chain at the reference's
    /// distances to the Cα of residues i−2 … i+2 (its place in the local frame of the chain); 0,
    /// the paper's model, turns it off. From a moved start, use it with --side-chain-start frame.
    #[arg(long, default_value_t = 0.0)]
    #[serde(default)]
    pub side_chain_frame_strength: f64,
    /// Strength of the backbone frame prior that holds each Cα at the reference's distances to
    /// the Cα 2, 3 and 4 residues along the chain (the chain's local shape, as reference-model
    /// restraints do); 0, the paper's model, turns it off.
    #[arg(long, default_value_t = 0.0)]
    #[serde(default)]
    pub backbone_frame_strength: f64,
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

/// Where the side-chain RBFs of a moved start begin.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SideChainStart {
    /// At their residue's Cα (the paper's start).
    #[default]
    Ca,
    /// Where the reference puts them relative to the three Cα around their residue, rebuilt on
    /// the moved Cα trace.
    Frame,
}

impl RunArgs {
    /// The initial centers of `model` for `init` (the parsed `--init`), `--seed` and
    /// `--side-chain-start`.
    pub fn start(&self, model: &CoarseModel, init: &Init) -> anyhow::Result<Vec<[f64; 3]>> {
        let start = initial_centers(model, &model.centers, init, self.seed)?;
        Ok(match self.side_chain_start {
            SideChainStart::Ca => start,
            SideChainStart::Frame => side_chains_in_frames(model, &model.centers, &start)?,
        })
    }

    /// The initial σ and a₀.
    pub fn density(&self) -> RbfDensityConfig {
        let density = RbfDensityConfig::new().with_sigma(self.sigma);
        match self.a0 {
            Some(a0) => density.with_amplitude_scale(a0),
            None => density,
        }
    }

    /// The bond and side-chain prior strengths.
    pub fn priors(&self) -> PriorConfig {
        PriorConfig::new()
            .with_bond_strength(self.bond_strength)
            .with_side_chain_strength(self.side_chain_strength)
            .with_steric_strength(self.steric_strength)
            .with_side_chain_frame_strength(self.side_chain_frame_strength)
            .with_backbone_frame_strength(self.backbone_frame_strength)
    }
}

/// A command's arguments with their shared part.
pub trait HasRunArgs: Clone + Serialize + DeserializeOwned {
    /// The shared part.
    fn run_args(&self) -> &RunArgs;
    /// The shared part, to change it.
    fn run_args_mut(&mut self) -> &mut RunArgs;
}

/// The arguments to run with, the run folder, and whether the run is resumed: with `--resume DIR`
/// the arguments saved in `DIR` (with `--epochs` and `--quiet` from the command line), else the
/// given ones and `--out`. A run folder without a checkpoint (the run was stopped before it could
/// save one) is started again from the beginning.
///
/// # Errors
/// When the saved arguments cannot be read (naming the file and the `command` they should be
/// from), or `--out` is missing.
pub fn resolve<A: HasRunArgs>(args: &A, command: &str) -> anyhow::Result<(A, PathBuf, bool)> {
    let given = args.run_args();
    match &given.resume {
        Some(dir) => {
            let path = dir.join(ARGS_FILE);
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot resume: {} is not readable", path.display()))?;
            let mut saved: A =
                serde_json::from_str(&text).with_context(|| format!("cannot resume: {} is not a `cryorbf {command}` record", path.display()))?;
            let shared = saved.run_args_mut();
            if given.epochs.is_some() {
                shared.epochs = given.epochs;
            }
            shared.quiet = given.quiet;
            if !rbf_train::has_checkpoint(dir) {
                if !shared.quiet {
                    println!("{} holds no checkpoint yet (the run stopped before its first step); starting it again", dir.display());
                }
                shared.force = true;
                return Ok((saved, dir.clone(), false));
            }
            Ok((saved, dir.clone(), true))
        }
        None => {
            let out = given.out.clone().context("--out is required")?;
            Ok((args.clone(), out, false))
        }
    }
}

/// Start a new run folder: refuse a used one (unless `--force`), then save the arguments.
///
/// # Errors
/// When the folder is in use or cannot be written.
pub fn start_run_folder<A: HasRunArgs>(args: &A, out: &std::path::Path) -> anyhow::Result<()> {
    prepare_out_dir(out, args.run_args().force)?;
    let json = serde_json::to_vec_pretty(args)?;
    rbf_io::atomic::write_atomically(&out.join(ARGS_FILE), |w| std::io::Write::write_all(w, &json))?;
    Ok(())
}
