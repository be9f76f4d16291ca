//! Training cryorbf models with Adam on the CPU (Burn's `flex` backend) or a GPU (`wgpu`).
//!
//! - [`device`]: the backend is chosen once, at run time, from a [`Backend`] value.
//! - [`loss`]: the loss of the paper's eq. (3), term by term.
//! - [`step`]: one optimisation step of the homogeneous model.
//! - [`ctf`]: batches for the image term with each particle's CTF, computed in Fourier space.
//! - [`bench`]: images per second of full training steps, homogeneous and VAE.
//! - [`center`]: where the particles' density is centred, from the images and their poses.
//! - [`data`]: particles (images and poses) from memory or from STAR/`.cs` files.
//! - [`downsample`]: particles whose images are Fourier-cropped to a smaller box as they are read.
//! - [`preprocess`]: particles whose images are normalized, low-passed and masked as they are read.
//! - [`truth`]: the ground truth a run is scored against (Cα trace and all-atom volume).
//! - [`homogeneous`]: the whole homogeneous run, with checkpoints and `--resume`.
//! - [`heterogeneous`]: the VAE run (paper §4.2): encoder, decoder and density end to end.
//! - [`analysis`]: a heterogeneous run read back: decoding, trajectories, accuracy against a
//!   simulated motion, plots ([`plots`]) and tables.
//! - [`npy`]: NumPy arrays (latents, per-particle ground truth).
#![warn(missing_docs)]

pub mod analysis;
pub mod bench;
pub mod center;
pub mod ctf;
pub mod data;
pub mod device;
pub mod downsample;
pub mod heterogeneous;
pub mod homogeneous;
pub mod loss;
pub mod npy;
pub mod plots;
pub mod preprocess;
mod run;
pub mod step;
pub mod truth;

pub use device::{Backend, TrainError};
pub use loss::{LossConfig, LossTerms, LossValues};
pub use run::{CHECKPOINT_DIR, has_checkpoint};
pub use step::HomogeneousTrainer;
