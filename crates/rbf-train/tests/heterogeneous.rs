//! The heterogeneous run: a VAE step lowers the loss, the decoder starts at the base structure,
//! the latent separates two states, a resumed run ends where an uninterrupted one does, and the
//! run folder decodes and analyses.
use std::ops::ControlFlow;
use std::path::Path;

use burn::optim::AdamConfig;
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rbf_model::builtin::helix_bundle;
use rbf_model::metrics::rmse;
use rbf_model::priors::{PriorConfig, Priors};
use rbf_model::{CoarseModel, ImageGrid, Poses, RbfDensityConfig};
use rbf_train::analysis::{StateTruth, VaeRun, analyze, spearman};
use rbf_train::data::InMemoryParticles;
use rbf_train::heterogeneous::{EncoderInput, HeterogeneousConfig, Progress, Summary, VaeModel, VaeTrainer, encoder_features, train_vae};
use rbf_train::{Backend, LossConfig, TrainError};

const BOX: usize = 32;
const SIGMA: f64 = 2.0;

fn rotation(rng: &mut StdRng) -> [[f64; 3]; 3] {
    let q: [f64; 4] = std::array::from_fn(|_| StandardNormal.sample(rng));
    let n = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    let [w, x, y, z] = q.map(|v| v / n);
    [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
        [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
        [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
    ]
}

/// A two-helix bundle (state 0) and the same with helix B swung by 50° about a hinge at its
/// first Cα (state 1).
fn two_states() -> (CoarseModel, Vec<Vec<[f64; 3]>>) {
    let mut model = CoarseModel::from_structure(&helix_bundle(2, 8, 7.0)).unwrap();
    let c = model.ca_centroid();
    model.translate([-c[0], -c[1], -c[2]]);
    let hinge = model.centers[model.backbone[8]];
    let (s, co) = 50f64.to_radians().sin_cos();
    let moved: Vec<[f64; 3]> = model
        .centers
        .iter()
        .zip(&model.residue_of)
        .map(|(p, &r)| {
            if r < 8 {
                return *p;
            }
            let [x, y, z] = [p[0] - hinge[0], p[1] - hinge[1], p[2] - hinge[2]];
            [hinge[0] + co * x - s * y, hinge[1] + s * x + co * y, hinge[2] + z]
        })
        .collect();
    let states = vec![model.centers.clone(), moved];
    (model, states)
}

/// `n` images, alternating between the two states, at SNR ≈ 2.
fn dataset(n: usize, seed: u64) -> (CoarseModel, InMemoryParticles, StateTruth, f64) {
    let (model, states) = two_states();
    let mut rng = StdRng::seed_from_u64(seed);
    let device = Device::flex();
    let grid = ImageGrid::new(BOX, 1.0).unwrap();
    let rotations: Vec<_> = (0..n).map(|_| rotation(&mut rng)).collect();
    let shifts: Vec<[f64; 2]> = (0..n).map(|_| [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)]).collect();
    let particle_states: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let mut images = Vec::with_capacity(n * BOX * BOX);
    for i in 0..n {
        let density = RbfDensityConfig::new().with_sigma(SIGMA).init(&states[particle_states[i]], &model.electrons, &device);
        let image = density.project(&Poses::from_host(&rotations[i..=i], &shifts[i..=i], &device), &grid);
        images.extend(image.into_data().convert::<f32>().try_into_vec::<f32>().unwrap());
    }
    let mean = images.iter().map(|&v| f64::from(v)).sum::<f64>() / images.len() as f64;
    let signal = images.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / images.len() as f64;
    let noise_variance = signal / 2.0;
    let normal = rand_distr::Normal::new(0.0, noise_variance.sqrt()).unwrap();
    for v in &mut images {
        *v += normal.sample(&mut rng) as f32;
    }
    let truth = StateTruth {
        states_ca: states.iter().map(|s| model.ca_positions(s)).collect(),
        coordinates: vec![0.0, 1.0],
        particle_states,
    };
    let data = InMemoryParticles { images, rotations, shifts, box_size: BOX, pixel_size: 1.0, ctf: Vec::new() };
    (model, data, truth, noise_variance)
}

fn config(epochs: usize, noise_variance: f64) -> HeterogeneousConfig {
    HeterogeneousConfig::new()
        .with_epochs(epochs)
        .with_warmup_epochs(1)
        .with_learning_rate(2e-3)
        .with_width(64)
        .with_layers(2)
        .with_density(RbfDensityConfig::new().with_sigma(SIGMA))
        .with_priors(PriorConfig::new().with_bond_strength(1.0).with_side_chain_strength(1.0))
        .with_noise_variance(Some(noise_variance))
}

fn run(config: &HeterogeneousConfig, n: usize, out: &Path, resume: bool) -> Result<(Summary, StateTruth), TrainError> {
    let (model, data, truth, _) = dataset(n, 7);
    let device = Backend::Cpu.device(true)?;
    let summary = train_vae(config, &model, &model.centers, &data, Some(&truth), &device, out, resume, &mut |_| ControlFlow::Continue(()))?;
    Ok((summary, truth))
}

fn noise_variance() -> f64 {
    dataset(2, 7).3
}

#[test]
fn a_vae_step_lowers_the_loss() {
    let (model, data, _, noise_variance) = dataset(16, 1);
    let device = Backend::Cpu.device(true).unwrap();
    let grid = ImageGrid::new(BOX, 1.0).unwrap();
    // A start 1 Å off along x: the loss has somewhere to go.
    let start: Vec<[f64; 3]> = model.centers.iter().map(|c| [c[0] + 1.0, c[1], c[2]]).collect();
    let config = config(1, noise_variance);
    let density = config.density.clone().init(&start, &model.electrons, &device);
    let vae = VaeModel::new(&config, density, BOX, &device);
    let loss = LossConfig::new().with_image_weight((BOX * BOX) as f64 / (2.0 * noise_variance));
    let priors = Priors::new(&model, config.priors.clone(), &device);
    let poses = Poses::from_host(&data.rotations[..8], &data.shifts[..8], &device);
    let mut trainer = VaeTrainer::new(vae, priors, loss, 1.0, 1.0 / noise_variance.sqrt(), grid, &AdamConfig::new(), 3e-3);
    // Noiseless images of the true structure: all of the image term can be fitted away.
    let images = RbfDensityConfig::new().with_sigma(SIGMA).init(&model.centers, &model.electrons, &device).project(&poses, &grid).detach();
    let eps = Tensor::<2>::zeros([8, 1], &device);
    let first = trainer.step(&poses, images.clone(), eps.clone());
    let mut last = first;
    for _ in 0..40 {
        last = trainer.step(&poses, images.clone(), eps.clone());
    }
    assert!(first.kl >= 0.0 && first.image > 0.0, "{first:?}");
    assert!(last.total() < 0.5 * first.total(), "40 steps must halve the loss: {first:?} → {last:?}");
}

#[test]
fn the_decoder_starts_at_the_base_structure_and_the_seed_fixes_the_weights() {
    let (model, _) = two_states();
    let device = Device::flex();
    let config = HeterogeneousConfig::new().with_latent_dim(2).with_width(32).with_seed(3);
    let density = || RbfDensityConfig::new().init(&model.centers, &model.electrons, &device);
    let vae = VaeModel::new(&config, density(), BOX, &device);
    let z = vec![vec![0.0, 0.0], vec![-3.0, 2.5], vec![10.0, -7.0]];
    for decoded in vae.decode_host(&z) {
        assert!(rmse(&decoded, &model.centers) < 1e-5, "every latent decodes to the base structure at the start");
    }
    let encode = |vae: &VaeModel| {
        let image = Tensor::<3>::ones([1, BOX, BOX], &device);
        vae.encoder.forward(image).mean.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
    };
    let same = VaeModel::new(&config, density(), BOX, &device);
    let other = VaeModel::new(&config.clone().with_seed(4), density(), BOX, &device);
    assert_eq!(encode(&vae), encode(&same), "the same seed gives the same encoder");
    assert_ne!(encode(&vae), encode(&other), "another seed gives another encoder");
}

#[test]
fn the_latent_separates_two_states() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, truth) = run(&config(24, noise_variance()), 400, dir.path(), false).unwrap();
    let run = VaeRun::open(dir.path(), &Device::flex()).unwrap();
    let z = run.latents().unwrap();
    let z1: Vec<f64> = z.iter().map(|v| v[0]).collect();
    let states: Vec<f64> = truth.particle_states.iter().map(|&s| s as f64).collect();
    let rho = spearman(&z1, &states);
    // Two states of equal size: a perfect split gives |ρ| = √3/2 ≈ 0.866 (ranks within a state
    // are arbitrary); chance gives about 0.
    assert!(rho.abs() > 0.75, "Spearman {rho} (summary {summary:?})");
    // The structures at each state's median latent are nearer their own true state.
    let rows = rbf_train::analysis::per_state_rmse(&run.vae, &run.model, &z, &truth);
    let medians: Vec<Vec<f64>> = rows.iter().map(|r| r.median_latent.clone().unwrap()).collect();
    let decoded = run.decode(&medians).unwrap();
    for (s, centers) in decoded.iter().enumerate() {
        let ca = run.model.ca_positions(centers);
        let own = rmse(&ca, &truth.states_ca[s]);
        let other = rmse(&ca, &truth.states_ca[1 - s]);
        assert!(own < other, "state {s}: {own:.2} Å to its own truth, {other:.2} Å to the other's");
    }
}

#[test]
fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let whole = tempfile::tempdir().unwrap();
    let split = tempfile::tempdir().unwrap();
    let v = noise_variance();
    let (a, _) = run(&config(2, v), 48, whole.path(), false).unwrap();
    run(&config(0, v), 48, split.path(), false).unwrap();
    let (b, _) = run(&config(2, v), 48, split.path(), true).unwrap();
    assert_eq!(a.epochs, 3);
    assert_eq!(a.epochs, b.epochs);
    assert_eq!(a.final_accuracy, b.final_accuracy);
    assert_same_run(whole.path(), split.path());
    let err = run(&config(2, v).with_kl_weight(0.5), 48, split.path(), true).unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
}

/// The run folders `whole` and `split` hold the same latents, model, parameters and log.
fn assert_same_run(whole: &Path, split: &Path) {
    for file in ["z.npy", "model.pdb", "vae.bin", "log.jsonl"] {
        let read = |d: &Path| std::fs::read(d.join(file)).unwrap();
        if file == "log.jsonl" {
            // Throughputs differ; everything else must not.
            let strip = |bytes: Vec<u8>| -> Vec<serde_json::Value> {
                String::from_utf8(bytes)
                    .unwrap()
                    .lines()
                    .map(|l| {
                        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                        v.as_object_mut().unwrap().remove("images_per_s");
                        v
                    })
                    .collect()
            };
            assert_eq!(strip(read(whole)), strip(read(split)));
        } else {
            assert!(read(whole) == read(split), "{file} differs between the whole and the resumed run");
        }
    }
}

#[test]
fn a_run_stopped_mid_epoch_resumes_to_the_uninterrupted_result() {
    let whole = tempfile::tempdir().unwrap();
    let split = tempfile::tempdir().unwrap();
    let v = noise_variance();
    let (a, _) = run(&config(1, v), 48, whole.path(), false).unwrap();
    let (model, data, truth, _) = dataset(48, 7);
    let device = Backend::Cpu.device(true).unwrap();
    // Stopped after step 3 of the 6 of the first epoch after the warm-up.
    let stop_at = |p: &Progress| if p.epoch == 2 && p.step == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) };
    let err = train_vae(&config(1, v), &model, &model.centers, &data, Some(&truth), &device, split.path(), false, &mut |p| stop_at(p)).unwrap_err();
    assert!(matches!(err, TrainError::Interrupted { epoch: 2, step: 3, .. }), "{err}");
    assert_eq!(std::fs::read_to_string(split.path().join("log.jsonl")).unwrap().lines().count(), 1, "only the warm-up is logged");
    assert!(!split.path().join("z.npy").exists());
    let (b, _) = run(&config(1, v), 48, split.path(), true).unwrap();
    assert_eq!(a.final_accuracy, b.final_accuracy);
    assert_same_run(whole.path(), split.path());
}

#[test]
fn decode_writes_one_model_per_latent_and_refuses_other_folders() {
    let dir = tempfile::tempdir().unwrap();
    run(&config(1, noise_variance()), 32, dir.path(), false).unwrap();
    let run = VaeRun::open(dir.path(), &Device::flex()).unwrap();
    let z: Vec<Vec<f64>> = (0..5).map(|k| vec![k as f64 - 2.0]).collect();
    let out = dir.path().join("decoded.pdb");
    let files = run.write_decoded(&z, &out, true).unwrap();
    assert_eq!(files.len(), 6, "one PDB and five volumes: {files:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("ENDMDL").count(), 5, "five models");
    let volume = rbf_io::mrc::read_volume(&files[5]).unwrap();
    assert_eq!(volume.shape, (BOX, BOX, BOX));
    let err = run.decode(&[vec![0.0, 1.0]]).unwrap_err();
    assert!(err.to_string().contains("latent dimension"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("model.pdb"), "END\n").unwrap();
    std::fs::write(empty.path().join("config.json"), "{}").unwrap();
    let err = VaeRun::open(empty.path(), &Device::flex()).err().unwrap();
    assert!(err.to_string().contains("homogeneous run"), "{err}");
}

#[test]
fn analyze_writes_its_plots_trajectory_and_tables() {
    let dir = tempfile::tempdir().unwrap();
    let v = noise_variance();
    let (_, truth) = run(&config(1, v).with_latent_dim(2), 32, dir.path(), false).unwrap();
    let run = VaeRun::open(dir.path(), &Device::flex()).unwrap();
    let out = dir.path().join("analysis");
    let summary = analyze(&run, Some(&truth), &out, true).unwrap();
    for file in ["latent_histogram.png", "latent_pca.png", "latent_vs_truth.png", "rmse_per_state.png"] {
        let bytes = std::fs::read(out.join(file)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{file} is a PNG");
        assert!(bytes.len() > 5000, "{file} has something drawn on it");
    }
    let table = std::fs::read_to_string(out.join("rmse_per_state.md")).unwrap();
    assert!(table.contains("Spearman") && table.lines().count() == 6, "{table}");
    let csv = std::fs::read_to_string(out.join("rmse_per_state.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let trajectory = std::fs::read_to_string(out.join("trajectory.pdb")).unwrap();
    assert_eq!(trajectory.matches("ENDMDL").count(), 20);
    assert!(out.join("trajectory.cif").is_file() && out.join("trajectory_20.mrc").is_file());
    assert_eq!(summary.states.unwrap().len(), 2);
    assert!(summary.spearman.is_some());

    let short = StateTruth { particle_states: truth.particle_states[..10].to_vec(), ..truth };
    let err = analyze(&run, Some(&short), &out, false).unwrap_err();
    assert!(err.to_string().contains("z.npy") && err.to_string().contains("10 particles"), "{err}");
}

#[test]
fn the_truth_of_a_simulator_folder_is_read_and_matched() {
    let (model, states) = two_states();
    let dir = tempfile::tempdir().unwrap();
    model.write_models(&dir.path().join("truth.pdb"), &states).unwrap();
    let particle_states: Vec<i64> = vec![0, 1, 1, 0, 1];
    rbf_io::atomic::write_atomically(&dir.path().join("states.npy"), |w| {
        use npyz::WriterBuilder;
        let mut writer = npyz::WriteOptions::<i64>::new().default_dtype().shape(&[5]).writer(w).begin_nd()?;
        writer.extend(particle_states.iter().copied())?;
        writer.finish()
    })
    .unwrap();
    std::fs::write(dir.path().join("simulation.json"), r#"{"reaction_coordinates": [0.0, 0.25]}"#).unwrap();
    let truth = StateTruth::from_simulation(dir.path(), &model).unwrap();
    assert_eq!(truth.particle_states, vec![0, 1, 1, 0, 1]);
    assert_eq!(truth.coordinates, vec![0.0, 0.25]);
    assert!(rmse(&truth.states_ca[1], &model.ca_positions(&states[1])) < 1e-3);
    assert_eq!(truth.counts(), vec![2, 3]);
    std::fs::write(dir.path().join("states.npy"), b"not an array").unwrap();
    let err = StateTruth::from_simulation(dir.path(), &model).unwrap_err();
    assert!(err.to_string().contains("states.npy"), "{err}");
}

#[test]
fn spearman_ranks_with_ties() {
    let a = [1.0, 2.0, 3.0, 4.0];
    assert!((spearman(&a, &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
    assert!((spearman(&a, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    assert!((spearman(&a, &[1.0, 1.0, 2.0, 2.0]) - 0.894_427_19).abs() < 1e-6);
    assert!(spearman(&[1.0], &[2.0]).is_nan());
}

#[test]
fn score_features_are_the_gradient_of_each_image_error_by_finite_differences() {
    let (model, data, _, noise_variance) = dataset(3, 11);
    let device = Device::flex();
    let grid = ImageGrid::new(BOX, 1.0).unwrap();
    let config = config(1, noise_variance).with_encoder_input(EncoderInput::Score);
    let density = RbfDensityConfig::new().with_sigma(SIGMA).init(&model.centers, &model.electrons, &device);
    let vae = VaeModel::new(&config, density.clone(), BOX, &device);
    let poses = Poses::from_host(&data.rotations, &data.shifts, &device);
    let images = Tensor::<3>::from_data(TensorData::new(data.images.clone(), [3, BOX, BOX]), &device);
    let features = encoder_features(&vae, EncoderInput::Score, &poses, images, &grid);
    assert_eq!(features.dims(), [3, 3 * model.n_rbf()]);
    let score = features.into_data().convert::<f32>().try_into_vec::<f32>().unwrap();

    // Σ_pixels (projection − image)² of image b with center i moved along axis k by h.
    let error = |b: usize, i: usize, k: usize, h: f64| -> f64 {
        let mut centers = model.centers.clone();
        centers[i][k] += h;
        let moved = RbfDensityConfig::new().with_sigma(SIGMA).init(&centers, &model.electrons, &device);
        let pose = Poses::from_host(&data.rotations[b..=b], &data.shifts[b..=b], &device);
        let p = moved.project(&pose, &grid).into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
        let x = &data.images[b * BOX * BOX..(b + 1) * BOX * BOX];
        p.iter().zip(x).map(|(&p, &x)| (f64::from(p) - f64::from(x)).powi(2)).sum()
    };
    let h = 0.05;
    let mut checked = 0;
    for b in 0..3 {
        for i in [0, model.n_rbf() / 2, model.n_rbf() - 1] {
            for k in 0..3 {
                let numeric = (error(b, i, k, h) - error(b, i, k, -h)) / (2.0 * h);
                let analytic = f64::from(score[b * 3 * model.n_rbf() + 3 * i + k]);
                let tolerance = 2e-2 * numeric.abs().max(analytic.abs()) + 1e-3;
                assert!((numeric - analytic).abs() < tolerance, "image {b}, RBF {i}, axis {k}: {analytic} vs {numeric}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 27);
}

#[test]
fn a_score_encoder_separates_two_states() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(16, noise_variance()).with_encoder_input(EncoderInput::Score);
    let (summary, truth) = run(&config, 400, dir.path(), false).unwrap();
    let run = VaeRun::open(dir.path(), &Device::flex()).unwrap();
    let z = run.latents().unwrap();
    let z1: Vec<f64> = z.iter().map(|v| v[0]).collect();
    let states: Vec<f64> = truth.particle_states.iter().map(|&s| s as f64).collect();
    let rho = spearman(&z1, &states);
    // A perfect split of two equal states gives |ρ| ≈ 0.866, chance about 0.
    assert!(rho.abs() > 0.75, "Spearman {rho} (summary {summary:?})");
}
