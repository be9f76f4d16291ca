//! One Adam step of the homogeneous model: all centers, σ and a₀ are learned directly.
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::prelude::*;
use rbf_model::priors::Priors;
use rbf_model::{ImageGrid, Poses, RbfDensity};

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
    /// σ is held at least at this value (Å) in the images (coarse-to-fine); 0 = off.
    pub min_sigma: f64,
}

impl HomogeneousTrainer {
    /// Wrap a density (created on an autodiff device) for training with Adam.
    pub fn new(density: RbfDensity, priors: Priors, loss: LossConfig, grid: ImageGrid, adam: &AdamConfig, learning_rate: f64) -> Self {
        HomogeneousTrainer { density, optimizer: adam.init(), priors, loss, grid, learning_rate, min_sigma: 0.0 }
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
        let values = terms.values();
        let grads = GradientsParams::from_grads(terms.total().backward(), &self.density);
        let density = self.density.clone();
        self.density = self.optimizer.step(self.learning_rate, density, grads);
        values
    }
}
