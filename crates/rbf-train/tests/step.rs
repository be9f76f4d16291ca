//! Training steps: the loss falls, and the wgpu backend takes the same step as the CPU.
use burn::optim::AdamConfig;
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rbf_model::coarse::CoarseModel;
use rbf_model::priors::{PriorConfig, Priors};
use rbf_model::{ImageGrid, Poses, RbfDensityConfig};
use rbf_train::{Backend, HomogeneousTrainer, LossConfig};

/// A straight chain of `n` backbone RBFs 3.8 Å apart.
fn chain(n: usize) -> CoarseModel {
    CoarseModel::ca_trace(&(0..n).map(|i| [(i as f64 - n as f64 / 2.0) * 3.8, 0.0, 0.0]).collect::<Vec<_>>())
}

fn rotation(rng: &mut StdRng) -> [[f64; 3]; 3] {
    let (a, b) = (rng.random_range(0.0..6.28f64), rng.random_range(0.0..3.14f64));
    let rz = [[a.cos(), -a.sin(), 0.0], [a.sin(), a.cos(), 0.0], [0.0, 0.0, 1.0]];
    let ry = [[b.cos(), 0.0, b.sin()], [0.0, 1.0, 0.0], [-b.sin(), 0.0, b.cos()]];
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| rz[i][k] * ry[k][j]).sum()))
}

struct Setup {
    model: CoarseModel,
    start: Vec<[f64; 3]>,
    rotations: Vec<[[f64; 3]; 3]>,
    shifts: Vec<[f64; 2]>,
    images: Vec<f32>,
    grid: ImageGrid,
}

/// Images of the true chain; the start is the chain with each center moved by up to 1.5 Å.
fn setup() -> Setup {
    let mut rng = StdRng::seed_from_u64(17);
    let model = chain(6);
    let grid = ImageGrid::new(32, 1.0).unwrap();
    let batch = 8;
    let rotations: Vec<_> = (0..batch).map(|_| rotation(&mut rng)).collect();
    let shifts: Vec<[f64; 2]> = (0..batch).map(|_| [rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)]).collect();
    let device = Device::flex();
    let truth = RbfDensityConfig::new().init(&model.centers, &model.electrons, &device);
    let images = truth.project(&Poses::from_host(&rotations, &shifts, &device), &grid);
    let images = images.into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let start = model.centers.iter().map(|c| std::array::from_fn(|k| c[k] + rng.random_range(-1.5..1.5))).collect();
    Setup { model, start, rotations, shifts, images, grid }
}

fn trainer(s: &Setup, device: &Device) -> HomogeneousTrainer {
    let density = RbfDensityConfig::new().init(&s.start, &s.model.electrons, device);
    let priors = Priors::new(&s.model, PriorConfig::new().with_bond_strength(1e-4), device);
    HomogeneousTrainer::new(density, priors, LossConfig::new().with_image_weight(1e3), s.grid, &AdamConfig::new(), 0.05)
}

fn images(s: &Setup, device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(s.images.clone(), [s.rotations.len(), 32, 32]), device)
}

#[test]
fn adam_steps_reduce_the_loss_and_the_error() {
    let s = setup();
    let device = Backend::Cpu.device(true).unwrap();
    let mut t = trainer(&s, &device);
    let poses = Poses::from_host(&s.rotations, &s.shifts, &device);
    let rmse = |c: &[[f64; 3]]| rbf_model::metrics::rmse(c, &s.model.centers);
    let start_rmse = rmse(&t.density.centers_host());
    let first = t.step(&poses, images(&s, &device)).total();
    let mut last = first;
    for _ in 0..60 {
        last = t.step(&poses, images(&s, &device)).total();
    }
    let end_rmse = rmse(&t.density.centers_host());
    assert!(last < 0.5 * first, "loss {first} → {last}");
    assert!(end_rmse < 0.5 * start_rmse, "RMSE {start_rmse} → {end_rmse}");
}

#[test]
fn unknown_backends_are_rejected_by_name() {
    let err = "tpu".parse::<Backend>().unwrap_err().to_string();
    assert!(err.contains("tpu"), "{err}");
    assert_eq!("WGPU".parse::<Backend>().unwrap(), Backend::Wgpu);
    assert_eq!("cpu".parse::<Backend>().unwrap(), Backend::Cpu);
}

#[cfg(feature = "wgpu")]
#[test]
fn a_training_step_on_wgpu_matches_the_cpu() {
    let s = setup();
    let run = |backend: Backend| {
        let device = backend.device(true).unwrap();
        let mut t = trainer(&s, &device);
        let poses = Poses::from_host(&s.rotations, &s.shifts, &device);
        let before = t.step(&poses, images(&s, &device));
        let second = t.step(&poses, images(&s, &device));
        (before, second, t.density.centers_host(), t.density.sigma_and_scale())
    };
    let (cpu_loss, cpu_loss2, cpu_centers, cpu_ss) = run(Backend::Cpu);
    let (gpu_loss, gpu_loss2, gpu_centers, gpu_ss) = run(Backend::Wgpu);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1e-6);
    assert!(close(cpu_loss.total(), gpu_loss.total()), "{cpu_loss:?} vs {gpu_loss:?}");
    assert!(close(cpu_loss2.total(), gpu_loss2.total()), "{cpu_loss2:?} vs {gpu_loss2:?}");
    for (a, b) in cpu_centers.iter().zip(&gpu_centers) {
        for k in 0..3 {
            assert!((a[k] - b[k]).abs() < 1e-4, "{a:?} vs {b:?}");
        }
    }
    assert!(close(cpu_ss.0, gpu_ss.0) && close(cpu_ss.1, gpu_ss.1), "{cpu_ss:?} vs {gpu_ss:?}");
    // and the step moved the centers at all
    assert!(cpu_centers.iter().zip(&s.start).any(|(a, b)| (a[0] - b[0]).abs() > 1e-3));
}

/// Adam's first step moves every parameter with a gradient by its learning rate (m̂/√v̂ = ±1, up
/// to ε), so the centers move by `lr × scale` and ln σ by `lr`.
#[test]
fn the_centers_learn_at_their_own_rate() {
    let s = setup();
    let device = Backend::Cpu.device(true).unwrap();
    let poses = Poses::from_host(&s.rotations, &s.shifts, &device);
    for scale in [1.0, 128.0] {
        let mut t = trainer(&s, &device).with_center_lr_scale(scale);
        let (sigma_before, _) = t.density.sigma_and_scale();
        t.step(&poses, images(&s, &device));
        let lr = 0.05;
        let moves: Vec<f64> = t.density.centers_host().iter().zip(&s.start).flat_map(|(a, b)| (0..3).map(move |k| (a[k] - b[k]).abs())).collect();
        let largest = moves.iter().cloned().fold(0.0, f64::max);
        assert!((largest - lr * scale).abs() < 1e-2 * lr * scale, "scale {scale}: the centers moved {largest}");
        assert!(moves.iter().filter(|&&m| (m - lr * scale).abs() < 1e-2 * lr * scale).count() > moves.len() / 2);
        let (sigma_after, _) = t.density.sigma_and_scale();
        let log_step = (sigma_after.ln() - sigma_before.ln()).abs();
        assert!((log_step - lr).abs() < 1e-2 * lr, "scale {scale}: ln σ moved {log_step}, not {lr}");
    }
}
