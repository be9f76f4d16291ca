//! cryorbf: coarse-grained atomic models of proteins, and continuous distributions of them,
//! reconstructed directly from cryo-EM particle images (after Zhong et al. 2020).
//!
//! This crate gathers the workspace's libraries under one name for use as a dependency:
//! - [`model`] (`rbf-model`): structures, the RBF density, projection, priors, metrics;
//! - [`io`] (`rbf-io`): MRC stacks and volumes, RELION STAR and cryoSPARC `.cs` files;
//! - [`sim`] (`rbf-sim`): simulated particle stacks (all-atom ground truth, CTF, noise, motions);
//! - [`train`] (`rbf-train`): the training loops, losses, particles and device selection;
//! - [`vae`] (`rbf-vae`): encoder and decoder of the heterogeneous model.
#![warn(missing_docs)]

pub use rbf_io as io;
pub use rbf_model as model;
pub use rbf_sim as sim;
pub use rbf_train as train;
pub use rbf_vae as vae;
