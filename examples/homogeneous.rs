//! The main job on a built-in protein, with no files needed: build a small helix bundle, simulate
//! a particle stack of it exactly as `cryorbf simulate` does (all-atom ground truth, uniform
//! poses, noise), start from a deformed structure, and refine the atoms against the images with
//! the same training loop as `cryorbf train`. Prints a before/after table; writes the dataset and
//! the run folder.
//!
//! ```bash
//! cargo run --release --example homogeneous
//! cargo run --release --example homogeneous -- --device wgpu --out my_run
//! ```
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use cryorbf::model::builtin::helix_bundle;
use cryorbf::model::init::{Init, initial_centers};
use cryorbf::model::{ChainSelection, CoarseModel, ImageGrid, Structure};
use cryorbf::sim::SimulationConfig;
use cryorbf::train::Backend;
use cryorbf::train::data::{FileParticles, ParticleSource};
use cryorbf::train::homogeneous::{HomogeneousConfig, train};
use cryorbf::train::truth::Truth;

/// Refine a deformed helix bundle against simulated images.
#[derive(Parser, Debug)]
struct Args {
    /// Compute backend: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: Backend,
    /// Output folder (the dataset goes to data/, the run to run/).
    #[arg(long, default_value = "cryorbf_example_homogeneous")]
    out: PathBuf,
    /// Number of simulated images.
    #[arg(long, default_value_t = 10_000)]
    images: usize,
    /// Epochs after the warm-up.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Signal-to-noise ratio of the images (signal variance / noise variance).
    #[arg(long, default_value_t = 0.1)]
    snr: f64,
    /// The start: exact, noise:<Å>, approx:<Å> or random:<Å>.
    #[arg(long, default_value = "approx:3")]
    init: Init,
    /// Adam learning rate.
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    /// Random seed of the dataset, the start and the shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

const BOX: usize = 64;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;

    // A three-helix bundle, written as an all-atom PDB file like any user's structure.
    let bundle = helix_bundle(3, 16, 9.0);
    let structure_file = args.out.join("helix_bundle.pdb");
    let atoms = cryorbf::sim::all_atom::collect_atoms(&bundle, false, false);
    let positions: Vec<[f64; 3]> = atoms.iter().map(|a| a.position).collect();
    cryorbf::sim::pdb::write_models(&structure_file, &atoms, &[positions], &["built-in helix bundle".to_string()])?;

    // The particles, as `cryorbf simulate` writes them.
    let data = args.out.join("data");
    let t0 = Instant::now();
    let sim = SimulationConfig {
        structure: structure_file.clone(),
        out_dir: data.clone(),
        force: true,
        n_images: args.images,
        box_size: BOX,
        max_shift: 3.0,
        snr: args.snr,
        seed: args.seed,
        ..SimulationConfig::default()
    };
    let plain = args.device.device(false)?;
    let summary = cryorbf::sim::simulate(&sim, &plain, |_| {})?;
    println!(
        "built-in helix bundle: {} atoms; simulated {} images (box {BOX}, 1 Å/px, SNR {}) in {:.1} s",
        summary.n_atoms,
        args.images,
        args.snr,
        t0.elapsed().as_secs_f64()
    );

    // The reference in the box frame, its truth, and a deformed start.
    let table = cryorbf::io::ParticleTable::from_star(data.join("particles.star"), None)?;
    let particles = FileParticles::new(&table)?;
    let structure = Structure::read(&structure_file, &ChainSelection::All)?;
    let mut model = CoarseModel::from_structure(&structure)?;
    model.translate(summary.translation);
    let grid = ImageGrid::new(particles.box_size(), particles.pixel_size())?;
    let truth_structure = Structure::read(&data.join("truth.pdb"), &ChainSelection::All)?;
    let truth = Truth::from_structure(&model, &truth_structure)?.with_molmap(&truth_structure, sim.resolution, &grid, &plain)?;
    let start = initial_centers(&model, &model.centers, &args.init, args.seed)?;
    println!("{} residues → {} RBFs; start {}", model.n_residues(), model.n_rbf(), args.init);

    let config = HomogeneousConfig::new().with_epochs(args.epochs).with_learning_rate(args.lr).with_seed(args.seed);
    let run = args.out.join("run");
    if run.exists() {
        std::fs::remove_dir_all(&run).with_context(|| format!("cannot replace {}", run.display()))?;
    }
    let device = args.device.device(true)?;
    let mut last_epoch = 0;
    let result = train(&config, &model, &start, &particles, Some(&truth), &device, &run, false, &mut |p| {
        if p.step == p.steps && p.epoch != last_epoch {
            last_epoch = p.epoch;
            println!("epoch {}/{}: loss {:.1}, {:.0} images/s", p.epoch, p.epochs, p.loss.total(), p.images_per_s);
        }
        std::ops::ControlFlow::Continue(())
    })?;

    println!("\n| structure | Cα RMSE (Å) | after superposition (Å) | % Cα within 3 Å | volume NMSE |\n|---|---|---|---|---|");
    for (name, a) in [("start", result.initial), ("refined", result.final_accuracy)] {
        if let Some(a) = a {
            let nmse = a.volume_nmse.map_or("–".into(), |v| format!("{v:.3}"));
            println!("| {name} | {:.2} | {:.2} | {:.1} | {nmse} |", a.ca_rmse, a.ca_rmse_superposed, a.percent_within_3a);
        }
    }
    println!("σ {:.2} Å, a₀ {:.3}; {:.1} s of training", result.sigma, result.amplitude_scale, result.train_seconds);
    println!("\nwrote the dataset to {} and the run (model.pdb, model.cif, volume.mrc, log.jsonl, metrics.json) to {}", data.display(), run.display());
    Ok(())
}
