//! The coarse-grained RBF density model of a protein (Zhong et al. 2020, §3).
//!
//! Each residue of a reference structure becomes two isotropic 3-D Gaussians ("RBFs"): a backbone
//! RBF at the Cα and a side-chain RBF at the centroid of the side-chain heavy atoms (none for
//! glycine). RBF `i` has amplitude `a_i = a₀·Z_i`, where `Z_i` is the number of electrons of the
//! fragment it stands for, and all RBFs share one width σ:
//!
//! ```text
//! V(r) = Σ_i a_i (2πσ²)^(-3/2) exp(−‖r − μ_i‖² / 2σ²)
//! ```
//!
//! The crate is organised as data flows:
//! [`structure`] (PDB/mmCIF → atoms) → [`coarse`] (atoms → RBFs, bonds, side-chain bounds) →
//! [`density`] (the learnable Burn module) → [`projection`] / [`volume`] (images and maps; [`fourier`]
//! renders the images' Fourier transforms, where the [`ctf`] multiplies them; [`downsample`] crops
//! observed images to a coarser pixel) →
//! [`priors`] (bond and side-chain energies) and [`metrics`] (Cα RMSE, NMSE); [`init`] gives the
//! starting centers for training (exact, noise, normal-mode deformation, random).
//!
//! # Conventions
//! These follow RELION exactly (see the project's CONVENTIONS.md):
//! - Lengths in Å, angles in radians inside the library (degrees only at the file boundary).
//! - The box frame: the origin is the box center. A `D×D` image has its center at pixel index
//!   `D/2` (integer division). Pixel `(i, j)` (row `i`, column `j`) sits at
//!   `x = (j − D/2)·pixel_size`, `y = (i − D/2)·pixel_size`. Images are `[row = y][column = x]`,
//!   volumes `[z][y][x]`.
//! - A pose is a rotation `R` (RELION's `Euler_angles2matrix(rot, tilt, psi)`) and
//!   an in-plane shift `t` (Å): a point `μ` of the volume lands in the image at `(R·μ)_xy + t`; the
//!   image is the projection along z.
//! - Image pixel values are the line integral of the density along z, sampled at pixel centers
//!   (units: electrons·Å⁻² times the amplitude scale a₀).
#![warn(missing_docs)]

pub mod builtin;
pub mod coarse;
pub mod ctf;
pub mod density;
pub mod downsample;
pub mod error;
pub mod fourier;
pub mod init;
pub mod linalg;
pub mod metrics;
pub mod priors;
pub mod projection;
pub mod projection_cpu;
pub mod structure;
pub mod volume;

pub use coarse::{CoarseModel, RbfKind};
pub use density::{RbfDensity, RbfDensityConfig};
pub use error::ModelError;
pub use init::{ElasticNetwork, Init, initial_centers};
pub use projection::{ImageGrid, Poses};
pub use structure::{ChainSelection, Structure};
