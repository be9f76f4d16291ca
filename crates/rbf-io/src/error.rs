//! The crate's error type.

use std::path::PathBuf;

/// Every error rbf-io returns. File errors name the file and, where it applies, the line (STAR),
/// the record (cryoSPARC `.cs`) or the image index (MRC stacks).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The operating system refused a read, write, rename or open.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The `mrc` crate could not read the file as MRC.
    #[error("{path}: not a readable MRC file: {source}")]
    Mrc {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: mrc::Error,
    },

    /// The file length disagrees with the size its MRC header describes.
    #[error(
        "{path}: the header describes {expected} bytes but the file has {actual} bytes (truncated or corrupt file)"
    )]
    SizeMismatch {
        /// The file.
        path: PathBuf,
        /// Bytes the header implies (header + extended header + data).
        expected: u64,
        /// Bytes actually present.
        actual: u64,
    },

    /// The MRC mode is not one rbf-io converts to `f32` (0, 1, 2, 6, 12).
    #[error("{path}: unsupported MRC mode {mode} (supported: 0, 1, 2, 6, 12)")]
    UnsupportedMode {
        /// The file.
        path: PathBuf,
        /// The mode number in the header.
        mode: i32,
    },

    /// The caller required square images and the stack's are not.
    #[error("{path}: images are {ny}×{nx} pixels; square images are required")]
    NotSquare {
        /// The file.
        path: PathBuf,
        /// Rows per image.
        ny: usize,
        /// Columns per image.
        nx: usize,
    },

    /// An image index (0-based) past the end of a stack.
    #[error("{path}: image index {index} (0-based) is out of range for a stack of {len} images")]
    IndexOutOfRange {
        /// The stack file.
        path: PathBuf,
        /// The requested index (0-based).
        index: usize,
        /// Number of images in the stack.
        len: usize,
    },

    /// An image contains NaN or ±Inf.
    #[error("{path}: image {index} (0-based) contains a non-finite pixel value {value}")]
    NonFinite {
        /// The stack file.
        path: PathBuf,
        /// The image index (0-based).
        index: usize,
        /// The first offending value.
        value: f32,
    },

    /// Arguments that do not describe a valid write or read (lengths, shapes, pixel size).
    #[error("{path}: {message}")]
    InvalidArgument {
        /// The file being written or read.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// STAR syntax error.
    #[error("{path}:{line}: {message}")]
    StarSyntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// A loop row with a different number of values than the loop has columns.
    #[error("{path}:{line}: row has {found} values but the loop declares {expected} columns")]
    RowLength {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the row.
        line: usize,
        /// Number of columns declared.
        expected: usize,
        /// Number of values found.
        found: usize,
    },

    /// A STAR value that should be a number (or an image reference) is not.
    #[error("{path}:{line}: column {column}: cannot parse {value:?} as {expected}")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Column name (without the leading underscore).
        column: String,
        /// The offending text.
        value: String,
        /// What was expected ("a number", "N@stack", ...).
        expected: &'static str,
    },

    /// A required STAR block is absent.
    #[error("{path}: no data block {block}")]
    MissingBlock {
        /// The file.
        path: PathBuf,
        /// What was looked for.
        block: String,
    },

    /// A required column (or cryoSPARC field) is absent.
    #[error("{path}: {what} requires column {column}, which the file does not have")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// Column or field name.
        column: String,
        /// What needed it ("poses", "CTF", "pixel size", ...).
        what: &'static str,
    },

    /// A particle names an optics group that `data_optics` does not define.
    #[error("{path}:{line}: optics group {group} is not defined in data_optics")]
    UnknownOpticsGroup {
        /// The file.
        path: PathBuf,
        /// 1-based line of the particle row.
        line: usize,
        /// The group number.
        group: String,
    },

    /// A value the caller asked for cannot be determined from the file or the options.
    #[error("{path}: particle {particle}: {message}")]
    MissingValue {
        /// The file.
        path: PathBuf,
        /// Particle index (0-based).
        particle: usize,
        /// What is missing.
        message: String,
    },

    /// A cryoSPARC `.cs` (numpy structured array) file is malformed or lacks a field.
    #[error("{path}: {message}")]
    CsFormat {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// A value in a cryoSPARC record is unusable.
    #[error("{path}: record {record}: field {field}: {message}")]
    CsRecord {
        /// The file.
        path: PathBuf,
        /// 0-based record index.
        record: usize,
        /// Field name.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl IoError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            path: path.into(),
            message: message.into(),
        }
    }
}
