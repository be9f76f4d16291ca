//! The CPU fast path of [`crate::projection::project`]: the separable projection fused into one
//! operation of Burn's `flex` backend, with an analytic backward.
//!
//! Image `b` is `Σ_k w_k · gy_bk ⊗ gx_bk` with `gx_bk[j] = exp(−(x_j − px_bk)²/2σ²)` (and `gy` alike
//! along y). The plain path builds `gx` and `gy` for every pixel of every RBF and multiplies them as
//! dense matrices; here each Gaussian is evaluated only on a window of pixels that covers
//! [`CUTOFF_SIGMAS`]·σ on both sides of its center (beyond it the Gaussian is below
//! `exp(−18) ≈ 1.5·10⁻⁸` of its peak, under the f32 rounding of the images), and its outer product
//! is added into the image in place. At the paper's σ = 3.71 Å and 1 Å/pixel a window is 48 pixels
//! (45 rounded up to a multiple of 8, so that rows vectorise without a tail) instead of 128.
//! Along a window the Gaussian is a recurrence in f64 (`g_(j+1) = g_j·r_j`, `r_(j+1) = r_j·e^(−h²/σ²)`),
//! two `exp` per window instead of one per pixel. The forward pass keeps the windows for the
//! backward pass, which, given `G = ∂L/∂image`, reads the same patches:
//!
//! ```text
//! hy[i] = Σ_j G[i,j] gx[j]        hx[j] = Σ_i gy[i] G[i,j]
//! ∂L/∂w_k  = Σ_b Σ_i gy[i] hy[i]
//! ∂L/∂px   = w Σ_j hx[j] gx[j] (x_j − px)/σ²       ∂L/∂py = w Σ_i hy[i] gy[i] (y_i − py)/σ²
//! ∂L/∂σ    = Σ_b Σ_k w [Σ_j hx[j] gx[j] (x_j − px)² + Σ_i hy[i] gy[i] (y_i − py)²]/σ³
//! ```
//!
//! Images are independent, so the batch runs in parallel on Rayon's pool (the one `flex` uses), and
//! each image's loops are a [`pulp::WithSimd`] operation, compiled for each instruction set (AVX2,
//! AVX-512, …) and picked at run time by [`pulp::Arch::dispatch`].
//! The plain path stays the reference: tests compare both, values and gradients.
use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, TensorMetadata, backend_extension};
use burn::prelude::*;
use burn::tensor::DType;
use rayon::prelude::*;

use crate::projection::ImageGrid;

/// The `flex` backend's tensor.
type FlexTensor = FloatTensor<Flex>;

/// Gaussians are evaluated within (at least) this many σ of their center and taken as zero beyond.
pub const CUTOFF_SIGMAS: f64 = 6.0;

/// Windows are padded to a multiple of this many pixels (one vector of f32 lanes).
const LANES: usize = 8;

/// Whether the fast path can run on `device` for tensors of `dtype`: the `flex` CPU backend
/// (with or without autodiff) and f32.
pub fn supported(device: &Device, dtype: DType) -> bool {
    dtype == DType::F32 && device.clone().inner() == Device::flex()
}

/// Project Gaussians of given image-plane positions, weights and width into images.
///
/// # Shapes
/// - `px`, `py`: `[batch, n_rbf]` (Å): the centers in the image plane, `(R·μ)_xy + t`
/// - `weights`: `[n_rbf]`: the value of each Gaussian at its center
/// - `sigma`: `[1]` (Å)
/// - returns `[batch, D, D]`, indexed `[image][row = y][column = x]`
///
/// # Panics
/// If the tensors are not on the `flex` backend (see [`supported`]).
pub fn project_gaussians(px: Tensor<2>, py: Tensor<2>, weights: Tensor<1>, sigma: Tensor<1>, grid: &ImageGrid) -> Tensor<3> {
    let out = <burn::backend::Dispatch as GaussianProjection>::project_gaussians(
        px.into_dispatch(),
        py.into_dispatch(),
        weights.into_dispatch(),
        sigma.into_dispatch(),
        grid.box_size(),
        grid.pixel_size(),
    );
    Tensor::from_dispatch(out)
}

/// The fused projection as a backend operation.
#[backend_extension(Flex, Autodiff)]
pub trait GaussianProjection: Backend {
    /// See [`project_gaussians`].
    fn project_gaussians(
        px: FloatTensor<Self>,
        py: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        sigma: FloatTensor<Self>,
        box_size: usize,
        pixel_size: f64,
    ) -> FloatTensor<Self>;
}

impl GaussianProjection for Flex {
    fn project_gaussians(
        px: FlexTensor,
        py: FlexTensor,
        weights: FlexTensor,
        sigma: FlexTensor,
        box_size: usize,
        pixel_size: f64,
    ) -> FlexTensor {
        let inputs = Inputs::read(&px, &py, &weights, &sigma, box_size, pixel_size);
        forward(&inputs, &Windows::new(&inputs))
    }
}

impl<C: CheckpointStrategy> GaussianProjection for Autodiff<Flex, C> {
    fn project_gaussians(
        px: FloatTensor<Self>,
        py: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        sigma: FloatTensor<Self>,
        box_size: usize,
        pixel_size: f64,
    ) -> FloatTensor<Self> {
        let op = ProjectionBackward;
        match op.prepare::<C>([px.node(), py.node(), weights.node(), sigma.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let inputs = Inputs::read(px.primitive(), py.primitive(), weights.primitive(), sigma.primitive(), box_size, pixel_size);
                let windows = Windows::new(&inputs);
                let images = forward(&inputs, &windows);
                let shapes = [px.primitive().shape(), py.primitive().shape(), weights.primitive().shape(), sigma.primitive().shape()];
                prep.finish(ProjectionState(Arc::new((inputs, windows, shapes))), images)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::project_gaussians(
                px.into_primitive(),
                py.into_primitive(),
                weights.into_primitive(),
                sigma.into_primitive(),
                box_size,
                pixel_size,
            )),
        }
    }
}

#[derive(Debug)]
struct ProjectionBackward;

/// What the backward pass needs: the inputs, the windows and the shapes of the four inputs.
#[derive(Clone)]
struct ProjectionState(Arc<(Inputs, Windows, [Shape; 4])>);

impl std::fmt::Debug for ProjectionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (inputs, _, _) = &*self.0;
        write!(f, "ProjectionState {{ batch: {}, n_rbf: {}, box: {} }}", inputs.batch, inputs.n_rbf, inputs.box_size)
    }
}

impl Backward<Flex, 4> for ProjectionBackward {
    type State = ProjectionState;

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_px, node_py, node_weights, node_sigma] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (inputs, windows, [px, py, weights, sigma]) = &*ops.state.0;
        let g = backward(inputs, windows, &f32_values(&grad));
        let tensor = |values: Vec<f32>, shape: &Shape| FlexTensor::from_data(TensorData::new(values, shape.clone()));
        if let Some(node) = node_px {
            grads.register::<Flex>(node.id, tensor(g.px, px));
        }
        if let Some(node) = node_py {
            grads.register::<Flex>(node.id, tensor(g.py, py));
        }
        if let Some(node) = node_weights {
            grads.register::<Flex>(node.id, tensor(g.weights, weights));
        }
        if let Some(node) = node_sigma {
            grads.register::<Flex>(node.id, tensor(vec![g.sigma], sigma));
        }
    }
}

/// The values of a tensor, contiguous, as f32.
fn f32_values(t: &FlexTensor) -> Vec<f32> {
    t.clone().into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default()
}

/// The inputs of one call on the host.
struct Inputs {
    batch: usize,
    n_rbf: usize,
    px: Vec<f32>,
    py: Vec<f32>,
    weights: Vec<f32>,
    sigma: f64,
    box_size: usize,
    pixel_size: f64,
}

impl Inputs {
    fn read(px: &FlexTensor, py: &FlexTensor, weights: &FlexTensor, sigma: &FlexTensor, box_size: usize, pixel_size: f64) -> Self {
        let dims = px.shape();
        let (batch, n_rbf) = (dims[0], dims[1]);
        let weights = f32_values(weights);
        assert_eq!(weights.len(), n_rbf, "one weight per RBF");
        Inputs {
            batch,
            n_rbf,
            px: f32_values(px),
            py: f32_values(py),
            weights,
            sigma: f64::from(f32_values(sigma)[0]),
            box_size,
            pixel_size,
        }
    }

    /// The coordinate (Å) of pixel `j` minus `p`.
    fn offset(&self, j: usize, p: f32) -> f64 {
        (j as f64 - (self.box_size / 2) as f64) * self.pixel_size - f64::from(p)
    }
}

/// Both windows of every Gaussian of every image: `values[((b·n_rbf + k)·2 + axis)·stride ..]`
/// holds `exp(−(c_j − p)²/2σ²)` for the pixels `j` in `start..start + len` of that axis
/// (`axis` 0 = x, 1 = y; `c_j = (j − D/2)·pixel_size`).
struct Windows {
    stride: usize,
    starts: Vec<usize>,
    lens: Vec<usize>,
    values: Vec<f32>,
}

impl Windows {
    fn new(inputs: &Inputs) -> Self {
        let d = inputs.box_size;
        let reach = (CUTOFF_SIGMAS * inputs.sigma / inputs.pixel_size).ceil() as usize;
        let stride = (2 * reach + 1).next_multiple_of(LANES).min(d);
        let n = inputs.batch * inputs.n_rbf * 2;
        let mut windows = Windows { stride, starts: vec![0; n], lens: vec![0; n], values: vec![0.0; n * stride] };
        let per_image = 2 * inputs.n_rbf;
        windows
            .values
            .par_chunks_mut(per_image * stride)
            .zip(windows.starts.par_chunks_mut(per_image).zip(windows.lens.par_chunks_mut(per_image)))
            .enumerate()
            .for_each(|(b, (values, (starts, lens)))| {
                for k in 0..inputs.n_rbf {
                    let i = b * inputs.n_rbf + k;
                    for (axis, p) in [inputs.px[i], inputs.py[i]].into_iter().enumerate() {
                        let w = 2 * k + axis;
                        (starts[w], lens[w]) = fill(&mut values[w * stride..(w + 1) * stride], f64::from(p), inputs);
                    }
                }
            });
        windows
    }

    /// The start, the values and the length of one window.
    fn get(&self, b: usize, k: usize, n_rbf: usize, axis: usize) -> (usize, &[f32]) {
        let w = (b * n_rbf + k) * 2 + axis;
        (self.starts[w], &self.values[w * self.stride..w * self.stride + self.lens[w]])
    }
}

/// Fill `out` (one window's room) with the Gaussian about `p` (Å) on the pixels that cover the
/// cutoff on both sides, widened to a multiple of [`LANES`] pixels and shifted to stay inside the
/// box; returns the first pixel and the length (0 when the Gaussian is beyond the cutoff of the box).
fn fill(out: &mut [f32], p: f64, inputs: &Inputs) -> (usize, usize) {
    let (d, h, sigma) = (inputs.box_size, inputs.pixel_size, inputs.sigma);
    let half = (d / 2) as f64;
    let first = ((p - CUTOFF_SIGMAS * sigma) / h + half).ceil().max(0.0);
    let last = ((p + CUTOFF_SIGMAS * sigma) / h + half).floor().min(d as f64 - 1.0);
    if first > last {
        return (0, 0);
    }
    let len = ((last - first) as usize + 1).next_multiple_of(LANES).min(out.len());
    let start = (first as usize).min(d - len);
    let two_sigma_sq = 2.0 * sigma * sigma;
    let offset = (start as f64 - half) * h - p;
    let mut g = (-offset * offset / two_sigma_sq).exp();
    let mut ratio = (-(2.0 * offset * h + h * h) / two_sigma_sq).exp();
    let step = (-h * h / (sigma * sigma)).exp();
    for v in &mut out[..len] {
        *v = g as f32;
        g *= ratio;
        ratio *= step;
    }
    (start, len)
}

/// `out[j] += a·x[j]`, in vectors of [`LANES`].
#[inline(always)]
fn axpy(out: &mut [f32], a: f32, x: &[f32]) {
    let (out8, out_tail) = out.as_chunks_mut::<LANES>();
    let (x8, x_tail) = x.as_chunks::<LANES>();
    for (o, v) in out8.iter_mut().zip(x8) {
        for l in 0..LANES {
            o[l] += a * v[l];
        }
    }
    for (o, &v) in out_tail.iter_mut().zip(x_tail) {
        *o += a * v;
    }
}

/// `Σ a[j]·b[j]` in [`LANES`] independent sums, so that it vectorises.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (a8, a_tail) = a.as_chunks::<LANES>();
    let (b8, b_tail) = b.as_chunks::<LANES>();
    let mut lanes = [0.0f32; LANES];
    for (x, y) in a8.iter().zip(b8) {
        for l in 0..LANES {
            lanes[l] += x[l] * y[l];
        }
    }
    lanes.iter().sum::<f32>() + a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum::<f32>()
}

/// The images, `[batch, D, D]`.
fn forward(inputs: &Inputs, windows: &Windows) -> FlexTensor {
    let d = inputs.box_size;
    let mut images = vec![0.0f32; inputs.batch * d * d];
    images.par_chunks_mut(d * d).enumerate().for_each(|(b, image)| {
        pulp::Arch::new().dispatch(ForwardImage { inputs, windows, b, image });
    });
    FlexTensor::from_data(TensorData::new(images, [inputs.batch, d, d]))
}

/// Image `b` of the forward pass, as a [`pulp::WithSimd`] operation so that its loops are
/// compiled for each instruction set.
struct ForwardImage<'a> {
    inputs: &'a Inputs,
    windows: &'a Windows,
    b: usize,
    image: &'a mut [f32],
}

impl pulp::WithSimd for ForwardImage<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let ForwardImage { inputs, windows, b, image } = self;
        let d = inputs.box_size;
        for k in 0..inputs.n_rbf {
            let (first_column, gx) = windows.get(b, k, inputs.n_rbf, 0);
            let (first_row, gy) = windows.get(b, k, inputs.n_rbf, 1);
            let w = inputs.weights[k];
            for (row, &y) in (first_row..).zip(gy) {
                let start = row * d + first_column;
                axpy(&mut image[start..start + gx.len()], w * y, gx);
            }
        }
    }
}

/// Gradients of the loss with respect to the inputs.
struct InputGrads {
    px: Vec<f32>,
    py: Vec<f32>,
    weights: Vec<f32>,
    sigma: f32,
}

/// What one image contributes to the gradients.
struct ImageGrads {
    px: Vec<f32>,
    py: Vec<f32>,
    weights: Vec<f64>,
    sigma: f64,
}

/// `Σ_j h[j]·g[j]·(c_j − p)^n` for n = 0, 1, 2 along one window starting at pixel `start`.
#[inline(always)]
fn moments(h: &[f32], g: &[f32], start: usize, p: f32, inputs: &Inputs) -> [f64; 3] {
    let mut m = [0.0f64; 3];
    for (j, (&h, &g)) in (start..).zip(h.iter().zip(g)) {
        let hg = f64::from(h) * f64::from(g);
        let o = inputs.offset(j, p);
        m = [m[0] + hg, m[1] + hg * o, m[2] + hg * o * o];
    }
    m
}

/// Image `b` of the backward pass, given `∂L/∂image` of that image.
struct BackwardImage<'a> {
    inputs: &'a Inputs,
    windows: &'a Windows,
    b: usize,
    grad: &'a [f32],
}

impl pulp::WithSimd for BackwardImage<'_> {
    type Output = ImageGrads;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> ImageGrads {
        let BackwardImage { inputs, windows, b, grad } = self;
        let (d, n_rbf) = (inputs.box_size, inputs.n_rbf);
        let sigma_sq = inputs.sigma * inputs.sigma;
        let (mut hx, mut hy) = (Vec::with_capacity(windows.stride), Vec::with_capacity(windows.stride));
        let mut out = ImageGrads { px: vec![0.0; n_rbf], py: vec![0.0; n_rbf], weights: vec![0.0; n_rbf], sigma: 0.0 };
        for k in 0..n_rbf {
            let i = b * n_rbf + k;
            let (first_column, gx) = windows.get(b, k, n_rbf, 0);
            let (first_row, gy) = windows.get(b, k, n_rbf, 1);
            hx.clear();
            hx.resize(gx.len(), 0.0f32);
            hy.clear();
            for (row, &y) in (first_row..).zip(gy) {
                let start = row * d + first_column;
                let g_row = &grad[start..start + gx.len()];
                hy.push(dot(g_row, gx));
                axpy(&mut hx, y, g_row);
            }
            let [_, x1, x2] = moments(&hx, gx, first_column, inputs.px[i], inputs);
            let [y0, y1, y2] = moments(&hy, gy, first_row, inputs.py[i], inputs);
            let w = f64::from(inputs.weights[k]);
            out.weights[k] = y0;
            out.px[k] = (w * x1 / sigma_sq) as f32;
            out.py[k] = (w * y1 / sigma_sq) as f32;
            out.sigma += w * (x2 + y2);
        }
        out.sigma /= sigma_sq * inputs.sigma;
        out
    }
}

fn backward(inputs: &Inputs, windows: &Windows, grad: &[f32]) -> InputGrads {
    let d = inputs.box_size;
    let n_rbf = inputs.n_rbf;
    let per_image: Vec<ImageGrads> = grad
        .par_chunks(d * d)
        .enumerate()
        .map(|(b, grad)| pulp::Arch::new().dispatch(BackwardImage { inputs, windows, b, grad }))
        .collect();
    let mut weights = vec![0.0f64; n_rbf];
    let mut sigma = 0.0f64;
    let (mut px, mut py) = (Vec::with_capacity(inputs.batch * n_rbf), Vec::with_capacity(inputs.batch * n_rbf));
    for image in per_image {
        px.extend(image.px);
        py.extend(image.py);
        for (total, w) in weights.iter_mut().zip(image.weights) {
            *total += w;
        }
        sigma += image.sigma;
    }
    InputGrads { px, py, weights: weights.into_iter().map(|w| w as f32).collect(), sigma: sigma as f32 }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::projection::{Poses, project, project_plain};

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 values")
    }

    fn assert_close(what: &str, fast: &[f32], plain: &[f32], tolerance: f32) {
        assert_eq!(fast.len(), plain.len(), "{what}: lengths");
        let scale = plain.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.0, "{what}: all zero");
        for (i, (a, b)) in fast.iter().zip(plain).enumerate() {
            assert!((a - b).abs() <= tolerance * scale, "{what}[{i}]: fused {a}, plain {b} (scale {scale})");
        }
    }

    /// Random poses about random centers, some RBFs near or past the box edge.
    struct Case {
        centers: Vec<f32>,
        per_image: bool,
        amplitudes: Vec<f32>,
        sigma: f32,
        poses: (Vec<[[f64; 3]; 3]>, Vec<[f64; 2]>),
        target: Vec<f32>,
        grid: ImageGrid,
        batch: usize,
        n_rbf: usize,
    }

    fn case(seed: u64, per_image: bool, sigma: f32, pixel_size: f64) -> Case {
        let mut rng = StdRng::seed_from_u64(seed);
        let (batch, n_rbf, d) = (3, 17, 32);
        let structures = if per_image { batch } else { 1 };
        let half = 0.5 * d as f64 * pixel_size;
        let centers = (0..structures * n_rbf * 3).map(|_| rng.random_range(-1.1 * half..1.1 * half) as f32).collect();
        let amplitudes = (0..n_rbf).map(|_| rng.random_range(0.5..2.0)).collect();
        let rotations = (0..batch)
            .map(|_| rbf_io::particles::euler_to_matrix(rng.random_range(0.0..360.0), rng.random_range(0.0..180.0), rng.random_range(0.0..360.0)))
            .collect();
        let shifts = (0..batch).map(|_| [rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0)]).collect();
        let target = (0..batch * d * d).map(|_| rng.random_range(0.0..0.05)).collect();
        let grid = ImageGrid::new(d, pixel_size).expect("grid");
        Case { centers, per_image, amplitudes, sigma, poses: (rotations, shifts), target, grid, batch, n_rbf }
    }

    /// Images and the gradients of a squared error with respect to centers, amplitudes and σ.
    fn run(c: &Case, fused: bool) -> [Vec<f32>; 4] {
        let device = Device::flex().autodiff();
        let structures = if c.per_image { c.batch } else { 1 };
        let centers = Tensor::<3>::from_data(TensorData::new(c.centers.clone(), [structures, c.n_rbf, 3]), &device).require_grad();
        let amplitudes = Tensor::<1>::from_data(TensorData::new(c.amplitudes.clone(), [c.n_rbf]), &device).require_grad();
        let sigma = Tensor::<1>::from_data(TensorData::new(vec![c.sigma], [1]), &device).require_grad();
        let poses = Poses::from_host(&c.poses.0, &c.poses.1, &device);
        let d = c.grid.box_size();
        let target = Tensor::<3>::from_data(TensorData::new(c.target.clone(), [c.batch, d, d]), &device);
        let render = if fused { project } else { project_plain };
        let images = render(centers.clone(), amplitudes.clone(), sigma.clone(), &poses, &c.grid);
        let grads = (images.clone() - target).powi_scalar(2).sum().backward();
        let grad = |t: Option<Tensor<1>>| values(t.expect("a gradient"));
        [
            values(images),
            values(centers.grad(&grads).expect("a gradient")),
            grad(amplitudes.grad(&grads)),
            grad(sigma.grad(&grads)),
        ]
    }

    #[test]
    fn the_fused_path_is_taken_on_the_cpu_only_for_f32() {
        assert!(supported(&Device::flex(), DType::F32));
        assert!(supported(&Device::flex().autodiff(), DType::F32));
        assert!(!supported(&Device::flex(), DType::F64));
    }

    #[test]
    fn fused_projection_and_gradients_match_the_plain_path() {
        for (seed, per_image, sigma, pixel_size) in [(1, false, 1.9, 1.0), (2, true, 3.71, 1.0), (3, false, 0.7, 1.3), (4, true, 9.0, 0.8)] {
            let c = case(seed, per_image, sigma, pixel_size);
            let [fast, plain] = [run(&c, true), run(&c, false)];
            let what = format!("seed {seed}");
            assert_close(&format!("{what} images"), &fast[0], &plain[0], 1e-5);
            assert_close(&format!("{what} d/dμ"), &fast[1], &plain[1], 1e-4);
            assert_close(&format!("{what} d/da"), &fast[2], &plain[2], 1e-4);
            assert_close(&format!("{what} d/dσ"), &fast[3], &plain[3], 1e-4);
        }
    }

    #[test]
    fn fused_projection_without_autodiff_matches_the_plain_path() {
        let c = case(5, false, 2.5, 1.0);
        let device = Device::flex();
        let centers = Tensor::<3>::from_data(TensorData::new(c.centers.clone(), [1, c.n_rbf, 3]), &device);
        let amplitudes = Tensor::<1>::from_data(TensorData::new(c.amplitudes.clone(), [c.n_rbf]), &device);
        let sigma = Tensor::<1>::from_data(TensorData::new(vec![c.sigma], [1]), &device);
        let poses = Poses::from_host(&c.poses.0, &c.poses.1, &device);
        let fast = values(project(centers.clone(), amplitudes.clone(), sigma.clone(), &poses, &c.grid));
        let plain = values(project_plain(centers, amplitudes, sigma, &poses, &c.grid));
        assert_close("images", &fast, &plain, 1e-5);
    }
}
