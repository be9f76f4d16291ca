//! One Adam step of the homogeneous model: all centers, σ and a₀ are learned directly.
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
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
}

impl HomogeneousTrainer {
    /// Wrap a density (created on an autodiff device) for training with Adam.
    pub fn new(density: RbfDensity, priors: Priors, loss: LossConfig, grid: ImageGrid, adam: &AdamConfig, learning_rate: f64) -> Self {
        HomogeneousTrainer { density, optimizer: adam.init(), priors, loss, grid, learning_rate }
    }

    /// One step on a batch of observed images with their poses; returns the loss terms before
    /// the update.
    ///
    /// # Shapes
    /// `images`: `[batch, D, D]`.
    pub fn step(&mut self, poses: &Poses, images: Tensor<3>) -> LossValues {
        let predicted = self.density.project(poses, &self.grid);
        let terms = LossTerms::new(&self.loss, &self.priors, predicted, images, self.density.centers.val().unsqueeze_dim(0));
        let values = terms.values();
        let grads = GradientsParams::from_grads(terms.total().backward(), &self.density);
        let density = self.density.clone();
        self.density = self.optimizer.step(self.learning_rate, density, grads);
        values
    }
}
