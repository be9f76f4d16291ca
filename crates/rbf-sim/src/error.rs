//! The errors of this crate.
use std::path::PathBuf;

/// Everything that can go wrong when simulating a dataset from user input.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Reading the structure or checking the grid failed.
    #[error(transparent)]
    Model(#[from] rbf_model::ModelError),
    /// Writing an output file failed.
    #[error(transparent)]
    Io(#[from] rbf_io::IoError),
    /// A setting is out of range; the message names the setting and the value.
    #[error("invalid setting: {0}")]
    Invalid(String),
    /// The output folder exists and overwriting was not asked for.
    #[error("output folder {0} already exists (use --force to replace it)")]
    OutputExists(PathBuf),
    /// The operating system refused an operation on a file or folder.
    #[error("{path}: {source}")]
    File {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A weights file is malformed.
    #[error("weights file {}{}: {reason}", path.display(), if *line == 0 { String::new() } else { format!(", line {line}") })]
    WeightsFile {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the error concerns the whole file).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The motion cannot be built on this structure.
    #[error("structure file {path}: {reason}")]
    Motion {
        /// The structure file.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// The compute backend failed to return data.
    #[error("backend error: {0}")]
    Backend(String),
}

impl SimError {
    pub(crate) fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SimError::File { path: path.into(), source }
    }
}
