//! Rendering the RBF density on a cubic voxel grid, separably.
//!
//! `V[z, y, x] = Σ_n c_n·g_n(z)·g_n(y)·g_n(x)` with `c_n = a_n (2πσ²)^(-3/2)` and
//! `g_n(u) = exp(−(u − μ_n)²/2σ²)`. For a slab of z-slices this is one batched matrix product
//! `[slab, D(y), n_rbf] · [n_rbf, D(x)]`; slabs keep every intermediate under [`MAX_SLAB_FLOATS`]
//! (wgpu refuses single buffers over about 128 MiB).
use burn::prelude::*;

use crate::projection::ImageGrid;

/// The largest intermediate of a slab, in floats (32 MiB).
pub const MAX_SLAB_FLOATS: usize = 8 << 20;

/// Render RBFs on the `D³` grid of `grid`.
///
/// # Shapes
/// - `centers`: `[n_rbf, 3]` (Å, box frame)
/// - `amplitudes`: `[n_rbf]`
/// - `sigma`: `[1]` (Å)
/// - returns `[D, D, D]`, indexed `[z][y][x]`
pub fn render_volume(centers: Tensor<2>, amplitudes: Tensor<1>, sigma: Tensor<1>, grid: &ImageGrid) -> Tensor<3> {
    let device = centers.device();
    let [n_rbf, _] = centers.dims();
    let d = grid.box_size();
    let coords = grid.coordinates(&device).reshape([1, d]);
    let two_sigma_sq = sigma.clone().powi_scalar(2).mul_scalar(2.0).reshape([1, 1]);
    let gauss = |axis: usize| {
        let mu = centers.clone().narrow(1, axis, 1); // [n_rbf, 1]
        (coords.clone() - mu).powi_scalar(2).div(two_sigma_sq.clone()).neg().exp() // [n_rbf, D]
    };
    let norm = sigma.powi_scalar(2).mul_scalar(2.0 * std::f64::consts::PI).powf_scalar(-1.5);
    let weights = (amplitudes * norm).reshape([n_rbf, 1]);
    let gx = gauss(0).unsqueeze_dim::<3>(0); // [1, n_rbf, D(x)]
    let gy_t = (gauss(1) * weights).swap_dims(0, 1).unsqueeze_dim::<3>(0); // [1, D(y), n_rbf]
    let gz_t = gauss(2).swap_dims(0, 1); // [D(z), n_rbf]
    let slab = (MAX_SLAB_FLOATS / (d * n_rbf.max(d))).clamp(1, d);
    let slabs: Vec<Tensor<3>> = (0..d)
        .step_by(slab)
        .map(|z0| {
            let len = slab.min(d - z0);
            let gz = gz_t.clone().narrow(0, z0, len).unsqueeze_dim::<3>(1); // [len, 1, n_rbf]
            let a = gy_t.clone() * gz; // [len, D(y), n_rbf]
            a.matmul(gx.clone()) // [len, D(y), D(x)]
        })
        .collect();
    Tensor::cat(slabs, 0)
}
