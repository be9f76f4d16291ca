//! Uniform random rotations.
use rand::Rng;

/// A rotation drawn uniformly from SO(3) (Shoemake's uniform unit quaternion), as a row-major
/// matrix.
pub fn uniform_rotation(rng: &mut impl Rng) -> [[f64; 3]; 3] {
    let (u1, u2, u3): (f64, f64, f64) = (rng.random(), rng.random(), rng.random());
    let tau = 2.0 * std::f64::consts::PI;
    let (a, b) = ((1.0 - u1).sqrt(), u1.sqrt());
    let (w, x, y, z) = (a * (tau * u2).sin(), a * (tau * u2).cos(), b * (tau * u3).sin(), b * (tau * u3).cos());
    [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - w * z), 2.0 * (x * z + w * y)],
        [2.0 * (x * y + w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - w * x)],
        [2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn uniform_rotations_are_rotations_and_cover_so3_evenly() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 20_000;
        let mut mean_z = [0.0; 3];
        let mut upper = 0;
        for _ in 0..n {
            let r = uniform_rotation(&mut rng);
            let rrt: Vec<f64> = (0..9).map(|k| (0..3).map(|c| r[k / 3][c] * r[k % 3][c]).sum::<f64>()).collect();
            for (k, v) in rrt.iter().enumerate() {
                let id = if k / 3 == k % 3 { 1.0 } else { 0.0 };
                assert!((v - id).abs() < 1e-12);
            }
            let det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
                + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
            assert!((det - 1.0).abs() < 1e-12);
            // The viewing direction (third row) is uniform on the sphere: zero mean, and cos tilt
            // uniform in [−1, 1], so half of the tilts are below 90°.
            for (m, v) in mean_z.iter_mut().zip(r[2]) {
                *m += v / n as f64;
            }
            if r[2][2] > 0.0 {
                upper += 1;
            }
        }
        for m in mean_z {
            assert!(m.abs() < 0.02, "mean of the viewing direction {mean_z:?}");
        }
        assert!((upper as f64 / n as f64 - 0.5).abs() < 0.02);
    }
}
