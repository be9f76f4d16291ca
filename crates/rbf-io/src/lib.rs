//! File I/O for cryorbf: MRC volumes and particle stacks ([`mrc`]), STAR files ([`star`]),
//! particle tables from RELION STAR ([`particles`]) and cryoSPARC `.cs` files ([`cs`]), and RELION 3.1
//! particle files written ([`relion`]).
//!
//! # Conventions
//! These follow RELION (and reproduce cryoDRGN's parsers, which the tests pin against cryoDRGN's
//! own outputs):
//! * Units at the file boundary: lengths and defocus in Å, pixel size in Å/pixel, angles in
//!   degrees (cryoSPARC's radians are converted), voltage in kV, Cs in mm.
//! * Images are `[row][column]` = `[y][x]`; volumes `[z][y][x]`. The pixel size of an MRC file is
//!   `xlen / mx`.
//! * Rotation: RELION's `Euler_angles2matrix(rot, tilt, psi)` (ZYZ). An image is the projection
//!   along z of the volume rotated by R, shifted in-plane by t.
//! * Shift sign: RELION's origin re-centres the particle, so `t = −rlnOriginXAngst` (Å); RELION 3.0
//!   `rlnOriginX` is in pixels with the same sign. cryoDRGN's `trans` is `rlnOrigin_pixels / D`.
//! * cryoSPARC: the rotation is the transpose of the axis-angle exponential of
//!   `alignments3D/pose`, and `alignments3D/shift` (pixels) has the sign of RELION's origin.
//! * Image indices are 0-based in this crate (`rlnImageName` counts from 1).
//!
//! Every error is an [`IoError`] naming the file and, where it applies, the line, record or image.

pub mod cs;
mod error;
pub mod mrc;
pub mod particles;
pub mod relion;
pub mod star;
#[doc(hidden)]
pub mod testdata;

pub mod atomic;

pub use error::IoError;
pub use particles::{
    CtfParams, ImageRef, Particle, ParticleImages, ParticleOptions, ParticleTable,
    PixelSizeMismatch, Pose,
};
