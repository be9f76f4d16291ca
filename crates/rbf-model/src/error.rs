//! The errors of this crate.
use std::path::PathBuf;

/// Everything that can go wrong when building or using the RBF model from user input.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The structure file could not be read or parsed.
    #[error("cannot read structure file {path}: {reason}")]
    StructureRead {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        reason: String,
    },
    /// A chain named on the command line is not in the file.
    #[error("structure file {path}: chain {chain:?} does not exist (chains in model 1: {available})")]
    NoSuchChain {
        /// The file.
        path: PathBuf,
        /// The missing chain.
        chain: String,
        /// The chains that do exist, comma-separated.
        available: String,
    },
    /// A residue has no Cα atom, so it has no backbone RBF.
    #[error("structure file {path}: residue {residue} of chain {chain} has no CA atom")]
    MissingCa {
        /// The file.
        path: PathBuf,
        /// The chain.
        chain: String,
        /// The residue name and number, e.g. `ALA 42`.
        residue: String,
    },
    /// Nothing is left after the selection (no amino-acid residues).
    #[error("structure file {path}: the selection ({selection}) contains no amino-acid residues")]
    EmptySelection {
        /// The file.
        path: PathBuf,
        /// The selection, as the user gave it.
        selection: String,
    },
    /// The image or volume grid is not usable.
    #[error("invalid grid: {0}")]
    InvalidGrid(String),
    /// The structure does not fit in the box.
    #[error(
        "the structure does not fit in the box: it extends {extent:.1} Å from the box center, \
         but a box of {box_size} pixels at {pixel_size} Å/pixel reaches only {half_box:.1} Å"
    )]
    BoxTooSmall {
        /// The farthest distance of an RBF center from the box center along x, y or z (Å).
        extent: f64,
        /// Box edge (pixels).
        box_size: usize,
        /// Pixel size (Å/pixel).
        pixel_size: f64,
        /// Half the box edge (Å).
        half_box: f64,
    },
    /// An initialization (`--init`) that cannot be parsed or used.
    #[error("invalid initialization {text:?}: {reason}")]
    InvalidInit {
        /// The initialization as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two inputs that must have matching sizes do not.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] rbf_io::IoError),
    /// An output file cannot be written as asked.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}
