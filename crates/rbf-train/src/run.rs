//! What every training run shares: the seeded shuffle, the settings a checkpoint must match, the
//! checkpoint itself (saved after every epoch, and mid-epoch when a run is stopped), and the run
//! folder's JSON files, each written atomically.
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::store::ModuleRecord;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::TrainError;

/// The folder inside a run folder that holds its checkpoint: written when the run starts, after
/// every epoch, and mid-epoch when the run is stopped.
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// The checkpoint's state file (it names the parameter and optimizer files beside it).
const STATE_FILE: &str = "state.json";

/// Whether the run folder `run` holds a checkpoint to resume from.
pub fn has_checkpoint(run: &Path) -> bool {
    run.join(CHECKPOINT_DIR).join(STATE_FILE).is_file()
}

/// How far a stopped run got into its epoch: the steps done, the sums of their loss terms and
/// their seconds, so that the rest of the epoch runs (and is logged) as if it had not stopped.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct EpochSoFar<S> {
    pub steps_done: usize,
    pub sums: S,
    pub seconds: f64,
}

/// An epoch as this process runs it: from the step a stopped run reached (or the first), timed from
/// when this process began it.
pub(crate) struct EpochClock<S> {
    so_far: EpochSoFar<S>,
    started: Instant,
}

impl<S: Copy + Default> EpochClock<S> {
    /// Begin the epoch, where `so_far` (if any) left it.
    pub fn start(so_far: Option<EpochSoFar<S>>) -> Self {
        EpochClock { so_far: so_far.unwrap_or_default(), started: Instant::now() }
    }

    /// The steps already done, to skip.
    pub fn steps_done(&self) -> usize {
        self.so_far.steps_done
    }

    /// The loss sums of the steps already done.
    pub fn sums(&self) -> S {
        self.so_far.sums
    }

    /// Throughput of this process in the epoch after `step` (0-based) of `batch_size` images.
    pub fn images_per_s(&self, step: usize, batch_size: usize) -> f64 {
        ((step + 1 - self.so_far.steps_done) * batch_size) as f64 / self.started.elapsed().as_secs_f64()
    }

    /// Seconds spent on the epoch, before a stop included.
    pub fn seconds(&self) -> f64 {
        self.so_far.seconds + self.started.elapsed().as_secs_f64()
    }

    /// Where the epoch stands after `step` (0-based) with the loss sums `sums`.
    pub fn after(&self, step: usize, sums: S) -> EpochSoFar<S> {
        EpochSoFar { steps_done: step + 1, sums, seconds: self.seconds() }
    }
}

/// The parameter and optimizer files a checkpoint's state names (inside the checkpoint folder).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct CheckpointFiles {
    #[serde(default)]
    pub model_file: Option<String>,
    #[serde(default)]
    pub optimizer_file: Option<String>,
}

/// A training loop's checkpoint state.
pub(crate) trait CheckpointState: Serialize + DeserializeOwned {
    /// The settings it was written with ([`config_key`]).
    fn config(&self) -> &str;
    /// The files it names.
    fn files(&mut self) -> &mut CheckpointFiles;
}

/// Save a checkpoint into `dir`: the `parameters` and `optimizer` bytes under names unique to
/// `tag`, then `state` naming them, then remove the files the previous state named. A crash
/// anywhere leaves one consistent checkpoint, the old or the new.
pub(crate) fn save_checkpoint<S: CheckpointState>(
    dir: &Path,
    tag: &str,
    parameters: &[u8],
    optimizer: &[u8],
    state: &mut S,
) -> Result<(), TrainError> {
    let model_file = format!("model-{tag}.bin");
    let optimizer_file = format!("optimizer-{tag}.bin");
    rbf_io::atomic::write_atomically(&dir.join(&model_file), |w| w.write_all(parameters))?;
    rbf_io::atomic::write_atomically(&dir.join(&optimizer_file), |w| w.write_all(optimizer))?;
    let files = state.files();
    let old = [files.model_file.replace(model_file), files.optimizer_file.replace(optimizer_file)];
    let kept = files.clone();
    write_json(&dir.join(STATE_FILE), state)?;
    for file in old.into_iter().flatten().filter(|f| Some(f) != kept.model_file.as_ref() && Some(f) != kept.optimizer_file.as_ref()) {
        // A leftover file only wastes space; the state no longer names it.
        let _ = std::fs::remove_file(dir.join(file));
    }
    Ok(())
}

/// The checkpoint state in `dir`, refused unless it was written with the settings `config_json`.
pub(crate) fn load_checkpoint<S: CheckpointState>(dir: &Path, config_json: &str) -> Result<S, TrainError> {
    let path = dir.join(STATE_FILE);
    if !path.is_file() {
        return Err(io_error(&path, "no checkpoint"));
    }
    let state: S = read_json(&path)?;
    if state.config() != config_json {
        return Err(io_error(&path, "it was written by a run with other settings (see config.json in the run folder)"));
    }
    Ok(state)
}

/// The parameters of `model` as burnpack bytes (`path` names the file they are for, in errors).
pub(crate) fn parameters_bytes<M: Module>(model: &M, path: &Path) -> Result<Vec<u8>, TrainError> {
    let bytes = model.clone().into_record().into_bytes().map_err(|e| io_error(path, format!("{e:?}")))?;
    Ok(bytes.to_vec())
}

/// Load the parameters saved in `path` into `model` (which fixes the shapes).
///
/// # Errors
/// [`TrainError::Resume`] naming the file when it cannot be read or does not fit the model.
pub(crate) fn load_parameters<M: Module>(model: M, path: &Path) -> Result<M, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes)).map_err(|e| io_error(path, e))?;
    model.try_load_record(record).map_err(|e| io_error(path, format!("the parameters do not fit this model ({e})")))
}

/// The configuration as the JSON a checkpoint must match to be resumed; `epochs` may grow.
pub(crate) fn config_key<C: Serialize>(config: &C) -> String {
    let mut value = serde_json::to_value(config).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("epochs");
        // Settings added later, at the value that reproduces the runs from before they existed.
        if map.get("center_lr_scale").and_then(|v| v.as_f64()) == Some(1.0) {
            map.remove("center_lr_scale");
        }
        if map.get("frame_from_start").and_then(|v| v.as_bool()) == Some(false) {
            map.remove("frame_from_start");
        }
        if let Some(priors) = map.get_mut("priors").and_then(|p| p.as_object_mut()) {
            for neutral in ["steric_strength", "side_chain_frame_strength", "backbone_frame_strength"] {
                if priors.get(neutral).and_then(|v| v.as_f64()) == Some(0.0) {
                    priors.remove(neutral);
                }
            }
        }
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

/// Refuse prior strengths that are negative or not finite, naming the prior.
pub(crate) fn check_priors(priors: &rbf_model::priors::PriorConfig) -> Result<(), crate::TrainError> {
    for (name, v) in [
        ("bond", priors.bond_strength),
        ("side-chain", priors.side_chain_strength),
        ("steric", priors.steric_strength),
        ("side-chain frame", priors.side_chain_frame_strength),
        ("backbone frame", priors.backbone_frame_strength),
    ] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(crate::TrainError::Data(format!("the {name} strength must be ≥ 0, got {v}")));
        }
    }
    Ok(())
}
