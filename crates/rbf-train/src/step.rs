//! One Adam step of the homogeneous model: all centers, σ and a₀ are learned directly.
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::prelude::*;
use rbf_model::fourier::{HalfPlaneDft, half_plane_mse};
use rbf_model::priors::Priors;
use rbf_model::{ImageGrid, Poses, RbfDensity};

use crate::ctf::CtfBatch;
use crate::loss::{LossConfig, LossTerms, LossValues};

/// The homogeneous model with its optimizer state.
pub struct HomogeneousTrainer {
    /// The density being learned (on an autodiff device).
    pub density: RbfDensity,
    optimizer: ModuleOptimizer,
    priors: Priors,
    loss: LossConfig,
    grid: ImageGrid,
    learning_rate: f64,
    /// Factor on the learning rate of the centers (see [`HomogeneousTrainer::with_center_lr_scale`]).
    center_lr_scale: f64,
    /// σ is held at least at this value (Å) in the images (coarse-to-fine); 0 = off.
    pub min_sigma: f64,
    /// The DFT of the CTF step, made at its first use.
    dft: Option<HalfPlaneDft>,
}

impl HomogeneousTrainer {
    /// Wrap a density (created on an autodiff device) for training with Adam.
    pub fn new(density: RbfDensity, priors: Priors, loss: LossConfig, grid: ImageGrid, adam: &AdamConfig, learning_rate: f64) -> Self {
        HomogeneousTrainer {
            density,
            optimizer: adam.init(),
            priors,
            loss,
            grid,
            learning_rate,
            center_lr_scale: 1.0,
            min_sigma: 0.0,
            dft: None,
        }
    }

    /// Learn the centers at `learning_rate × scale` and σ, a₀ at `learning_rate`. Adam's step is
    /// about its learning rate in the units of the parameter, so a scale of the box length
    /// (`D · pixel size`, Å) learns the centers as box fractions — the normalized coordinates of
    /// cryoDRGN-style code — while a scale of 1 learns them in Å.
    pub fn with_center_lr_scale(mut self, scale: f64) -> Self {
        self.center_lr_scale = scale;
        self
    }

    /// Replace the optimizer state (Adam's moments and step counts) by a saved one.
    pub fn with_optimizer_record(mut self, record: OptimizerRecord) -> Self {
        self.optimizer = self.optimizer.load_record(record);
        self
    }

    /// The optimizer state, to save it.
    pub fn optimizer_record(&self) -> OptimizerRecord {
        self.optimizer.to_record()
    }

    /// One step on a batch of observed images with their poses; returns the loss terms before
    /// the update.
    ///
    /// # Shapes
    /// `images`: `[batch, D, D]`.
    pub fn step(&mut self, poses: &Poses, images: Tensor<3>) -> LossValues {
        let predicted = self.density.project_with_min_sigma(poses, &self.grid, self.min_sigma);
        let terms = LossTerms::new(&self.loss, &self.priors, predicted, images, self.density.centers.val().unsqueeze_dim(0));
        self.update(terms)
    }

    /// One step on a batch of particles with their CTFs: the projections are transformed
    /// (a differentiable DFT), multiplied by each particle's CTF and compared with the observed
    /// images' transforms, which equals the real-space mean squared error of the CTF-modulated
    /// projections (Parseval; see [`rbf_model::fourier`]). Returns the loss terms before the
    /// update.
    pub fn step_ctf(&mut self, poses: &Poses, batch: CtfBatch) -> LossValues {
        let projected = self.density.project_with_min_sigma(poses, &self.grid, self.min_sigma);
        let dft = self.dft.get_or_insert_with(|| HalfPlaneDft::new(self.grid.box_size(), &projected.device()));
        let predicted = dft.forward(projected).times(batch.ctf);
        let centers = self.density.centers.val().unsqueeze_dim(0);
        let terms = LossTerms::from_image_error(&self.loss, &self.priors, half_plane_mse(predicted, batch.observed), centers);
        self.update(terms)
    }

    /// Backpropagate `terms` and take the Adam step; returns the terms' values.
    fn update(&mut self, terms: LossTerms) -> LossValues {
        let values = terms.values();
        let mut grads = GradientsParams::from_grads(terms.total().backward(), &self.density);
        let density = self.density.clone();
        if self.center_lr_scale == 1.0 {
            self.density = self.optimizer.step(self.learning_rate, density, grads);
            return values;
        }
        // Two steps of one optimizer over disjoint parameters: Adam's state is per parameter, so
        // this is one Adam step with a learning rate per parameter.
        let id = density.centers.id;
        let mut centers = GradientsParams::new();
        if let Some(g) = grads.remove::<2>(id) {
            centers.register(id, g);
        }
        let density = self.optimizer.step(self.learning_rate, density, grads);
        self.density = self.optimizer.step(self.learning_rate * self.center_lr_scale, density, centers);
        values
    }
}
