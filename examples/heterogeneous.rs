//! Heterogeneous reconstruction on a built-in protein, with no files needed: build a small helix
//! bundle, move it with a 1-D motion (one backbone ψ dihedral rotated through an angle, as in the
//! paper's §4.2, with the simulator's motion), simulate noisy projections of each state's RBF
//! density at known poses with the particles spread evenly over the motion, train the VAE from the
//! state-0 structure, and analyse what it learned: the Spearman correlation of the latent with the
//! true coordinate and the Cα RMSE at each true coordinate of the structure at the median latent
//! there (the paper's Fig. 4). The images are of the coarse-grained model itself, so the numbers
//! measure the recovery of the motion, not the fit of two RBFs per residue to all-atom density.
//!
//! ```bash
//! cargo run --release --example heterogeneous
//! cargo run --release --example heterogeneous -- --device wgpu --images 20000 --out my_run
//! ```
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use rbf_model::builtin::helix_bundle;
use rbf_model::metrics::rmse;
use rbf_model::priors::PriorConfig;
use rbf_model::{CoarseModel, ImageGrid, Poses, RbfDensityConfig, Structure};
use rbf_sim::rotations::uniform_rotation;
use rbf_sim::{DihedralAngle, DihedralMotion, GroundTruth, Motion, ParticleParams, SimulationConfig};
use rbf_train::Backend;
use rbf_train::analysis::{StateTruth, VaeRun, analyze, markdown_table};
use rbf_train::data::InMemoryParticles;
use rbf_train::heterogeneous::{HeterogeneousConfig, train_vae};

/// Learn a dihedral motion of a helix bundle from simulated images.
#[derive(Parser, Debug)]
struct Args {
    /// Compute backend: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: Backend,
    /// Output folder (the run; the analysis goes to its `analysis/`).
    #[arg(long, default_value = "cryorbf_example_heterogeneous")]
    out: PathBuf,
    /// Number of simulated images.
    #[arg(long, default_value_t = 8000)]
    images: usize,
    /// Epochs after the warm-up.
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Signal-to-noise ratio of the images (signal variance / noise variance).
    #[arg(long, default_value_t = 1.0)]
    snr: f64,
    /// Total rotation of the ψ dihedral from the first to the last state (radians).
    #[arg(long, default_value_t = 1.5)]
    angle: f64,
    /// Residue number (in chain A) whose ψ the motion rotates; the rest of the helix swings.
    #[arg(long, default_value_t = 4)]
    hinge: isize,
    /// States along the motion.
    #[arg(long, default_value_t = 20)]
    states: usize,
    /// Latent dimension.
    #[arg(long, default_value_t = 1)]
    zdim: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 3e-4)]
    lr: f64,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

const BOX: usize = 48;
const PIXEL: f64 = 1.0;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let t_all = Instant::now();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let device = args.device.device(true)?;
    let plain = args.device.device(false)?;

    // The motion: the ψ of residue `hinge` of chain A rotated through `angle` in `states` steps; the all-atom
    // ground truth of every state, centred on the Cα centroid of state 0.
    let structure = helix_bundle(3, 12, 8.0);
    let sim = SimulationConfig {
        box_size: BOX,
        pixel_size: PIXEL,
        motion: Some(Motion::Dihedral(DihedralMotion { residue: Some(args.hinge), angle: DihedralAngle::Psi, total: args.angle, states: args.states })),
        ..SimulationConfig::default()
    };
    let truth = GroundTruth::from_structure(&structure, &sim)?;
    let mut model = CoarseModel::from_structure(&structure)?;
    model.translate(truth.translation);
    let grid = ImageGrid::new(BOX, PIXEL)?;
    grid.check_fits(&model.centers, 4.0)?;
    let site = truth.motion_site.as_ref().context("the simulator built no motion")?;
    println!(
        "built-in helix bundle: {} residues, {} RBFs; motion: ψ of {} {}{} through {} rad in {} states; box {BOX} px at {PIXEL} Å/px",
        model.n_residues(),
        model.n_rbf(),
        site.residue_name,
        site.chain,
        site.residue_number,
        args.angle,
        args.states
    );

    // Particles spread evenly over the states, at uniform rotations with shifts of up to 2 px,
    // and Gaussian noise at the SNR.
    let t0 = Instant::now();
    let particles: Vec<ParticleParams> = (0..args.images)
        .map(|i| ParticleParams {
            rotation: uniform_rotation(&mut rng),
            shift: [rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)],
            state: i % args.states,
            ctf: None,
        })
        .collect();
    // Each state's coarse-grained model (its atoms moved by the motion, then coarse-grained), and
    // images of its RBF density: the data the model can represent exactly, so that what is
    // measured is how well the VAE recovers the motion.
    let state_centers: Vec<Vec<[f64; 3]>> =
        truth.states.iter().map(|positions| state_model(&structure, &truth, positions).map(|m| m.centers)).collect::<anyhow::Result<_>>()?;
    let mut clean = vec![0.0f32; args.images * BOX * BOX];
    for (s, centers) in state_centers.iter().enumerate() {
        let members: Vec<usize> = (0..args.images).filter(|&i| particles[i].state == s).collect();
        let density = RbfDensityConfig::new().init(centers, &model.electrons, &plain);
        for chunk in members.chunks(256) {
            let rotations: Vec<_> = chunk.iter().map(|&i| particles[i].rotation).collect();
            let shifts: Vec<_> = chunk.iter().map(|&i| particles[i].shift).collect();
            let images = density.project(&Poses::from_host(&rotations, &shifts, &plain), &grid);
            let values = images.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
            for (k, &i) in chunk.iter().enumerate() {
                clean[i * BOX * BOX..(i + 1) * BOX * BOX].copy_from_slice(&values[k * BOX * BOX..(k + 1) * BOX * BOX]);
            }
        }
    }
    let signal_var = variance(&clean);
    let noise = Normal::new(0.0, (signal_var / args.snr).sqrt())?;
    let images: Vec<f32> = clean.iter().map(|&v| v + noise.sample(&mut rng) as f32).collect();
    let data = InMemoryParticles {
        images,
        rotations: particles.iter().map(|p| p.rotation).collect(),
        shifts: particles.iter().map(|p| p.shift).collect(),
        box_size: BOX,
        pixel_size: PIXEL,
        ctf: Vec::new(),
    };
    let state_truth = StateTruth {
        states_ca: state_centers.iter().map(|c| model.ca_positions(c)).collect(),
        coordinates: truth.reaction_coordinates.clone(),
        particle_states: particles.iter().map(|p| p.state).collect(),
    };
    let span = rmse(&state_truth.states_ca[0], &state_truth.states_ca[args.states - 1]);
    println!(
        "simulated {} images (SNR {}) in {:.1} s; the two ends of the motion differ by {span:.2} Å Cα RMSE",
        args.images,
        args.snr,
        t0.elapsed().as_secs_f64()
    );

    // Train from the state-0 structure (the paper's setting), then analyse.
    let config = HeterogeneousConfig::new()
        .with_epochs(args.epochs)
        .with_latent_dim(args.zdim)
        .with_learning_rate(args.lr)
        .with_seed(args.seed)
        .with_priors(PriorConfig::new())
        .with_noise_variance(Some(signal_var / args.snr));
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let summary = train_vae(&config, &model, &model.centers, &data, Some(&state_truth), &device, &args.out, false, &mut |p| {
        if p.step == p.steps {
            println!("epoch {}/{}: loss {:.2}, {:.0} images/s", p.epoch, p.epochs, p.loss.total(), p.images_per_s);
        }
        std::ops::ControlFlow::Continue(())
    })?;
    let log = std::fs::read_to_string(args.out.join("log.jsonl"))?;
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let a = &v["accuracy"];
        println!(
            "  after epoch {}: Spearman {:.3}, mean Cα RMSE {:.2} Å, max {:.2} Å",
            v["epoch"],
            a["spearman"].as_f64().unwrap_or(f64::NAN),
            a["mean_ca_rmse"].as_f64().unwrap_or(f64::NAN),
            a["max_ca_rmse"].as_f64().unwrap_or(f64::NAN)
        );
    }
    println!("trained {} epochs in {:.1} s", summary.epochs, summary.train_seconds);

    let run = VaeRun::open(&args.out, &plain)?;
    let analysis = analyze(&run, Some(&state_truth), &args.out.join("analysis"), false)?;
    let rows = analysis.states.unwrap_or_default();
    let rho = analysis.spearman.unwrap_or(f64::NAN);
    println!("\n{}", markdown_table(&rows, rho));
    let start_rmse: Vec<f64> = state_truth.states_ca.iter().map(|ca| rmse(&model.ca_positions(&model.centers), ca)).collect();
    let errors: Vec<f64> = rows.iter().filter_map(|r| r.ca_rmse).collect();
    println!(
        "Spearman ρ = {rho:.3}; Cα RMSE at the true coordinates: mean {:.2} Å, max {:.2} Å (the state-0 start: mean {:.2} Å, max {:.2} Å)",
        errors.iter().sum::<f64>() / errors.len().max(1) as f64,
        errors.iter().copied().fold(0.0, f64::max),
        start_rmse.iter().sum::<f64>() / start_rmse.len() as f64,
        start_rmse.iter().copied().fold(0.0, f64::max)
    );
    println!("wrote the run to {} and the analysis to {}", args.out.display(), args.out.join("analysis").display());
    println!("total time {:.1} s", t_all.elapsed().as_secs_f64());
    Ok(())
}

/// The coarse-grained model of one state of the simulator's ground truth: `structure` with every
/// atom at its position in that state (box frame).
fn state_model(structure: &Structure, truth: &GroundTruth, positions: &[[f64; 3]]) -> anyhow::Result<CoarseModel> {
    let mut moved = structure.clone();
    for (atom, p) in truth.atoms.iter().zip(positions) {
        let target = moved.residues[atom.residue].atoms.iter_mut().find(|a| a.name == atom.name).context("an atom of the truth is missing")?;
        target.position = *p;
    }
    Ok(CoarseModel::from_structure(&moved)?)
}

fn variance(v: &[f32]) -> f64 {
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / v.len() as f64
}
