//! The main job on a built-in protein, with no files needed: build a small helix bundle,
//! simulate noisy projections of its RBF density at known poses, start from a perturbed
//! structure, and refine the atoms against the images with Adam. Prints a before/after table and
//! writes the structures and the volume.
//!
//! ```bash
//! cargo run --release --example homogeneous
//! cargo run --release --example homogeneous -- --device wgpu --out my_run
//! ```
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::optim::AdamConfig;
use burn::prelude::*;
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal, UnitSphere};
use rbf_model::builtin::helix_bundle;
use rbf_model::metrics::{fraction_within, rmse};
use rbf_model::priors::{PriorConfig, Priors};
use rbf_model::{CoarseModel, ImageGrid, Poses, RbfDensityConfig};
use rbf_train::{Backend, HomogeneousTrainer, LossConfig};

/// Refine a perturbed helix bundle against simulated images.
#[derive(Parser, Debug)]
struct Args {
    /// Compute backend: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: Backend,
    /// Output folder.
    #[arg(long, default_value = "cryorbf_example_homogeneous")]
    out: PathBuf,
    /// Number of simulated images.
    #[arg(long, default_value_t = 2000)]
    images: usize,
    /// Epochs over the images.
    #[arg(long, default_value_t = 4)]
    epochs: usize,
    /// Signal-to-noise ratio of the images (signal variance / noise variance).
    #[arg(long, default_value_t = 0.1)]
    snr: f64,
    /// Largest displacement of each Cα in the perturbed start (Å).
    #[arg(long, default_value_t = 3.0)]
    perturbation: f64,
    /// Adam learning rate (Å per step, roughly).
    #[arg(long, default_value_t = 0.02)]
    lr: f64,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

const BOX: usize = 64;
const PIXEL: f64 = 1.0;
const BATCH: usize = 8;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let device = args.device.device(true)?;
    let plain = args.device.device(false)?;

    let mut truth = CoarseModel::from_structure(&helix_bundle(3, 16, 9.0))?;
    let c = truth.ca_centroid();
    truth.translate([-c[0], -c[1], -c[2]]);
    let grid = ImageGrid::new(BOX, PIXEL)?;
    grid.check_fits(&truth.centers, 8.0)?;
    println!("built-in helix bundle: {} residues, {} RBFs, box {BOX} px at {PIXEL} Å/px", truth.n_residues(), truth.n_rbf());

    // Simulated particles: uniform rotations, shifts of up to 3 px, Gaussian noise at the SNR.
    let t0 = Instant::now();
    let rotations: Vec<[[f64; 3]; 3]> = (0..args.images).map(|_| random_rotation(&mut rng)).collect();
    let shifts: Vec<[f64; 2]> = (0..args.images).map(|_| [rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0)]).collect();
    let true_density = RbfDensityConfig::new().init(&truth.centers, &truth.electrons, &plain);
    let clean: Vec<f32> = rotations
        .chunks(256)
        .zip(shifts.chunks(256))
        .flat_map(|(r, t)| to_vec(true_density.project(&Poses::from_host(r, t, &plain), &grid)))
        .collect();
    let signal_var = variance(&clean);
    let noise = Normal::new(0.0, (signal_var / args.snr).sqrt())?;
    let images: Vec<f32> = clean.iter().map(|&v| v + noise.sample(&mut rng) as f32).collect();
    println!("simulated {} images (SNR {}) in {:.1} s", args.images, args.snr, t0.elapsed().as_secs_f64());

    // A perturbed start: each Cα moved by up to `perturbation` Å; side chains start on their Cα.
    let mut start = truth.centers.clone();
    for &bb in &truth.backbone {
        let d: [f64; 3] = UnitSphere.sample(&mut rng);
        let r = args.perturbation * rng.random::<f64>().cbrt();
        start[bb] = std::array::from_fn(|k| truth.centers[bb][k] + r * d[k]);
    }
    for (i, &res) in truth.residue_of.iter().enumerate() {
        start[i] = start[truth.backbone[res]];
    }

    let density = RbfDensityConfig::new().init(&start, &truth.electrons, &device);
    let priors = Priors::new(&truth, PriorConfig::new(), &device);
    // The image term as the Gaussian negative log-likelihood of one image: Σ_pixels (x̂ − x)²/2σ_noise².
    let noise_var = signal_var / args.snr;
    let loss = LossConfig::new().with_image_weight((BOX * BOX) as f64 / (2.0 * noise_var));
    let mut trainer = HomogeneousTrainer::new(density, priors, loss, grid, &AdamConfig::new(), args.lr);

    let t0 = Instant::now();
    let mut order: Vec<usize> = (0..args.images).collect();
    for epoch in 0..args.epochs {
        shuffle(&mut order, &mut rng);
        let mut total = 0.0;
        for batch in order.chunks_exact(BATCH) {
            let r: Vec<_> = batch.iter().map(|&i| rotations[i]).collect();
            let t: Vec<_> = batch.iter().map(|&i| shifts[i]).collect();
            let x: Vec<f32> = batch.iter().flat_map(|&i| images[i * BOX * BOX..(i + 1) * BOX * BOX].iter().copied()).collect();
            let x = Tensor::from_data(TensorData::new(x, [BATCH, BOX, BOX]), &device);
            total += trainer.step(&Poses::from_host(&r, &t, &device), x).total();
        }
        let ca = truth.ca_positions(&trainer.density.centers_host());
        println!(
            "epoch {}: loss {:.4}, Cα RMSE {:.2} Å, {:.0} images/s",
            epoch + 1,
            total / (args.images / BATCH) as f64,
            rmse(&ca, &truth.ca_positions(&truth.centers)),
            ((epoch + 1) * args.images) as f64 / t0.elapsed().as_secs_f64()
        );
    }

    let true_ca = truth.ca_positions(&truth.centers);
    let start_ca = truth.ca_positions(&start);
    let final_centers = trainer.density.centers_host();
    let final_ca = truth.ca_positions(&final_centers);
    println!("\n| structure | Cα RMSE (Å) | % Cα within 3 Å |\n|---|---|---|");
    for (name, ca) in [("start", &start_ca), ("refined", &final_ca)] {
        println!("| {name} | {:.2} | {:.1} |", rmse(ca, &true_ca), 100.0 * fraction_within(ca, &true_ca, 3.0));
    }

    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    truth.write_models(&args.out.join("truth.pdb"), &[truth.centers.clone()])?;
    truth.write_models(&args.out.join("start.pdb"), &[start])?;
    truth.write_models(&args.out.join("model.pdb"), &[final_centers])?;
    let volume = to_vec(trainer.density.volume(&grid));
    rbf_io::mrc::write_volume(&args.out.join("volume.mrc"), &volume, BOX, PIXEL)?;
    println!("\nwrote truth.pdb, start.pdb, model.pdb and volume.mrc to {}", args.out.display());
    Ok(())
}

fn random_rotation(rng: &mut StdRng) -> [[f64; 3]; 3] {
    let q: [f64; 4] = std::array::from_fn(|_| Normal::new(0.0, 1.0).map(|n| n.sample(rng)).unwrap_or(1.0));
    let n = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    let [w, x, y, z] = q.map(|v| v / n);
    [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
        [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
        [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
    ]
}

fn shuffle(v: &mut [usize], rng: &mut StdRng) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.random_range(0..=i));
    }
}

fn variance(v: &[f32]) -> f64 {
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / v.len() as f64
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default()
}
