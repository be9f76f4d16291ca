//! Coarse-graining real and hand-made structures, and writing the result back.
mod common;

use std::path::Path;

use common::*;
use rbf_model::coarse::distance;
use rbf_model::{ChainSelection, CoarseModel, ModelError, RbfKind, Structure};

fn chain_a(dir: &Path) -> Structure {
    Structure::read(&dir.join("structures/5ni1_updated.cif"), &ChainSelection::Chains(vec!["A".into()])).unwrap()
}

#[test]
fn coarse_graining_5ni1_chain_a() {
    let Some(dir) = data_dir() else { return };
    let structure = chain_a(&dir);
    let model = CoarseModel::from_structure(&structure).unwrap();
    // The α-chain sequence from the entry's FASTA file (independent of the coordinate file).
    let fasta = std::fs::read_to_string(dir.join("structures/5ni1_entry.fasta")).unwrap();
    let sequence = fasta.lines().nth(1).unwrap();
    assert_eq!(sequence.len(), 141);
    let glycines = sequence.chars().filter(|&c| c == 'G').count();
    assert_eq!(model.n_residues(), 141);
    assert_eq!(model.kinds.iter().filter(|k| **k == RbfKind::Backbone).count(), 141);
    assert_eq!(model.kinds.iter().filter(|k| **k == RbfKind::SideChain).count(), 141 - glycines);
    assert_eq!(model.n_rbf(), 282 - glycines);
    // Sequence 1–141 without gaps: 140 bonds, all between backbone RBFs of neighbours.
    assert_eq!(model.bonds.len(), 140);
    for &(i, j) in &model.bonds {
        assert_eq!(model.residue_of[j], model.residue_of[i] + 1);
        let d = distance(model.centers[i], model.centers[j]);
        assert!((3.6..4.0).contains(&d), "Cα–Cα {d}");
    }
    // Electron counts by hand. Backbone: N 7 + Cα 6 + C 6 + O 8 = 27, also for the C-terminal
    // residue (its OXT is not part of the backbone RBF).
    for &bb in &model.backbone {
        assert_eq!(model.electrons[bb], 27.0);
    }
    let side = |name: &str| -> f64 {
        let r = model.residues.iter().position(|r| r.name == name).unwrap();
        let i = model.residue_of.iter().zip(&model.kinds).position(|(&res, &k)| res == r && k == RbfKind::SideChain).unwrap();
        model.electrons[i]
    };
    assert_eq!(side("ALA"), 6.0); // Cβ
    assert_eq!(side("SER"), 6.0 + 8.0); // Cβ Oγ
    assert_eq!(side("LYS"), 4.0 * 6.0 + 7.0); // Cβ Cγ Cδ Cε Nζ
    assert_eq!(side("PHE"), 7.0 * 6.0); // Cβ Cγ Cδ1 Cδ2 Cε1 Cε2 Cζ
    assert_eq!(side("CYS"), 6.0 + 16.0); // Cβ Sγ
    assert_eq!(side("MET"), 3.0 * 6.0 + 16.0); // Cβ Cγ Sδ Cε
    assert_eq!(side("ARG"), 4.0 * 6.0 + 3.0 * 7.0); // Cβ Cγ Cδ Cζ Nε Nη1 Nη2
    // Side-chain bounds: one per side chain, each at least the reference's own distance, and
    // equal to the largest for its residue type.
    assert_eq!(model.side_chain_bounds.len(), 141 - glycines);
    for b in &model.side_chain_bounds {
        let d = distance(model.centers[b.backbone], model.centers[b.side_chain]);
        assert!(b.max_distance >= d - 1e-12);
    }
    assert!(model.side_chain_bounds.iter().any(|b| (b.max_distance - distance(model.centers[b.backbone], model.centers[b.side_chain])).abs() < 1e-12));
    // The side-chain centroid of the first residue (VAL 1: Cβ, Cγ1, Cγ2) is the mean of its atoms.
    let val1 = &structure.residues[0];
    assert_eq!(val1.name, "VAL");
    let cb = val1.atom("CB").unwrap().position;
    let cg1 = val1.atom("CG1").unwrap().position;
    let cg2 = val1.atom("CG2").unwrap().position;
    for k in 0..3 {
        assert!((model.centers[1][k] - (cb[k] + cg1[k] + cg2[k]) / 3.0).abs() < 1e-9);
    }
    // Ligands (HEM) and waters are not amino acids and make no RBFs.
    assert!(model.residues.iter().all(|r| r.name != "HEM" && r.name != "HOH"));
}

#[test]
fn all_chains_of_5ni1() {
    let Some(dir) = data_dir() else { return };
    let structure = Structure::read(&dir.join("structures/5ni1_updated.cif"), &ChainSelection::All).unwrap();
    let model = CoarseModel::from_structure(&structure).unwrap();
    assert_eq!(model.n_residues(), 141 + 146 + 141 + 146);
    // No bond crosses a chain boundary: 4 chains without gaps have n_residues − 4 bonds.
    assert_eq!(model.bonds.len(), model.n_residues() - 4);
}

#[test]
fn written_pdb_and_mmcif_read_back_with_the_same_coordinates() {
    let Some(dir) = data_dir() else { return };
    let model = CoarseModel::from_structure(&chain_a(&dir)).unwrap();
    let out = tempfile::tempdir().unwrap();
    for name in ["model.pdb", "model.cif"] {
        let path = out.path().join(name);
        model.write_models(&path, &[model.centers.clone()]).unwrap();
        let back = Structure::read(&path, &ChainSelection::All).unwrap();
        assert_eq!(back.residues.len(), 141, "{name}");
        for (i, (r, id)) in back.residues.iter().zip(&model.residues).enumerate() {
            assert_eq!((&r.chain, &r.name, r.number), (&id.chain, &id.name, id.number), "{name}");
            let ca = r.atom("CA").unwrap().position;
            let want = model.centers[model.backbone[i]];
            for k in 0..3 {
                assert!((ca[k] - want[k]).abs() < 1e-3, "{name} residue {i}");
            }
            let has_side = model.residue_of.iter().zip(&model.kinds).any(|(&res, &k)| res == i && k == RbfKind::SideChain);
            assert_eq!(r.atom("CEN").is_some(), has_side, "{name} residue {i}");
        }
        // Nothing is left behind under a temporary name.
        let names: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(names.iter().all(|n| !n.to_string_lossy().contains(".tmp")), "{names:?}");
    }
}

#[test]
fn multi_model_pdb_holds_every_model() {
    let Some(dir) = data_dir() else { return };
    let model = CoarseModel::from_structure(&chain_a(&dir)).unwrap();
    let moved: Vec<[f64; 3]> = model.centers.iter().map(|c| [c[0] + 5.0, c[1], c[2]]).collect();
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("traj.pdb");
    model.write_models(&path, &[model.centers.clone(), moved]).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("MODEL")).count(), 2);
    let err = model.write_models(&path, &[model.centers[..10].to_vec()]).unwrap_err();
    assert!(matches!(err, ModelError::Shape(_)), "{err}");
}

fn pdb_line(serial: usize, name: &str, res: &str, chain: &str, num: isize, pos: [f64; 3], element: &str) -> String {
    format!(
        "ATOM  {serial:>5} {name:<4} {res:>3} {chain}{num:>4}    {:>8.3}{:>8.3}{:>8.3}  1.00  0.00          {element:>2}\n",
        pos[0], pos[1], pos[2]
    )
}

/// Residues 1, 2 and 4 of chain A (a gap at 3) and residue 1 of chain B.
fn write_gapped_pdb(path: &Path, drop_ca_of: Option<isize>) {
    let mut text = String::new();
    let mut serial = 1;
    for (chain, num, x) in [("A", 1, 0.0), ("A", 2, 3.8), ("A", 4, 11.4), ("B", 1, 20.0)] {
        for (name, dx, el) in [("N", -1.0, "N"), ("CA", 0.0, "C"), ("C", 1.0, "C"), ("O", 1.5, "O"), ("CB", 0.0, "C")] {
            if name == "CA" && drop_ca_of == Some(num) {
                continue;
            }
            let y = if name == "CB" { 1.5 } else { 0.0 };
            text.push_str(&pdb_line(serial, name, "ALA", chain, num, [x + dx, y, 0.0], el));
            serial += 1;
        }
    }
    text.push_str("END\n");
    std::fs::write(path, text).unwrap();
}

#[test]
fn bonds_only_join_sequence_neighbours_of_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gap.pdb");
    write_gapped_pdb(&path, None);
    let model = CoarseModel::from_structure(&Structure::read(&path, &ChainSelection::All).unwrap()).unwrap();
    assert_eq!(model.n_residues(), 4);
    assert_eq!(model.bonds, vec![(model.backbone[0], model.backbone[1])]);
    let only_b = Structure::read(&path, &ChainSelection::Chains(vec!["B".into()])).unwrap();
    assert_eq!(CoarseModel::from_structure(&only_b).unwrap().n_residues(), 1);
}

#[test]
fn bad_structures_give_errors_that_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pdb");
    let err = Structure::read(&missing, &ChainSelection::All).unwrap_err();
    assert!(matches!(err, ModelError::StructureRead { .. }) && err.to_string().contains("nope.pdb"), "{err}");

    let path = dir.path().join("gap.pdb");
    write_gapped_pdb(&path, None);
    let err = Structure::read(&path, &ChainSelection::Chains(vec!["Z".into()])).unwrap_err();
    assert!(matches!(err, ModelError::NoSuchChain { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("gap.pdb") && text.contains("\"Z\"") && text.contains("A,B"), "{text}");

    let no_ca = dir.path().join("no_ca.pdb");
    write_gapped_pdb(&no_ca, Some(2));
    let err = CoarseModel::from_structure(&Structure::read(&no_ca, &ChainSelection::All).unwrap()).unwrap_err();
    assert!(matches!(err, ModelError::MissingCa { .. }), "{err}");
    assert!(err.to_string().contains("no_ca.pdb") && err.to_string().contains("ALA 2"), "{err}");

    let water = dir.path().join("water.pdb");
    std::fs::write(&water, "HETATM    1  O   HOH A   1       1.000   2.000   3.000  1.00  0.00           O\nEND\n").unwrap();
    let err = CoarseModel::from_structure(&Structure::read(&water, &ChainSelection::All).unwrap()).unwrap_err();
    assert!(matches!(err, ModelError::EmptySelection { .. }) && err.to_string().contains("water.pdb"), "{err}");

    let garbage = dir.path().join("garbage.cif");
    std::fs::write(&garbage, "this is not an mmCIF file\n\u{0}\u{1}").unwrap();
    let err = Structure::read(&garbage, &ChainSelection::All).unwrap_err();
    assert!(err.to_string().contains("garbage.cif"), "{err}");
}
