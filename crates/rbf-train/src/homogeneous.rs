//! Homogeneous reconstruction (paper §3, §4.1): every RBF center, σ and a₀ are fitted directly to
//! the particles with Adam, starting from a given structure.
//!
//! The run follows the paper: `warmup_epochs` epochs (default 1) refine σ and a₀ (everything is
//! trained), then the centers are reset to the start and `epochs` epochs (default 10) train
//! everything, in minibatches (default 8) with a seeded shuffle per epoch.
//!
//! The image term of the loss is the Gaussian negative log-likelihood of each image,
//! `Σ_pixels (x̂ − x)² / 2σ_noise²`, averaged over the batch; the noise variance is estimated from
//! the images' background unless given. The priors are in the same units (per Å²).
//!
//! A run folder holds `config.json`, `log.jsonl` (one line per epoch), `checkpoint/` (at the start,
//! after every epoch, and at the step reached when the caller stops the run; atomically), and at
//! the end `model.pdb`, `model.cif`, `volume.mrc` and `metrics.json`. [`train`] with
//! `resume = true` continues from the checkpoint, mid-epoch included, to the same result as an
//! uninterrupted run.
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use burn::optim::{AdamConfig, OptimizerRecord};
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rbf_model::metrics::{fraction_within, rmse, rmse_superposed, volume_nmse};
use rbf_model::priors::{PriorConfig, Priors};
use rbf_model::{CoarseModel, ImageGrid, Poses, RbfDensity, RbfDensityConfig};
use serde::{Deserialize, Serialize};

use crate::ctf::{CtfBatcher, mean_image_mass_with_ctf, require_ctf};
use crate::data::{ParticleSource, mean_image_mass};
use crate::loss::{LossConfig, LossValues};
use crate::run::{
    CHECKPOINT_DIR, CheckpointFiles, CheckpointState, EpochClock, EpochSoFar, config_key, io_error, load_checkpoint, load_parameters,
    parameters_bytes, save_checkpoint, shuffle, write_log,
};
use crate::step::HomogeneousTrainer;
use crate::TrainError;
pub use crate::truth::Truth;

/// Settings of a homogeneous run. Defaults are the paper's (§4).
#[derive(Config, Debug)]
pub struct HomogeneousConfig {
    /// Training epochs after the warm-up.
    #[config(default = 10)]
    pub epochs: usize,
    /// Warm-up epochs that refine σ and a₀, after which the centers are reset.
    #[config(default = 1)]
    pub warmup_epochs: usize,
    /// Images per minibatch.
    #[config(default = 8)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[config(default = 1e-4)]
    pub learning_rate: f64,
    /// Factor on the learning rate of the centers: Adam moves each center by up to about
    /// `learning_rate × center_lr_scale` Å per step. 1 learns the centers in Å; the box length
    /// (`D · pixel size`) learns them in box units, as coordinates normalized to the box
    /// ([`HomogeneousTrainer::with_center_lr_scale`]).
    #[config(default = 1.0)]
    pub center_lr_scale: f64,
    /// Seed of the shuffling.
    #[config(default = 0)]
    pub seed: u64,
    /// Initial σ and a₀.
    #[config(default = "RbfDensityConfig::new()")]
    pub density: RbfDensityConfig,
    /// Bond and side-chain prior strengths.
    #[config(default = "PriorConfig::new()")]
    pub priors: PriorConfig,
    /// Noise variance per pixel; `None` estimates it from the images' background.
    #[config(default = "None")]
    pub noise_variance: Option<f64>,
    /// Start a₀ from the images' mean total intensity (Σ pixels · pixel area / Σ Z) instead of
    /// `density.amplitude_scale`, so that images on any intensity scale fit from the first step.
    #[config(default = true)]
    pub amplitude_from_data: bool,
    /// Factor on the image term (0 trains on the priors alone, the paper's "no cryo-EM loss"
    /// ablation).
    #[config(default = 1.0)]
    pub image_loss_weight: f64,
    /// Coarse-to-fine: σ in the images is held at least at this width (Å) at the start of
    /// training, the floor shrinking linearly to 0 over the first `schedule_epochs` epochs
    /// (after the warm-up). 0 turns it off.
    #[config(default = 0.0)]
    pub coarse_sigma: f64,
    /// Annealing: after every step each center moves by Gaussian noise of this standard
    /// deviation (Å), shrinking linearly to 0 over the first `schedule_epochs` epochs.
    /// 0 turns it off.
    #[config(default = 0.0)]
    pub anneal_noise: f64,
    /// Epochs (after the warm-up) over which `coarse_sigma` and `anneal_noise` decay to 0; a
    /// fixed length, so that extending a run with more epochs does not change its past.
    #[config(default = 5.0)]
    pub schedule_epochs: f64,
    /// Model each particle's CTF ([`ParticleSource::ctf`], required of every particle): the image
    /// term compares the CTF-modulated projections with the images, in Fourier space
    /// ([`crate::ctf`]). Off: the projections are compared with the images as they are.
    #[config(default = false)]
    pub ctf: bool,
    /// Take the frame terms' distances ([`PriorConfig::side_chain_frame_strength`],
    /// [`PriorConfig::backbone_frame_strength`]) from the start instead of the reference: its Cα trace, with the reference's side chains
    /// rebuilt in its local frames ([`rbf_model::init::side_chains_in_frames`]). The same for a
    /// start at the reference; for a start moved away from it, the prior then knows only the
    /// start's local geometry, as it would for a user whose reference is that start.
    #[config(default = false)]
    pub frame_from_start: bool,
}

impl HomogeneousConfig {
    /// How far (0 → 1) training is through the schedule of `coarse_sigma` and `anneal_noise`
    /// at `step` (0-based) of training epoch `epoch` (0-based, after the warm-up).
    fn schedule(&self, epoch: usize, step: usize, steps: usize) -> f64 {
        let total = self.schedule_epochs * steps as f64;
        if total <= 0.0 { 1.0 } else { (((epoch * steps + step) as f64) / total).min(1.0) }
    }
}

/// Accuracy against the truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Cα RMSE in the box frame (Å).
    pub ca_rmse: f64,
    /// Cα RMSE after optimal superposition (Å).
    pub ca_rmse_superposed: f64,
    /// Percentage of Cα within 3 Å.
    pub percent_within_3a: f64,
    /// Volume NMSE, when a true volume is given.
    pub volume_nmse: Option<f64>,
}

/// One line of `log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// Epoch, 1-based, warm-up included.
    pub epoch: usize,
    /// Whether this was a warm-up epoch.
    pub warmup: bool,
    /// Mean image term.
    pub image: f64,
    /// Mean bond term.
    pub bond: f64,
    /// Mean side-chain term.
    pub side_chain: f64,
    /// Mean steric term (absent from logs written before it existed).
    #[serde(default)]
    pub steric: f64,
    /// Mean total.
    pub loss: f64,
    /// σ after the epoch (Å).
    pub sigma: f64,
    /// a₀ after the epoch.
    pub amplitude_scale: f64,
    /// Throughput (images per second, training steps only).
    pub images_per_s: f64,

    /// Accuracy after the epoch, when a truth is given.
    pub accuracy: Option<Accuracy>,
}

/// What a finished run reports (also written as `metrics.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Accuracy of the start, when a truth is given.
    pub initial: Option<Accuracy>,
    /// Accuracy of the result, when a truth is given.
    pub final_accuracy: Option<Accuracy>,
    /// Final σ (Å).
    pub sigma: f64,
    /// Final a₀.
    pub amplitude_scale: f64,
    /// Noise variance used for the image term.
    pub noise_variance: f64,
    /// Epochs run, warm-up included.
    pub epochs: usize,
    /// Wall time of the training steps (s).
    pub train_seconds: f64,
}

/// Progress reported after every step.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Epoch, 1-based, warm-up included.
    pub epoch: usize,
    /// Total epochs, warm-up included.
    pub epochs: usize,
    /// Steps done in this epoch.
    pub step: usize,
    /// Steps per epoch.
    pub steps: usize,
    /// Loss of the last step.
    pub loss: LossValues,
    /// Throughput in this epoch so far (images/s).
    pub images_per_s: f64,
}

/// The state saved at the start, after every epoch and when stopped; the parameters and the
/// optimizer are in the files it names.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    config: String,
    epochs_done: usize,
    /// How far the run got into the next epoch, when it was stopped mid-epoch.
    #[serde(default)]
    epoch_so_far: Option<EpochSoFar<LossValues>>,
    start: Vec<[f64; 3]>,
    centers: Vec<[f64; 3]>,
    sigma: f64,
    amplitude_scale: f64,
    initial_amplitude_scale: f64,
    noise_variance: f64,
    train_seconds: f64,
    /// Absent in checkpoints of earlier versions, which hold the parameters in the fields above
    /// and the optimizer in [`LEGACY_OPTIMIZER_FILE`].
    #[serde(flatten)]
    files: CheckpointFiles,
    log: Vec<EpochLog>,
}

impl CheckpointState for Checkpoint {
    fn config(&self) -> &str {
        &self.config
    }
    fn files(&mut self) -> &mut CheckpointFiles {
        &mut self.files
    }
}

const LEGACY_OPTIMIZER_FILE: &str = "optimizer.bin";

/// Train the homogeneous model of `model` on `data`, from the centers `start` (box frame), writing
/// the run folder `out`. With `resume`, continue from `out`'s checkpoint instead of starting anew.
/// `progress` is called after every step; when it returns [`ControlFlow::Break`] the run saves a
/// checkpoint of that step and stops with [`TrainError::Interrupted`].
///
/// # Errors
/// [`TrainError::Data`] for an empty or ill-fitting particle set, [`TrainError::Resume`] for a
/// missing checkpoint or one written by another configuration, [`TrainError::NonFinite`] when a loss
/// term stops being finite (the last checkpoint stays), [`TrainError::Interrupted`] when stopped,
/// and I/O errors naming the file.
#[allow(clippy::too_many_arguments)]
pub fn train(
    config: &HomogeneousConfig,
    model: &CoarseModel,
    start: &[[f64; 3]],
    data: &dyn ParticleSource,
    truth: Option<&Truth>,
    device: &Device,
    out: &Path,
    resume: bool,
    progress: &mut dyn FnMut(&Progress) -> ControlFlow<()>,
) -> Result<Summary, TrainError> {
    validate(config, model, start, data)?;
    let grid = ImageGrid::new(data.box_size(), data.pixel_size())?;
    let config_json = config_key(config);
    let checkpoint_dir = out.join(CHECKPOINT_DIR);
    let (mut trainer, mut state) = if resume {
        let state: Checkpoint = load_checkpoint(&checkpoint_dir, &config_json)?;
        let density = RbfDensityConfig::new()
            .init(&state.start, &model.electrons, device)
            .with_centers(&state.centers)
            .with_sigma_and_scale(state.sigma, state.amplitude_scale);
        let density = match &state.files.model_file {
            Some(file) => load_parameters(density, &checkpoint_dir.join(file))?,
            None => density,
        };
        let path = checkpoint_dir.join(state.files.optimizer_file.as_deref().unwrap_or(LEGACY_OPTIMIZER_FILE));
        let record = OptimizerRecord::load(&path).map_err(|e| io_error(&path, format!("{e:?}")))?;
        let trainer = new_trainer(config, model, &state.start, density, state.noise_variance, grid, device)?.with_optimizer_record(record);
        (trainer, state)
    } else {
        std::fs::create_dir_all(&checkpoint_dir).map_err(|e| rbf_io::IoError::Io { path: checkpoint_dir.clone(), source: e })?;
        let noise_variance = match config.noise_variance {
            Some(v) => v,
            None => data.noise_variance(1000)?,
        };
        rbf_io::atomic::write_atomically(&out.join("config.json"), |w| w.write_all(config_json.as_bytes()))?;
        let mut density_config = config.density.clone();
        if config.amplitude_from_data {
            let electrons: f64 = model.electrons.iter().sum();
            let mass = if config.ctf { mean_image_mass_with_ctf(data, 1000)? } else { mean_image_mass(data, 1000)? };
            if mass > 0.0 && electrons > 0.0 {
                density_config.amplitude_scale = mass / electrons;
            }
        }
        let density = density_config.init(start, &model.electrons, device);
        let mut state = Checkpoint {
            config: config_json.clone(),
            epochs_done: 0,
            epoch_so_far: None,
            start: start.to_vec(),
            centers: start.to_vec(),
            sigma: density_config.sigma,
            amplitude_scale: density_config.amplitude_scale,
            initial_amplitude_scale: density_config.amplitude_scale,
            noise_variance,
            train_seconds: 0.0,
            files: CheckpointFiles::default(),
            log: Vec::new(),
        };
        let trainer = new_trainer(config, model, start, density, noise_variance, grid, device)?;
        // A checkpoint from the start: a run killed in its first epoch can be resumed too.
        checkpoint(&checkpoint_dir, "0", &mut state, &trainer)?;
        (trainer, state)
    };

    let total_epochs = config.warmup_epochs + config.epochs;
    let steps = data.len() / config.batch_size;
    let d = data.box_size();
    let mut images = vec![0.0f32; config.batch_size * d * d];
    let mut ctf_batcher = config.ctf.then(|| CtfBatcher::new(grid));
    for epoch in state.epochs_done..total_epochs {
        let mut order: Vec<usize> = (0..data.len()).collect();
        shuffle(&mut order, config.seed, epoch);
        let clock = EpochClock::start(state.epoch_so_far.take());
        let mut sums = clock.sums();
        for (step, batch) in order.chunks_exact(config.batch_size).enumerate().skip(clock.steps_done()) {
            let (rotations, shifts): (Vec<_>, Vec<_>) = batch.iter().map(|&i| data.pose(i)).unzip();
            for (k, &i) in batch.iter().enumerate() {
                data.read_image(i, &mut images[k * d * d..(k + 1) * d * d])?;
            }
            let warmup = epoch < config.warmup_epochs;
            let progress_in_schedule = if warmup { 1.0 } else { config.schedule(epoch - config.warmup_epochs, step, steps) };
            trainer.min_sigma = config.coarse_sigma * (1.0 - progress_in_schedule);
            let poses = Poses::from_host(&rotations, &shifts, device);
            let loss = match ctf_batcher.as_mut() {
                Some(batcher) => trainer.step_ctf(&poses, batcher.batch(data, batch, &images, device)?),
                None => trainer.step(&poses, Tensor::from_data(TensorData::new(images.clone(), [batch.len(), d, d]), device)),
            };
            let noise = config.anneal_noise * (1.0 - progress_in_schedule);
            if noise > 0.0 {
                let offsets = gaussian_offsets(trainer.density.n_rbf(), noise, config.seed, epoch, step);
                trainer.density = trainer.density.clone().displaced(&offsets);
            }
            for (term, value) in [("image", loss.image), ("bond", loss.bond), ("side-chain", loss.side_chain), ("steric", loss.steric)] {
                if !value.is_finite() {
                    return Err(TrainError::NonFinite { term, value, epoch: epoch + 1, step: step + 1 });
                }
            }
            sums.image += loss.image;
            sums.bond += loss.bond;
            sums.side_chain += loss.side_chain;
            sums.steric += loss.steric;
            let images_per_s = clock.images_per_s(step, config.batch_size);
            if progress(&Progress { epoch: epoch + 1, epochs: total_epochs, step: step + 1, steps, loss, images_per_s }).is_break() {
                state.epoch_so_far = Some(clock.after(step, sums));
                checkpoint(&checkpoint_dir, &format!("{epoch}-{}", step + 1), &mut state, &trainer)?;
                return Err(TrainError::Interrupted { epoch: epoch + 1, step: step + 1, checkpoint: checkpoint_dir });
            }
        }
        let seconds = clock.seconds();
        let warmup = epoch < config.warmup_epochs;
        if epoch + 1 == config.warmup_epochs {
            // End of the warm-up: keep σ and a₀, put the centers back at the start, fresh Adam.
            let density = trainer.density.clone().with_centers(&state.start);
            trainer = new_trainer(config, model, &state.start, density, state.noise_variance, grid, device)?;
        }
        let (sigma, amplitude_scale) = trainer.density.sigma_and_scale();
        let centers = trainer.density.centers_host();
        let n = steps.max(1) as f64;
        state.log.push(EpochLog {
            epoch: epoch + 1,
            warmup,
            image: sums.image / n,
            bond: sums.bond / n,
            side_chain: sums.side_chain / n,
            steric: sums.steric / n,
            loss: sums.total() / n,
            sigma,
            amplitude_scale,
            images_per_s: (steps * config.batch_size) as f64 / seconds,
            accuracy: truth.map(|t| accuracy(model, &centers, t, &trainer.density, &grid)),
        });
        state.epochs_done = epoch + 1;
        state.centers = centers;
        state.sigma = sigma;
        state.amplitude_scale = amplitude_scale;
        state.train_seconds += seconds;
        checkpoint(&checkpoint_dir, &(epoch + 1).to_string(), &mut state, &trainer)?;
        write_log(&out.join("log.jsonl"), &state.log)?;
    }

    let summary = Summary {
        initial: truth.map(|t| {
            let start_density = config
                .density
                .clone()
                .with_amplitude_scale(state.initial_amplitude_scale)
                .init(&state.start, &model.electrons, device);
            accuracy(model, &state.start, t, &start_density, &grid)
        }),
        final_accuracy: state.log.last().and_then(|l| l.accuracy),
        sigma: state.sigma,
        amplitude_scale: state.amplitude_scale,
        noise_variance: state.noise_variance,
        epochs: state.epochs_done,
        train_seconds: state.train_seconds,
    };
    write_outputs(out, model, &state.centers, &trainer.density, &grid, &summary)?;
    Ok(summary)
}

/// Check the settings against the model, the start and the particles, as [`train`] does first;
/// callers run it before they create anything in the run folder.
///
/// # Errors
/// [`TrainError::Data`] describing the first problem: a start of the wrong length, fewer
/// particles than one batch (or a batch of 0), a learning rate, σ, weight, schedule or noise
/// variance out of range, or a start that does not fit the particles' box.
pub fn validate(config: &HomogeneousConfig, model: &CoarseModel, start: &[[f64; 3]], data: &dyn ParticleSource) -> Result<(), TrainError> {
    if start.len() != model.n_rbf() {
        return Err(TrainError::Data(format!("the start has {} centers, the model {} RBFs", start.len(), model.n_rbf())));
    }
    if config.batch_size == 0 || data.len() < config.batch_size {
        return Err(TrainError::Data(format!(
            "{} particles cannot fill one batch of {}",
            data.len(),
            config.batch_size
        )));
    }
    if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
        return Err(TrainError::Data(format!("the learning rate must be positive, got {}", config.learning_rate)));
    }
    crate::run::check_priors(&config.priors)?;
    if !(config.center_lr_scale > 0.0 && config.center_lr_scale.is_finite()) {
        return Err(TrainError::Data(format!("the centers' learning-rate scale must be positive, got {}", config.center_lr_scale)));
    }
    if !(config.density.sigma > 0.0 && config.density.sigma.is_finite()) {
        return Err(TrainError::Data(format!("σ must be positive, got {} Å", config.density.sigma)));
    }
    if !(config.image_loss_weight >= 0.0 && config.image_loss_weight.is_finite()) {
        return Err(TrainError::Data(format!("the image loss weight must be ≥ 0, got {}", config.image_loss_weight)));
    }
    for (name, v) in [("coarse σ", config.coarse_sigma), ("annealing noise", config.anneal_noise)] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(TrainError::Data(format!("the {name} must be ≥ 0 Å, got {v}")));
        }
    }
    if !(config.schedule_epochs >= 0.0 && config.schedule_epochs.is_finite()) {
        return Err(TrainError::Data(format!("the schedule length must be ≥ 0 epochs, got {}", config.schedule_epochs)));
    }
    if config.ctf {
        require_ctf(data)?;
    }
    if let Some(v) = config.noise_variance.filter(|v| !(*v > 0.0 && v.is_finite())) {
        return Err(TrainError::Data(format!("the noise variance must be positive, got {v}")));
    }
    let grid = ImageGrid::new(data.box_size(), data.pixel_size())?;
    grid.check_fits(start, 0.0)?;
    Ok(())
}

fn new_trainer(
    config: &HomogeneousConfig,
    model: &CoarseModel,
    start: &[[f64; 3]],
    density: RbfDensity,
    noise_variance: f64,
    grid: ImageGrid,
    device: &Device,
) -> Result<HomogeneousTrainer, TrainError> {
    let pixels = (grid.box_size() * grid.box_size()) as f64;
    let loss = LossConfig::new().with_image_weight(config.image_loss_weight * pixels / (2.0 * noise_variance));
    let priors = if config.frame_from_start {
        let geometry = rbf_model::init::side_chains_in_frames(model, &model.centers, start)?;
        Priors::with_frame_geometry(model, config.priors.clone(), &geometry, device)
    } else {
        Priors::new(model, config.priors.clone(), device)
    };
    Ok(HomogeneousTrainer::new(density, priors, loss, grid, &AdamConfig::new(), config.learning_rate)
        .with_center_lr_scale(config.center_lr_scale))
}

/// Annealing noise for one step, a function of the seed, the epoch and the step only (so a
/// resumed run draws the same).
fn gaussian_offsets(n: usize, std: f64, seed: u64, epoch: usize, step: usize) -> Vec<[f64; 3]> {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(0xA5A5_0000_0000).wrapping_add(((epoch as u64) << 32) | step as u64));
    let normal = rand_distr::Normal::new(0.0, std).unwrap_or_else(|_| rand_distr::Normal::new(0.0, 0.0).expect("zero width is valid"));
    (0..n).map(|_| std::array::from_fn(|_| rand_distr::Distribution::sample(&normal, &mut rng))).collect()
}

fn accuracy(model: &CoarseModel, centers: &[[f64; 3]], truth: &Truth, density: &RbfDensity, grid: &ImageGrid) -> Accuracy {
    let ca = model.ca_positions(centers);
    let volume_nmse = truth.volume.as_ref().map(|v| {
        let mine: Vec<f32> = density.volume(grid).into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default();
        volume_nmse(&mine, v)
    });
    Accuracy {
        ca_rmse: rmse(&ca, &truth.ca),
        ca_rmse_superposed: rmse_superposed(&ca, &truth.ca),
        percent_within_3a: 100.0 * fraction_within(&ca, &truth.ca, 3.0),
        volume_nmse,
    }
}

/// Save the checkpoint `tag` (`epochs done` or `epoch-steps done`): the density's parameters
/// exactly (σ is stored as log σ), the optimizer, and `state`.
fn checkpoint(dir: &Path, tag: &str, state: &mut Checkpoint, trainer: &HomogeneousTrainer) -> Result<(), TrainError> {
    let parameters = parameters_bytes(&trainer.density, dir)?;
    let optimizer = trainer.optimizer_record().into_bytes().map_err(|e| io_error(dir, format!("{e:?}")))?;
    save_checkpoint(dir, tag, &parameters, &optimizer, state)
}

fn write_outputs(
    out: &Path,
    model: &CoarseModel,
    centers: &[[f64; 3]],
    density: &RbfDensity,
    grid: &ImageGrid,
    summary: &Summary,
) -> Result<(), TrainError> {
    model.write_models(&out.join("model.pdb"), &[centers.to_vec()])?;
    model.write_models(&out.join("model.cif"), &[centers.to_vec()])?;
    let volume: Vec<f32> = density.volume(grid).into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default();
    rbf_io::mrc::write_volume(&out.join("volume.mrc"), &volume, grid.box_size(), grid.pixel_size())?;
    let json = serde_json::to_vec_pretty(summary).map_err(|e| io_error(out, e))?;
    rbf_io::atomic::write_atomically(&out.join("metrics.json"), |w| w.write_all(&json))?;
    Ok(())
}

/// The run folder's files, for callers that want to show them.
pub fn output_files(out: &Path) -> Vec<PathBuf> {
    ["model.pdb", "model.cif", "volume.mrc", "metrics.json", "log.jsonl"].iter().map(|f| out.join(f)).collect()
}
