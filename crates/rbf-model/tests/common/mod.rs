//! Shared test helpers: the test-data folder and small random inputs.
#![allow(dead_code)]
use std::path::PathBuf;

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The shared test-data folder (`CRYORBF_DATA`, default `../shared/data` beside the workspace).
/// Without it the test is skipped with a message, unless `CRYORBF_REQUIRE_DATA=1`.
pub fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CRYORBF_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")));
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!("test data not found at {} (set CRYORBF_DATA)", dir.display());
    if std::env::var("CRYORBF_REQUIRE_DATA").is_ok_and(|v| v == "1") {
        panic!("{message}");
    }
    eprintln!("skipped: {message}");
    None
}

pub fn cpu() -> Device {
    Device::flex()
}

/// A random rotation matrix (uniform on SO(3) via a random unit quaternion).
pub fn random_rotation(rng: &mut StdRng) -> [[f64; 3]; 3] {
    let mut q = [0.0f64; 4];
    loop {
        for v in &mut q {
            *v = rng.random_range(-1.0..1.0);
        }
        let n = q.iter().map(|x| x * x).sum::<f64>();
        if n > 1e-3 && n <= 1.0 {
            let n = n.sqrt();
            q.iter_mut().for_each(|v| *v /= n);
            break;
        }
    }
    let [w, x, y, z] = q;
    [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
        [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
        [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
    ]
}

pub fn random_points(rng: &mut StdRng, n: usize, half_width: f64) -> Vec<[f64; 3]> {
    (0..n).map(|_| std::array::from_fn(|_| rng.random_range(-half_width..half_width))).collect()
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 data")
}

/// max |a − b| / max |b|
pub fn relative_error(a: &[f32], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((f64::from(*x) - y).abs()));
    err / scale
}
