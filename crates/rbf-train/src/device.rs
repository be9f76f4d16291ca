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
