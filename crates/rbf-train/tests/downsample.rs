//! Particles downsampled on the fly ([`Downsampled`]): Fourier cropping of band-limited images is
//! sampling at the coarser pixel, and the particles keep their poses and CTF.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rbf_io::CtfParams;
use rbf_io::particles::euler_to_matrix;
use rbf_model::ImageGrid;
use rbf_model::projection::reference;
use rbf_train::data::{InMemoryParticles, ParticleSource};
use rbf_train::downsample::Downsampled;

/// The RBF width used throughout (Å), the paper's σ.
const SIGMA: f64 = 3.71;

/// 40 RBFs within 25 Å of the origin, amplitudes 5–15.
fn rbfs() -> (Vec<[f64; 3]>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(11);
    let centers = (0..40).map(|_| std::array::from_fn(|_| rng.random_range(-14.0..14.0))).collect();
    let amplitudes = (0..40).map(|_| rng.random_range(5.0..15.0)).collect();
    (centers, amplitudes)
}

/// Two views of the RBFs rendered in a `box_size` box at `pixel_size`, as particles.
fn rendered(box_size: usize, pixel_size: f64) -> InMemoryParticles {
    let (centers, amplitudes) = rbfs();
    let grid = ImageGrid::new(box_size, pixel_size).expect("valid grid");
    let rotations = vec![euler_to_matrix(30.0, 60.0, -45.0), euler_to_matrix(-120.0, 100.0, 10.0)];
    let shifts = vec![[1.3, -0.7], [-2.2, 0.4]];
    let images = rotations
        .iter()
        .zip(&shifts)
        .flat_map(|(r, t)| reference::project(&centers, &amplitudes, SIGMA, r, *t, &grid))
        .map(|v| v as f32)
        .collect();
    InMemoryParticles { images, rotations, shifts, box_size, pixel_size, ctf: Vec::new() }
}

fn read_all(data: &dyn ParticleSource) -> Vec<f32> {
    let d = data.box_size();
    let mut images = vec![0.0f32; data.len() * d * d];
    for (i, image) in images.chunks_exact_mut(d * d).enumerate() {
        data.read_image(i, image).expect("readable");
    }
    images
}

/// Gaussians rendered at pixel `p` in box `D` and Fourier-cropped to `D'` equal the same Gaussians
/// rendered directly at `p·D/D'` in box `D'`: both are the same band-limited image on the coarse
/// grid. What differs is the Gaussians' spectrum beyond the new Nyquist frequency `1/(2p')`,
/// which the direct render aliases in and the crop leaves out: relative to a Gaussian's peak, the
/// mass of `exp(−2π²σ²s²)` outside the square `|s_x|, |s_y| < 1/(2p')`, at most
/// `4·Q(πσ/p')` (Q the normal tail), 5·10⁻⁷ for the smallest σ/p' below (1.65). With f32
/// images (relative rounding 6·10⁻⁸, grown over the FFTs) the tolerance is 2·10⁻⁶ of the image's
/// peak (measured: 8·10⁻⁸ at σ/p' = 1.86, 3·10⁻⁷ at 1.65); a wrong scale (×(D/D')²), a half-pixel shift of the frame or a lost frequency row would
/// miss it by orders of magnitude. One case has a non-integer factor (1.5), where no coarse pixel
/// center is a fine one.
#[test]
fn fourier_cropped_gaussians_equal_gaussians_rendered_at_the_coarser_pixel() {
    for (from, pixel_size, to) in [(128usize, 1.0, 64usize), (96, 1.5, 64), (128, 1.0, 128)] {
        let fine = Downsampled::new(rendered(from, pixel_size), Some(to)).expect("valid sizes");
        let new_pixel = pixel_size * from as f64 / to as f64;
        assert_eq!(fine.box_size(), to);
        assert!((fine.pixel_size() - new_pixel).abs() < 1e-12);
        let cropped = read_all(&fine);
        let direct = read_all(&rendered(to, new_pixel));
        let peak = direct.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = cropped.iter().zip(&direct).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 2e-6 * peak, "{from} px at {pixel_size} Å → {to} px: worst difference {worst} of a peak of {peak}");
        // The images are not trivially small: the peak holds the RBFs' line integrals.
        assert!(peak > 0.1, "peak {peak}");
    }
}

/// `rendered` with a CTF per particle.
fn with_ctf(particles: InMemoryParticles) -> InMemoryParticles {
    let ctf = (0..particles.len())
        .map(|i| CtfParams {
            defocus_u: 10_000.0 + i as f64,
            defocus_v: 9_000.0,
            defocus_angle: 12.0,
            voltage: 300.0,
            spherical_aberration: 2.7,
            amplitude_contrast: 0.1,
            phase_shift: 0.0,
        })
        .collect();
    InMemoryParticles { ctf, ..particles }
}

/// Downsampling changes the images and the pixel size only: the poses (shifts in Å) and the CTF
/// are the particles' own; without a box the images pass through unchanged.
#[test]
fn downsampled_particles_keep_their_poses_and_ctf() {
    let original = with_ctf(rendered(64, 1.2));
    let small = Downsampled::new(with_ctf(rendered(64, 1.2)), Some(32)).expect("valid sizes");
    assert_eq!(small.len(), 2);
    assert_eq!(small.box_size(), 32);
    assert!((small.pixel_size() - 2.4).abs() < 1e-12);
    for i in 0..2 {
        assert_eq!(small.pose(i), original.pose(i));
        assert_eq!(small.ctf(i), original.ctf(i));
    }
    let same = Downsampled::new(with_ctf(rendered(64, 1.2)), None).expect("no crop");
    assert!(!same.is_downsampled() && small.is_downsampled());
    assert_eq!((same.box_size(), same.pixel_size()), (64, 1.2));
    assert_eq!(read_all(&same), read_all(&original));
}

#[test]
fn impossible_boxes_are_refused_naming_the_sizes() {
    for (to, words) in [(31, ["31", "even"]), (66, ["66", "64"]), (4, ["4", "at least 8"])] {
        let message = Downsampled::new(rendered(64, 1.0), Some(to)).expect_err("refused").to_string();
        for word in words {
            assert!(message.contains(word), "{message}");
        }
    }
}
