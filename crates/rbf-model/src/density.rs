//! The learnable RBF density: centers μ, width σ and amplitude scale a₀ (paper eq. 1).
use burn::module::{Param, ParamId};
use burn::prelude::*;

use crate::projection::{ImageGrid, Poses, project};
use crate::volume::render_volume;

/// Configuration of an [`RbfDensity`]. Defaults are the paper's (§4).
#[derive(Config, Debug)]
pub struct RbfDensityConfig {
    /// Initial shared width σ of every RBF (Å).
    #[config(default = 3.71)]
    pub sigma: f64,
    /// Initial amplitude scale a₀ (amplitude of RBF i is a₀·Z_i).
    #[config(default = 0.1)]
    pub amplitude_scale: f64,
}

impl RbfDensityConfig {
    /// Build the density with the given initial centers and electron counts. Its parameters carry
    /// fixed ids (see [`RbfDensity`]).
    ///
    /// # Shapes
    /// `centers`: `[n_rbf][3]` (Å); `electrons`: `[n_rbf]`.
    ///
    /// # Panics
    /// If σ is not positive or the two slices differ in length (a programming error, not user
    /// input: the coarse-grained model always provides both).
    pub fn init(&self, centers: &[[f64; 3]], electrons: &[f64], device: &Device) -> RbfDensity {
        assert!(self.sigma > 0.0, "sigma must be positive, got {}", self.sigma);
        assert_eq!(centers.len(), electrons.len(), "one electron count per RBF");
        RbfDensity {
            centers: param(CENTERS_ID, centers_tensor(centers, device)),
            log_sigma: param(LOG_SIGMA_ID, Tensor::from_data(TensorData::new(vec![self.sigma.ln() as f32], [1]), device)),
            amplitude_scale: param(
                AMPLITUDE_SCALE_ID,
                Tensor::from_data(TensorData::new(vec![self.amplitude_scale as f32], [1]), device),
            ),
            electrons: Tensor::from_data(
                TensorData::new(electrons.iter().map(|&z| z as f32).collect::<Vec<_>>(), [electrons.len()]),
                device,
            ),
        }
    }
}

/// Parameter ids of the density are fixed, so that an optimizer state saved in one process
/// matches the parameters rebuilt in another (checkpoints and `--resume`).
const CENTERS_ID: u64 = 0x5242_4600_0001;
const LOG_SIGMA_ID: u64 = 0x5242_4600_0002;
const AMPLITUDE_SCALE_ID: u64 = 0x5242_4600_0003;

fn param<const D: usize>(id: u64, value: Tensor<D>) -> Param<Tensor<D>> {
    // Only an autodiff device can track gradients; on a plain device the density is for rendering.
    let value = if value.is_autodiff() { value.require_grad() } else { value };
    Param::initialized(ParamId::from(id), value)
}

/// Upload host centers as a `[n_rbf, 3]` tensor.
pub fn centers_tensor(centers: &[[f64; 3]], device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = centers.iter().flatten().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(flat, [centers.len(), 3]), device)
}

/// Download a `[n_rbf, 3]` tensor of centers to the host.
pub fn centers_to_host(centers: Tensor<2>) -> Vec<[f64; 3]> {
    let values: Vec<f32> = centers.into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default();
    values.chunks_exact(3).map(|c| [f64::from(c[0]), f64::from(c[1]), f64::from(c[2])]).collect()
}

/// The RBF density of a coarse-grained structure.
#[derive(Module, Debug)]
pub struct RbfDensity {
    /// RBF centers μ (Å, box frame), `[n_rbf, 3]`.
    pub centers: Param<Tensor<2>>,
    /// ln σ, `[1]`: σ is kept positive by learning its logarithm.
    pub log_sigma: Param<Tensor<1>>,
    /// Amplitude scale a₀, `[1]`.
    pub amplitude_scale: Param<Tensor<1>>,
    /// Electrons Z of each RBF's fragment (fixed), `[n_rbf]`.
    pub electrons: Tensor<1>,
}

impl RbfDensity {
    /// Number of RBFs.
    pub fn n_rbf(&self) -> usize {
        self.electrons.dims()[0]
    }

    /// The shared width σ (Å), `[1]`.
    pub fn sigma(&self) -> Tensor<1> {
        self.log_sigma.val().exp()
    }

    /// Amplitudes `a_i = a₀·Z_i`, `[n_rbf]`.
    pub fn amplitudes(&self) -> Tensor<1> {
        self.electrons.clone() * self.amplitude_scale.val()
    }

    /// Project the density into one image per pose.
    ///
    /// # Shapes
    /// returns `[batch, D, D]`.
    pub fn project(&self, poses: &Poses, grid: &ImageGrid) -> Tensor<3> {
        project(self.centers.val().unsqueeze_dim(0), self.amplitudes(), self.sigma(), poses, grid)
    }

    /// Project with σ held at least at `min_sigma` Å (coarse-to-fine training: a wide σ first,
    /// then the learned one). `min_sigma = 0` is [`RbfDensity::project`].
    ///
    /// # Shapes
    /// returns `[batch, D, D]`.
    pub fn project_with_min_sigma(&self, poses: &Poses, grid: &ImageGrid, min_sigma: f64) -> Tensor<3> {
        let sigma = if min_sigma > 0.0 { self.sigma().clamp_min(min_sigma) } else { self.sigma() };
        project(self.centers.val().unsqueeze_dim(0), self.amplitudes(), sigma, poses, grid)
    }

    /// Move every center by `offsets` (Å), keeping the parameter id (annealing noise).
    ///
    /// # Shapes
    /// `offsets`: `[n_rbf][3]` (Å).
    pub fn displaced(mut self, offsets: &[[f64; 3]]) -> Self {
        let device = self.electrons.device();
        let moved = (self.centers.val() + centers_tensor(offsets, &device)).detach();
        self.centers = param(CENTERS_ID, moved);
        self
    }

    /// Project one displaced structure per image: centers `μ + offsets[b]`.
    ///
    /// # Shapes
    /// `offsets`: `[batch, n_rbf, 3]` (Å) → `[batch, D, D]`.
    pub fn project_displaced(&self, offsets: Tensor<3>, poses: &Poses, grid: &ImageGrid) -> Tensor<3> {
        let centers = self.centers.val().unsqueeze_dim(0) + offsets;
        project(centers, self.amplitudes(), self.sigma(), poses, grid)
    }

    /// Render the density on the `D³` grid, `[z][y][x]`.
    pub fn volume(&self, grid: &ImageGrid) -> Tensor<3> {
        render_volume(self.centers.val(), self.amplitudes(), self.sigma(), grid)
    }

    /// Replace the centers (e.g. to reset them after the warm-up), keeping the parameter id.
    ///
    /// # Shapes
    /// `centers`: `[n_rbf][3]` (Å).
    pub fn with_centers(mut self, centers: &[[f64; 3]]) -> Self {
        let device = self.electrons.device();
        self.centers = param(CENTERS_ID, centers_tensor(centers, &device));
        self
    }

    /// Set σ (Å) and a₀, keeping the parameter ids (e.g. when resuming from a checkpoint).
    pub fn with_sigma_and_scale(mut self, sigma: f64, amplitude_scale: f64) -> Self {
        let device = self.electrons.device();
        self.log_sigma = param(LOG_SIGMA_ID, Tensor::from_data(TensorData::new(vec![sigma.ln() as f32], [1]), &device));
        self.amplitude_scale =
            param(AMPLITUDE_SCALE_ID, Tensor::from_data(TensorData::new(vec![amplitude_scale as f32], [1]), &device));
        self
    }

    /// The current σ (Å) and a₀ on the host.
    pub fn sigma_and_scale(&self) -> (f64, f64) {
        (scalar(self.sigma()), scalar(self.amplitude_scale.val()))
    }

    /// The current centers on the host, `[n_rbf][3]`.
    pub fn centers_host(&self) -> Vec<[f64; 3]> {
        centers_to_host(self.centers.val())
    }
}

/// The single value of a `[1]` tensor.
pub fn scalar(t: Tensor<1>) -> f64 {
    t.into_data().convert::<f32>().try_into_vec::<f32>().ok().and_then(|v| v.first().copied()).map_or(f64::NAN, f64::from)
}
