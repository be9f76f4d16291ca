//! Choosing the compute backend at run time.
use std::fmt;
use std::str::FromStr;

use burn::prelude::*;

/// Errors of training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The requested backend is not available in this build or on this machine.
    #[error("backend {0}: {1}")]
    Backend(String, String),
    /// A particle, structure or output file could not be read or written.
    #[error(transparent)]
    Io(#[from] rbf_io::IoError),
    /// The model could not be built from the inputs.
    #[error(transparent)]
    Model(#[from] rbf_model::ModelError),
    /// The particles do not fit the run (counts, sizes, missing values).
    #[error("{0}")]
    Data(String),
    /// A checkpoint is missing, unreadable or from another configuration.
    #[error("cannot resume from {path}: {reason}")]
    Resume {
        /// The run folder or checkpoint file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// A loss term became NaN or infinite; the last good checkpoint is kept.
    #[error("the {term} loss became {value} at epoch {epoch}, step {step}; stopped (the last good checkpoint is kept)")]
    NonFinite {
        /// Which term.
        term: &'static str,
        /// Its value.
        value: f64,
        /// Epoch (1-based).
        epoch: usize,
        /// Step within the epoch (1-based).
        step: usize,
    },
    /// The caller asked the run to stop (e.g. Ctrl-C); a checkpoint of the step reached was saved,
    /// from which a resumed run continues with the next step.
    #[error("stopped in epoch {epoch} after step {step}; the checkpoint in {} continues the run from the next step", checkpoint.display())]
    Interrupted {
        /// Epoch (1-based).
        epoch: usize,
        /// Steps done in that epoch.
        step: usize,
        /// The checkpoint folder.
        checkpoint: std::path::PathBuf,
    },
}

/// A compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// The CPU, through Burn's pure-Rust `flex` backend (multi-threaded).
    #[default]
    Cpu,
    /// A GPU through wgpu (Vulkan, Metal or DX12), the best adapter found.
    Wgpu,
}

impl Backend {
    /// The device of this backend, with autodiff when `autodiff` is set.
    ///
    /// # Errors
    /// [`TrainError::Backend`] if this build has no wgpu support (build with `--features wgpu`).
    pub fn device(self, autodiff: bool) -> Result<Device, TrainError> {
        let device = match self {
            Backend::Cpu => Device::flex(),
            Backend::Wgpu => wgpu_device()?,
        };
        Ok(if autodiff { device.autodiff() } else { device })
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device, TrainError> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device, TrainError> {
    Err(TrainError::Backend("wgpu".into(), "this build has no GPU support; rebuild with `--features wgpu`".into()))
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Cpu => "cpu",
            Backend::Wgpu => "wgpu",
        })
    }
}

impl FromStr for Backend {
    type Err = TrainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" | "flex" => Ok(Backend::Cpu),
            "wgpu" | "gpu" => Ok(Backend::Wgpu),
            other => Err(TrainError::Backend(other.into(), "unknown backend; use cpu or wgpu".into())),
        }
    }
}
