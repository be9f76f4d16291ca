//! Homogeneous training with the CTF: on images the simulator's `CtfFilter` modulated, the CTF
//! loss recovers the structure about as well as CTF-free training does on CTF-free images, and
//! better than training that ignores the CTF.
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rbf_io::CtfParams;
use rbf_model::builtin::helix_bundle;
use rbf_model::priors::PriorConfig;
use rbf_model::{CoarseModel, ImageGrid, Poses, RbfDensityConfig};
use rbf_sim::ctf::CtfFilter;
use rbf_sim::rotations::uniform_rotation;
use rbf_train::data::{InMemoryParticles, ParticleSource};
use rbf_train::homogeneous::{HomogeneousConfig, Summary, Truth, train};
use rbf_train::{Backend, TrainError};

const BOX: usize = 40;
const SIGMA: f64 = 2.0;
const N_IMAGES: usize = 96;

struct Setup {
    model: CoarseModel,
    start: Vec<[f64; 3]>,
    /// The clean projections plus noise.
    plain: InMemoryParticles,
    /// The same projections modulated by a CTF each (defocus 1000–2500 Å, astigmatic, 300 kV),
    /// plus noise of the same level.
    with_ctf: InMemoryParticles,
}

/// A two-helix bundle (σ = 2 Å RBFs), 96 projections of it, and a start with every center moved
/// by up to 1.5 Å.
fn setup() -> Setup {
    let mut model = CoarseModel::from_structure(&helix_bundle(2, 8, 8.0)).unwrap();
    let c = model.ca_centroid();
    model.translate([-c[0], -c[1], -c[2]]);
    let mut rng = StdRng::seed_from_u64(11);
    let rotations: Vec<_> = (0..N_IMAGES).map(|_| uniform_rotation(&mut rng)).collect();
    let shifts: Vec<[f64; 2]> = (0..N_IMAGES).map(|_| [rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)]).collect();
    let device = Device::flex();
    let grid = ImageGrid::new(BOX, 1.0).unwrap();
    let truth = RbfDensityConfig::new().with_sigma(SIGMA).init(&model.centers, &model.electrons, &device);
    let clean = truth.project(&Poses::from_host(&rotations, &shifts, &device), &grid).into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let ctf: Vec<CtfParams> = (0..N_IMAGES)
        .map(|_| CtfParams {
            defocus_u: rng.random_range(1000.0..2500.0),
            defocus_v: rng.random_range(1000.0..2500.0),
            defocus_angle: rng.random_range(0.0..180.0),
            voltage: 300.0,
            spherical_aberration: 2.7,
            amplitude_contrast: 0.1,
            phase_shift: 0.0,
        })
        .collect();
    let mut modulated = clean.clone();
    let mut filter = CtfFilter::new(BOX, 1.0);
    for (image, p) in modulated.chunks_exact_mut(BOX * BOX).zip(&ctf) {
        filter.apply(image, p).unwrap();
    }
    let mut noisy = |images: Vec<f32>| images.into_iter().map(|v| v + rng.random_range(-0.01..0.01f32)).collect::<Vec<_>>();
    let particles = |images, ctf| InMemoryParticles { images, rotations: rotations.clone(), shifts: shifts.clone(), box_size: BOX, pixel_size: 1.0, ctf };
    let plain = particles(noisy(clean), Vec::new());
    let with_ctf = particles(noisy(modulated), ctf);
    let start = model.centers.iter().map(|c| c.map(|v| v + rng.random_range(-1.5..1.5))).collect();
    Setup { model, start, plain, with_ctf }
}

fn config(ctf: bool) -> HomogeneousConfig {
    HomogeneousConfig::new()
        .with_epochs(8)
        .with_learning_rate(0.05)
        .with_density(RbfDensityConfig::new().with_sigma(SIGMA))
        .with_priors(PriorConfig::new().with_bond_strength(0.1).with_side_chain_strength(0.1))
        .with_noise_variance(Some(1e-4))
        .with_ctf(ctf)
}

fn run(s: &Setup, data: &dyn ParticleSource, ctf: bool) -> Result<Summary, TrainError> {
    let dir = tempfile::tempdir().unwrap();
    let truth = Truth { ca: s.model.ca_positions(&s.model.centers), volume: None };
    let device = Backend::Cpu.device(true)?;
    train(&config(ctf), &s.model, &s.start, data, Some(&truth), &device, dir.path(), false, &mut |_| std::ops::ControlFlow::Continue(()))
}

#[test]
fn training_with_the_ctf_recovers_the_structure_as_well_as_without_one() {
    let s = setup();
    let plain = run(&s, &s.plain, false).unwrap();
    let with_ctf = run(&s, &s.with_ctf, true).unwrap();
    let ignored = run(&s, &s.with_ctf, false).unwrap();
    let rmse = |summary: &Summary| summary.final_accuracy.unwrap().ca_rmse;
    let initial = with_ctf.initial.unwrap().ca_rmse;
    eprintln!("Cα RMSE: start {initial:.3}, CTF-free {:.3}, CTF on {:.3}, CTF ignored {:.3}", rmse(&plain), rmse(&with_ctf), rmse(&ignored));
    assert!(initial > 0.7, "the start is perturbed: {initial}");
    assert!(rmse(&with_ctf) < 0.5 * initial, "the CTF run at least halves the Cα RMSE: {initial} → {}", rmse(&with_ctf));
    assert!(rmse(&with_ctf) < 1.5 * rmse(&plain), "within 1.5× of the CTF-free run: {} vs {}", rmse(&with_ctf), rmse(&plain));
    assert!(rmse(&with_ctf) < 0.7 * rmse(&ignored), "modelling the CTF beats ignoring it: {} vs {}", rmse(&with_ctf), rmse(&ignored));
    // a₀ was started from the CTF-corrected image mass: the truth's 0.1 within a few percent.
    assert!((with_ctf.amplitude_scale / 0.1 - 1.0).abs() < 0.1, "a₀ = {}", with_ctf.amplitude_scale);
}

#[test]
fn the_ctf_is_refused_for_particles_without_ctf_parameters() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let truth = Truth { ca: s.model.ca_positions(&s.model.centers), volume: None };
    let device = Backend::Cpu.device(true).unwrap();
    let err = train(&config(true), &s.model, &s.start, &s.plain, Some(&truth), &device, &out, false, &mut |_| std::ops::ControlFlow::Continue(()))
        .unwrap_err();
    assert!(err.to_string().contains("particle 1 has no CTF parameters"), "{err}");
    assert!(!out.exists(), "nothing written");
    assert!(rbf_train::ctf::has_ctf(&s.with_ctf) && !rbf_train::ctf::has_ctf(&s.plain));
}

#[test]
fn the_ctf_corrected_image_mass_measures_the_amplitude_scale() {
    let s = setup();
    let mass = rbf_train::ctf::mean_image_mass_with_ctf(&s.with_ctf, 1000).unwrap();
    let expected = 0.1 * s.model.electrons.iter().sum::<f64>();
    assert!((mass / expected - 1.0).abs() < 0.01, "mass {mass} vs a₀·ΣZ = {expected}");
    let uncorrected = rbf_train::data::mean_image_mass(&s.with_ctf, 1000).unwrap();
    assert!((uncorrected / expected - 0.1).abs() < 0.01, "the CTF passes w = 0.1 of the mass: {uncorrected}");
}
