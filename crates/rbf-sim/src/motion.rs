//! A 1-D conformational motion: one backbone dihedral of one residue rotated in steps (paper §4.2).
//!
//! Rotating ψ of residue `i` turns everything downstream of its Cα–C bond about that bond: the
//! carbonyl O (and OXT) of residue `i` and every later amino acid of the same chain. Rotating φ
//! turns everything downstream of the N–Cα bond: all atoms of residue `i` except N and Cα, and every
//! later amino acid of the chain. Other chains, ligands and waters stay fixed. State `k` of `S` is
//! rotated by `k/(S − 1)·total` radians, right-handed about the bond directed towards the C
//! terminus (N→Cα for φ, Cα→C for ψ), which increases the IUPAC dihedral by the same angle.
use std::path::Path;

use rbf_model::coarse::{cross, dot};

use crate::all_atom::{ResidueKind, SimAtom};
use crate::config::{DihedralAngle, DihedralMotion};
use crate::error::SimError;

/// Where a dihedral motion acts, resolved on a structure.
#[derive(Debug, Clone, PartialEq)]
pub struct DihedralSite {
    /// Chain of the rotated residue.
    pub chain: String,
    /// Residue name, e.g. `GLY`.
    pub residue_name: String,
    /// Residue number (author numbering).
    pub residue_number: isize,
    /// φ or ψ.
    pub angle: DihedralAngle,
    /// Index (into the atoms given to [`DihedralSite::find`]) of the bond's first atom (N for φ,
    /// Cα for ψ); the rotation axis passes through it.
    pub axis_start: usize,
    /// Index of the bond's second atom (Cα for φ, C for ψ).
    pub axis_end: usize,
    /// Whether each atom moves (is downstream of the bond).
    pub moving: Vec<bool>,
}

impl DihedralSite {
    /// Resolve `motion` on `atoms` (every heavy atom of the amino acids, as
    /// [`crate::all_atom::collect_atoms`] returns them; ligands and waters may be among them and
    /// never move). `structure_path` is used in error messages.
    ///
    /// # Errors
    /// [`SimError::Motion`] naming the file when there is no amino acid, no residue with the
    /// requested number, the residue lacks N, Cα or C, or nothing lies downstream of the bond.
    pub fn find(atoms: &[SimAtom], motion: &DihedralMotion, structure_path: &Path) -> Result<Self, SimError> {
        let fail = |reason: String| SimError::Motion { path: structure_path.to_path_buf(), reason };
        // Amino-acid residues in file order, by their index in the structure.
        let mut residues: Vec<usize> = Vec::new();
        for a in atoms.iter().filter(|a| a.kind == ResidueKind::AminoAcid) {
            if residues.last() != Some(&a.residue) {
                residues.push(a.residue);
            }
        }
        if residues.is_empty() {
            return Err(fail("no amino acids to rotate a dihedral in".into()));
        }
        let residue = match motion.residue {
            None => residues[residues.len() / 2],
            Some(number) => *residues
                .iter()
                .find(|&&r| atoms.iter().any(|a| a.residue == r && a.residue_number == number))
                .ok_or_else(|| fail(format!("no amino acid numbered {number} in the selected chains")))?,
        };
        let first = atoms.iter().find(|a| a.residue == residue).ok_or_else(|| fail("empty residue".into()))?;
        let (chain, residue_name, residue_number) = (first.chain.clone(), first.residue_name.clone(), first.residue_number);
        let label = format!("{residue_name} {residue_number} of chain {chain}");
        let find_atom = |name: &str| {
            atoms
                .iter()
                .position(|a| a.residue == residue && a.name == name)
                .ok_or_else(|| fail(format!("residue {label} has no {name} atom, needed for its dihedral")))
        };
        let (start_name, end_name) = match motion.angle {
            DihedralAngle::Phi => ("N", "CA"),
            DihedralAngle::Psi => ("CA", "C"),
        };
        let axis_start = find_atom(start_name)?;
        let axis_end = find_atom(end_name)?;
        let moving: Vec<bool> = atoms
            .iter()
            .map(|a| {
                if a.kind != ResidueKind::AminoAcid || a.chain != chain {
                    false
                } else if a.residue == residue {
                    match motion.angle {
                        DihedralAngle::Phi => a.name != "N" && a.name != "CA",
                        DihedralAngle::Psi => a.name == "O" || a.name == "OXT",
                    }
                } else {
                    a.residue > residue
                }
            })
            .collect();
        if !moving.iter().any(|&m| m) {
            return Err(fail(format!("nothing lies downstream of the dihedral of residue {label}")));
        }
        Ok(DihedralSite { chain, residue_name, residue_number, angle: motion.angle, axis_start, axis_end, moving })
    }

    /// The coordinates of `positions` (the atoms given to [`DihedralSite::find`], any frame) with
    /// the downstream atoms rotated by `angle` radians about the bond.
    pub fn rotate(&self, positions: &[[f64; 3]], angle: f64) -> Vec<[f64; 3]> {
        let origin = positions[self.axis_start];
        let axis = unit(sub(positions[self.axis_end], origin));
        let (sin, cos) = angle.sin_cos();
        positions
            .iter()
            .zip(&self.moving)
            .map(|(&p, &moving)| {
                if !moving {
                    return p;
                }
                // Rodrigues: v' = v cos θ + (k × v) sin θ + k (k·v)(1 − cos θ), about the origin.
                let v = sub(p, origin);
                let kxv = cross(axis, v);
                let kv = dot(axis, v);
                std::array::from_fn(|c| origin[c] + v[c] * cos + kxv[c] * sin + axis[c] * kv * (1.0 - cos))
            })
            .collect()
    }
}

/// The rotation angle (radians) of each of the `states` states of `motion`: `k/(states − 1)·total`.
pub fn state_angles(motion: &DihedralMotion) -> Vec<f64> {
    let last = motion.states.saturating_sub(1).max(1) as f64;
    (0..motion.states).map(|k| k as f64 / last * motion.total).collect()
}

/// The IUPAC dihedral angle (radians, in (−π, π]) of four points.
pub fn dihedral(p0: [f64; 3], p1: [f64; 3], p2: [f64; 3], p3: [f64; 3]) -> f64 {
    let b0 = sub(p0, p1);
    let b1 = unit(sub(p2, p1));
    let b2 = sub(p3, p2);
    let v = sub(b0, scale(b1, dot(b0, b1)));
    let w = sub(b2, scale(b1, dot(b2, b1)));
    let x = dot(v, w);
    let y = dot(cross(b1, v), w);
    y.atan2(x)
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

fn unit(a: [f64; 3]) -> [f64; 3] {
    scale(a, 1.0 / dot(a, a).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbf_model::Structure;
    use rbf_model::structure::{Atom, Residue};

    use crate::all_atom::collect_atoms;

    /// A small zig-zag backbone of `n` alanines in chain A (plus a water), with N, CA, C, O, CB.
    fn peptide(n: usize) -> Structure {
        let mut residues = Vec::new();
        for i in 0..n {
            let x = 3.8 * i as f64;
            let s = if i % 2 == 0 { 1.0 } else { -1.0 };
            let atom = |name: &str, z: u32, p: [f64; 3]| Atom { name: name.into(), atomic_number: z, position: p };
            residues.push(Residue {
                chain: "A".into(),
                name: "ALA".into(),
                number: i as isize + 1,
                insertion_code: None,
                atoms: vec![
                    atom("N", 7, [x - 1.2, 0.4 * s, 0.1]),
                    atom("CA", 6, [x, 0.0, 0.3 * s]),
                    atom("C", 6, [x + 1.3, -0.5 * s, 0.0]),
                    atom("O", 8, [x + 1.5, -1.7 * s, 0.4]),
                    atom("CB", 6, [x - 0.2, 1.0 * s, 1.5]),
                ],
            });
        }
        let water = Atom { name: "O".into(), atomic_number: 8, position: [0.0, 5.0, 5.0] };
        residues.push(Residue { chain: "A".into(), name: "HOH".into(), number: 100, insertion_code: None, atoms: vec![water] });
        Structure { path: "peptide.pdb".into(), residues }
    }

    fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
        dot(sub(a, b), sub(a, b)).sqrt()
    }

    fn wrap(a: f64) -> f64 {
        (a + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
    }

    #[test]
    fn psi_rotation_moves_only_downstream_atoms_by_the_angle() {
        let structure = peptide(7);
        let atoms = collect_atoms(&structure, false, true);
        let motion = DihedralMotion { residue: None, angle: DihedralAngle::Psi, total: 0.25, states: 5 };
        let site = DihedralSite::find(&atoms, &motion, &structure.path).expect("site");
        assert_eq!(site.residue_number, 4, "the middle of 7 residues");
        let before: Vec<[f64; 3]> = atoms.iter().map(|a| a.position).collect();
        let angle = 0.25;
        let after = site.rotate(&before, angle);

        let by = |res: isize, name: &str| {
            atoms.iter().position(|a| a.residue_number == res && a.name == name && a.kind == ResidueKind::AminoAcid).expect("atom")
        };
        for (i, a) in atoms.iter().enumerate() {
            let downstream = a.kind == ResidueKind::AminoAcid && (a.residue_number > 4 || (a.residue_number == 4 && a.name == "O"));
            let moved = distance(before[i], after[i]);
            if downstream {
                assert!(moved > 1e-3, "{} {} did not move", a.residue_number, a.name);
            } else {
                assert_eq!(before[i], after[i], "{} {} {} moved", a.residue_name, a.residue_number, a.name);
            }
        }
        // ψ(4) = N4–CA4–C4–N5 changes by exactly the angle; φ(4) and ψ(5) do not change.
        let psi = |p: &[[f64; 3]]| dihedral(p[by(4, "N")], p[by(4, "CA")], p[by(4, "C")], p[by(5, "N")]);
        assert!((wrap(psi(&after) - psi(&before)) - angle).abs() < 1e-12);
        let phi = |p: &[[f64; 3]]| dihedral(p[by(3, "C")], p[by(4, "N")], p[by(4, "CA")], p[by(4, "C")]);
        assert!((phi(&after) - phi(&before)).abs() < 1e-12);
        let psi5 = |p: &[[f64; 3]]| dihedral(p[by(5, "N")], p[by(5, "CA")], p[by(5, "C")], p[by(6, "N")]);
        assert!((psi5(&after) - psi5(&before)).abs() < 1e-12);
        // Every distance within the moving part and within the fixed part is kept, so every bond
        // length is; the bonds across the axis (CA4–C4 on it, C4–N5, C4–O4) too.
        for i in 0..atoms.len() {
            for j in 0..atoms.len() {
                if site.moving[i] == site.moving[j] {
                    assert!((distance(before[i], before[j]) - distance(after[i], after[j])).abs() < 1e-12);
                }
            }
        }
        for (x, y) in [((4, "CA"), (4, "C")), ((4, "C"), (5, "N")), ((4, "C"), (4, "O"))] {
            let (i, j) = (by(x.0, x.1), by(y.0, y.1));
            assert!((distance(before[i], before[j]) - distance(after[i], after[j])).abs() < 1e-12);
        }
    }

    #[test]
    fn phi_rotation_moves_the_side_chain_and_everything_after() {
        let structure = peptide(5);
        let atoms = collect_atoms(&structure, false, false);
        let motion = DihedralMotion { residue: Some(2), angle: DihedralAngle::Phi, total: -0.4, states: 3 };
        let site = DihedralSite::find(&atoms, &motion, &structure.path).expect("site");
        let moving: Vec<String> = atoms.iter().zip(&site.moving).filter(|(_, m)| **m).map(|(a, _)| format!("{}{}", a.name, a.residue_number)).collect();
        assert_eq!(&moving[..3], ["C2", "O2", "CB2"]);
        assert_eq!(moving.len(), 3 + 3 * 5);
        let before: Vec<[f64; 3]> = atoms.iter().map(|a| a.position).collect();
        let angles = state_angles(&motion);
        assert_eq!(angles, vec![0.0, -0.2, -0.4]);
        let after = site.rotate(&before, angles[2]);
        let by = |res: isize, name: &str| atoms.iter().position(|a| a.residue_number == res && a.name == name).expect("atom");
        let phi = |p: &[[f64; 3]]| dihedral(p[by(1, "C")], p[by(2, "N")], p[by(2, "CA")], p[by(2, "C")]);
        assert!((wrap(phi(&after) - phi(&before)) + 0.4).abs() < 1e-12);
    }

    #[test]
    fn missing_residues_and_atoms_are_errors_naming_the_file() {
        let mut structure = peptide(3);
        let atoms = collect_atoms(&structure, false, false);
        let motion = DihedralMotion { residue: Some(42), ..DihedralMotion::default() };
        let err = DihedralSite::find(&atoms, &motion, &structure.path).expect_err("no residue 42").to_string();
        assert!(err.contains("peptide.pdb") && err.contains("42"), "{err}");
        structure.residues[1].atoms.retain(|a| a.name != "C");
        let atoms = collect_atoms(&structure, false, false);
        let err = DihedralSite::find(&atoms, &DihedralMotion::default(), &structure.path).expect_err("no C").to_string();
        assert!(err.contains("no C atom") && err.contains("ALA 2"), "{err}");
    }
}
