//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

/// A numpy array from a golden `.npy` file (float32 or float64), as f64 with its shape.
pub fn read_npy(path: &Path) -> anyhow::Result<(Vec<f64>, Vec<u64>)> {
    let bytes = std::fs::read(path)?;
    let npy = npyz::NpyFile::new(&bytes[..])?;
    let shape = npy.shape().to_vec();
    let descr = npy.dtype().descr();
    let values = match descr.as_str() {
        "'<f4'" => npy.into_vec::<f32>()?.into_iter().map(f64::from).collect(),
        "'<f8'" => npy.into_vec::<f64>()?,
        other => anyhow::bail!("{}: unexpected dtype {other}", path.display()),
    };
    Ok((values, shape))
}

/// Assert |a − b| ≤ tol · max(1, |b|) elementwise.
pub fn assert_close(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, b)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - b).abs() <= tol * b.abs().max(1.0),
            "{what}[{i}]: got {a}, expected {b}"
        );
    }
}
