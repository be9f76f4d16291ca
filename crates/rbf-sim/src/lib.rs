//! Simulated cryo-EM particle images of an atomic structure (Zhong et al. 2020, §4 and App. A.1).
//!
//! The ground-truth density is all-atom, like Chimera's `molmap`: one isotropic Gaussian per
//! heavy atom, whose integral is the atom's atomic number Z and whose width is
//! σ = resolution / (π·√2). Images are the analytic projections of these Gaussians, computed with
//! the project's own renderer ([`rbf_model::projection::project`]), at poses drawn uniformly from
//! SO(3) with uniform in-plane shifts, optionally multiplied by a CTF in Fourier space and with
//! Gaussian noise at a given SNR. A 1-D motion (one backbone dihedral rotated through an angle)
//! makes the dataset heterogeneous.
//!
//! Data flow: [`all_atom`] (structure → atoms and Gaussians) → [`motion`] (one coordinate set per
//! state) → [`rotations`] (poses) → the renderer → [`ctf`] → noise → files, in
//! [`simulate::simulate`].
//!
//! # Conventions
//! These follow RELION exactly (see the project's CONVENTIONS.md):
//! - Lengths in Å, angles in radians inside the library, degrees in the STAR file.
//! - The box frame: the origin is the box center; pixel `(i, j)` of a `D×D` image sits at
//!   `x = (j − D/2)·pixel_size`, `y = (i − D/2)·pixel_size`.
//! - A pose is RELION's `Euler_angles2matrix(rot, tilt, psi)` and an in-plane shift `t` (Å): a
//!   point μ lands at `(R·μ)_xy + t`; the STAR file holds `rlnOriginXAngst = −t_x`.
//! - The CTF has RELION's sign (`+w` at zero frequency); particles are "white" (density positive).
#![warn(missing_docs)]

pub mod all_atom;
pub mod config;
pub mod ctf;
pub mod distribution;
pub mod error;
pub mod motion;
pub mod pdb;
pub mod rotations;
pub mod simulate;

pub use config::{AtomSelection, CtfRange, DihedralAngle, DihedralMotion, Distribution, Motion, SimulationConfig};
pub use error::SimError;
pub use simulate::{GroundTruth, ParticleParams, Renderer, SimulationSummary, simulate};
