//! Writing the all-atom ground truth as a PDB file: one `MODEL` per state, in the box frame.
use std::io::Write;
use std::path::Path;

use crate::all_atom::{ResidueKind, SimAtom};
use crate::error::SimError;

/// Element symbols by atomic number (index 0 unused), up to xenon.
const ELEMENTS: [&str; 55] = [
    "", "H", "HE", "LI", "BE", "B", "C", "N", "O", "F", "NE", "NA", "MG", "AL", "SI", "P", "S", "CL", "AR", "K", "CA", "SC",
    "TI", "V", "CR", "MN", "FE", "CO", "NI", "CU", "ZN", "GA", "GE", "AS", "SE", "BR", "KR", "RB", "SR", "Y", "ZR", "NB",
    "MO", "TC", "RU", "RH", "PD", "AG", "CD", "IN", "SN", "SB", "TE", "I", "XE",
];

/// Write `atoms` at the coordinates of each model (Å) as a PDB file, atomically; `remarks` become
/// `REMARK 250` lines. A single model is written without `MODEL`/`ENDMDL` records.
///
/// # Shapes
/// `models`: `[n_models][n_atoms]` of `[x, y, z]`.
///
/// # Errors
/// [`SimError::Invalid`] naming `path` when a model's length differs from the atom count, a chain
/// identifier is longer than one character, or a coordinate does not fit the fixed-width columns
/// (|x| ≥ 10⁴ Å); [`SimError::Io`] when the file cannot be written.
pub fn write_models(path: &Path, atoms: &[SimAtom], models: &[Vec<[f64; 3]>], remarks: &[String]) -> Result<(), SimError> {
    let invalid = |reason: String| SimError::Invalid(format!("{}: {reason}", path.display()));
    for (m, model) in models.iter().enumerate() {
        if model.len() != atoms.len() {
            return Err(invalid(format!("model {} has {} coordinates for {} atoms", m + 1, model.len(), atoms.len())));
        }
        if let Some(v) = model.iter().flatten().find(|v| !(v.is_finite() && v.abs() < 1e4)) {
            return Err(invalid(format!("coordinate {v} Å of model {} does not fit a PDB file", m + 1)));
        }
    }
    if let Some(a) = atoms.iter().find(|a| a.chain.chars().count() > 1) {
        return Err(invalid(format!("chain identifier {:?} is longer than the one character a PDB file holds", a.chain)));
    }
    let mut text = String::new();
    for remark in remarks {
        text.push_str(&format!("REMARK 250 {remark}\n"));
    }
    let multi = models.len() > 1;
    for (m, model) in models.iter().enumerate() {
        if multi {
            text.push_str(&format!("MODEL     {:>4}\n", m + 1));
        }
        for (serial, (atom, p)) in atoms.iter().zip(model).enumerate() {
            text.push_str(&atom_record(serial + 1, atom, *p));
            text.push('\n');
        }
        if multi {
            text.push_str("ENDMDL\n");
        }
    }
    text.push_str("END\n");
    rbf_io::atomic::write_atomically(path, |out| out.write_all(text.as_bytes()))?;
    Ok(())
}

/// One fixed-width `ATOM`/`HETATM` record (PDB format v3.3).
fn atom_record(serial: usize, atom: &SimAtom, p: [f64; 3]) -> String {
    let record = if atom.kind == ResidueKind::AminoAcid { "ATOM  " } else { "HETATM" };
    let element = ELEMENTS.get(atom.atomic_number as usize).copied().unwrap_or("");
    // Names shorter than four characters start in column 14 when the element has one letter.
    let name = if atom.name.len() >= 4 || element.len() == 2 { format!("{:<4}", atom.name) } else { format!(" {:<3}", atom.name) };
    let insertion = atom.insertion_code.as_deref().and_then(|c| c.chars().next()).unwrap_or(' ');
    format!(
        "{record}{:>5} {name:.4} {:>3.3} {:1}{:>4}{insertion}   {:>8.3}{:>8.3}{:>8.3}{:>6.2}{:>6.2}          {:>2}",
        serial % 100_000,
        atom.residue_name,
        atom.chain,
        atom.residue_number,
        p[0],
        p[1],
        p[2],
        1.0,
        0.0,
        element,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(name: &str, z: u32, kind: ResidueKind) -> SimAtom {
        SimAtom {
            residue: 0,
            chain: "A".into(),
            residue_name: "ALA".into(),
            residue_number: 12,
            insertion_code: None,
            name: name.into(),
            atomic_number: z,
            position: [0.0; 3],
            kind,
        }
    }

    #[test]
    fn records_have_pdb_columns() {
        let r = atom_record(7, &atom("CA", 6, ResidueKind::AminoAcid), [1.5, -22.25, 100.125]);
        assert_eq!(r, "ATOM      7  CA  ALA A  12       1.500 -22.250 100.125  1.00  0.00           C");
        assert_eq!(&r[12..16], " CA ");
        assert_eq!(&r[30..38], "   1.500");
        assert_eq!(&r[76..78], " C");
        let zinc = atom_record(8, &atom("ZN", 30, ResidueKind::Ligand), [0.0; 3]);
        assert!(zinc.starts_with("HETATM") && &zinc[12..16] == "ZN  " && zinc.ends_with("ZN"), "{zinc}");
    }

    #[test]
    fn bad_models_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("truth.pdb");
        let atoms = vec![atom("CA", 6, ResidueKind::AminoAcid)];
        let err = write_models(&path, &atoms, &[vec![]], &[]).expect_err("wrong length").to_string();
        assert!(err.contains("truth.pdb") && err.contains("0 coordinates for 1 atoms"), "{err}");
        let err = write_models(&path, &atoms, &[vec![[1e5, 0.0, 0.0]]], &[]).expect_err("too far").to_string();
        assert!(err.contains("does not fit"), "{err}");
        assert!(!path.exists());
    }
}
