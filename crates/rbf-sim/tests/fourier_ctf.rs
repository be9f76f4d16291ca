//! The model's CTF path against the simulator's: the inverse FFT of (Fourier render × CTF), the
//! render analytic or the device DFT of the real-space one, equals the simulator's `CtfFilter`
//! applied to the real-space render, and the Fourier-space loss equals the real-space mean squared
//! error of CTF-filtered images.
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rbf_io::CtfParams;
use rbf_model::ctf::half_plane_batch;
use rbf_model::density::centers_tensor;
use rbf_model::fourier::{self, HalfPlane, HalfPlaneDft, HalfPlaneFft, half_plane_mse, half_plane_width};
use rbf_model::projection::{image_mse, project};
use rbf_model::{ImageGrid, Poses};
use rbf_sim::ctf::CtfFilter;
use rbf_sim::rotations::uniform_rotation;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

fn to_vec(t: Tensor<3>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

fn tensor1(v: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

/// Real images from their half planes: the missing columns are the conjugates of the stored
/// ones at (−ky, −kx); then a 2-D inverse DFT (rustfft, f64) divided by D².
fn inverse_half_plane(re: &[f32], im: &[f32], d: usize) -> Vec<f64> {
    let w = half_plane_width(d);
    let fft = FftPlanner::new().plan_fft_inverse(d);
    let mut out = Vec::new();
    for (re, im) in re.chunks_exact(d * w).zip(im.chunks_exact(d * w)) {
        let value = |ky: usize, kx: usize| Complex::new(f64::from(re[ky * w + kx]), f64::from(im[ky * w + kx]));
        // Columns (kx) first, as rows of the transpose: columns[kx][ky].
        let mut columns: Vec<Complex<f64>> = (0..d * d)
            .map(|k| {
                let (kx, ky) = (k / d, k % d);
                if kx < w { value(ky, kx) } else { value((d - ky) % d, d - kx).conj() }
            })
            .collect();
        fft.process(&mut columns);
        let mut rows: Vec<Complex<f64>> = (0..d * d).map(|k| columns[(k % d) * d + k / d]).collect();
        fft.process(&mut rows);
        out.extend(rows.iter().map(|v| v.re / (d * d) as f64));
    }
    out
}

struct Case {
    grid: ImageGrid,
    centers: Vec<[f64; 3]>,
    amplitudes: Vec<f32>,
    sigma: f32,
    rotations: Vec<[[f64; 3]; 3]>,
    shifts: Vec<[f64; 2]>,
    ctf: Vec<CtfParams>,
}

fn case(seed: u64, box_size: usize, pixel_size: f64) -> Case {
    let mut rng = StdRng::seed_from_u64(seed);
    let batch = 3;
    let reach = box_size as f64 * pixel_size / 2.0 - 10.0;
    let centers = (0..15).map(|_| std::array::from_fn(|_| rng.random_range(-reach..reach) / 3f64.sqrt())).collect();
    let ctf = (0..batch)
        .map(|_| CtfParams {
            defocus_u: rng.random_range(5000.0..15000.0),
            defocus_v: rng.random_range(5000.0..15000.0),
            defocus_angle: rng.random_range(0.0..180.0),
            voltage: 300.0,
            spherical_aberration: 2.7,
            amplitude_contrast: 0.1,
            phase_shift: rng.random_range(0.0..30.0),
        })
        .collect();
    Case {
        grid: ImageGrid::new(box_size, pixel_size).unwrap(),
        centers,
        amplitudes: (0..15).map(|_| rng.random_range(1.0..20.0)).collect(),
        sigma: 2.0 * pixel_size as f32,
        rotations: (0..batch).map(|_| uniform_rotation(&mut rng)).collect(),
        shifts: (0..batch).map(|_| [rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)]).collect(),
        ctf,
    }
}

impl Case {
    fn poses(&self, device: &Device) -> Poses {
        Poses::from_host(&self.rotations, &self.shifts, device)
    }
    /// The simulator's images: real-space render, then `CtfFilter`.
    fn simulated(&self, centers: &[[f64; 3]], device: &Device) -> Vec<f32> {
        let centers = centers_tensor(centers, device).unsqueeze_dim(0);
        let d = self.grid.box_size();
        let mut images =
            to_vec(project(centers, tensor1(&self.amplitudes, device), tensor1(&[self.sigma], device), &self.poses(device), &self.grid));
        let mut filter = CtfFilter::new(d, self.grid.pixel_size());
        for (image, p) in images.chunks_exact_mut(d * d).zip(&self.ctf) {
            filter.apply(image, p).unwrap();
        }
        images
    }
    /// The model's half planes times the CTF: the analytic transform, or (as training does) the
    /// device DFT of the real-space render.
    fn model(&self, analytic: bool, device: &Device) -> HalfPlane {
        let centers = centers_tensor(&self.centers, device).unsqueeze_dim(0);
        let (amplitudes, sigma, poses) = (tensor1(&self.amplitudes, device), tensor1(&[self.sigma], device), self.poses(device));
        let transform = if analytic {
            fourier::project(centers, amplitudes, sigma, &poses, &self.grid)
        } else {
            HalfPlaneDft::new(self.grid.box_size(), device).forward(project(centers, amplitudes, sigma, &poses, &self.grid))
        };
        transform.times(half_plane_batch(&self.ctf, &self.grid, device))
    }
}

/// Tolerance 10⁻⁴ of the largest pixel: σ = 2 pixels makes aliasing ~10⁻⁹, RBFs lie ≥ 10 Å
/// (5σ) inside the box, and the rest is f32 rounding.
#[test]
fn inverse_fft_of_the_ctf_modulated_fourier_render_equals_the_simulators_ctf_filter() {
    let device = Device::flex();
    for (seed, box_size, pixel_size) in [(1, 32, 1.0), (2, 35, 1.4)] {
        let c = case(seed, box_size, pixel_size);
        let want = c.simulated(&c.centers, &device);
        for analytic in [true, false] {
            let model = c.model(analytic, &device);
            let got = inverse_half_plane(&to_vec(model.re), &to_vec(model.im), box_size);
            let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let err = got.iter().zip(&want).fold(0.0f64, |m, (a, b)| m.max((a - f64::from(*b)).abs()));
            assert!(scale > 0.0 && err < 1e-4 * f64::from(scale), "D {box_size}, analytic {analytic}: max error {err} of {scale}");
        }
    }
}

/// The training loss in Fourier space (analytic render × CTF against the FFT of the observed
/// images) equals the real-space mean squared error between the simulator's CTF-filtered images.
#[test]
fn the_fourier_ctf_loss_equals_the_real_space_loss_of_ctf_filtered_images() {
    let device = Device::flex();
    let c = case(3, 30, 1.2);
    let mut rng = StdRng::seed_from_u64(9);
    let moved: Vec<[f64; 3]> = c.centers.iter().map(|p| p.map(|v| v + rng.random_range(-1.5..1.5))).collect();
    let d = c.grid.box_size();
    let shape = [c.ctf.len(), d, d];
    let observed = c.simulated(&moved, &device);
    let real = image_mse(
        Tensor::from_data(TensorData::new(c.simulated(&c.centers, &device), shape), &device),
        Tensor::from_data(TensorData::new(observed.clone(), shape), &device),
    );
    let (re, im) = HalfPlaneFft::new(d).forward(&observed).unwrap();
    let observed = HalfPlane::from_host(re, im, &c.grid, &device).unwrap();
    let real = to_vec(real.reshape([1, 1, 1]))[0];
    assert!(real > 1e-4, "the structures differ: {real}");
    for analytic in [true, false] {
        let fourier = to_vec(half_plane_mse(c.model(analytic, &device), observed.clone()).reshape([1, 1, 1]))[0];
        assert!((fourier / real - 1.0).abs() < 1e-3, "analytic {analytic}: {fourier} vs {real}");
    }
}
