//! What every training run shares: the seeded shuffle, the settings a checkpoint must match, and
//! the run folder's JSON files, each written atomically.
use std::io::Write;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::TrainError;

/// The configuration as the JSON a checkpoint must match to be resumed; `epochs` may grow.
pub(crate) fn config_key<C: Serialize>(config: &C) -> String {
    let mut value = serde_json::to_value(config).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("epochs");
    }
    value.to_string()
}

/// A shuffle that depends only on the seed and the epoch (so a resumed run sees the same order).
pub(crate) fn shuffle(order: &mut [usize], seed: u64, epoch: usize) {
    let mut rng = StdRng::seed_from_u64(seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
}

/// A [`TrainError::Resume`] naming `path`.
pub(crate) fn io_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Resume { path: path.to_path_buf(), reason: e.to_string() }
}

/// Write `log` as JSON lines, one per entry.
pub(crate) fn write_log<T: Serialize>(path: &Path, log: &[T]) -> Result<(), TrainError> {
    let mut text = String::new();
    for line in log {
        text.push_str(&serde_json::to_string(line).map_err(|e| io_error(path, e))?);
        text.push('\n');
    }
    Ok(rbf_io::atomic::write_atomically(path, |w| w.write_all(text.as_bytes()))?)
}

/// Write `value` as pretty-printed JSON.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| io_error(path, e))?;
    Ok(rbf_io::atomic::write_atomically(path, |w| w.write_all(&json))?)
}

/// Read a JSON file written by [`write_json`].
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    serde_json::from_str(&text).map_err(|e| io_error(path, e))
}
