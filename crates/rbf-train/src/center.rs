//! Where the particles' density is centred in the box frame, found from the images and their
//! poses: what a reference must overlap for training to start anywhere near the data.
//!
//! The first moment of an image locates the projection of the density's center of mass. With `Mᵢ`
//! the total of image `i` (the mass, times the CTF at zero frequency: a CTF is even, so it scales
//! the first moment by the same factor and keeps the centroid) and `mᵢ = Σ x·Iᵢ(x)` its first
//! moment (Å, box frame), a density centred at `c` gives `mᵢ = Mᵢ·(Pᵢ·c + tᵢ)`, where `Pᵢ` is the
//! first two rows of the rotation and `tᵢ` the shift (Å). Over images seen from different
//! directions, the least-squares center is
//!
//! ```text
//! c = (Σᵢ PᵢᵀPᵢ)⁻¹ · Σᵢ Pᵢᵀ·(mᵢ/M̄ − tᵢ)
//! ```
//!
//! with `M̄` the mean total over the images (an image's own total is as noisy as its moment).
//! Each image's background level, the mean of its pixels outside the inscribed circle, is
//! subtracted first. The mean image alone would not do: over uniformly spread rotations the
//! projections of any off-center point average to the box center, so a misplaced reference and
//! the data would have the same mean image.
use crate::TrainError;
use crate::data::{ParticleSource, pixels_outside_circle};

/// The density's center (Å, box frame) estimated from up to `max_images` images spread through
/// the set, or `None` when the images cannot tell: their mean total is not clearly non-zero
/// (within three standard errors of 0, e.g. noise alone), or their viewing directions leave an
/// axis undetermined (all views along one direction).
///
/// # Errors
/// When an image cannot be read, or there are no particles.
pub fn particle_center(data: &dyn ParticleSource, max_images: usize) -> Result<Option<[f64; 3]>, TrainError> {
    if data.is_empty() {
        return Err(TrainError::Data("no particles".into()));
    }
    let d = data.box_size();
    let pixel_size = data.pixel_size();
    let half = (d / 2) as f64;
    let coordinate = |i: usize| (i as f64 - half) * pixel_size;
    let radius = d as f64 / 2.0;
    let background = pixels_outside_circle(d, half, radius);
    let step = (data.len() / max_images.max(1)).max(1);
    let mut image = vec![0.0f32; d * d];
    let mut totals = Vec::new();
    // Σ Pᵀ·m, Σ Pᵀ·t and Σ PᵀP, accumulated image by image.
    let (mut moment, mut shift, mut normal) = ([0.0f64; 3], [0.0f64; 3], [[0.0f64; 3]; 3]);
    for i in (0..data.len()).step_by(step).take(max_images) {
        data.read_image(i, &mut image)?;
        let level = if background.is_empty() { 0.0 } else { background.iter().map(|&p| f64::from(image[p])).sum::<f64>() / background.len() as f64 };
        let (mut total, mut m) = (0.0f64, [0.0f64; 2]);
        for (p, &v) in image.iter().enumerate() {
            let v = f64::from(v) - level;
            total += v;
            m[0] += v * coordinate(p % d);
            m[1] += v * coordinate(p / d);
        }
        totals.push(total);
        let (rotation, t) = data.pose(i);
        for a in 0..3 {
            for row in 0..2 {
                moment[a] += rotation[row][a] * m[row];
                shift[a] += rotation[row][a] * t[row];
                for b in 0..3 {
                    normal[a][b] += rotation[row][a] * rotation[row][b];
                }
            }
        }
    }
    let n = totals.len() as f64;
    let mean_total = totals.iter().sum::<f64>() / n;
    let spread = (totals.iter().map(|t| (t - mean_total).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    if mean_total.abs() <= 3.0 * spread / n.sqrt() {
        return Ok(None);
    }
    let right: [f64; 3] = std::array::from_fn(|a| moment[a] / mean_total - shift[a]);
    Ok(solve_3x3(&normal, &right))
}

/// `A⁻¹·b` by Cramer's rule for a symmetric positive semi-definite `A`, or `None` when `A` is
/// near-singular: its determinant under 1% of `(trace/3)³`, the determinant of the isotropic
/// matrix of the same trace.
fn solve_3x3(a: &[[f64; 3]; 3], b: &[f64; 3]) -> Option<[f64; 3]> {
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let determinant = det(a);
    let trace = a[0][0] + a[1][1] + a[2][2];
    if determinant <= 0.01 * (trace / 3.0).powi(3) {
        return None;
    }
    Some(std::array::from_fn(|column| {
        let mut m = *a;
        for (row, value) in m.iter_mut().zip(b) {
            row[column] = *value;
        }
        det(&m) / determinant
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::InMemoryParticles;
    use rand::{Rng, SeedableRng};

    /// Rotation of `angle` about the unit `axis` (Rodrigues).
    fn rotation(axis: [f64; 3], angle: f64) -> [[f64; 3]; 3] {
        let (s, c) = angle.sin_cos();
        let [x, y, z] = axis;
        [
            [c + x * x * (1.0 - c), x * y * (1.0 - c) - z * s, x * z * (1.0 - c) + y * s],
            [y * x * (1.0 - c) + z * s, c + y * y * (1.0 - c), y * z * (1.0 - c) - x * s],
            [z * x * (1.0 - c) - y * s, z * y * (1.0 - c) + x * s, c + z * z * (1.0 - c)],
        ]
    }

    /// Images of one Gaussian blob (width 3 Å) at `center` (box frame), seen in random rotations
    /// and shifted, on a constant background of 5 plus noise.
    fn blob_images(center: [f64; 3], n: usize, noise: f64, seed: u64) -> InMemoryParticles {
        let (d, pixel_size) = (48usize, 2.0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (mut images, mut rotations, mut shifts) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let axis: [f64; 3] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
            let norm = axis.iter().map(|v| v * v).sum::<f64>().sqrt();
            let r = rotation(axis.map(|v| v / norm), rng.random_range(0.0..std::f64::consts::TAU));
            let t = [rng.random_range(-4.0..4.0), rng.random_range(-4.0..4.0)];
            let p: [f64; 2] = std::array::from_fn(|row| (0..3).map(|k| r[row][k] * center[k]).sum::<f64>() + t[row]);
            for pixel in 0..d * d {
                let (x, y) = (((pixel % d) as f64 - 24.0) * pixel_size, ((pixel / d) as f64 - 24.0) * pixel_size);
                let blob = 40.0 * (-((x - p[0]).powi(2) + (y - p[1]).powi(2)) / 18.0).exp();
                images.push((5.0 + blob + noise * rng.random_range(-1.0..1.0)) as f32);
            }
            rotations.push(r);
            shifts.push(t);
        }
        InMemoryParticles { images, rotations, shifts, box_size: d, pixel_size, ctf: Vec::new() }
    }

    #[test]
    fn the_center_of_an_off_center_blob_is_found_from_its_projections() {
        let truth = [12.0, -8.0, 20.0];
        let found = particle_center(&blob_images(truth, 60, 0.0, 1), 1000).expect("in memory").expect("determined");
        for k in 0..3 {
            assert!((found[k] - truth[k]).abs() < 0.05, "{found:?} vs {truth:?}");
        }
        let noisy = particle_center(&blob_images(truth, 200, 3.0, 2), 1000).expect("in memory").expect("determined");
        for k in 0..3 {
            assert!((noisy[k] - truth[k]).abs() < 3.0, "{noisy:?} vs {truth:?}");
        }
    }

    #[test]
    fn noise_alone_or_a_single_viewing_direction_cannot_tell() {
        let mut noise = blob_images([0.0; 3], 50, 3.0, 3);
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        noise.images.iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
        assert_eq!(particle_center(&noise, 1000).expect("in memory"), None);

        let mut top_views = blob_images([5.0, 5.0, 5.0], 20, 0.0, 5);
        top_views.rotations.iter_mut().for_each(|r| *r = rotation([0.0, 0.0, 1.0], 0.3));
        assert_eq!(particle_center(&top_views, 1000).expect("in memory"), None, "z is not seen");
    }
}
