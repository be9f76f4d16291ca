//! Uniform random rotations and the inverse of RELION's `Euler_angles2matrix`.
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

/// RELION's Euler angles `(rot, tilt, psi)` (degrees, ZYZ) of a rotation matrix: the inverse of
/// [`rbf_io::particles::euler_to_matrix`]. Tilt is in [0°, 180°]; rot and psi in (−180°, 180°].
/// At tilt 0° or 180° only rot ± psi is defined; rot is then 0.
pub fn matrix_to_euler(r: &[[f64; 3]; 3]) -> (f64, f64, f64) {
    // Third row = (sin tilt·cos rot, sin tilt·sin rot, cos tilt); third column = (−cos psi·sin tilt,
    // sin psi·sin tilt, cos tilt).
    let sin_tilt = r[2][0].hypot(r[2][1]);
    let tilt = sin_tilt.atan2(r[2][2]);
    let (rot, psi) = if sin_tilt > 1e-9 {
        (r[2][1].atan2(r[2][0]), r[1][2].atan2(-r[0][2]))
    } else if r[2][2] > 0.0 {
        // tilt = 0: the first row is (cos(rot + psi), sin(rot + psi), 0).
        (0.0, r[0][1].atan2(r[0][0]))
    } else {
        // tilt = 180°: the first row is (−cos(psi − rot), sin(psi − rot), 0).
        (0.0, r[0][1].atan2(-r[0][0]))
    };
    (rot.to_degrees(), tilt.to_degrees(), psi.to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rbf_io::particles::euler_to_matrix;

    fn max_diff(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> f64 {
        a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
    }

    #[test]
    fn matrix_to_euler_inverts_euler_to_matrix() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut cases: Vec<(f64, f64, f64)> =
            (0..1000).map(|_| (rng.random_range(-180.0..180.0), rng.random_range(0.0..180.0), rng.random_range(-180.0..180.0))).collect();
        cases.extend([(30.0, 0.0, 40.0), (-75.0, 1e-12, 10.0), (30.0, 180.0, 40.0), (120.0, 180.0 - 1e-12, -60.0), (0.0, 90.0, 0.0), (180.0, 45.0, -180.0)]);
        for (rot, tilt, psi) in cases {
            let m = euler_to_matrix(rot, tilt, psi);
            let (r2, t2, p2) = matrix_to_euler(&m);
            assert!((0.0..=180.0).contains(&t2));
            let back = euler_to_matrix(r2, t2, p2);
            assert!(max_diff(&m, &back) < 1e-9, "({rot}, {tilt}, {psi}) → ({r2}, {t2}, {p2})");
        }
    }

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
