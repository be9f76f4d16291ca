//! Atoms of the ground truth: which heavy atoms of a structure are used, and their Gaussians.
use rbf_model::Structure;

use crate::config::AtomSelection;

/// What kind of residue an atom belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidueKind {
    /// An amino acid (standard or common modified).
    AminoAcid,
    /// A hetero residue that is neither an amino acid nor water.
    Ligand,
    /// A water molecule.
    Water,
}

/// One heavy atom with the residue it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct SimAtom {
    /// Index of the residue in [`Structure::residues`].
    pub residue: usize,
    /// Chain identifier.
    pub chain: String,
    /// Residue name, e.g. `ALA`.
    pub residue_name: String,
    /// Residue sequence number.
    pub residue_number: isize,
    /// Insertion code, if any.
    pub insertion_code: Option<String>,
    /// Atom name, e.g. `CA`.
    pub name: String,
    /// Atomic number Z (the Gaussian's integral).
    pub atomic_number: u32,
    /// Position (Å).
    pub position: [f64; 3],
    /// The residue's kind.
    pub kind: ResidueKind,
}

/// Every heavy atom of the amino acids of `structure`, plus ligands and waters when asked for, in
/// file order (hydrogens were dropped on reading).
pub fn collect_atoms(structure: &Structure, ligands: bool, waters: bool) -> Vec<SimAtom> {
    let mut atoms = Vec::new();
    for (index, residue) in structure.residues.iter().enumerate() {
        let kind = if residue.is_amino_acid() {
            ResidueKind::AminoAcid
        } else if residue.is_water() {
            ResidueKind::Water
        } else {
            ResidueKind::Ligand
        };
        let wanted = match kind {
            ResidueKind::AminoAcid => true,
            ResidueKind::Ligand => ligands,
            ResidueKind::Water => waters,
        };
        if !wanted {
            continue;
        }
        for atom in &residue.atoms {
            atoms.push(SimAtom {
                residue: index,
                chain: residue.chain.clone(),
                residue_name: residue.name.clone(),
                residue_number: residue.number,
                insertion_code: residue.insertion_code.clone(),
                name: atom.name.clone(),
                atomic_number: atom.atomic_number,
                position: atom.position,
                kind,
            });
        }
    }
    atoms
}

/// Whether `atom` is part of the ground truth under `selection`. Ligand and water atoms (present
/// only when asked for in [`collect_atoms`]) are always kept whole.
pub fn is_selected(atom: &SimAtom, selection: AtomSelection) -> bool {
    match (atom.kind, selection) {
        (ResidueKind::AminoAcid, AtomSelection::All) => true,
        (ResidueKind::AminoAcid, AtomSelection::Ca) => atom.name == "CA",
        (ResidueKind::AminoAcid, AtomSelection::CaCb) => atom.name == "CA" || atom.name == "CB",
        (ResidueKind::Ligand | ResidueKind::Water, _) => true,
    }
}

/// The atoms of `structure` that make up the ground truth, in file order.
pub fn select_atoms(structure: &Structure, selection: AtomSelection, ligands: bool, waters: bool) -> Vec<SimAtom> {
    collect_atoms(structure, ligands, waters).into_iter().filter(|a| is_selected(a, selection)).collect()
}

/// The centroid of the amino-acid Cα atoms among `atoms` (Å), or `None` when there are none.
pub fn ca_centroid(atoms: &[SimAtom]) -> Option<[f64; 3]> {
    let cas: Vec<&SimAtom> = atoms.iter().filter(|a| a.kind == ResidueKind::AminoAcid && a.name == "CA").collect();
    if cas.is_empty() {
        return None;
    }
    let mut c = [0.0; 3];
    for a in &cas {
        for (ci, pi) in c.iter_mut().zip(a.position) {
            *ci += pi;
        }
    }
    Some(c.map(|v| v / cas.len() as f64))
}

/// Gaussian amplitudes (the integral of each Gaussian = Z), `[n_atoms]`.
pub fn amplitudes(atoms: &[SimAtom]) -> Vec<f32> {
    atoms.iter().map(|a| a.atomic_number as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimulationConfig;
    use rbf_model::structure::{Atom, Residue};

    fn residue(name: &str, number: isize, atoms: &[(&str, u32)]) -> Residue {
        Residue {
            chain: "A".into(),
            name: name.into(),
            number,
            insertion_code: None,
            atoms: atoms.iter().enumerate().map(|(i, &(n, z))| Atom { name: n.into(), atomic_number: z, position: [i as f64, 0.0, 0.0] }).collect(),
        }
    }

    fn structure() -> Structure {
        Structure {
            path: "toy.pdb".into(),
            residues: vec![
                residue("CYS", 1, &[("N", 7), ("CA", 6), ("C", 6), ("O", 8), ("CB", 6), ("SG", 16)]),
                residue("GLY", 2, &[("N", 7), ("CA", 6), ("C", 6), ("O", 8)]),
                residue("ZN", 3, &[("ZN", 30)]),
                residue("HOH", 4, &[("O", 8)]),
            ],
        }
    }

    #[test]
    fn selections_keep_the_right_atoms_with_weight_z() {
        let s = structure();
        let names = |atoms: &[SimAtom]| atoms.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(" ");
        let all = select_atoms(&s, AtomSelection::All, false, false);
        assert_eq!(names(&all), "N CA C O CB SG N CA C O");
        assert_eq!(amplitudes(&all), vec![7.0, 6.0, 6.0, 8.0, 6.0, 16.0, 7.0, 6.0, 6.0, 8.0]);
        assert_eq!(names(&select_atoms(&s, AtomSelection::Ca, false, false)), "CA CA");
        assert_eq!(names(&select_atoms(&s, AtomSelection::CaCb, false, false)), "CA CB CA");
        let with_ligands = select_atoms(&s, AtomSelection::Ca, true, true);
        assert_eq!(names(&with_ligands), "CA CA ZN O");
        assert_eq!(amplitudes(&with_ligands), vec![6.0, 6.0, 30.0, 8.0]);
        // The Cα centroid ignores the ligand and water.
        assert_eq!(ca_centroid(&with_ligands), Some([1.0, 0.0, 0.0]));
    }

    #[test]
    fn sigma_is_resolution_over_pi_root_two() {
        for (resolution, sigma) in [(3.0, 0.675_237_2), (5.0, 1.125_395_4), (8.0, 1.800_632_6)] {
            let config = SimulationConfig { resolution, ..SimulationConfig::default() };
            assert!((config.sigma() - sigma).abs() < 1e-6, "{resolution} Å → {}", config.sigma());
        }
    }
}
