//! The structural priors of the paper's eq. (3): harmonic Cα–Cα bonds and one-sided side-chain
//! distance bounds; and, beyond the paper (off by default), a steric term that keeps Cα apart.
//!
//! ```text
//! E_bond   = Σ_(i,j)∈B k_b (‖μ_i − μ_j‖ − l)²          l = 3.8 Å
//! E_side   = Σ_(i,j)∈C k_s max(‖μ_i − μ_j‖ − l_ij, 0)²  l_ij from the reference
//! E_steric = Σ_(i,j)∈S k_c max(d_ij − ‖μ_i − μ_j‖, 0)²  d_ij = 4.8 Å for Cα bonded to a common
//!                                                       Cα, 4.0 Å for the other non-bonded pairs
//! E_frame  = Σ_(i,j)∈F k_f (‖μ_i − μ_j‖ − g_ij)²        g_ij from a geometry (the reference's)
//! E_local  = Σ_(i,j)∈L k_l (‖μ_i − μ_j‖ − g_ij)²        Cα 2 … 4 residues apart, g_ij as above
//! ```
//! The frame term (beyond the paper, off by default) holds each side chain at its distances to
//! the Cα of residues i−2 … i+2 ([`frame_pairs`]): five distances fix it in the local frame of
//! the chain, where the paper's one-sided bound lets it sit anywhere within reach of its Cα. A
//! side chain that must move with its backbone makes a shifted register cost image loss instead
//! of hiding it. It is logged as part of the side-chain term.
//! The backbone frame term (beyond the paper, off by default) does the same for the Cα trace: each
//! Cα is held at its distances to the Cα 2, 3 and 4 residues further along the chain
//! ([`backbone_frame_pairs`]), the chain's local shape (pseudo-angles and pseudo-dihedrals), as
//! reference-model restraints (Phenix) and ProSMART's local restraints hold a model to a related
//! structure. These are more pairs of the form of eq. (3)'s bond set B, and are logged with the
//! bonds.
//! The steric distances are those of real proteins: no two non-bonded Cα closer than about
//! 4 Å, and a Cα pseudo-angle of at least about 80° (5NI1: 4.07 Å and 5.19 Å). Without them the
//! image term can fold the chain back on itself to put two Cα into one blob of density
//! ("mismatched buttoning", paper §4.1).
//! For a batch of structures (one per image) the energies are averaged over the batch.
use burn::prelude::*;

use crate::coarse::{CoarseModel, distance};

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
    /// Steric strength k_c (loss units per Å²); 0 (the paper's model) turns the term off.
    #[config(default = 0.0)]
    pub steric_strength: f64,
    /// Side-chain frame strength k_f (loss units per Å²); 0 (the paper's model) turns the term
    /// off.
    #[config(default = 0.0)]
    pub side_chain_frame_strength: f64,
    /// Backbone frame strength k_l (loss units per Å²); 0 (the paper's model) turns the term off.
    #[config(default = 0.0)]
    pub backbone_frame_strength: f64,
}

/// Closest approach of two Cα bonded to a common Cα (Å): a pseudo-angle of about 80°.
pub const STERIC_DISTANCE_13: f64 = 4.8;
/// Closest approach of other non-bonded Cα (Å).
pub const STERIC_DISTANCE: f64 = 4.0;
/// Above this many backbone RBFs the steric pairs are those within [`STERIC_PAIR_CUTOFF`] in the
/// reference, not all pairs (whose number grows with the square).
pub const STERIC_ALL_PAIRS_UP_TO: usize = 3000;
/// See [`STERIC_ALL_PAIRS_UP_TO`] (Å).
pub const STERIC_PAIR_CUTOFF: f64 = 15.0;

/// The steric pairs of `model`: every pair of backbone RBFs that is not bonded, with its
/// closest approach (Å).
pub fn steric_pairs(model: &CoarseModel) -> Vec<(usize, usize, f64)> {
    use std::collections::HashSet;
    let bb = &model.backbone;
    let bonded: HashSet<(usize, usize)> = model.bonds.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
    // Cα bonded to a common Cα: the two chain neighbours of each residue.
    let (previous, next) = model.chain_neighbours();
    let angle: HashSet<(usize, usize)> = previous
        .iter()
        .zip(&next)
        .filter_map(|(&p, &q)| Some((bb[p?], bb[q?])))
        .map(|(a, b)| (a.min(b), a.max(b)))
        .collect();
    let all = bb.len() <= STERIC_ALL_PAIRS_UP_TO;
    let near = |a: usize, b: usize| distance(model.centers[a], model.centers[b]) <= STERIC_PAIR_CUTOFF;
    let mut pairs = Vec::new();
    for (i, &a) in bb.iter().enumerate() {
        for &b in &bb[i + 1..] {
            let key = (a.min(b), a.max(b));
            if bonded.contains(&key) || !(all || near(a, b)) {
                continue;
            }
            pairs.push((key.0, key.1, if angle.contains(&key) { STERIC_DISTANCE_13 } else { STERIC_DISTANCE }));
        }
    }
    pairs
}

/// How far along the chain, on either side, the Cα that hold a side chain in its frame reach.
pub const FRAME_REACH: usize = 2;

/// The pairs of the side-chain frame term: every side-chain RBF with the backbone RBFs of its own
/// residue and of the residues up to [`FRAME_REACH`] bonds away along the chain, with their
/// distance (Å) in `geometry` (one center per RBF, normally the reference's).
pub fn frame_pairs(model: &CoarseModel, geometry: &[[f64; 3]]) -> Vec<(usize, usize, f64)> {
    let (previous, next) = model.chain_neighbours();
    let mut pairs = Vec::new();
    for bound in &model.side_chain_bounds {
        let residue = model.residue_of[bound.backbone];
        let behind = std::iter::successors(previous[residue], |&r| previous[r]).take(FRAME_REACH);
        let ahead = std::iter::successors(next[residue], |&r| next[r]).take(FRAME_REACH);
        for r in std::iter::once(residue).chain(behind).chain(ahead) {
            let ca = model.backbone[r];
            pairs.push((bound.side_chain, ca, distance(geometry[bound.side_chain], geometry[ca])));
        }
    }
    pairs
}

/// How far along the chain the Cα–Cα distances of the backbone frame term reach (2 … this).
pub const BACKBONE_FRAME_REACH: usize = 4;

/// The pairs of the backbone frame term: every backbone RBF with the backbone RBFs 2 …
/// [`BACKBONE_FRAME_REACH`] residues further along the chain (bonded neighbours are the bond
/// term's), with their distance (Å) in `geometry` (one center per RBF, normally the reference's).
pub fn backbone_frame_pairs(model: &CoarseModel, geometry: &[[f64; 3]]) -> Vec<(usize, usize, f64)> {
    let (_, next) = model.chain_neighbours();
    let mut pairs = Vec::new();
    for residue in 0..model.backbone.len() {
        let ca = model.backbone[residue];
        // The residues 1 … BACKBONE_FRAME_REACH along; the first is bonded.
        for r in std::iter::successors(next[residue], |&r| next[r]).take(BACKBONE_FRAME_REACH).skip(1) {
            let other = model.backbone[r];
            pairs.push((ca, other, distance(geometry[ca], geometry[other])));
        }
    }
    pairs
}

/// Distances are computed as `sqrt(‖d‖² + ε)` so that the gradient stays finite where two
/// centers coincide (side chains start at their Cα).
const DISTANCE_EPSILON: f64 = 1e-8;

/// Pairs of RBFs with one length each (Å), as tensors on a device: the form every prior term
/// shares.
#[derive(Debug, Clone)]
struct PairSet {
    first: Tensor<1, Int>,
    second: Tensor<1, Int>,
    length: Tensor<1>,
}

impl PairSet {
    /// `None` when there are no pairs.
    fn new(pairs: impl Iterator<Item = (usize, usize, f64)>, device: &Device) -> Option<Self> {
        let (mut first, mut second, mut length) = (Vec::new(), Vec::new(), Vec::new());
        for (a, b, l) in pairs {
            first.push(a as i64);
            second.push(b as i64);
            length.push(l as f32);
        }
        let n = first.len();
        (n > 0).then(|| PairSet {
            first: Tensor::from_data(TensorData::new(first, [n]), device),
            second: Tensor::from_data(TensorData::new(second, [n]), device),
            length: Tensor::from_data(TensorData::new(length, [n]), device),
        })
    }

    /// `‖μ_first − μ_second‖ − length` for every pair, `[batch, n_pairs]`.
    fn strain(&self, centers: Tensor<3>) -> Tensor<2> {
        let a = centers.clone().select(1, self.first.clone());
        let b = centers.select(1, self.second.clone());
        let d = (a - b).powi_scalar(2).sum_dim(2).squeeze_dim::<2>(2).add_scalar(DISTANCE_EPSILON).sqrt();
        d - self.length.clone().unsqueeze_dim::<2>(0)
    }
}

/// `k Σ x²` over the pairs, averaged over the batch, `[1]`.
fn energy(x: Tensor<2>, k: f64) -> Tensor<1> {
    let batch = x.dims()[0];
    (x.powi_scalar(2).sum() / batch as f64).mul_scalar(k)
}

/// The sum of `terms` (zero when there are none), `[1]`.
fn total(terms: impl Iterator<Item = Tensor<1>>, device: &Device) -> Tensor<1> {
    terms.fold(Tensor::zeros([1], device), |sum, term| sum + term)
}

/// The prior terms for one coarse-grained model, as pair sets on a device.
#[derive(Debug, Clone)]
pub struct Priors {
    config: PriorConfig,
    /// Bonded Cα, at the bond length.
    bonds: Option<PairSet>,
    /// Backbone RBF and its side chain, at the bound's maximum distance.
    side_bounds: Option<PairSet>,
    /// Non-bonded Cα, at their closest approach.
    steric: Option<PairSet>,
    /// Side chains and the Cα around them, at the frame geometry's distances.
    side_chain_frame: Option<PairSet>,
    /// Cα 2 … 4 residues apart, at the frame geometry's distances.
    backbone_frame: Option<PairSet>,
}

impl Priors {
    /// The priors of `model` on `device`, the frame terms' distances from the reference.
    pub fn new(model: &CoarseModel, config: PriorConfig, device: &Device) -> Self {
        Self::with_frame_geometry(model, config, &model.centers, device)
    }

    /// The priors of `model` on `device`, the frame terms' distances (side-chain and backbone)
    /// from `geometry` (one center per RBF).
    ///
    /// # Panics
    /// If `geometry` does not have one center per RBF.
    pub fn with_frame_geometry(model: &CoarseModel, config: PriorConfig, geometry: &[[f64; 3]], device: &Device) -> Self {
        assert_eq!(geometry.len(), model.n_rbf(), "one frame geometry center per RBF");
        // A term that is off builds no pairs (the steric list grows with the square of the size).
        let when_on = |strength: f64, pairs: fn(&CoarseModel, &[[f64; 3]]) -> Vec<(usize, usize, f64)>| {
            (strength > 0.0).then(|| pairs(model, geometry)).and_then(|p| PairSet::new(p.into_iter(), device))
        };
        Priors {
            bonds: PairSet::new(model.bonds.iter().map(|&(a, b)| (a, b, config.bond_length)), device),
            side_bounds: PairSet::new(model.side_chain_bounds.iter().map(|b| (b.backbone, b.side_chain, b.max_distance)), device),
            steric: when_on(config.steric_strength, |model, _| steric_pairs(model)),
            side_chain_frame: when_on(config.side_chain_frame_strength, frame_pairs),
            backbone_frame: when_on(config.backbone_frame_strength, backbone_frame_pairs),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PriorConfig {
        &self.config
    }

    /// Bond energy, averaged over the batch: the Cα–Cα bonds and, when it is on, the backbone
    /// frame term.
    ///
    /// # Shapes
    /// `centers`: `[batch, n_rbf, 3]` → `[1]`.
    pub fn bond_energy(&self, centers: Tensor<3>) -> Tensor<1> {
        let device = centers.device();
        let bonds = self.bonds.iter().map(|p| energy(p.strain(centers.clone()), self.config.bond_strength));
        let frame = self.backbone_frame.iter().map(|p| energy(p.strain(centers.clone()), self.config.backbone_frame_strength));
        total(bonds.chain(frame), &device)
    }

    /// Side-chain energy, averaged over the batch: the one-sided bounds and, when it is on, the
    /// frame term.
    ///
    /// # Shapes
    /// `centers`: `[batch, n_rbf, 3]` → `[1]`.
    pub fn side_chain_energy(&self, centers: Tensor<3>) -> Tensor<1> {
        let device = centers.device();
        let bounds = self.side_bounds.iter().map(|p| energy(p.strain(centers.clone()).clamp_min(0.0), self.config.side_chain_strength));
        let frame = self.side_chain_frame.iter().map(|p| energy(p.strain(centers.clone()), self.config.side_chain_frame_strength));
        total(bounds.chain(frame), &device)
    }

    /// Steric energy, averaged over the batch (zero when the term is off).
    ///
    /// # Shapes
    /// `centers`: `[batch, n_rbf, 3]` → `[1]`.
    pub fn steric_energy(&self, centers: Tensor<3>) -> Tensor<1> {
        let device = centers.device();
        let overlap = self.steric.iter().map(|p| energy(p.strain(centers.clone()).neg().clamp_min(0.0), self.config.steric_strength));
        total(overlap, &device)
    }
}

