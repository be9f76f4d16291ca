//! `cryorbf bench`: images per second of full training steps (forward, backward, Adam) on a
//! synthetic structure of a chosen size, on the CPU or a GPU.
use std::time::Instant;

use burn::optim::AdamConfig;
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rbf_model::builtin::helix_bundle;
use rbf_model::priors::{PriorConfig, Priors};
use rbf_model::{CoarseModel, ImageGrid, Poses, RbfDensityConfig};
use rbf_train::{HomogeneousTrainer, LossConfig};
use serde::Serialize;

use super::DeviceArg;

/// Which model's training step to time.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchModel {
    /// All centers, σ and a₀ learned directly.
    Homogeneous,
}

/// Arguments of `cryorbf bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model whose step is timed.
    #[arg(long, value_enum, default_value_t = BenchModel::Homogeneous)]
    pub model: BenchModel,
    /// Images per step.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Residues of the synthetic structure (about two RBFs each).
    #[arg(long, default_value_t = 141)]
    pub residues: usize,
    /// Box edge (pixels, 1 Å/pixel).
    #[arg(long = "box", default_value_t = 128)]
    pub box_size: usize,
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

/// What a benchmark measured.
#[derive(Debug, Serialize)]
pub struct BenchResult {
    /// The model.
    pub model: BenchModel,
    /// The backend.
    pub device: String,
    /// Images per step.
    pub batch: usize,
    /// Residues.
    pub residues: usize,
    /// RBFs.
    pub n_rbf: usize,
    /// Box edge (pixels).
    pub box_size: usize,
    /// Timed steps.
    pub steps: usize,
    /// Wall time of the timed steps (s).
    pub seconds: f64,
    /// Throughput.
    pub images_per_s: f64,
}

/// A synthetic protein of `residues` residues: a bundle of ideal helices of up to 24 residues.
pub fn synthetic_model(residues: usize) -> anyhow::Result<CoarseModel> {
    anyhow::ensure!(residues >= 2, "--residues must be at least 2, got {residues}");
    let per_helix = residues.min(24);
    let helices = residues.div_ceil(per_helix);
    let radius = (helices as f64 * 10.0 / std::f64::consts::TAU).max(8.0);
    let mut structure = helix_bundle(helices, per_helix, radius);
    structure.residues.truncate(residues);
    let mut model = CoarseModel::from_structure(&structure)?;
    let c = model.ca_centroid();
    model.translate([-c[0], -c[1], -c[2]]);
    Ok(model)
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<BenchResult> {
    anyhow::ensure!(args.batch > 0 && args.steps > 0, "--batch and --steps must be positive");
    let model = synthetic_model(args.residues)?;
    let grid = ImageGrid::new(args.box_size, 1.0)?;
    let device = rbf_train::Backend::from(args.device).device(true)?;
    let mut rng = StdRng::seed_from_u64(0);
    let d = args.box_size;
    let poses: Vec<Poses> = (0..4)
        .map(|_| {
            let rotations: Vec<[[f64; 3]; 3]> = (0..args.batch).map(|_| rbf_io::particles::euler_to_matrix(rng.random_range(0.0..360.0), rng.random_range(0.0..180.0), rng.random_range(0.0..360.0))).collect();
            let shifts: Vec<[f64; 2]> = (0..args.batch).map(|_| [rng.random_range(-5.0..5.0), rng.random_range(-5.0..5.0)]).collect();
            Poses::from_host(&rotations, &shifts, &device)
        })
        .collect();
    let images: Vec<f32> = (0..args.batch * d * d).map(|_| rng.random_range(-0.1..0.1)).collect();
    let images = Tensor::<3>::from_data(TensorData::new(images, [args.batch, d, d]), &device);
    let density = RbfDensityConfig::new().init(&model.centers, &model.electrons, &device);
    let priors = Priors::new(&model, PriorConfig::new(), &device);
    let mut trainer = HomogeneousTrainer::new(density, priors, LossConfig::new(), grid, &AdamConfig::new(), 1e-4);
    let mut step = |i: usize| trainer.step(&poses[i % poses.len()], images.clone());
    for i in 0..args.warmup {
        step(i);
    }
    // Every step reads its loss back to the host, so the device is synchronised inside the
    // timed region.
    let t0 = Instant::now();
    let mut last = 0.0;
    for i in 0..args.steps {
        last = step(i).total();
    }
    let seconds = t0.elapsed().as_secs_f64();
    anyhow::ensure!(last.is_finite(), "the benchmark's loss is not finite ({last})");
    let result = BenchResult {
        model: args.model,
        device: rbf_train::Backend::from(args.device).to_string(),
        batch: args.batch,
        residues: args.residues,
        n_rbf: model.n_rbf(),
        box_size: d,
        steps: args.steps,
        seconds,
        images_per_s: (args.steps * args.batch) as f64 / seconds,
    };
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
