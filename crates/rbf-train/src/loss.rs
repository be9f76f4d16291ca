//! The loss of the paper's eq. (3): image error + harmonic bonds + one-sided side-chain bounds
//! (+ the optional steric term, [`rbf_model::priors`]).
use burn::prelude::*;
use rbf_model::density::scalar;
use rbf_model::priors::Priors;
use rbf_model::projection::image_mse;

/// Weights of the loss terms. The prior strengths live in [`rbf_model::priors::PriorConfig`].
#[derive(Config, Debug)]
pub struct LossConfig {
    /// Weight of the image term (mean squared error over pixels and images).
    #[config(default = 1.0)]
    pub image_weight: f64,
}

/// The loss terms of one batch, as tensors (for backpropagation).
#[derive(Debug, Clone)]
pub struct LossTerms {
    /// Weighted image error, `[1]`.
    pub image: Tensor<1>,
    /// Bond energy, `[1]`.
    pub bond: Tensor<1>,
    /// Side-chain bound energy, `[1]`.
    pub side_chain: Tensor<1>,
    /// Steric energy, `[1]` (zero unless the steric prior is on).
    pub steric: Tensor<1>,
}

/// The loss terms of one batch as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct LossValues {
    /// Weighted image error.
    pub image: f64,
    /// Bond energy.
    pub bond: f64,
    /// Side-chain bound energy.
    pub side_chain: f64,
    /// Steric energy (absent from records written before it existed).
    #[serde(default)]
    pub steric: f64,
}

impl LossValues {
    /// The sum of the terms.
    pub fn total(&self) -> f64 {
        self.image + self.bond + self.side_chain + self.steric
    }
}

impl LossTerms {
    /// Evaluate the terms for predicted images and the structures that made them.
    ///
    /// # Shapes
    /// `predicted`, `observed`: `[batch, D, D]`; `centers`: `[1 or batch, n_rbf, 3]`.
    pub fn new(config: &LossConfig, priors: &Priors, predicted: Tensor<3>, observed: Tensor<3>, centers: Tensor<3>) -> Self {
        Self::from_image_error(config, priors, image_mse(predicted, observed), centers)
    }

    /// The terms for an image error already computed as a mean squared error over pixels and
    /// images (e.g. in Fourier space with a CTF, [`rbf_model::fourier::half_plane_mse`]).
    ///
    /// # Shapes
    /// `image_mse`: `[1]`; `centers`: `[1 or batch, n_rbf, 3]`.
    pub fn from_image_error(config: &LossConfig, priors: &Priors, image_mse: Tensor<1>, centers: Tensor<3>) -> Self {
        LossTerms {
            image: image_mse.mul_scalar(config.image_weight),
            bond: priors.bond_energy(centers.clone()),
            side_chain: priors.side_chain_energy(centers.clone()),
            steric: priors.steric_energy(centers),
        }
    }

    /// The total, `[1]`.
    pub fn total(&self) -> Tensor<1> {
        self.image.clone() + self.bond.clone() + self.side_chain.clone() + self.steric.clone()
    }

    /// Read the terms back to the host (this waits for the device).
    pub fn values(&self) -> LossValues {
        LossValues {
            image: scalar(self.image.clone()),
            bond: scalar(self.bond.clone()),
            side_chain: scalar(self.side_chain.clone()),
            steric: scalar(self.steric.clone()),
        }
    }
}
