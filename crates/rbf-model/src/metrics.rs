//! Accuracy metrics (paper §4.1): Cα RMSE in the box frame and after optimal superposition, the
//! fraction of Cα within a cutoff, and the volume NMSE. Host-side, in f64.
use crate::coarse::distance;

/// Root-mean-square distance between corresponding points (Å), in the frame given.
///
/// # Shapes
/// `a`, `b`: `[n][3]`, the same `n`.
pub fn rmse(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let sum: f64 = a.iter().zip(b).map(|(p, q)| distance(*p, *q).powi(2)).sum();
    (sum / a.len().max(1) as f64).sqrt()
}

/// Fraction (0–1) of corresponding points closer than `cutoff` (Å).
pub fn fraction_within(a: &[[f64; 3]], b: &[[f64; 3]], cutoff: f64) -> f64 {
    let hits = a.iter().zip(b).filter(|(p, q)| distance(**p, **q) < cutoff).count();
    hits as f64 / a.len().max(1) as f64
}

/// Normalised mean squared error `‖V − V_true‖² / ‖V_true‖²`.
pub fn volume_nmse(volume: &[f32], truth: &[f32]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (&v, &t) in volume.iter().zip(truth) {
        num += (f64::from(v) - f64::from(t)).powi(2);
        den += f64::from(t).powi(2);
    }
    num / den
}

/// A rigid motion `x ↦ R·x + t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RigidMotion {
    /// Rotation.
    pub rotation: [[f64; 3]; 3],
    /// Translation (Å).
    pub translation: [f64; 3],
}

impl RigidMotion {
    /// Apply to one point.
    pub fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        let r = &self.rotation;
        std::array::from_fn(|i| r[i][0] * p[0] + r[i][1] * p[1] + r[i][2] * p[2] + self.translation[i])
    }
}

/// The rigid motion that best superposes `mobile` onto `target` in the least-squares sense
/// (Horn's quaternion method, equivalent to Kabsch; never a reflection).
///
/// # Shapes
/// `mobile`, `target`: `[n][3]`, the same `n`.
pub fn superpose(mobile: &[[f64; 3]], target: &[[f64; 3]]) -> RigidMotion {
    let cm = crate::coarse::centroid(mobile);
    let ct = crate::coarse::centroid(target);
    // Cross-covariance S[i][j] = Σ (m_i)(t_j) of the centred sets.
    let mut s = [[0.0; 3]; 3];
    for (m, t) in mobile.iter().zip(target) {
        for i in 0..3 {
            for j in 0..3 {
                s[i][j] += (m[i] - cm[i]) * (t[j] - ct[j]);
            }
        }
    }
    let [[sxx, sxy, sxz], [syx, syy, syz], [szx, szy, szz]] = s;
    let n = [
        [sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
        [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
        [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
        [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz],
    ];
    let q = top_eigenvector(n);
    let rotation = quaternion_to_matrix(q);
    let rc = RigidMotion { rotation, translation: [0.0; 3] }.apply(cm);
    RigidMotion { rotation, translation: std::array::from_fn(|i| ct[i] - rc[i]) }
}

/// RMSE after optimal superposition of `mobile` onto `target` (Å).
pub fn rmse_superposed(mobile: &[[f64; 3]], target: &[[f64; 3]]) -> f64 {
    let motion = superpose(mobile, target);
    let moved: Vec<[f64; 3]> = mobile.iter().map(|&p| motion.apply(p)).collect();
    rmse(&moved, target)
}

/// Unit quaternion (w, x, y, z) → rotation matrix.
fn quaternion_to_matrix([w, x, y, z]: [f64; 4]) -> [[f64; 3]; 3] {
    [
        [w * w + x * x - y * y - z * z, 2.0 * (x * y - w * z), 2.0 * (x * z + w * y)],
        [2.0 * (x * y + w * z), w * w - x * x + y * y - z * z, 2.0 * (y * z - w * x)],
        [2.0 * (x * z - w * y), 2.0 * (y * z + w * x), w * w - x * x - y * y + z * z],
    ]
}

/// Eigenvector of the largest eigenvalue of a symmetric 4×4 matrix (cyclic Jacobi rotations).
fn top_eigenvector(mut a: [[f64; 4]; 4]) -> [f64; 4] {
    let mut v = [[0.0; 4]; 4];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _sweep in 0..50 {
        let off: f64 = (0..4).flat_map(|i| (0..4).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i][j] * a[i][j]).sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..4 {
            for q in p + 1..4 {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..4 {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..4 {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let best = (0..4).max_by(|&i, &j| a[i][i].total_cmp(&a[j][j])).unwrap_or(0);
    let q: [f64; 4] = std::array::from_fn(|k| v[k][best]);
    let norm = q.iter().map(|x| x * x).sum::<f64>().sqrt();
    q.map(|x| x / norm)
}
