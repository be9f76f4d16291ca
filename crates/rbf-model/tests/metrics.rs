//! Accuracy metrics.
mod common;

use common::*;
use rbf_model::metrics::{fraction_within, rmse, rmse_superposed, superpose, volume_nmse};

#[test]
fn rmse_and_fraction_within_by_hand() {
    let a = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]];
    let b = [[0.0, 0.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 4.0], [0.0, 0.0, 0.0]];
    // squared distances 0, 4, 16, 0 → mean 5
    assert!((rmse(&a, &b) - 5f64.sqrt()).abs() < 1e-12);
    assert_eq!(fraction_within(&a, &b, 3.0), 0.75);
}

#[test]
fn superposition_undoes_a_rigid_motion() {
    let mut rng = rng(1);
    let points = random_points(&mut rng, 40, 15.0);
    let r = random_rotation(&mut rng);
    let t = [3.0, -7.0, 11.0];
    let moved: Vec<[f64; 3]> = points
        .iter()
        .map(|p| std::array::from_fn(|i| r[i][0] * p[0] + r[i][1] * p[1] + r[i][2] * p[2] + t[i]))
        .collect();
    assert!(rmse(&points, &moved) > 5.0);
    assert!(rmse_superposed(&points, &moved) < 1e-6);
    let motion = superpose(&points, &moved);
    for i in 0..3 {
        for j in 0..3 {
            assert!((motion.rotation[i][j] - r[i][j]).abs() < 1e-6);
        }
        assert!((motion.translation[i] - t[i]).abs() < 1e-6);
    }
    // Noise that is not rigid stays: RMSE after superposition is no larger than before and > 0.
    let noisy: Vec<[f64; 3]> = moved.iter().enumerate().map(|(i, p)| [p[0] + if i % 2 == 0 { 0.5 } else { -0.5 }, p[1], p[2]]).collect();
    let s = rmse_superposed(&points, &noisy);
    assert!(s > 0.1 && s <= 0.5 + 1e-9, "{s}");
}

#[test]
fn superposition_never_reflects() {
    let mut rng = rng(2);
    let points = random_points(&mut rng, 30, 10.0);
    let mirrored: Vec<[f64; 3]> = points.iter().map(|p| [-p[0], p[1], p[2]]).collect();
    let m = superpose(&points, &mirrored).rotation;
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    assert!((det - 1.0).abs() < 1e-9, "det {det}");
    assert!(rmse_superposed(&points, &mirrored) > 1.0);
}

#[test]
fn volume_nmse_by_hand() {
    let truth = [1.0f32, 2.0, 2.0];
    assert_eq!(volume_nmse(&truth, &truth), 0.0);
    // ‖(0, 1, −1)‖² / ‖truth‖² = 2 / 9
    assert!((volume_nmse(&[1.0, 3.0, 1.0], &truth) - 2.0 / 9.0).abs() < 1e-12);
    assert_eq!(volume_nmse(&[0.0; 3], &truth), 1.0);
}
