//! Heterogeneous reconstruction (paper §3, §4.2, Fig. 2B): a VAE whose encoder maps each particle
//! image to a latent `z` and whose decoder maps `z` to an offset of every RBF center, so that each
//! image is explained by its own structure `μ + D(z)`. The encoder, the decoder and the base
//! density (centers μ, σ, a₀) are trained together, end to end, with Adam.
//!
//! The run follows the homogeneous one ([`crate::homogeneous`]): `warmup_epochs` epochs (default 1)
//! refine σ and a₀ (everything is trained), then the centers and both networks are put back at
//! their start and `epochs` epochs (default 10) train everything, in minibatches (default 8) with a
//! seeded shuffle per epoch. The loss of an image is the Gaussian negative log-likelihood of eq. (3)
//! (`Σ_pixels (x̂ − x)²/2σ_noise²`), plus the bond and side-chain priors of its own decoded
//! structure, plus `kl_weight` times the KL divergence of its latent from `N(0, 1)`; all averaged
//! over the batch. With `kl_weight = 1` this is the negative evidence lower bound.
//!
//! The encoder reads images divided by the noise standard deviation, so that its inputs are of
//! order one whatever the scale of the data.
//!
//! Everything random is drawn on the host from the seed (network weights, the shuffle, the
//! reparameterisation noise of every step), so that a run can be resumed from its checkpoint (at
//! the start, after every epoch, or at the step where the caller stopped it) to exactly the result
//! of an uninterrupted run.
//!
//! A run folder holds what a homogeneous one does (`config.json`, `log.jsonl`, `checkpoint/`,
//! `model.pdb`, `model.cif`, `volume.mrc` and `metrics.json`; the structure and volume are those
//! decoded at the median latent) plus `z.npy` (the latent mean of every particle, in particle
//! order, `float32 [n_particles, latent_dim]`), `vae.bin` (the trained parameters, burnpack) and
//! `vae.json` (what is needed to rebuild the model: settings, coarse-grained structure, box, the
//! range of the latents seen in training). [`crate::analysis::VaeRun`] opens it again.
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use burn::module::{ModuleMapper, Param, ParamId};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rbf_model::coarse::{ResidueId, SideChainBound};
use rbf_model::density::{centers_to_host, scalar};
use rbf_model::priors::{PriorConfig, Priors};
use rbf_model::{CoarseModel, ImageGrid, Poses, RbfDensity, RbfDensityConfig, RbfKind};
use rbf_vae::{Decoder, DecoderConfig, Encoder, EncoderConfig, Latent, kl_divergence, reparameterize_with_noise};
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::analysis::{HeterogeneousAccuracy, StateTruth, median_latent, score};
use crate::data::{ParticleSource, mean_image_mass};
use crate::loss::{LossConfig, LossTerms};
use crate::run::{
    CHECKPOINT_DIR, CheckpointFiles, CheckpointState, EpochClock, EpochSoFar, config_key, io_error, load_checkpoint, load_parameters,
    parameters_bytes, save_checkpoint, shuffle, write_json, write_log,
};

/// Settings of a heterogeneous run. Defaults are the paper's (§4).
#[derive(Config, Debug)]
pub struct HeterogeneousConfig {
    /// Training epochs after the warm-up.
    #[config(default = 10)]
    pub epochs: usize,
    /// Warm-up epochs that refine σ and a₀, after which the centers and networks are reset.
    #[config(default = 1)]
    pub warmup_epochs: usize,
    /// Images per minibatch.
    #[config(default = 8)]
    pub batch_size: usize,
    /// Adam learning rate (networks and density alike).
    #[config(default = 1e-4)]
    pub learning_rate: f64,
    /// Seed of the network weights, the shuffling and the reparameterisation noise.
    #[config(default = 0)]
    pub seed: u64,
    /// Latent dimension (paper: 1).
    #[config(default = 1)]
    pub latent_dim: usize,
    /// Hidden width of the encoder and the decoder (paper: 256).
    #[config(default = 256)]
    pub width: usize,
    /// Hidden layers of the encoder and the decoder (paper: 3).
    #[config(default = 3)]
    pub layers: usize,
    /// Weight of the KL term (1: the evidence lower bound).
    #[config(default = 1.0)]
    pub kl_weight: f64,
    /// Initial σ and a₀.
    #[config(default = "RbfDensityConfig::new()")]
    pub density: RbfDensityConfig,
    /// Bond and side-chain prior strengths, applied to every decoded structure.
    #[config(default = "PriorConfig::new()")]
    pub priors: PriorConfig,
    /// Noise variance per pixel; `None` estimates it from the images' background.
    #[config(default = "None")]
    pub noise_variance: Option<f64>,
    /// Start a₀ from the images' mean total intensity instead of `density.amplitude_scale`.
    #[config(default = true)]
    pub amplitude_from_data: bool,
    /// What the encoder reads of each particle.
    #[config(default = "EncoderInput::Image")]
    pub encoder_input: EncoderInput,
}

/// What the encoder reads of each particle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EncoderInput {
    /// The image itself, `D²` pixels (the paper's encoder).
    #[default]
    Image,
    /// The image's score: the gradient of its squared error against the base structure's
    /// projection at the particle's known pose, with respect to every base center, `3·n_rbf`
    /// values in the structure's own frame. It says how each RBF would have to move to explain
    /// that image; unlike the pixels, it does not depend on the pose (only the component along
    /// the beam is missing), so the encoder need not learn to undo rotations.
    Score,
}

/// The heterogeneous model: the image encoder, the offset decoder and the base density.
#[derive(Module, Debug)]
pub struct VaeModel {
    /// Image → latent mean and log-variance.
    pub encoder: Encoder,
    /// Latent → offset of every RBF center (Å).
    pub decoder: Decoder,
    /// Base centers μ, σ and a₀.
    pub density: RbfDensity,
}

impl VaeModel {
    /// The model at its start: networks drawn from `config.seed` (the decoder's output layer at
    /// zero, so that every latent first decodes to the base structure) around `density`.
    pub fn new(config: &HeterogeneousConfig, density: RbfDensity, box_size: usize, device: &Device) -> Self {
        let input_dim = match config.encoder_input {
            EncoderInput::Image => box_size * box_size,
            EncoderInput::Score => 3 * density.n_rbf(),
        };
        let encoder = EncoderConfig::new(input_dim)
            .with_latent_dim(config.latent_dim)
            .with_width(config.width)
            .with_layers(config.layers)
            .init(device);
        let decoder = DecoderConfig::new(density.n_rbf())
            .with_latent_dim(config.latent_dim)
            .with_width(config.width)
            .with_layers(config.layers)
            .init(device);
        VaeModel {
            encoder: encoder.map(&mut SeededInit::new(config.seed)),
            decoder: decoder.map(&mut SeededInit::new(config.seed.wrapping_add(1))),
            density,
        }
    }

    /// Latent dimension.
    pub fn latent_dim(&self) -> usize {
        self.encoder.latent_dim
    }

    /// The structure of each latent: base centers plus decoded offsets.
    ///
    /// # Shapes
    /// `z`: `[batch, latent_dim]` → `[batch, n_rbf, 3]` (Å).
    pub fn centers(&self, z: Tensor<2>) -> Tensor<3> {
        self.density.centers.val().unsqueeze_dim(0) + self.decoder.forward(z)
    }

    /// The structures of latents given on the host, `[n][n_rbf][3]` (Å).
    ///
    /// # Shapes
    /// `z`: `[n][latent_dim]`.
    pub fn decode_host(&self, z: &[Vec<f64>]) -> Vec<Vec<[f64; 3]>> {
        if z.is_empty() {
            return Vec::new();
        }
        let device = self.density.electrons.device();
        let dim = self.latent_dim();
        let flat: Vec<f32> = z.iter().flat_map(|v| v.iter().map(|&x| x as f32)).collect();
        let centers = self.centers(Tensor::from_data(TensorData::new(flat, [z.len(), dim]), &device));
        let n_rbf = self.density.n_rbf();
        let all = centers_to_host(centers.reshape([z.len() * n_rbf, 3]));
        all.chunks_exact(n_rbf).map(<[[f64; 3]]>::to_vec).collect()
    }
}

/// Draws every float parameter of a network from a seeded host generator, as Burn's default
/// (Kaiming-uniform, bound `1/√fan_in`), leaving all-zero parameters (a zero-initialised output
/// layer) at zero. Burn's own initialisers draw from the backend's global generator, which other
/// threads share.
struct SeededInit {
    rng: StdRng,
    fan_in: usize,
}

impl SeededInit {
    fn new(seed: u64) -> Self {
        SeededInit { rng: StdRng::seed_from_u64(seed ^ 0x5641_4549_4E49_5400), fan_in: 1 }
    }
}

impl ModuleMapper for SeededInit {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        // Ids from the same generator: the same seed gives the same parameter file.
        let (_, tensor, mapper) = param.consume();
        let id = ParamId::from(self.rng.random::<u64>());
        let values = tensor.to_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default();
        let tensor = if values.iter().all(|&v| v == 0.0) {
            tensor
        } else {
            let dims = tensor.dims();
            if D == 2 {
                // A Linear weight is [d_input, d_output]; its bias follows it.
                self.fan_in = dims[0];
            }
            let bound = 1.0 / (self.fan_in.max(1) as f64).sqrt();
            let drawn: Vec<f32> = (0..values.len()).map(|_| self.rng.random_range(-bound..bound) as f32).collect();
            let require_grad = tensor.is_require_grad();
            Tensor::<D>::from_data(TensorData::new(drawn, dims), &tensor.device()).set_require_grad(require_grad)
        };
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// The loss terms of one batch as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct VaeLossValues {
    /// Weighted image error (negative log-likelihood per image).
    pub image: f64,
    /// KL divergence of the latents, times its weight.
    pub kl: f64,
    /// Bond energy of the decoded structures.
    pub bond: f64,
    /// Side-chain bound energy of the decoded structures.
    pub side_chain: f64,
    /// Steric energy of the decoded structures (absent from records written before it existed).
    #[serde(default)]
    pub steric: f64,
}

impl VaeLossValues {
    /// The sum of the terms.
    pub fn total(&self) -> f64 {
        self.image + self.kl + self.bond + self.side_chain + self.steric
    }

    fn terms(&self) -> [(&'static str, f64); 5] {
        [("image", self.image), ("KL", self.kl), ("bond", self.bond), ("side-chain", self.side_chain), ("steric", self.steric)]
    }
}

/// The heterogeneous model with its optimizer state: one Adam step per batch.
pub struct VaeTrainer {
    /// The model being learned (on an autodiff device).
    pub model: VaeModel,
    optimizer: ModuleOptimizer,
    priors: Priors,
    loss: LossConfig,
    kl_weight: f64,
    input_scale: f64,
    encoder_input: EncoderInput,
    grid: ImageGrid,
    learning_rate: f64,
}

impl VaeTrainer {
    /// Wrap a model (created on an autodiff device) for training with Adam. The encoder reads the
    /// images times `input_scale` (e.g. one over the noise standard deviation).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: VaeModel,
        priors: Priors,
        loss: LossConfig,
        kl_weight: f64,
        input_scale: f64,
        grid: ImageGrid,
        adam: &AdamConfig,
        learning_rate: f64,
    ) -> Self {
        VaeTrainer {
            model,
            optimizer: adam.init(),
            priors,
            loss,
            kl_weight,
            input_scale,
            encoder_input: EncoderInput::Image,
            grid,
            learning_rate,
        }
    }

    /// Let the encoder read `input` (the image by default) times the input scale.
    pub fn with_encoder_input(mut self, input: EncoderInput) -> Self {
        self.encoder_input = input;
        self
    }

    /// Replace the optimizer state by a saved one.
    pub fn with_optimizer_record(mut self, record: OptimizerRecord) -> Self {
        self.optimizer = self.optimizer.load_record(record);
        self
    }

    /// The optimizer state, to save it.
    pub fn optimizer_record(&self) -> OptimizerRecord {
        self.optimizer.to_record()
    }

    /// One step on a batch of observed images with their poses and the standard-normal draws of
    /// the reparameterisation; returns the loss terms before the update.
    ///
    /// # Shapes
    /// `images`: `[batch, D, D]`; `eps`: `[batch, latent_dim]`.
    pub fn step(&mut self, poses: &Poses, images: Tensor<3>, eps: Tensor<2>) -> VaeLossValues {
        let features = encoder_features(&self.model, self.encoder_input, poses, images.clone(), &self.grid);
        let latent = self.model.encoder.forward_features(features.mul_scalar(self.input_scale));
        let z = reparameterize_with_noise(&latent, eps);
        let offsets = self.model.decoder.forward(z);
        let centers = self.model.density.centers.val().unsqueeze_dim(0) + offsets.clone();
        let predicted = self.model.density.project_displaced(offsets, poses, &self.grid);
        let terms = LossTerms::new(&self.loss, &self.priors, predicted, images, centers);
        let kl = kl_divergence(&latent).mul_scalar(self.kl_weight);
        let values = terms.values();
        let values = VaeLossValues {
            image: values.image,
            kl: scalar(kl.clone()),
            bond: values.bond,
            side_chain: values.side_chain,
            steric: values.steric,
        };
        let grads = GradientsParams::from_grads((terms.total() + kl).backward(), &self.model);
        let model = self.model.clone();
        self.model = self.optimizer.step(self.learning_rate, model, grads);
        values
    }
}

/// What the encoder reads of a batch of particles (before the input scale), `[batch, input_dim]`.
///
/// # Shapes
/// `images`: `[batch, D, D]` → `[batch, D²]` ([`EncoderInput::Image`]) or `[batch, 3·n_rbf]`
/// ([`EncoderInput::Score`]).
pub fn encoder_features(model: &VaeModel, input: EncoderInput, poses: &Poses, images: Tensor<3>, grid: &ImageGrid) -> Tensor<2> {
    let [batch, h, w] = images.dims();
    match input {
        EncoderInput::Image => images.reshape([batch, h * w]),
        EncoderInput::Score => {
            // The gradient of Σ_pixels (projection − image)² with respect to a per-image copy of
            // the base centers, taken on an autodiff graph of its own: a constant for the step.
            let device = images.device();
            let density = &model.density;
            let n_rbf = density.n_rbf();
            let centers = density.centers.val().without_autodiff().unsqueeze_dim::<3>(0).repeat_dim(0, batch);
            let leaf = centers.autodiff().require_grad();
            let amplitudes = density.amplitudes().without_autodiff().autodiff();
            let sigma = density.sigma().without_autodiff().autodiff();
            let predicted = rbf_model::projection::project(leaf.clone(), amplitudes, sigma, poses, grid);
            let residual = predicted - images.without_autodiff().autodiff();
            let grads = residual.powi_scalar(2).sum().backward();
            let score = leaf.grad(&grads).unwrap_or_else(|| Tensor::zeros([batch, n_rbf, 3], &device).without_autodiff());
            let score = score.reshape([batch, 3 * n_rbf]);
            if device.is_autodiff() { score.autodiff() } else { score }
        }
    }
}

/// The input scale of the encoder: one over the root-mean-square of its features on up to
/// `max_images` particles (for [`EncoderInput::Image`], one over the noise standard deviation).
fn feature_scale(model: &VaeModel, input: EncoderInput, data: &dyn ParticleSource, noise_variance: f64, max_images: usize) -> Result<f64, TrainError> {
    if input == EncoderInput::Image {
        return Ok(1.0 / noise_variance.sqrt());
    }
    let grid = ImageGrid::new(data.box_size(), data.pixel_size())?;
    let device = model.density.electrons.device();
    let mut sum = 0.0;
    let mut count = 0usize;
    for_each_chunk(data, max_images.min(data.len()), &device, |poses, images| {
        let features = encoder_features(model, input, poses, images, &grid);
        count += features.dims().iter().product::<usize>();
        sum += scalar(features.powi_scalar(2).sum());
        Ok(())
    })?;
    let rms = (sum / count.max(1) as f64).sqrt();
    Ok(if rms > 0.0 && rms.is_finite() { 1.0 / rms } else { 1.0 })
}

/// Call `f` with the poses and images of the first `n` particles, 64 at a time.
fn for_each_chunk(
    data: &dyn ParticleSource,
    n: usize,
    device: &Device,
    mut f: impl FnMut(&Poses, Tensor<3>) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    const CHUNK: usize = 64;
    let d = data.box_size();
    let mut images = vec![0.0f32; CHUNK * d * d];
    for start in (0..n).step_by(CHUNK) {
        let count = CHUNK.min(n - start);
        for k in 0..count {
            data.read_image(start + k, &mut images[k * d * d..(k + 1) * d * d])?;
        }
        let (rotations, shifts): (Vec<_>, Vec<_>) = (start..start + count).map(|i| data.pose(i)).unzip();
        let x = Tensor::<3>::from_data(TensorData::new(images[..count * d * d].to_vec(), [count, d, d]), device);
        f(&Poses::from_host(&rotations, &shifts, device), x)?;
    }
    Ok(())
}

/// The latent means of every particle, in particle order, `[n_particles][latent_dim]`: the
/// encoder's features (`input`) times `input_scale` through the encoder, in batches, without
/// gradients.
///
/// # Errors
/// When an image cannot be read.
pub fn encode_particles(model: &VaeModel, data: &dyn ParticleSource, input: EncoderInput, input_scale: f64) -> Result<Vec<Vec<f64>>, TrainError> {
    let model = model.valid();
    let grid = ImageGrid::new(data.box_size(), data.pixel_size())?;
    let device = model.density.electrons.device();
    let dim = model.latent_dim();
    let mut out = Vec::with_capacity(data.len());
    for_each_chunk(data, data.len(), &device, |poses, images| {
        let features = encoder_features(&model, input, poses, images, &grid).mul_scalar(input_scale);
        let Latent { mean, .. } = model.encoder.forward_features(features);
        let values = mean.into_data().convert::<f32>().try_to_vec::<f32>().map_err(|e| TrainError::Data(format!("{e:?}")))?;
        out.extend(values.chunks_exact(dim).map(|row| row.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>()));
        Ok(())
    })?;
    Ok(out)
}

/// One line of `log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// Epoch, 1-based, warm-up included.
    pub epoch: usize,
    /// Whether this was a warm-up epoch.
    pub warmup: bool,
    /// Mean loss terms.
    pub terms: VaeLossValues,
    /// Mean total.
    pub loss: f64,
    /// σ after the epoch (Å).
    pub sigma: f64,
    /// a₀ after the epoch.
    pub amplitude_scale: f64,
    /// Throughput (images per second, training steps only).
    pub images_per_s: f64,
    /// Accuracy after the epoch, when a truth is given.
    pub accuracy: Option<HeterogeneousAccuracy>,
}

/// What a finished run reports (also written as `metrics.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Accuracy of the result, when a truth is given.
    pub final_accuracy: Option<HeterogeneousAccuracy>,
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
    /// Smallest and largest latent mean of the particles, per latent dimension.
    pub latent_range: Vec<[f64; 2]>,
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
    pub loss: VaeLossValues,
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
    epoch_so_far: Option<EpochSoFar<VaeLossValues>>,
    start: Vec<[f64; 3]>,
    sigma: f64,
    amplitude_scale: f64,
    noise_variance: f64,
    input_scale: f64,
    train_seconds: f64,
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
/// The trained parameters in a run folder.
pub const VAE_FILE: &str = "vae.bin";
/// What rebuilds the model of a run folder.
pub const VAE_INFO_FILE: &str = "vae.json";
/// The latent mean of every particle in a run folder.
pub const LATENT_FILE: &str = "z.npy";
/// Identifies `vae.json` files of this format.
pub const VAE_FORMAT: &str = "cryorbf-vae-1";

/// What `vae.json` holds: everything but the parameters needed to rebuild a run's model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VaeInfo {
    /// [`VAE_FORMAT`].
    pub format: String,
    /// The run's settings.
    pub config: HeterogeneousConfig,
    /// Box edge of the particles (pixels).
    pub box_size: usize,
    /// Pixel size (Å/pixel).
    pub pixel_size: f64,
    /// Factor on the images the encoder reads (one over the noise standard deviation).
    pub input_scale: f64,
    /// Smallest and largest latent mean of the training particles, per latent dimension.
    pub latent_range: Vec<[f64; 2]>,
    /// The coarse-grained structure (box frame; its centers are the start of training).
    pub structure: CoarseModelRecord,
}

/// A coarse-grained structure as JSON (see [`CoarseModel`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoarseModelRecord {
    /// Residues: chain, name, number, insertion code.
    pub residues: Vec<(String, String, isize, Option<String>)>,
    /// RBF centers (Å), `[n_rbf][3]`.
    pub centers: Vec<[f64; 3]>,
    /// Electrons of each RBF.
    pub electrons: Vec<f64>,
    /// Whether each RBF is a side chain (else a backbone).
    pub side_chain: Vec<bool>,
    /// Residue of each RBF.
    pub residue_of: Vec<usize>,
    /// Backbone RBF of each residue.
    pub backbone: Vec<usize>,
    /// Bonds as pairs of RBF indices.
    pub bonds: Vec<(usize, usize)>,
    /// Side-chain bounds: backbone RBF, side-chain RBF, largest distance (Å).
    pub side_chain_bounds: Vec<(usize, usize, f64)>,
}

impl From<&CoarseModel> for CoarseModelRecord {
    fn from(m: &CoarseModel) -> Self {
        CoarseModelRecord {
            residues: m.residues.iter().map(|r| (r.chain.clone(), r.name.clone(), r.number, r.insertion_code.clone())).collect(),
            centers: m.centers.clone(),
            electrons: m.electrons.clone(),
            side_chain: m.kinds.iter().map(|k| *k == RbfKind::SideChain).collect(),
            residue_of: m.residue_of.clone(),
            backbone: m.backbone.clone(),
            bonds: m.bonds.clone(),
            side_chain_bounds: m.side_chain_bounds.iter().map(|b| (b.backbone, b.side_chain, b.max_distance)).collect(),
        }
    }
}

impl CoarseModelRecord {
    /// The structure back, after checking that every index is in range.
    ///
    /// # Errors
    /// A description of the first inconsistency.
    pub fn to_model(&self) -> Result<CoarseModel, String> {
        let n = self.centers.len();
        let n_res = self.residues.len();
        if self.electrons.len() != n || self.side_chain.len() != n || self.residue_of.len() != n || self.backbone.len() != n_res {
            return Err(format!("inconsistent structure: {n} centers, {n_res} residues, and lists of other lengths"));
        }
        let rbf_ok = |i: usize| i < n;
        if !(self.residue_of.iter().all(|&r| r < n_res)
            && self.backbone.iter().all(|&i| rbf_ok(i))
            && self.bonds.iter().all(|&(a, b)| rbf_ok(a) && rbf_ok(b))
            && self.side_chain_bounds.iter().all(|&(a, b, _)| rbf_ok(a) && rbf_ok(b)))
        {
            return Err("inconsistent structure: an index points past the RBFs or residues".into());
        }
        Ok(CoarseModel {
            residues: self
                .residues
                .iter()
                .map(|(chain, name, number, icode)| ResidueId { chain: chain.clone(), name: name.clone(), number: *number, insertion_code: icode.clone() })
                .collect(),
            centers: self.centers.clone(),
            electrons: self.electrons.clone(),
            kinds: self.side_chain.iter().map(|&s| if s { RbfKind::SideChain } else { RbfKind::Backbone }).collect(),
            residue_of: self.residue_of.clone(),
            backbone: self.backbone.clone(),
            bonds: self.bonds.clone(),
            side_chain_bounds: self
                .side_chain_bounds
                .iter()
                .map(|&(backbone, side_chain, max_distance)| SideChainBound { backbone, side_chain, max_distance })
                .collect(),
        })
    }
}

/// Train the heterogeneous model of `model` on `data`, from the centers `start` (box frame),
/// writing the run folder `out`. With `resume`, continue from `out`'s checkpoint instead of
/// starting anew. With a `truth`, every epoch is scored against it (Spearman correlation of the
/// latent with the true coordinate, Cα RMSE at every true state). `progress` is called after every
/// step; when it returns [`ControlFlow::Break`] the run saves a checkpoint of that step and stops
/// with [`TrainError::Interrupted`].
///
/// # Errors
/// [`TrainError::Data`] for an empty or ill-fitting particle set or truth, [`TrainError::Resume`]
/// for a missing checkpoint or one written by other settings, [`TrainError::NonFinite`] when a loss
/// term stops being finite (the last checkpoint stays), [`TrainError::Interrupted`] when stopped,
/// and I/O errors naming the file.
#[allow(clippy::too_many_arguments)]
pub fn train_vae(
    config: &HeterogeneousConfig,
    model: &CoarseModel,
    start: &[[f64; 3]],
    data: &dyn ParticleSource,
    truth: Option<&StateTruth>,
    device: &Device,
    out: &Path,
    resume: bool,
    progress: &mut dyn FnMut(&Progress) -> ControlFlow<()>,
) -> Result<Summary, TrainError> {
    validate(config, model, start, data, truth)?;
    let grid = ImageGrid::new(data.box_size(), data.pixel_size())?;
    let config_json = config_key(config);
    let checkpoint_dir = out.join(CHECKPOINT_DIR);
    let (mut trainer, mut state) = if resume {
        let state: Checkpoint = load_checkpoint(&checkpoint_dir, &config_json)?;
        let (Some(model_file), Some(optimizer_file)) = (&state.files.model_file, &state.files.optimizer_file) else {
            return Err(io_error(&checkpoint_dir, "its state names no parameter or optimizer file"));
        };
        let density = RbfDensityConfig::new().init(&state.start, &model.electrons, device);
        let vae = load_parameters(VaeModel::new(config, density, data.box_size(), device), &checkpoint_dir.join(model_file))?;
        let path = checkpoint_dir.join(optimizer_file);
        let record = OptimizerRecord::load(&path).map_err(|e| io_error(&path, format!("{e:?}")))?;
        let trainer = new_trainer(config, model, vae, state.noise_variance, state.input_scale, grid).with_optimizer_record(record);
        (trainer, state)
    } else {
        std::fs::create_dir_all(&checkpoint_dir).map_err(|e| rbf_io::IoError::Io { path: checkpoint_dir.clone(), source: e })?;
        let noise_variance = match config.noise_variance {
            Some(v) => v,
            None => data.noise_variance(1000)?,
        };
        rbf_io::atomic::write_atomically(&out.join("config.json"), |w| std::io::Write::write_all(w, config_json.as_bytes()))?;
        let mut density_config = config.density.clone();
        if config.amplitude_from_data {
            let electrons: f64 = model.electrons.iter().sum();
            let mass = mean_image_mass(data, 1000)?;
            if mass > 0.0 && electrons > 0.0 {
                density_config.amplitude_scale = mass / electrons;
            }
        }
        let density = density_config.init(start, &model.electrons, device);
        let vae = VaeModel::new(config, density, data.box_size(), device);
        let input_scale = feature_scale(&vae, config.encoder_input, data, noise_variance, 256)?;
        let mut state = Checkpoint {
            config: config_json.clone(),
            epochs_done: 0,
            epoch_so_far: None,
            start: start.to_vec(),
            sigma: density_config.sigma,
            amplitude_scale: density_config.amplitude_scale,
            noise_variance,
            input_scale,
            train_seconds: 0.0,
            files: CheckpointFiles::default(),
            log: Vec::new(),
        };
        let trainer = new_trainer(config, model, vae, noise_variance, input_scale, grid);
        // A checkpoint from the start: a run killed in its first epoch can be resumed too.
        checkpoint(&checkpoint_dir, "0", &mut state, &trainer)?;
        (trainer, state)
    };

    let total_epochs = config.warmup_epochs + config.epochs;
    let steps = data.len() / config.batch_size;
    let d = data.box_size();
    let mut images = vec![0.0f32; config.batch_size * d * d];
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
            let x = Tensor::from_data(TensorData::new(images.clone(), [batch.len(), d, d]), device);
            let eps = step_noise(config.seed, epoch, step, batch.len(), config.latent_dim, device);
            let loss = trainer.step(&Poses::from_host(&rotations, &shifts, device), x, eps);
            for (term, value) in loss.terms() {
                if !value.is_finite() {
                    return Err(TrainError::NonFinite { term, value, epoch: epoch + 1, step: step + 1 });
                }
            }
            sums.image += loss.image;
            sums.kl += loss.kl;
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
            // End of the warm-up: keep σ and a₀; centers and networks back at their start; fresh Adam.
            let density = trainer.model.density.clone().with_centers(&state.start);
            let vae = VaeModel::new(config, density, d, device);
            // σ and a₀ moved: measure the scale of the encoder's features again.
            state.input_scale = feature_scale(&vae, config.encoder_input, data, state.noise_variance, 256)?;
            trainer = new_trainer(config, model, vae, state.noise_variance, state.input_scale, grid);
        }
        let (sigma, amplitude_scale) = trainer.model.density.sigma_and_scale();
        let accuracy = match truth {
            Some(t) => {
                let z = encode_particles(&trainer.model, data, config.encoder_input, state.input_scale)?;
                Some(score(&trainer.model.valid(), model, &z, t))
            }
            None => None,
        };
        let n = steps.max(1) as f64;
        let terms = VaeLossValues {
            image: sums.image / n,
            kl: sums.kl / n,
            bond: sums.bond / n,
            side_chain: sums.side_chain / n,
            steric: sums.steric / n,
        };
        state.log.push(EpochLog {
            epoch: epoch + 1,
            warmup,
            terms,
            loss: terms.total(),
            sigma,
            amplitude_scale,
            images_per_s: (steps * config.batch_size) as f64 / seconds,
            accuracy,
        });
        state.epochs_done = epoch + 1;
        state.sigma = sigma;
        state.amplitude_scale = amplitude_scale;
        state.train_seconds += seconds;
        checkpoint(&checkpoint_dir, &(epoch + 1).to_string(), &mut state, &trainer)?;
        write_log(&out.join("log.jsonl"), &state.log)?;
    }

    let inference = trainer.model.valid();
    let z = encode_particles(&trainer.model, data, config.encoder_input, state.input_scale)?;
    let latent_range = latent_range(&z, config.latent_dim);
    let summary = Summary {
        final_accuracy: state.log.last().and_then(|l| l.accuracy),
        sigma: state.sigma,
        amplitude_scale: state.amplitude_scale,
        noise_variance: state.noise_variance,
        epochs: state.epochs_done,
        train_seconds: state.train_seconds,
        latent_range: latent_range.clone(),
    };
    let info = VaeInfo {
        format: VAE_FORMAT.into(),
        config: config.clone(),
        box_size: d,
        pixel_size: data.pixel_size(),
        input_scale: state.input_scale,
        latent_range,
        structure: CoarseModelRecord::from(&CoarseModel { centers: state.start.clone(), ..model.clone() }),
    };
    write_outputs(out, model, &inference, &z, &info, &grid, &summary)?;
    Ok(summary)
}

/// Check the settings against the model, the start, the particles and the truth, as
/// [`train_vae`] does first; callers run it before they create anything in the run folder.
///
/// # Errors
/// [`TrainError::Data`] describing the first problem: a start of the wrong length, fewer
/// particles than one batch (or a batch of 0), a learning rate, network size, KL weight, σ or
/// noise variance out of range, a truth that disagrees with the particles, or a start that does
/// not fit the particles' box.
pub fn validate(
    config: &HeterogeneousConfig,
    model: &CoarseModel,
    start: &[[f64; 3]],
    data: &dyn ParticleSource,
    truth: Option<&StateTruth>,
) -> Result<(), TrainError> {
    if start.len() != model.n_rbf() {
        return Err(TrainError::Data(format!("the start has {} centers, the model {} RBFs", start.len(), model.n_rbf())));
    }
    if config.batch_size == 0 || data.len() < config.batch_size {
        return Err(TrainError::Data(format!("{} particles cannot fill one batch of {}", data.len(), config.batch_size)));
    }
    if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
        return Err(TrainError::Data(format!("the learning rate must be positive, got {}", config.learning_rate)));
    }
    crate::run::check_priors(&config.priors)?;
    if config.latent_dim == 0 || config.width == 0 || config.layers == 0 {
        return Err(TrainError::Data(format!(
            "the latent dimension, width and layers must be at least 1, got {}, {} and {}",
            config.latent_dim, config.width, config.layers
        )));
    }
    if !(config.kl_weight >= 0.0 && config.kl_weight.is_finite()) {
        return Err(TrainError::Data(format!("the KL weight must be ≥ 0, got {}", config.kl_weight)));
    }
    if !(config.density.sigma > 0.0 && config.density.sigma.is_finite()) {
        return Err(TrainError::Data(format!("σ must be positive, got {} Å", config.density.sigma)));
    }
    if let Some(v) = config.noise_variance.filter(|v| !(*v > 0.0 && v.is_finite())) {
        return Err(TrainError::Data(format!("the noise variance must be positive, got {v}")));
    }
    if let Some(t) = truth {
        t.check(data.len(), model.n_residues())?;
    }
    let grid = ImageGrid::new(data.box_size(), data.pixel_size())?;
    grid.check_fits(start, 0.0)?;
    Ok(())
}

fn new_trainer(config: &HeterogeneousConfig, model: &CoarseModel, vae: VaeModel, noise_variance: f64, input_scale: f64, grid: ImageGrid) -> VaeTrainer {
    let pixels = (grid.box_size() * grid.box_size()) as f64;
    let loss = LossConfig::new().with_image_weight(pixels / (2.0 * noise_variance));
    let priors = Priors::new(model, config.priors.clone(), &vae.density.electrons.device());
    VaeTrainer::new(vae, priors, loss, config.kl_weight, input_scale, grid, &AdamConfig::new(), config.learning_rate)
        .with_encoder_input(config.encoder_input)
}

/// The standard-normal draws of one step, from the seed, the epoch and the step alone.
fn step_noise(seed: u64, epoch: usize, step: usize, batch: usize, dim: usize, device: &Device) -> Tensor<2> {
    let key = (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (step as u64 + 1).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    let mut rng = StdRng::seed_from_u64(seed ^ key ^ 0x4E4F_4953_4500_0000);
    let values: Vec<f32> = (0..batch * dim).map(|_| rng.sample::<f64, _>(StandardNormal) as f32).collect();
    Tensor::from_data(TensorData::new(values, [batch, dim]), device)
}

fn latent_range(z: &[Vec<f64>], dim: usize) -> Vec<[f64; 2]> {
    (0..dim)
        .map(|k| z.iter().map(|v| v[k]).fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], x| [lo.min(x), hi.max(x)]))
        .collect()
}

/// Save the checkpoint `tag` (`epochs done` or `epoch-steps done`): the model's parameters, the
/// optimizer, and `state`.
fn checkpoint(dir: &Path, tag: &str, state: &mut Checkpoint, trainer: &VaeTrainer) -> Result<(), TrainError> {
    let parameters = parameters_bytes(&trainer.model, dir)?;
    let optimizer = trainer.optimizer_record().into_bytes().map_err(|e| io_error(dir, format!("{e:?}")))?;
    save_checkpoint(dir, tag, &parameters, &optimizer, state)
}

fn write_outputs(
    out: &Path,
    model: &CoarseModel,
    vae: &VaeModel,
    z: &[Vec<f64>],
    info: &VaeInfo,
    grid: &ImageGrid,
    summary: &Summary,
) -> Result<(), TrainError> {
    let dim = vae.latent_dim();
    let flat: Vec<f32> = z.iter().flat_map(|v| v.iter().map(|&x| x as f32)).collect();
    crate::npy::write_matrix_f32(&out.join(LATENT_FILE), &flat, z.len(), dim)?;
    let bytes = parameters_bytes(vae, &out.join(VAE_FILE))?;
    rbf_io::atomic::write_atomically(&out.join(VAE_FILE), |w| std::io::Write::write_all(w, &bytes))?;
    write_json(&out.join(VAE_INFO_FILE), info)?;
    let median = median_latent(z, dim);
    let centers = vae.decode_host(std::slice::from_ref(&median)).remove(0);
    model.write_models(&out.join("model.pdb"), std::slice::from_ref(&centers))?;
    model.write_models(&out.join("model.cif"), std::slice::from_ref(&centers))?;
    let density = vae.density.clone().with_centers(&centers);
    let volume: Vec<f32> = density.volume(grid).into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default();
    rbf_io::mrc::write_volume(&out.join("volume.mrc"), &volume, grid.box_size(), grid.pixel_size())?;
    write_json(&out.join("metrics.json"), summary)?;
    Ok(())
}

/// The run folder's files, for callers that want to show them.
pub fn output_files(out: &Path) -> Vec<PathBuf> {
    ["model.pdb", "model.cif", "volume.mrc", LATENT_FILE, VAE_FILE, VAE_INFO_FILE, "metrics.json", "log.jsonl"]
        .iter()
        .map(|f| out.join(f))
        .collect()
}
