//! From an atomic structure to the coarse-grained RBF model: two RBFs per residue, the bond list
//! and the side-chain distance bounds (paper §3, CONVENTIONS.md "Coarse-grained structure").
//!
//! - The backbone RBF sits at the Cα and carries the electrons of N, Cα, C and O.
//! - The side-chain RBF sits at the centroid (unweighted) of the side-chain heavy atoms — every
//!   heavy atom that is not N, Cα, C, O or the terminal OXT — and carries their electrons.
//!   Glycine (and any residue whose side chain is missing) has none.
//! - RBFs are stored residue by residue: backbone, then side chain.
//! - Bonds join consecutive Cα of the same chain only where the residues are sequence neighbours.
//! - Each side-chain RBF gets an upper bound on its distance to its Cα: the largest Cα–centroid
//!   distance observed in the reference among residues of the same type.
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::error::ModelError;
use crate::structure::{BACKBONE_ATOMS, Residue, Structure};

/// What an RBF stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbfKind {
    /// The backbone (N, Cα, C, O) of a residue, placed at the Cα.
    Backbone,
    /// The side chain of a residue, placed at the centroid of its heavy atoms.
    SideChain,
}

/// The identity of a residue, carried through to the coarse-grained output files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidueId {
    /// Chain identifier.
    pub chain: String,
    /// Residue name, e.g. `LYS`.
    pub name: String,
    /// Residue sequence number.
    pub number: isize,
    /// Insertion code, if any.
    pub insertion_code: Option<String>,
}

/// An upper bound on the distance between a side-chain RBF and its backbone RBF.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideChainBound {
    /// Index of the backbone RBF.
    pub backbone: usize,
    /// Index of the side-chain RBF.
    pub side_chain: usize,
    /// Largest allowed distance (Å).
    pub max_distance: f64,
}

/// The coarse-grained model of a reference structure.
#[derive(Debug, Clone, PartialEq)]
pub struct CoarseModel {
    /// The residues, in order.
    pub residues: Vec<ResidueId>,
    /// RBF centers (Å), `[n_rbf][3]`, in the reference's frame.
    pub centers: Vec<[f64; 3]>,
    /// Electrons Z of the fragment each RBF stands for, `[n_rbf]`.
    pub electrons: Vec<f64>,
    /// What each RBF stands for, `[n_rbf]`.
    pub kinds: Vec<RbfKind>,
    /// The residue of each RBF, `[n_rbf]`.
    pub residue_of: Vec<usize>,
    /// Index of each residue's backbone RBF, `[n_residues]`.
    pub backbone: Vec<usize>,
    /// Harmonic Cα–Cα bonds as pairs of RBF indices.
    pub bonds: Vec<(usize, usize)>,
    /// One-sided side-chain distance bounds.
    pub side_chain_bounds: Vec<SideChainBound>,
}

impl CoarseModel {
    /// Build the coarse-grained model of the amino acids of `structure`.
    ///
    /// # Errors
    /// [`ModelError::EmptySelection`] if there is no amino acid, [`ModelError::MissingCa`] if a
    /// residue has no Cα.
    pub fn from_structure(structure: &Structure) -> Result<Self, ModelError> {
        let mut model = CoarseModel {
            residues: Vec::new(),
            centers: Vec::new(),
            electrons: Vec::new(),
            kinds: Vec::new(),
            residue_of: Vec::new(),
            backbone: Vec::new(),
            bonds: Vec::new(),
            side_chain_bounds: Vec::new(),
        };
        let mut previous: Option<(&Residue, usize)> = None;
        // Per residue type: the (backbone, side chain, distance) triples, to bound them at the end.
        let mut by_type: HashMap<String, Vec<(usize, usize, f64)>> = HashMap::new();
        for residue in structure.amino_acids() {
            let ca = residue.atom("CA").ok_or_else(|| ModelError::MissingCa {
                path: structure.path.clone(),
                chain: residue.chain.clone(),
                residue: residue.label(),
            })?;
            let index = model.residues.len();
            let backbone_electrons: u32 = residue
                .atoms
                .iter()
                .filter(|a| BACKBONE_ATOMS.contains(&a.name.as_str()))
                .map(|a| a.atomic_number)
                .sum();
            let bb = model.push_rbf(ca.position, backbone_electrons, RbfKind::Backbone, index);
            model.backbone.push(bb);
            if let Some((prev, prev_bb)) = previous {
                if are_sequence_neighbours(prev, residue) {
                    model.bonds.push((prev_bb, bb));
                }
            }
            let side: Vec<_> = residue
                .atoms
                .iter()
                .filter(|a| !BACKBONE_ATOMS.contains(&a.name.as_str()) && a.name != "OXT")
                .collect();
            if !side.is_empty() {
                let positions: Vec<[f64; 3]> = side.iter().map(|a| a.position).collect();
                let centroid = centroid(&positions);
                let z = side.iter().map(|a| a.atomic_number).sum();
                let sc = model.push_rbf(centroid, z, RbfKind::SideChain, index);
                by_type.entry(residue.name.clone()).or_default().push((bb, sc, distance(ca.position, centroid)));
            }
            model.residues.push(ResidueId {
                chain: residue.chain.clone(),
                name: residue.name.clone(),
                number: residue.number,
                insertion_code: residue.insertion_code.clone(),
            });
            previous = Some((residue, bb));
        }
        if model.residues.is_empty() {
            return Err(ModelError::EmptySelection {
                path: structure.path.clone(),
                selection: "amino acids of the selected chains".into(),
            });
        }
        for triples in by_type.values() {
            let max_distance = triples.iter().map(|t| t.2).fold(0.0, f64::max);
            for &(backbone, side_chain, _) in triples {
                model.side_chain_bounds.push(SideChainBound { backbone, side_chain, max_distance });
            }
        }
        model.side_chain_bounds.sort_by_key(|b| b.side_chain);
        Ok(model)
    }

    fn push_rbf(&mut self, center: [f64; 3], electrons: u32, kind: RbfKind, residue: usize) -> usize {
        self.centers.push(center);
        self.electrons.push(f64::from(electrons));
        self.kinds.push(kind);
        self.residue_of.push(residue);
        self.centers.len() - 1
    }

    /// A backbone-only model of one chain `A` of glycines (27 electrons each) whose Cα are
    /// `points`, bonded in sequence: for tests and toy problems.
    pub fn ca_trace(points: &[[f64; 3]]) -> CoarseModel {
        let n = points.len();
        CoarseModel {
            residues: (0..n)
                .map(|i| ResidueId { chain: "A".into(), name: "GLY".into(), number: i as isize + 1, insertion_code: None })
                .collect(),
            centers: points.to_vec(),
            electrons: vec![27.0; n],
            kinds: vec![RbfKind::Backbone; n],
            residue_of: (0..n).collect(),
            backbone: (0..n).collect(),
            bonds: (1..n).map(|i| (i - 1, i)).collect(),
            side_chain_bounds: vec![],
        }
    }

    /// Number of RBFs.
    pub fn n_rbf(&self) -> usize {
        self.centers.len()
    }

    /// Number of residues (= backbone RBFs).
    pub fn n_residues(&self) -> usize {
        self.residues.len()
    }

    /// Each residue's bonded neighbours along its chain, as residue indices: `(previous, next)`,
    /// `None` at a chain end or a break.
    pub fn chain_neighbours(&self) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
        let n = self.n_residues();
        let (mut previous, mut next) = (vec![None; n], vec![None; n]);
        for &(a, b) in &self.bonds {
            let (ra, rb) = (self.residue_of[a], self.residue_of[b]);
            next[ra.min(rb)] = Some(ra.max(rb));
            previous[ra.max(rb)] = Some(ra.min(rb));
        }
        (previous, next)
    }

    /// The Cα (backbone RBF) positions out of a full set of RBF centers.
    ///
    /// # Shapes
    /// `centers`: `[n_rbf][3]` → `[n_residues][3]`.
    pub fn ca_positions(&self, centers: &[[f64; 3]]) -> Vec<[f64; 3]> {
        self.backbone.iter().map(|&i| centers[i]).collect()
    }

    /// The same model with the side-chain RBFs removed (one RBF per residue; ablation of the
    /// paper's Table 2). The backbone RBF keeps the backbone electrons only.
    pub fn without_side_chains(&self) -> CoarseModel {
        let mut model = CoarseModel {
            residues: self.residues.clone(),
            centers: Vec::new(),
            electrons: Vec::new(),
            kinds: Vec::new(),
            residue_of: Vec::new(),
            backbone: Vec::new(),
            bonds: Vec::new(),
            side_chain_bounds: Vec::new(),
        };
        let mut new_index = vec![usize::MAX; self.n_rbf()];
        for &old in &self.backbone {
            new_index[old] = model.push_rbf(self.centers[old], self.electrons[old] as u32, RbfKind::Backbone, self.residue_of[old]);
            model.backbone.push(new_index[old]);
        }
        model.bonds = self.bonds.iter().map(|&(i, j)| (new_index[i], new_index[j])).collect();
        model
    }

    /// Translate every center by `shift` (Å), e.g. to move the reference into the box frame.
    pub fn translate(&mut self, shift: [f64; 3]) {
        for c in &mut self.centers {
            for k in 0..3 {
                c[k] += shift[k];
            }
        }
    }

    /// The Cα centroid (Å).
    pub fn ca_centroid(&self) -> [f64; 3] {
        centroid(&self.ca_positions(&self.centers))
    }

    /// Write one or more sets of RBF centers as a (multi-model) PDB or mmCIF file, chosen by the
    /// extension (`.cif`/`.mmcif` → mmCIF, anything else → PDB). Backbone RBFs are `CA` atoms and
    /// side-chain RBFs pseudo-atoms named `CEN` (as in Rosetta's centroid models), both carbon,
    /// with the reference's chain IDs, residue names and numbers; the B-factor column holds each
    /// RBF's electron count Z. The file is written to a temporary name and renamed into place.
    ///
    /// # Shapes
    /// `models`: `[n_models][n_rbf][3]`.
    ///
    /// # Errors
    /// [`ModelError::Shape`] if a model has the wrong number of centers, [`ModelError::Write`] if
    /// a center is not finite or the file cannot be written.
    pub fn write_models(&self, path: &Path, models: &[Vec<[f64; 3]>]) -> Result<(), ModelError> {
        for (m, centers) in models.iter().enumerate() {
            if centers.len() != self.n_rbf() {
                return Err(ModelError::Shape(format!(
                    "model {} has {} centers, the coarse-grained model has {} RBFs",
                    m + 1,
                    centers.len(),
                    self.n_rbf()
                )));
            }
            if let Some(i) = centers.iter().position(|c| c.iter().any(|v| !v.is_finite())) {
                return Err(ModelError::Write {
                    path: path.to_path_buf(),
                    reason: format!("model {}, RBF {}: non-finite position {:?}", m + 1, i, centers[i]),
                });
            }
        }
        let is_cif = matches!(
            path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
            Some("cif" | "mmcif")
        );
        Ok(rbf_io::atomic::write_atomically(path, |out| {
            if is_cif { self.write_mmcif(out, models) } else { self.write_pdb(out, models) }
        })?)
    }

    /// The atom name of each RBF in output files.
    fn atom_name(&self, rbf: usize) -> &'static str {
        match self.kinds[rbf] {
            RbfKind::Backbone => "CA",
            RbfKind::SideChain => "CEN",
        }
    }

    /// PDB format (wwPDB v3.3 fixed columns), one `MODEL` per set of centers.
    fn write_pdb(&self, out: &mut impl Write, models: &[Vec<[f64; 3]>]) -> std::io::Result<()> {
        writeln!(out, "REMARK   1 COARSE-GRAINED RBF MODEL WRITTEN BY CRYORBF: CA = BACKBONE RBF, CEN = SIDE-CHAIN RBF")?;
        for (m, centers) in models.iter().enumerate() {
            if models.len() > 1 {
                writeln!(out, "MODEL     {:>4}", m + 1)?;
            }
            let mut last_chain: Option<&str> = None;
            let mut serial = 0;
            for (rbf, c) in centers.iter().enumerate() {
                let id = &self.residues[self.residue_of[rbf]];
                if last_chain.is_some_and(|l| l != id.chain) {
                    serial += 1;
                    writeln!(out, "TER   {:>5}", serial)?;
                }
                last_chain = Some(&id.chain);
                serial += 1;
                writeln!(
                    out,
                    "ATOM  {:>5} {:<4} {:>3} {:1}{:>4}{:1}   {:>8.3}{:>8.3}{:>8.3}{:>6.2}{:>6.2}          {:>2}",
                    serial % 100_000,
                    format!(" {}", self.atom_name(rbf)),
                    id.name,
                    id.chain.chars().next().unwrap_or(' '),
                    id.number,
                    id.insertion_code.as_deref().unwrap_or(" "),
                    c[0],
                    c[1],
                    c[2],
                    1.0,
                    self.electrons[rbf],
                    "C"
                )?;
            }
            writeln!(out, "TER")?;
            if models.len() > 1 {
                writeln!(out, "ENDMDL")?;
            }
        }
        writeln!(out, "END")
    }

    /// mmCIF format: one `_atom_site` loop, models told apart by `pdbx_PDB_model_num`.
    fn write_mmcif(&self, out: &mut impl Write, models: &[Vec<[f64; 3]>]) -> std::io::Result<()> {
        writeln!(out, "data_cryorbf_model\n#\n_entry.id cryorbf_model\n#\nloop_")?;
        for field in [
            "group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id", "label_asym_id",
            "label_entity_id", "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y", "Cartn_z", "occupancy",
            "B_iso_or_equiv", "auth_seq_id", "auth_comp_id", "auth_asym_id", "auth_atom_id", "pdbx_PDB_model_num",
        ] {
            writeln!(out, "_atom_site.{field}")?;
        }
        let mut chains: Vec<&str> = Vec::new();
        for id in &self.residues {
            if !chains.contains(&id.chain.as_str()) {
                chains.push(&id.chain);
            }
        }
        let mut serial = 0;
        for (m, centers) in models.iter().enumerate() {
            for (rbf, c) in centers.iter().enumerate() {
                let id = &self.residues[self.residue_of[rbf]];
                let entity = chains.iter().position(|&ch| ch == id.chain).unwrap_or(0) + 1;
                serial += 1;
                writeln!(
                    out,
                    "ATOM {serial} C {name} . {res} {chain} {entity} {seq} {ins} {x:.3} {y:.3} {z:.3} 1.00 {b:.2} {seq} {res} {chain} {name} {model}",
                    name = self.atom_name(rbf),
                    res = id.name,
                    chain = id.chain,
                    seq = id.number,
                    ins = id.insertion_code.as_deref().unwrap_or("?"),
                    x = c[0],
                    y = c[1],
                    z = c[2],
                    b = self.electrons[rbf],
                    model = m + 1,
                )?;
            }
        }
        writeln!(out, "#")
    }
}

/// Consecutive residues of one chain whose numbers follow each other (or that share a number
/// and differ by insertion code).
fn are_sequence_neighbours(a: &Residue, b: &Residue) -> bool {
    a.chain == b.chain
        && (b.number == a.number + 1 || (b.number == a.number && a.insertion_code != b.insertion_code))
}

/// Euclidean distance (Å).
pub fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Dot product.
pub fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Cross product.
pub fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// Unweighted centroid of a set of points.
pub fn centroid(points: &[[f64; 3]]) -> [f64; 3] {
    let mut c = [0.0; 3];
    for p in points {
        for k in 0..3 {
            c[k] += p[k] / points.len() as f64;
        }
    }
    c
}
