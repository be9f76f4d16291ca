//! The whole homogeneous run: it improves a perturbed start, writes its run folder, and a resumed
//! run ends exactly where an uninterrupted one does.
use std::ops::ControlFlow;

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rbf_model::builtin::helix_bundle;
use rbf_model::priors::PriorConfig;
use rbf_model::{CoarseModel, ImageGrid, Poses, RbfDensityConfig};
use rbf_train::data::InMemoryParticles;
use rbf_train::homogeneous::{HomogeneousConfig, Progress, Summary, Truth, train};
use rbf_train::{Backend, TrainError};

const BOX: usize = 40;
const SIGMA: f64 = 2.0;

fn rotation(rng: &mut StdRng) -> [[f64; 3]; 3] {
    let q: [f64; 4] = std::array::from_fn(|_| rng.random_range(-1.0..1.0f64));
    let n = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    let [w, x, y, z] = q.map(|v| v / n);
    [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
        [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
        [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
    ]
}

/// A two-helix bundle, 96 nearly noiseless images of it (RBFs of σ = 2 Å, sharper than the
/// default so that a few steps suffice), and a start with every center moved by up to 1.5 Å.
fn setup() -> (CoarseModel, InMemoryParticles, Vec<[f64; 3]>) {
    let mut model = CoarseModel::from_structure(&helix_bundle(2, 8, 8.0)).unwrap();
    let c = model.ca_centroid();
    model.translate([-c[0], -c[1], -c[2]]);
    let mut rng = StdRng::seed_from_u64(5);
    let n = 96;
    let rotations: Vec<_> = (0..n).map(|_| rotation(&mut rng)).collect();
    let shifts: Vec<[f64; 2]> = (0..n).map(|_| [rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)]).collect();
    let device = Device::flex();
    let grid = ImageGrid::new(BOX, 1.0).unwrap();
    let truth = RbfDensityConfig::new().with_sigma(SIGMA).init(&model.centers, &model.electrons, &device);
    let clean = truth.project(&Poses::from_host(&rotations, &shifts, &device), &grid);
    let mut images = clean.into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    for v in &mut images {
        *v += rng.random_range(-0.01..0.01f32);
    }
    let mut start = model.centers.clone();
    for c in &mut start {
        *c = std::array::from_fn(|k| c[k] + rng.random_range(-1.5..1.5));
    }
    let data = InMemoryParticles { images, rotations, shifts, box_size: BOX, pixel_size: 1.0, ctf: Vec::new() };
    (model, data, start)
}

fn config(epochs: usize) -> HomogeneousConfig {
    HomogeneousConfig::new()
        .with_epochs(epochs)
        .with_learning_rate(0.05)
        .with_density(RbfDensityConfig::new().with_sigma(SIGMA))
        .with_priors(PriorConfig::new().with_bond_strength(0.1).with_side_chain_strength(0.1))
        .with_noise_variance(Some(1e-4))
}

/// Every option beyond the paper's settings on.
fn beyond_the_paper(config: HomogeneousConfig) -> HomogeneousConfig {
    let priors = config.priors.clone().with_steric_strength(0.1).with_side_chain_frame_strength(0.1).with_backbone_frame_strength(0.1);
    config
        .with_coarse_sigma(3.0)
        .with_anneal_noise(0.05)
        .with_center_lr_scale(0.5)
        .with_frame_from_start(true)
        .with_priors(priors)
}

fn run(config: &HomogeneousConfig, out: &std::path::Path, resume: bool) -> Result<Summary, TrainError> {
    let (model, data, start) = setup();
    let truth = Truth { ca: model.ca_positions(&model.centers), volume: None };
    let device = Backend::Cpu.device(true)?;
    train(config, &model, &start, &data, Some(&truth), &device, out, resume, &mut |_| ControlFlow::Continue(()))
}

#[test]
fn training_improves_the_start_and_writes_the_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let summary = run(&config(10), dir.path(), false).unwrap();
    let initial = summary.initial.unwrap();
    let last = summary.final_accuracy.unwrap();
    assert!(initial.ca_rmse > 0.7, "the start is perturbed: {initial:?}");
    assert!(last.ca_rmse < 0.5 * initial.ca_rmse, "training must at least halve the Cα RMSE: {initial:?} → {last:?}");
    assert_eq!(summary.epochs, 11, "one warm-up epoch plus ten");
    for file in ["model.pdb", "model.cif", "volume.mrc", "metrics.json", "log.jsonl", "config.json", "checkpoint/state.json"] {
        assert!(dir.path().join(file).is_file(), "{file} is missing");
    }
    let log = std::fs::read_to_string(dir.path().join("log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 11);
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(first["warmup"], true);
    let model = rbf_model::Structure::read(&dir.path().join("model.pdb"), &rbf_model::ChainSelection::All).unwrap();
    assert_eq!(model.residues.len(), 16, "model.pdb holds one CA per residue");
    let volume = rbf_io::mrc::read_volume(dir.path().join("volume.mrc")).unwrap();
    assert_eq!(volume.shape, (BOX, BOX, BOX));
}

#[test]
fn the_warm_up_resets_the_centers_to_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let summary = run(&config(0), dir.path(), false).unwrap();
    // After the warm-up alone the centers are the start again, while σ has been refined.
    assert!((summary.final_accuracy.unwrap().ca_rmse - summary.initial.unwrap().ca_rmse).abs() < 1e-6);
    assert!((summary.sigma - SIGMA).abs() > 1e-3, "σ was refined: {}", summary.sigma);
}

#[test]
fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let whole = tempfile::tempdir().unwrap();
    let split = tempfile::tempdir().unwrap();
    // With coarse-to-fine σ, annealing noise, a learning-rate scale of the centers, the steric
    // prior and the side-chain frame prior (distances from the start) on, whose schedules, draws
    // and state must resume too.
    let c = |epochs| beyond_the_paper(config(epochs));
    let a = run(&c(3), whole.path(), false).unwrap();
    run(&c(1), split.path(), false).unwrap();
    let b = run(&c(3), split.path(), true).unwrap();
    assert_eq!(a.epochs, b.epochs);
    let (fa, fb) = (a.final_accuracy.unwrap(), b.final_accuracy.unwrap());
    assert!((fa.ca_rmse - fb.ca_rmse).abs() < 1e-6, "{fa:?} vs {fb:?}");
    assert!((a.sigma - b.sigma).abs() < 1e-9);
    let read = |d: &std::path::Path| std::fs::read_to_string(d.join("model.pdb")).unwrap();
    assert_eq!(read(whole.path()), read(split.path()), "the same model, to the last digit written");
}

#[test]
fn a_run_stopped_mid_epoch_resumes_to_the_uninterrupted_result() {
    let whole = tempfile::tempdir().unwrap();
    let split = tempfile::tempdir().unwrap();
    let c = beyond_the_paper(config(2));
    let a = run(&c, whole.path(), false).unwrap();
    let (model, data, start) = setup();
    let truth = Truth { ca: model.ca_positions(&model.centers), volume: None };
    let device = Backend::Cpu.device(true).unwrap();
    // Stopped after step 5 of the 12 of the first epoch after the warm-up.
    let stop_at = |p: &Progress| if p.epoch == 2 && p.step == 5 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) };
    let err = train(&c, &model, &start, &data, Some(&truth), &device, split.path(), false, &mut |p| stop_at(p)).unwrap_err();
    assert!(matches!(err, TrainError::Interrupted { epoch: 2, step: 5, .. }), "{err}");
    assert!(err.to_string().contains("stopped in epoch 2 after step 5"), "{err}");
    assert!(!split.path().join("metrics.json").exists());
    let b = run(&c, split.path(), true).unwrap();
    assert_eq!(a.sigma, b.sigma, "σ to the last bit");
    assert_eq!(a.amplitude_scale, b.amplitude_scale);
    for file in ["model.pdb", "volume.mrc"] {
        let read = |d: &std::path::Path| std::fs::read(d.join(file)).unwrap();
        assert!(read(whole.path()) == read(split.path()), "{file} differs between the whole and the resumed run");
    }
    let losses = |d: &std::path::Path| -> Vec<f64> {
        let log = std::fs::read_to_string(d.join("log.jsonl")).unwrap();
        log.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["loss"].as_f64().unwrap()).collect()
    };
    assert_eq!(losses(whole.path()), losses(split.path()), "the interrupted epoch's mean loss counts every step once");
}

#[test]
fn resume_refuses_a_missing_checkpoint_and_other_settings() {
    let dir = tempfile::tempdir().unwrap();
    let err = run(&config(1), dir.path(), true).unwrap_err();
    assert!(matches!(err, TrainError::Resume { .. }), "{err}");
    run(&config(0), dir.path(), false).unwrap();
    let err = run(&config(1).with_batch_size(4), dir.path(), true).unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
}

#[test]
fn bad_settings_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let err = run(&config(1).with_batch_size(1000), &out, false).unwrap_err();
    assert!(err.to_string().contains("cannot fill one batch"), "{err}");
    let err = run(&config(1).with_learning_rate(-1.0), &out, false).unwrap_err();
    assert!(err.to_string().contains("learning rate"), "{err}");
    let err = run(&config(1).with_center_lr_scale(0.0), &out, false).unwrap_err();
    assert!(err.to_string().contains("learning-rate scale"), "{err}");
    let err = run(&config(1).with_priors(PriorConfig::new().with_steric_strength(-1.0)), &out, false).unwrap_err();
    assert!(err.to_string().contains("steric strength must be ≥ 0, got -1"), "{err}");
    assert!(!out.exists(), "nothing written");
}


#[test]
fn the_image_mass_measures_the_amplitude_scale() {
    let (model, data, _) = setup();
    let mass = rbf_train::data::mean_image_mass(&data, 1000).unwrap();
    let expected = 0.1 * model.electrons.iter().sum::<f64>();
    assert!((mass / expected - 1.0).abs() < 0.01, "mass {mass} vs a₀·ΣZ = {expected}");
}

#[test]
fn the_coarse_sigma_floor_renders_with_the_wider_width() {
    let (model, data, _) = setup();
    let device = Device::flex();
    let grid = ImageGrid::new(BOX, 1.0).unwrap();
    let poses = Poses::from_host(&data.rotations[..2], &data.shifts[..2], &device);
    let density = RbfDensityConfig::new().with_sigma(SIGMA).init(&model.centers, &model.electrons, &device);
    let wide = RbfDensityConfig::new().with_sigma(4.0).init(&model.centers, &model.electrons, &device);
    let floored = density.project_with_min_sigma(&poses, &grid, 4.0).into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let expected = wide.project(&poses, &grid).into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let unchanged = density.project_with_min_sigma(&poses, &grid, 1.0).into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let plain = density.project(&poses, &grid).into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let max_diff = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(max_diff(&floored, &expected) < 1e-6);
    assert!(max_diff(&unchanged, &plain) < 1e-7, "a floor below σ changes nothing");
    assert!(max_diff(&floored, &plain) > 1e-3, "the floor does widen the RBFs");
}

#[test]
fn the_frame_priors_take_their_distances_from_the_start_when_asked() {
    let (model, data, start) = setup();
    // The start's side chains where the reference puts them around its (moved) Cα trace.
    let start = rbf_model::init::side_chains_in_frames(&model, &model.centers, &start).unwrap();
    let device = Backend::Cpu.device(true).unwrap();
    // The first step's side-chain and bond terms, with the bounds and bonds off: the two frame
    // terms alone.
    let first_frame_terms = |from_start: bool| {
        let dir = tempfile::tempdir().unwrap();
        let priors = PriorConfig::new()
            .with_bond_strength(0.0)
            .with_side_chain_strength(0.0)
            .with_side_chain_frame_strength(1.0)
            .with_backbone_frame_strength(1.0);
        let config = config(0).with_priors(priors).with_frame_from_start(from_start);
        let mut first = None;
        train(&config, &model, &start, &data, None, &device, dir.path(), false, &mut |p: &Progress| {
            first.get_or_insert((p.loss.side_chain, p.loss.bond));
            ControlFlow::Break(())
        })
        .unwrap_err();
        first.unwrap()
    };
    // From the start: the start is the priors' unstrained geometry.
    let (side_chain, backbone) = first_frame_terms(true);
    assert!(side_chain.abs() < 1e-3 && backbone.abs() < 1e-3, "{side_chain} {backbone}");
    // From the reference: the moved Cα trace strains the side chains' distances to their
    // neighbours' Cα, and the Cα's distances to each other.
    let (side_chain, backbone) = first_frame_terms(false);
    assert!(side_chain > 0.5 && backbone > 0.5, "{side_chain} {backbone}");
}
