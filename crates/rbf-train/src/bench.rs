//! Throughput of full training steps (forward, backward, Adam) on a synthetic structure, for
//! `cryorbf bench` and the criterion benches.
//!
//! The steps are the training ones: [`HomogeneousTrainer::step`] for the homogeneous model and
//! [`VaeTrainer::step`] (what `train-vae` runs) for the heterogeneous one. Each step reads its loss
//! back to the host and the device is synchronised before the clock stops, so the time is the
//! device's, not the dispatch's. Warm-up steps (allocator, shader compilation) are not timed.
use std::time::Instant;

use burn::optim::AdamConfig;
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rbf_model::builtin::helix_bundle;
use rbf_model::priors::{PriorConfig, Priors};
use rbf_model::{CoarseModel, ImageGrid, Poses, RbfDensityConfig};
use serde::Serialize;

use crate::heterogeneous::{HeterogeneousConfig, VaeModel, VaeTrainer};
use crate::{Backend, HomogeneousTrainer, LossConfig, TrainError};

/// Which model's training step to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchModel {
    /// All centers, σ and a₀ learned directly.
    Homogeneous,
    /// The VAE of the heterogeneous model: encoder, decoder and base density end to end.
    Vae,
}

/// Shapes and lengths of a benchmark. Defaults are the paper's shapes (batch 8, 141 residues =
/// 282 RBFs, 128-pixel box, latent dimension 1).
#[derive(Config, Debug)]
pub struct BenchConfig {
    /// Images per step.
    #[config(default = 8)]
    pub batch: usize,
    /// Residues of the synthetic structure (about two RBFs each).
    #[config(default = 141)]
    pub residues: usize,
    /// Box edge (pixels, 1 Å/pixel).
    #[config(default = 128)]
    pub box_size: usize,
    /// Latent dimension of the VAE.
    #[config(default = 1)]
    pub latent_dim: usize,
    /// Timed steps.
    #[config(default = 50)]
    pub steps: usize,
    /// Untimed warm-up steps.
    #[config(default = 5)]
    pub warmup: usize,
}

/// What a benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// The model.
    pub model: BenchModel,
    /// The backend.
    pub device: String,
    /// Logical CPUs of the machine.
    pub cpus: usize,
    /// Images per step.
    pub batch: usize,
    /// Residues.
    pub residues: usize,
    /// RBFs.
    pub n_rbf: usize,
    /// Box edge (pixels).
    pub box_size: usize,
    /// Latent dimension (VAE only).
    pub latent_dim: Option<usize>,
    /// Timed steps.
    pub steps: usize,
    /// Wall time of the timed steps (s).
    pub seconds: f64,
    /// Throughput.
    pub images_per_s: f64,
}

/// A synthetic protein of `residues` residues: a bundle of ideal helices of up to 24 residues,
/// centred on its Cα centroid.
///
/// # Errors
/// [`TrainError::Data`] for fewer than 2 residues.
pub fn synthetic_model(residues: usize) -> Result<CoarseModel, TrainError> {
    if residues < 2 {
        return Err(TrainError::Data(format!("a benchmark needs at least 2 residues, got {residues}")));
    }
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

/// Random poses for `batch` images (Euler angles uniform in their ranges, shifts within ±5 Å).
pub fn random_poses(batch: usize, rng: &mut StdRng, device: &Device) -> Poses {
    let rotations: Vec<[[f64; 3]; 3]> = (0..batch)
        .map(|_| {
            rbf_io::particles::euler_to_matrix(rng.random_range(0.0..360.0), rng.random_range(0.0..180.0), rng.random_range(0.0..360.0))
        })
        .collect();
    let shifts: Vec<[f64; 2]> = (0..batch).map(|_| [rng.random_range(-5.0..5.0), rng.random_range(-5.0..5.0)]).collect();
    Poses::from_host(&rotations, &shifts, device)
}

enum Trainer {
    Homogeneous(Box<HomogeneousTrainer>),
    Vae(Box<VaeTrainer>),
}

/// A training step ready to be timed: the trainer, four batches of poses and one of images.
pub struct StepBench {
    trainer: Trainer,
    poses: Vec<Poses>,
    images: Tensor<3>,
    eps: Vec<Tensor<2>>,
    n_rbf: usize,
    device: Device,
}

/// Uniform noise in ±0.1 has this variance per pixel.
const IMAGE_VARIANCE: f64 = 0.01 / 3.0;

impl StepBench {
    /// Build the trainer of `model` for `config`'s shapes on `device` (an autodiff device),
    /// everything drawn from seed 0.
    ///
    /// # Errors
    /// [`TrainError::Data`] for empty shapes; [`TrainError::Model`] for a box below 2 pixels.
    pub fn new(model: BenchModel, config: &BenchConfig, device: &Device) -> Result<Self, TrainError> {
        if config.batch == 0 || config.latent_dim == 0 {
            return Err(TrainError::Data(format!(
                "the batch and latent dimension must be positive, got {} and {}",
                config.batch, config.latent_dim
            )));
        }
        let structure = synthetic_model(config.residues)?;
        let grid = ImageGrid::new(config.box_size, 1.0)?;
        let d = config.box_size;
        let mut rng = StdRng::seed_from_u64(0);
        let poses = (0..4).map(|_| random_poses(config.batch, &mut rng, device)).collect();
        let eps = (0..4)
            .map(|_| {
                let values: Vec<f32> = (0..config.batch * config.latent_dim).map(|_| rng.sample::<f64, _>(StandardNormal) as f32).collect();
                Tensor::from_data(TensorData::new(values, [config.batch, config.latent_dim]), device)
            })
            .collect();
        let images: Vec<f32> = (0..config.batch * d * d).map(|_| rng.random_range(-0.1..0.1)).collect();
        let images = Tensor::<3>::from_data(TensorData::new(images, [config.batch, d, d]), device);
        let density = RbfDensityConfig::new().init(&structure.centers, &structure.electrons, device);
        let priors = Priors::new(&structure, PriorConfig::new(), device);
        let adam = AdamConfig::new();
        let trainer = match model {
            BenchModel::Homogeneous => {
                Trainer::Homogeneous(Box::new(HomogeneousTrainer::new(density, priors, LossConfig::new(), grid, &adam, 1e-4)))
            }
            BenchModel::Vae => {
                // As `train-vae` builds it: the image term is the Gaussian negative log-likelihood.
                let settings = HeterogeneousConfig::new().with_latent_dim(config.latent_dim);
                let vae = VaeModel::new(&settings, density, d, device);
                let loss = LossConfig::new().with_image_weight((d * d) as f64 / (2.0 * IMAGE_VARIANCE));
                let input_scale = 1.0 / IMAGE_VARIANCE.sqrt();
                Trainer::Vae(Box::new(VaeTrainer::new(
                    vae,
                    priors,
                    loss,
                    settings.kl_weight,
                    input_scale,
                    grid,
                    &adam,
                    settings.learning_rate,
                )))
            }
        };
        Ok(StepBench { trainer, poses, images, eps, n_rbf: structure.n_rbf(), device: device.clone() })
    }

    /// RBFs of the synthetic structure.
    pub fn n_rbf(&self) -> usize {
        self.n_rbf
    }

    /// Step `i` (poses cycle through four batches); returns the total loss, read back to the host.
    pub fn step(&mut self, i: usize) -> f64 {
        let poses = &self.poses[i % self.poses.len()];
        match &mut self.trainer {
            Trainer::Homogeneous(t) => t.step(poses, self.images.clone()).total(),
            Trainer::Vae(t) => t.step(poses, self.images.clone(), self.eps[i % self.eps.len()].clone()).total(),
        }
    }

    /// Wait for the device to finish its queued work.
    ///
    /// # Errors
    /// [`TrainError::Backend`] when the device reports an execution error.
    pub fn sync(&self) -> Result<(), TrainError> {
        self.device.sync().map_err(|e| TrainError::Backend(format!("{:?}", self.device), format!("{e:?}")))
    }
}

/// Time `config.steps` steps of `model` on `backend` after `config.warmup` untimed ones.
///
/// # Errors
/// As [`StepBench::new`]; [`TrainError::Backend`] when the backend is unavailable;
/// [`TrainError::NonFinite`] when the loss is not finite.
pub fn run(model: BenchModel, config: &BenchConfig, backend: Backend) -> Result<BenchResult, TrainError> {
    if config.steps == 0 {
        return Err(TrainError::Data("a benchmark needs at least one timed step".into()));
    }
    let device = backend.device(true)?;
    let mut bench = StepBench::new(model, config, &device)?;
    for i in 0..config.warmup {
        bench.step(i);
    }
    bench.sync()?;
    let t0 = Instant::now();
    let mut last = 0.0;
    for i in 0..config.steps {
        last = bench.step(i);
    }
    bench.sync()?;
    let seconds = t0.elapsed().as_secs_f64();
    if !last.is_finite() {
        return Err(TrainError::NonFinite { term: "total", value: last, epoch: 1, step: config.steps });
    }
    Ok(BenchResult {
        model,
        device: backend.to_string(),
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        batch: config.batch,
        residues: config.residues,
        n_rbf: bench.n_rbf(),
        box_size: config.box_size,
        latent_dim: (model == BenchModel::Vae).then_some(config.latent_dim),
        steps: config.steps,
        seconds,
        images_per_s: (config.steps * config.batch) as f64 / seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_steps_run_and_report_their_shapes() {
        let config = BenchConfig::new().with_batch(2).with_residues(6).with_box_size(24).with_steps(2).with_warmup(1);
        for model in [BenchModel::Homogeneous, BenchModel::Vae] {
            let result = run(model, &config, Backend::Cpu).expect("bench runs");
            assert_eq!((result.batch, result.box_size, result.steps), (2, 24, 2));
            assert_eq!(result.n_rbf, synthetic_model(6).expect("model").n_rbf());
            assert!(result.images_per_s > 0.0 && result.seconds > 0.0);
        }
    }

    #[test]
    fn rejects_empty_shapes() {
        assert!(run(BenchModel::Homogeneous, &BenchConfig::new().with_batch(0), Backend::Cpu).is_err());
        assert!(run(BenchModel::Vae, &BenchConfig::new().with_steps(0), Backend::Cpu).is_err());
        assert!(synthetic_model(1).is_err());
    }
}
