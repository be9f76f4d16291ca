//! Reading atomic structures (PDB and mmCIF, through `pdbtbx`) into plain residues and atoms.
//!
//! Only model 1 is read. Hydrogens are dropped, and of alternate locations only the first is
//! kept. Waters and ligands are kept as residues (see [`Residue::is_amino_acid`]) so that callers
//! decide what to use; the coarse-grained model uses amino acids only.
use std::cell::Cell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::error::ModelError;

/// One atom (heavy atoms only; hydrogens are dropped on reading).
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    /// Atom name as in the file, e.g. `CA`, `OD1`.
    pub name: String,
    /// Atomic number Z (electrons of the neutral atom).
    pub atomic_number: u32,
    /// Position (Å) in the file's frame.
    pub position: [f64; 3],
}

/// One residue of one chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Residue {
    /// Chain identifier as the reader reports it (author chain ID for mmCIF).
    pub chain: String,
    /// Residue name, e.g. `ALA`.
    pub name: String,
    /// Residue sequence number.
    pub number: isize,
    /// Insertion code, if any.
    pub insertion_code: Option<String>,
    /// Heavy atoms, first alternate location only.
    pub atoms: Vec<Atom>,
}

/// The twenty standard amino acids and the common modified ones that carry a full backbone.
const AMINO_ACIDS: [&str; 23] = [
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS", "MET",
    "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "MSE", "SEC", "PYL",
];

/// Names of the backbone atoms; everything else beyond them is side chain.
pub const BACKBONE_ATOMS: [&str; 4] = ["N", "CA", "C", "O"];

impl Residue {
    /// Whether this is an amino acid (standard or a common modified one).
    pub fn is_amino_acid(&self) -> bool {
        AMINO_ACIDS.contains(&self.name.as_str())
    }

    /// Whether this is a water molecule.
    pub fn is_water(&self) -> bool {
        matches!(self.name.as_str(), "HOH" | "WAT" | "DOD")
    }

    /// The atom with this name, if present.
    pub fn atom(&self, name: &str) -> Option<&Atom> {
        self.atoms.iter().find(|a| a.name == name)
    }

    /// A short label such as `ALA 42` or `ALA 42A`.
    pub fn label(&self) -> String {
        format!("{} {}{}", self.name, self.number, self.insertion_code.as_deref().unwrap_or(""))
    }
}

/// Which chains of model 1 to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ChainSelection {
    /// Every chain.
    #[default]
    All,
    /// Only these chains, in this order.
    Chains(Vec<String>),
}

impl fmt::Display for ChainSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainSelection::All => write!(f, "all chains"),
            ChainSelection::Chains(c) => write!(f, "chains {}", c.join(",")),
        }
    }
}

/// An atomic structure: the residues of the selected chains of model 1, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    /// The file it was read from.
    pub path: PathBuf,
    /// Residues (amino acids, ligands and waters) of the selected chains.
    pub residues: Vec<Residue>,
}

impl Structure {
    /// Read model 1 of a PDB or mmCIF file (format from the extension, as [`parse_file`]).
    ///
    /// # Errors
    /// [`ModelError::StructureRead`] if the file is missing or cannot be parsed,
    /// [`ModelError::NoSuchChain`] if a selected chain does not exist.
    pub fn read(path: &Path, selection: &ChainSelection) -> Result<Self, ModelError> {
        let pdb = parse_file(path, true)?;
        let model = pdb.models().next().ok_or_else(|| ModelError::StructureRead {
            path: path.to_path_buf(),
            reason: "the file holds no model".into(),
        })?;

        let available: Vec<String> = model.chains().map(|c| c.id().to_string()).collect();
        let chain_ids: Vec<String> = match selection {
            ChainSelection::All => dedup(&available),
            ChainSelection::Chains(wanted) => {
                for c in wanted {
                    if !available.contains(c) {
                        return Err(ModelError::NoSuchChain {
                            path: path.to_path_buf(),
                            chain: c.clone(),
                            available: dedup(&available).join(","),
                        });
                    }
                }
                wanted.clone()
            }
        };

        let mut residues = Vec::new();
        for id in &chain_ids {
            for chain in model.chains().filter(|c| c.id() == id) {
                for residue in chain.residues() {
                    residues.push(convert_residue(id, residue));
                }
            }
        }
        Ok(Structure { path: path.to_path_buf(), residues })
    }

    /// The amino-acid residues only.
    pub fn amino_acids(&self) -> impl Iterator<Item = &Residue> {
        self.residues.iter().filter(|r| r.is_amino_acid())
    }
}

/// Parse a PDB or mmCIF file with pdbtbx, hydrogens dropped; only model 1 with
/// `first_model_only`. The format comes from the extension (any case): `.pdb`, `.pdb1`, `.ent`,
/// `.cif` or `.mmcif`, or `.pdb.gz` / `.cif.gz`.
///
/// pdbtbx panics on some malformed records (a coordinate, occupancy or B-factor that is not a
/// finite number; invalid characters in a name); such a panic is caught here, without printing
/// it, and returned as an error.
///
/// # Errors
/// [`ModelError::StructureRead`] naming the file: missing, an unknown extension, or the first
/// problems pdbtbx reports (with their line numbers where it gives them).
pub fn parse_file(path: &Path, first_model_only: bool) -> Result<pdbtbx::PDB, ModelError> {
    let fail = |reason: String| ModelError::StructureRead { path: path.to_path_buf(), reason };
    if !path.is_file() {
        return Err(fail("no such file".into()));
    }
    let path_str = path.to_str().ok_or_else(|| fail("the path is not valid UTF-8".into()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
    let (stem, compressed) = match name.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (name.as_str(), false),
    };
    let format = match Path::new(stem).extension().and_then(|e| e.to_str()) {
        Some("pdb" | "pdb1" | "ent") => pdbtbx::Format::Pdb,
        Some("cif" | "mmcif") => pdbtbx::Format::Mmcif,
        _ => return Err(fail("unknown structure format; give a .pdb, .ent, .cif or .mmcif file (or .pdb.gz, .cif.gz)".into())),
    };
    let result = catch_silently(|| {
        pdbtbx::ReadOptions::new()
            .set_format(format)
            .set_decompress(compressed)
            .set_level(pdbtbx::StrictnessLevel::Loose)
            .set_only_first_model(first_model_only)
            .set_discard_hydrogens(true)
            .read(path_str)
    })
    .map_err(|panic| {
        let place = match format {
            pdbtbx::Format::Pdb if !compressed => non_finite_pdb_line(path).map(|n| format!("line {n}: ")),
            _ => None,
        };
        fail(format!(
            "{}malformed record (pdbtbx: {panic}); check for coordinates, occupancies or B-factors that are not finite numbers and for invalid characters in names",
            place.unwrap_or_default()
        ))
    })?;
    let (pdb, _warnings) = result.map_err(|errors| {
        let breaking: Vec<&pdbtbx::PDBError> = errors.iter().filter(|e| e.fails(pdbtbx::StrictnessLevel::Loose)).collect();
        let shown = if breaking.is_empty() { errors.iter().collect() } else { breaking };
        let mut messages: Vec<String> = Vec::new();
        for message in shown.iter().map(|e| describe(e)) {
            if !messages.contains(&message) && messages.len() < 3 {
                messages.push(message);
            }
        }
        fail(messages.join("; "))
    })?;
    Ok(pdb)
}

/// The first ATOM/HETATM line (1-based) of a PDB file whose coordinates, occupancy or B-factor
/// read as a number that is not finite.
fn non_finite_pdb_line(path: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(path).ok()?;
    let position = text.lines().position(|line| {
        (line.starts_with("ATOM") || line.starts_with("HETATM"))
            && [30..38, 38..46, 46..54, 54..60, 60..66]
                .into_iter()
                .any(|columns| line.get(columns).and_then(|f| f.trim().parse::<f64>().ok()).is_some_and(|v| !v.is_finite()))
    })?;
    Some(position + 1)
}

/// A pdbtbx error as `line N: what` (or `what` without a line).
fn describe(error: &pdbtbx::PDBError) -> String {
    use pdbtbx::Context;
    match error.context() {
        Context::FullLine { linenumber, .. } | Context::Line { linenumber, .. } => {
            format!("line {linenumber}: {}", error.short_description())
        }
        Context::Range { start_linenumber, .. } | Context::RangeHighlights { start_linenumber, .. } => {
            format!("line {start_linenumber}: {}", error.short_description())
        }
        _ => error.short_description().to_string(),
    }
}

thread_local! {
    /// Whether a panic on this thread is being caught by [`catch_silently`].
    static CATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Run `f`, returning a panic's message as `Err` instead of unwinding further. The first call
/// installs a panic hook that prints nothing while a thread is inside this function and
/// otherwise calls the hook it replaced.
fn catch_silently<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    CATCHING.with(|c| c.set(true));
    // Nothing `f` touches is used after a panic, so unwind safety does not matter.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".into())
    })
}

fn dedup(ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

/// Atoms of the first alternate location (atoms without one are always kept); the first atom of
/// each name wins.
fn convert_residue(chain: &str, residue: &pdbtbx::Residue) -> Residue {
    let mut first_altloc: Option<String> = None;
    let mut atoms: Vec<Atom> = Vec::new();
    let mut name = String::new();
    for conformer in residue.conformers() {
        if name.is_empty() {
            name = conformer.name().to_string();
        }
        if let Some(alt) = conformer.alternative_location() {
            match &first_altloc {
                None => first_altloc = Some(alt.to_string()),
                Some(first) if first != alt => continue,
                Some(_) => {}
            }
        }
        for atom in conformer.atoms() {
            let z = atom.element().map(|e| e.atomic_number() as u32).unwrap_or(0);
            if z <= 1 || atoms.iter().any(|a| a.name == atom.name()) {
                continue;
            }
            atoms.push(Atom { name: atom.name().to_string(), atomic_number: z, position: [atom.x(), atom.y(), atom.z()] });
        }
    }
    Residue {
        chain: chain.to_string(),
        name,
        number: residue.serial_number(),
        insertion_code: residue.insertion_code().map(str::to_string),
        atoms,
    }
}
