//! Reading atomic structures (PDB and mmCIF, through `pdbtbx`) into plain residues and atoms.
//!
//! Only model 1 is read. Hydrogens are dropped, and of alternate locations only the first is
//! kept. Waters and ligands are kept as residues (see [`Residue::is_amino_acid`]) so that callers
//! decide what to use; the coarse-grained model uses amino acids only.
use std::fmt;
use std::path::{Path, PathBuf};

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
    /// Read model 1 of a PDB or mmCIF file (format from the extension: `.pdb`, `.ent`, `.cif`,
    /// `.mmcif`, optionally `.gz`).
    ///
    /// # Errors
    /// [`ModelError::StructureRead`] if the file is missing or cannot be parsed,
    /// [`ModelError::NoSuchChain`] if a selected chain does not exist.
    pub fn read(path: &Path, selection: &ChainSelection) -> Result<Self, ModelError> {
        let read_error = |reason: String| ModelError::StructureRead { path: path.to_path_buf(), reason };
        if !path.is_file() {
            return Err(read_error("no such file".into()));
        }
        let path_str = path.to_str().ok_or_else(|| read_error("the path is not valid UTF-8".into()))?;
        let (pdb, _warnings) = pdbtbx::ReadOptions::new()
            .guess_format(path_str)
            .set_level(pdbtbx::StrictnessLevel::Loose)
            .set_only_first_model(true)
            .set_discard_hydrogens(true)
            .read(path_str)
            .map_err(|errors| {
                let text: Vec<String> = errors.iter().take(3).map(|e| e.short_description().to_string()).collect();
                read_error(text.join("; "))
            })?;
        let model = pdb.models().next().ok_or_else(|| read_error("the file holds no model".into()))?;

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
