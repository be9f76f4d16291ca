//! The structural priors of the paper's eq. (3): harmonic Cα–Cα bonds and one-sided side-chain
//! distance bounds.
//!
//! ```text
//! E_bond = Σ_(i,j)∈B k_b (‖μ_i − μ_j‖ − l)²          l = 3.8 Å
//! E_side = Σ_(i,j)∈C k_s max(‖μ_i − μ_j‖ − l_ij, 0)²  l_ij from the reference
//! ```
//! For a batch of structures (one per image) the energies are averaged over the batch.
use burn::prelude::*;

use crate::coarse::CoarseModel;

/// Weights and lengths of the priors.
#[derive(Config, Debug)]
pub struct PriorConfig {
    /// Bond strength k_b (loss units per Å²).
    #[config(default = 1.0)]
    pub bond_strength: f64,
    /// Ideal Cα–Cα distance l (Å).
    #[config(default = 3.8)]
    pub bond_length: f64,
    /// Side-chain bound strength k_s (loss units per Å²).
    #[config(default = 1.0)]
    pub side_chain_strength: f64,
}

/// Distances are computed as `sqrt(‖d‖² + ε)` so that the gradient stays finite where two
/// centers coincide (side chains start at their Cα).
const DISTANCE_EPSILON: f64 = 1e-8;

/// The bond and side-chain terms for one coarse-grained model, as index tensors on a device.
#[derive(Debug, Clone)]
pub struct Priors {
    config: PriorConfig,
    bond_first: Option<Tensor<1, Int>>,
    bond_second: Option<Tensor<1, Int>>,
    side_backbone: Option<Tensor<1, Int>>,
    side_chain: Option<Tensor<1, Int>>,
    side_max: Option<Tensor<1>>,
}

fn indices(values: impl Iterator<Item = usize>, device: &Device) -> Option<Tensor<1, Int>> {
    let v: Vec<i64> = values.map(|i| i as i64).collect();
    (!v.is_empty()).then(|| Tensor::from_data(TensorData::new(v.clone(), [v.len()]), device))
}

impl Priors {
    /// The priors of `model` on `device`.
    pub fn new(model: &CoarseModel, config: PriorConfig, device: &Device) -> Self {
        let bounds = &model.side_chain_bounds;
        let side_max: Vec<f32> = bounds.iter().map(|b| b.max_distance as f32).collect();
        Priors {
            bond_first: indices(model.bonds.iter().map(|b| b.0), device),
            bond_second: indices(model.bonds.iter().map(|b| b.1), device),
            side_backbone: indices(bounds.iter().map(|b| b.backbone), device),
            side_chain: indices(bounds.iter().map(|b| b.side_chain), device),
            side_max: (!side_max.is_empty())
                .then(|| Tensor::from_data(TensorData::new(side_max.clone(), [side_max.len()]), device)),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PriorConfig {
        &self.config
    }

    /// Bond energy, averaged over the batch.
    ///
    /// # Shapes
    /// `centers`: `[batch, n_rbf, 3]` → `[1]`.
    pub fn bond_energy(&self, centers: Tensor<3>) -> Tensor<1> {
        let (Some(first), Some(second)) = (&self.bond_first, &self.bond_second) else {
            return Tensor::zeros([1], &centers.device());
        };
        let batch = centers.dims()[0];
        let d = distances(centers, first, second); // [batch, n_bonds]
        (d.sub_scalar(self.config.bond_length).powi_scalar(2).sum() / batch as f64).mul_scalar(self.config.bond_strength)
    }

    /// Side-chain bound energy, averaged over the batch.
    ///
    /// # Shapes
    /// `centers`: `[batch, n_rbf, 3]` → `[1]`.
    pub fn side_chain_energy(&self, centers: Tensor<3>) -> Tensor<1> {
        let (Some(bb), Some(sc), Some(max)) = (&self.side_backbone, &self.side_chain, &self.side_max) else {
            return Tensor::zeros([1], &centers.device());
        };
        let batch = centers.dims()[0];
        let d = distances(centers, bb, sc); // [batch, n_bounds]
        let excess = (d - max.clone().unsqueeze_dim::<2>(0)).clamp_min(0.0);
        (excess.powi_scalar(2).sum() / batch as f64).mul_scalar(self.config.side_chain_strength)
    }
}

/// `‖μ_first − μ_second‖` for every pair, `[batch, n_pairs]`.
fn distances(centers: Tensor<3>, first: &Tensor<1, Int>, second: &Tensor<1, Int>) -> Tensor<2> {
    let a = centers.clone().select(1, first.clone());
    let b = centers.select(1, second.clone());
    (a - b).powi_scalar(2).sum_dim(2).squeeze_dim::<2>(2).add_scalar(DISTANCE_EPSILON).sqrt()
}
