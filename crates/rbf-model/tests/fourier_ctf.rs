//! The CTF formula against values of CONVENTIONS.md's formula computed independently (Python,
//! numpy, f64) for cryoDRGN's golden CTF parameter rows; the analytic Fourier render against the
//! FFT of the real-space render; the Fourier-space loss against the real-space one; gradients
//! against finite differences.
mod common;

use burn::prelude::*;
use common::*;
use rand::Rng;
use rbf_model::ctf::{Ctf, CtfParams, ctf_value, half_plane_batch, wavelength};
use rbf_model::density::centers_tensor;
use rbf_model::fourier::{self, HalfPlane, HalfPlaneDft, HalfPlaneFft, frequency_index, half_plane_mse, half_plane_width};
use rbf_model::projection::{image_mse, project};
use rbf_model::{ImageGrid, Poses};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

fn params(df_u: f64, df_v: f64, angle: f64, phase: f64) -> CtfParams {
    CtfParams {
        defocus_u: df_u,
        defocus_v: df_v,
        defocus_angle: angle,
        voltage: 300.0,
        spherical_aberration: 2.7,
        amplitude_contrast: 0.1,
        phase_shift: phase,
    }
}

/// A cryoDRGN CTF row `[D, apix, dfU, dfV, dfAngle°, kV, Cs mm, w, phase°]` as parameters.
fn from_row(row: &[f64]) -> CtfParams {
    CtfParams {
        defocus_u: row[2],
        defocus_v: row[3],
        defocus_angle: row[4],
        voltage: row[5],
        spherical_aberration: row[6],
        amplitude_contrast: row[7],
        phase_shift: row[8],
    }
}

fn read_rows(path: &std::path::Path) -> Vec<Vec<f64>> {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let columns = npy.shape()[1] as usize;
    let values: Vec<f32> = npy.into_vec().unwrap();
    values.chunks(columns).map(|r| r.iter().map(|&v| f64::from(v)).collect()).collect()
}

/// The CONVENTIONS.md formula evaluated with numpy (f64, `arctan2` for α) on rows of cryoDRGN's
/// golden CTF arrays, at `s = (kx, ky)/(D·apix)` for the bins below.
#[test]
fn ctf_matches_the_conventions_formula_on_the_golden_parameter_rows() {
    let Some(dir) = data_dir() else { return };
    const BINS: [(f64, f64); 5] = [(0.0, 0.0), (3.0, -5.0), (17.0, 40.0), (-60.0, 71.0), (89.0, -2.0)];
    let expected: [(&str, usize, [f64; 5]); 9] = [
        ("ctf1", 0, [0.10000000149011612, 0.43891513361521317, 0.51059862175261095, -0.56610277723130775, 0.93564511074316969]),
        ("ctf1", 1, [0.10000000149011612, 0.44624969777159668, 0.83619754179109174, -0.44491470259440613, 0.02501064337926609]),
        ("ctf1", 2, [0.10000000149011612, 0.43829795831585017, 0.58177180820728813, 0.93194748025166962, 0.83222125201491937]),
        ("ctf1", 3, [0.10000000149011612, 0.44812672319490376, 0.94251751451341381, -0.74782253024669831, -0.99999833442400665]),
        ("ctf1", 4, [0.10000000149011612, 0.41756719856256669, -0.61431356460115838, 0.99795682114659612, 0.16869074687646229]),
        ("ctf2", 0, [0.070000000298023224, 0.4819704455739991, -0.87667371017038298, 0.41080569238526987, -0.46544205091128504]),
        ("ctf2", 1000, [0.070000000298023224, 0.23006733733419082, 0.39208262370268004, -0.41414474121417477, 0.91292486130082751]),
        ("ctf2", 2018, [0.070000000298023224, 0.2759274715928588, -0.74685342136411281, 0.2520273793615716, -0.10144083031819183]),
        ("test_ctf", 0, [0.99498743695685765, 0.99500452764814451, 0.90986638466883474, -0.047320385879297468, -0.97329049272002321]),
    ];
    for (file, index, values) in expected {
        let rows = read_rows(&dir.join(format!("cryodrgn/npy/{file}.ctf.npy")));
        let row = &rows[index];
        let step = 1.0 / (row[0] * row[1]);
        let ctf = Ctf::new(&from_row(row));
        for ((kx, ky), want) in BINS.iter().zip(values) {
            let got = ctf.value(kx * step, ky * step);
            assert!((got - want).abs() < 1e-9, "{file} row {index} at bin ({kx}, {ky}): {got} vs {want}");
        }
    }
}

#[test]
fn zero_frequency_is_plus_w_and_phase_shift_enters_gamma() {
    let p = params(15000.0, 17000.0, 30.0, 0.0);
    assert!((ctf_value(&p, 0.0, 0.0) - 0.1).abs() < 1e-12);
    // γ = −90°: CTF = −(√(1−w²)·(−1) − 0) = √(1−w²).
    let p = params(15000.0, 17000.0, 30.0, 90.0);
    assert!((ctf_value(&p, 0.0, 0.0) - (1.0f64 - 0.01).sqrt()).abs() < 1e-12);
}

/// Values of the CONVENTIONS.md formula computed independently (Python, f64) at chosen
/// frequencies, with astigmatism, Cs, amplitude contrast and a phase shift.
#[test]
fn values_match_the_conventions_formula_at_chosen_frequencies() {
    let cases = [
        ((0.05, 0.02), 0.3395558430385859, -0.42499242678652344),
        ((-0.1, 0.07), 0.3361377699894375, -0.4282769394389157),
        ((0.2, 0.0), 0.22731020830271303, 0.8493290133281143),
        ((0.013, -0.031), 0.9596169074114637, 0.8774679253352303),
    ];
    for ((s_x, s_y), no_phase, phase_45) in cases {
        assert!((ctf_value(&params(15000.0, 17000.0, 30.0, 0.0), s_x, s_y) - no_phase).abs() < 1e-9, "({s_x}, {s_y})");
        assert!((ctf_value(&params(15000.0, 17000.0, 30.0, 45.0), s_x, s_y) - phase_45).abs() < 1e-9, "({s_x}, {s_y})");
    }
    // Without Cs and amplitude contrast, CTF = sin(π·df·λ·s²): 1 at π/2, 0 at π (first zero).
    let p = CtfParams { spherical_aberration: 0.0, amplitude_contrast: 0.0, ..params(20000.0, 20000.0, 0.0, 0.0) };
    let lambda = 12.2639 / (300e3_f64 + 0.97845e-6 * 300e3 * 300e3).sqrt();
    let s_peak = (0.5 / (20000.0 * lambda)).sqrt();
    let s_zero = (1.0 / (20000.0 * lambda)).sqrt();
    assert!((ctf_value(&p, s_peak, 0.0) - 1.0).abs() < 1e-12);
    assert!(ctf_value(&p, 0.0, s_zero).abs() < 1e-12);
    assert!(ctf_value(&p, 0.0, 0.9 * s_zero) > 0.0 && ctf_value(&p, 0.0, 1.1 * s_zero) < 0.0);
}

#[test]
fn wavelength_at_300_kv() {
    // 300 kV electrons: λ = 0.019687 Å.
    assert!((wavelength(300.0) - 0.019687).abs() < 1e-6);
}

#[test]
fn astigmatism_axes_carry_df_u_and_df_v() {
    let theta = 35.0_f64;
    let astig = params(12000.0, 20000.0, theta, 0.0);
    let s = 0.08;
    let (c, sn) = (theta.to_radians().cos(), theta.to_radians().sin());
    let along_u = ctf_value(&astig, s * c, s * sn);
    let along_v = ctf_value(&astig, -s * sn, s * c);
    assert!((along_u - ctf_value(&params(12000.0, 12000.0, 0.0, 0.0), s, 0.0)).abs() < 1e-12);
    assert!((along_v - ctf_value(&params(20000.0, 20000.0, 0.0, 0.0), s, 0.0)).abs() < 1e-12);
    assert!((along_u - along_v).abs() > 1e-3);
}

/// The half-plane tensor holds particle b's CTF at row ky (FFT order), column kx.
#[test]
fn ctf_half_plane_layout() {
    let device = cpu();
    let grid = ImageGrid::new(15, 1.7).unwrap();
    let p = [params(9000.0, 12000.0, 20.0, 0.0), params(20000.0, 18000.0, 100.0, 30.0)];
    let values = to_vec(half_plane_batch(&p, &grid, &device));
    let (d, w) = (15, half_plane_width(15));
    assert_eq!(values.len(), 2 * d * w);
    for (b, params) in p.iter().enumerate() {
        for (ky, kx) in [(0, 0), (3, 7), (14, 2), (8, 5)] {
            let step = 1.0 / (15.0 * 1.7);
            let want = ctf_value(params, kx as f64 * step, frequency_index(ky, d) * step);
            assert!((f64::from(values[(b * d + ky) * w + kx]) - want).abs() < 1e-6, "particle {b} bin ({ky}, {kx})");
        }
    }
}

/// The whole 2-D DFT of each image (rustfft, f64), `[batch][ky][kx]`.
fn full_fft(images: &[f32], d: usize) -> Vec<Complex<f64>> {
    let fft = FftPlanner::new().plan_fft_forward(d);
    let mut out = Vec::with_capacity(images.len());
    for image in images.chunks_exact(d * d) {
        let mut rows: Vec<Complex<f64>> = image.iter().map(|&v| Complex::new(f64::from(v), 0.0)).collect();
        fft.process(&mut rows);
        let mut columns: Vec<Complex<f64>> = (0..d * d).map(|k| rows[(k % d) * d + k / d]).collect();
        fft.process(&mut columns);
        out.extend((0..d * d).map(|k| columns[(k % d) * d + k / d]));
    }
    out
}

#[test]
fn host_half_plane_fft_matches_a_naive_dft() {
    let mut rng = rng(4);
    for d in [8usize, 9] {
        let images: Vec<f32> = (0..2 * d * d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let (re, im) = HalfPlaneFft::new(d).forward(&images).unwrap();
        let w = half_plane_width(d);
        assert_eq!(re.len(), 2 * d * w);
        for b in 0..2 {
            for ky in 0..d {
                for kx in 0..w {
                    let mut sum = Complex::new(0.0, 0.0);
                    for i in 0..d {
                        for j in 0..d {
                            let angle = -2.0 * std::f64::consts::PI * ((kx * j + ky * i) as f64) / d as f64;
                            sum += Complex::from_polar(f64::from(images[(b * d + i) * d + j]), angle);
                        }
                    }
                    let k = (b * d + ky) * w + kx;
                    assert!((f64::from(re[k]) - sum.re).abs() < 1e-4 && (f64::from(im[k]) - sum.im).abs() < 1e-4, "D {d} bin ({ky}, {kx})");
                }
            }
        }
    }
    assert!(HalfPlaneFft::new(8).forward(&[0.0; 10]).is_err());
}

/// The device DFT (matrix products) against the host FFT, for even and odd boxes.
#[test]
fn device_half_plane_dft_matches_the_host_fft() {
    let device = cpu();
    let mut rng = rng(12);
    for d in [16usize, 21] {
        let images: Vec<f32> = (0..3 * d * d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let (re, im) = HalfPlaneFft::new(d).forward(&images).unwrap();
        let got = HalfPlaneDft::new(d, &device).forward(Tensor::from_data(TensorData::new(images, [3, d, d]), &device));
        assert_eq!(got.re.dims(), [3, d, half_plane_width(d)]);
        let scale = re.iter().chain(&im).fold(0.0f32, |m, v| m.max(v.abs()));
        for (got, want) in [(to_vec(got.re), re), (to_vec(got.im), im)] {
            let err = got.iter().zip(&want).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(err < 1e-5 * scale, "D {d}: max error {err} of {scale}");
        }
    }
}

struct Scene {
    grid: ImageGrid,
    centers: Vec<[f64; 3]>,
    amplitudes: Vec<f64>,
    sigma: f64,
    rotations: Vec<[[f64; 3]; 3]>,
    shifts: Vec<[f64; 2]>,
}

/// Random RBFs well inside the box (≥ 4σ from the edge after any rotation and shift).
fn scene(seed: u64, box_size: usize, pixel_size: f64, sigma: f64, batch: usize) -> Scene {
    let mut rng = rng(seed);
    let grid = ImageGrid::new(box_size, pixel_size).unwrap();
    let reach = (box_size / 2 - 1) as f64 * pixel_size - 4.0 * sigma - 1.0;
    let centers: Vec<[f64; 3]> = random_points(&mut rng, 13, reach / 3f64.sqrt()).into_iter().collect();
    let amplitudes = (0..13).map(|_| rng.random_range(1.0..20.0)).collect();
    let rotations = (0..batch).map(|_| random_rotation(&mut rng)).collect();
    let shifts = (0..batch).map(|_| [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)]).collect();
    Scene { grid, centers, amplitudes, sigma, rotations, shifts }
}

fn tensor1(v: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.iter().map(|&x| x as f32).collect::<Vec<_>>(), [v.len()]), device)
}

impl Scene {
    fn poses(&self, device: &Device) -> Poses {
        Poses::from_host(&self.rotations, &self.shifts, device)
    }
    fn real(&self, device: &Device) -> Tensor<3> {
        let centers = centers_tensor(&self.centers, device).unsqueeze_dim(0);
        project(centers, tensor1(&self.amplitudes, device), tensor1(&[self.sigma], device), &self.poses(device), &self.grid)
    }
    fn fourier(&self, centers: Tensor<2>, device: &Device) -> HalfPlane {
        fourier::project(centers.unsqueeze_dim(0), tensor1(&self.amplitudes, device), tensor1(&[self.sigma], device), &self.poses(device), &self.grid)
    }
}

/// Without a CTF the analytic half plane equals the DFT of the real-space render. The only
/// differences are aliasing, below exp(−2π²(σ/apix)²/4) = 1.5·10⁻⁵ of the zero frequency for
/// σ ≥ 1.5 pixels, truncation (none: RBFs ≥ 4σ inside) and f32 rounding (~10⁻⁶ relative):
/// the tolerance is 10⁻⁴ of the largest value. Even and odd boxes, pixel size ≠ 1, and σ = 1.5,
/// 2 and 3 pixels.
#[test]
fn fourier_render_equals_the_fft_of_the_real_space_render() {
    let device = cpu();
    for (seed, box_size, pixel_size, sigma) in [(1, 32, 1.3, 2.6), (2, 27, 1.0, 1.5), (3, 40, 0.8, 2.4)] {
        let s = scene(seed, box_size, pixel_size, sigma, 3);
        let want = full_fft(&to_vec(s.real(&device)), box_size);
        let got = s.fourier(centers_tensor(&s.centers, &device), &device);
        let (re, im) = (to_vec(got.re), to_vec(got.im));
        let (d, w) = (box_size, half_plane_width(box_size));
        assert_eq!(re.len(), 3 * d * w);
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.norm()));
        let mut err = 0.0f64;
        for b in 0..3 {
            for ky in 0..d {
                for kx in 0..w {
                    let k = (b * d + ky) * w + kx;
                    let v = want[(b * d + ky) * d + kx];
                    err = err.max((f64::from(re[k]) - v.re).abs()).max((f64::from(im[k]) - v.im).abs());
                }
            }
        }
        assert!(err / scale < 1e-4, "D {box_size}: relative error {}", err / scale);
    }
}

/// The half-plane loss equals the real-space mean squared error (Parseval), for even and odd
/// boxes: here between two renders of different structures.
#[test]
fn half_plane_mse_equals_the_real_space_mse() {
    let device = cpu();
    for (seed, box_size) in [(5, 24), (6, 25)] {
        let a = scene(seed, box_size, 1.1, 2.2, 2);
        let b = Scene { centers: scene(seed + 10, box_size, 1.1, 2.2, 2).centers, ..scene(seed, box_size, 1.1, 2.2, 2) };
        let real = f64::from(to_vec(image_mse(a.real(&device), b.real(&device)))[0]);
        let (re, im) = HalfPlaneFft::new(box_size).forward(&to_vec(b.real(&device))).unwrap();
        let observed = HalfPlane::from_host(re, im, &a.grid, &device).unwrap();
        let (re, im) = HalfPlaneFft::new(box_size).forward(&to_vec(a.real(&device))).unwrap();
        let predicted = HalfPlane::from_host(re, im, &a.grid, &device).unwrap();
        let fourier = f64::from(to_vec(half_plane_mse(predicted, observed))[0]);
        assert!(real > 1e-3, "the structures differ: {real}");
        assert!((fourier / real - 1.0).abs() < 1e-4, "D {box_size}: {fourier} vs {real}");
    }
}

/// Autodiff through the render (analytic, or real space then the device DFT as training does),
/// the CTF and the half-plane loss against central finite differences on single coordinates.
#[test]
fn gradients_of_the_ctf_loss_match_finite_differences() {
    for analytic in [true, false] {
        check_gradients(analytic);
    }
}

fn check_gradients(analytic: bool) {
    let device = cpu().autodiff();
    let s = scene(8, 24, 1.2, 2.0, 2);
    let target = scene(9, 24, 1.2, 2.0, 2);
    let ctf = half_plane_batch(&[params(8000.0, 9000.0, 10.0, 0.0), params(12000.0, 11000.0, 70.0, 0.0)], &s.grid, &device);
    let (re, im) = HalfPlaneFft::new(24).forward(&to_vec(target.real(&device))).unwrap();
    let observed = HalfPlane::from_host(re, im, &s.grid, &device).unwrap();
    let dft = HalfPlaneDft::new(24, &device);
    let loss = |centers: &[[f64; 3]]| {
        let centers = centers_tensor(centers, &device).require_grad();
        let predicted = if analytic {
            s.fourier(centers.clone(), &device)
        } else {
            let amplitudes = tensor1(&s.amplitudes, &device);
            dft.forward(project(centers.clone().unsqueeze_dim(0), amplitudes, tensor1(&[s.sigma], &device), &s.poses(&device), &s.grid))
        };
        (half_plane_mse(predicted.times(ctf.clone()), observed.clone()), centers)
    };
    let (value, centers) = loss(&s.centers);
    let grads = value.backward();
    let gradient = to_vec(centers.grad(&grads).unwrap());
    for (rbf, axis) in [(0, 0), (4, 1), (7, 2)] {
        let h = 1e-2;
        let moved = |delta: f64| {
            let mut c = s.centers.clone();
            c[rbf][axis] += delta;
            f64::from(to_vec(loss(&c).0)[0])
        };
        let numeric = (moved(h) - moved(-h)) / (2.0 * h);
        let autodiff = f64::from(gradient[rbf * 3 + axis]);
        assert!(numeric.abs() > 1e-6, "a coordinate that matters: {numeric}");
        assert!((autodiff - numeric).abs() < 2e-2 * numeric.abs(), "analytic {analytic}, center {rbf} axis {axis}: autodiff {autodiff} vs finite difference {numeric}");
    }
}
