//! Training cryorbf models with Adam on the CPU (Burn's `flex` backend) or a GPU (`wgpu`).
//!
//! - [`device`]: the backend is chosen once, at run time, from a [`Backend`] value.
//! - [`loss`]: the loss of the paper's eq. (3), term by term.
//! - [`step`]: one optimisation step of the homogeneous model.
#![warn(missing_docs)]

pub mod device;
pub mod loss;
pub mod step;

pub use device::{Backend, TrainError};
pub use loss::{LossConfig, LossTerms, LossValues};
pub use step::HomogeneousTrainer;
