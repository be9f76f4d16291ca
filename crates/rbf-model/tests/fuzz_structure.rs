//! Property tests: the structure reader (and the coarse-graining of what it reads) never panics on
//! mutated real PDB and mmCIF files (byte flips, overwritten fields, truncations, deleted or
//! duplicated lines, inserted tokens) or on random bytes; it returns `Ok` or an `Err` naming the
//! file.
//!
//! Each property runs 64 cases by default; set `PROPTEST_CASES` to run more.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use rbf_model::{ChainSelection, CoarseModel, Structure};

/// Atom records kept of each seed file.
const ATOMS: usize = 300;

/// The seeds: the start of `pdb1ake.pdb` and the `_atom_site` loop of `5ni1_updated.cif`, each
/// cut after the residue that holds atom [`ATOMS`] (so every residue is complete).
struct Seeds {
    pdb: Vec<u8>,
    cif: Vec<u8>,
}

fn seeds() -> Option<&'static Seeds> {
    static SEEDS: OnceLock<Option<Seeds>> = OnceLock::new();
    SEEDS
        .get_or_init(|| {
            let data = common::data_dir()?;
            let read = |relative: &str| {
                std::fs::read_to_string(data.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
            };
            let pdb_text = read("structures/pdb1ake.pdb");
            // The first ATOMS atoms and the rest of the residue the last of them is in.
            let (mut atoms, mut last_residue) = (0, None);
            let mut pdb = String::new();
            for line in pdb_text.lines() {
                if line.starts_with("ATOM") {
                    atoms += 1;
                    let residue = line.get(21..27).map(str::to_string);
                    if atoms > ATOMS && residue != last_residue {
                        break;
                    }
                    last_residue = residue;
                }
                pdb.push_str(line);
                pdb.push('\n');
            }
            pdb.push_str("END\n");

            let cif_text = read("structures/5ni1_updated.cif");
            let lines: Vec<&str> = cif_text.lines().collect();
            let first_column = lines.iter().position(|l| l.starts_with("_atom_site.")).expect("an _atom_site loop");
            let mut cif = format!("{}\n#\nloop_\n", lines[0]);
            let seq_column = lines[first_column..]
                .iter()
                .take_while(|l| l.starts_with('_'))
                .position(|l| l.trim() == "_atom_site.label_seq_id")
                .expect("a label_seq_id column");
            let (mut atoms, mut last_residue) = (0, None);
            for line in lines[first_column..].iter().take_while(|l| !l.starts_with('#')) {
                if !line.starts_with('_') {
                    atoms += 1;
                    let residue = line.split_whitespace().nth(seq_column).map(str::to_string);
                    if atoms > ATOMS && residue != last_residue {
                        break;
                    }
                    last_residue = residue;
                }
                cif.push_str(line);
                cif.push('\n');
            }
            cif.push_str("#\n");
            Some(Seeds { pdb: pdb.into_bytes(), cif: cif.into_bytes() })
        })
        .as_ref()
}

/// One edit of a file.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte with a non-zero mask.
    Flip(Index, u8),
    /// Overwrite bytes at a position with a token (a field of a fixed-column record).
    Overwrite(Index, Vec<u8>),
    /// Cut the file at a position.
    Truncate(Index),
    /// Delete one line.
    DeleteLine(Index),
    /// Repeat one line.
    DuplicateLine(Index),
    /// Insert a token at a position.
    Insert(Index, Vec<u8>),
}

/// Tokens that mean something to a PDB or mmCIF reader.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            "     nan", "    -inf", "   1e999", "9999999999", "ATOM  ", "HETATM", "MODEL        2\n",
            "ENDMDL\n", "TER\n", "END\n", "loop_\n", "_atom_site.", "data_x\n", "?", ".", "'", "\"", ";",
            "\n", " ", "é", "\u{0}", "-", "A", "HOH", "GLY", "CA", " CA ", "#",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 1..6),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<Index>(), 1u8..).prop_map(|(i, m)| Mutation::Flip(i, m)),
        3 => (any::<Index>(), token()).prop_map(|(i, t)| Mutation::Overwrite(i, t)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        2 => (any::<Index>(), token()).prop_map(|(i, t)| Mutation::Insert(i, t)),
    ]
}

/// `(start, end)` of every line, the newline included.
fn lines(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push((start, bytes.len()));
    }
    out
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match mutation {
        Mutation::Flip(i, mask) if len > 0 => bytes[i.index(len)] ^= mask,
        Mutation::Overwrite(i, token) if len > 0 => {
            let at = i.index(len);
            let end = (at + token.len()).min(len);
            bytes[at..end].copy_from_slice(&token[..end - at]);
        }
        Mutation::Truncate(i) => bytes.truncate(i.index(len + 1)),
        Mutation::DeleteLine(i) | Mutation::DuplicateLine(i) => {
            let lines = lines(bytes);
            if lines.is_empty() {
                return;
            }
            let (start, end) = lines[i.index(lines.len())];
            if matches!(mutation, Mutation::DeleteLine(_)) {
                bytes.drain(start..end);
            } else {
                let line = bytes[start..end].to_vec();
                bytes.splice(end..end, line);
            }
        }
        Mutation::Insert(i, token) => {
            let at = i.index(len + 1);
            bytes.splice(at..at, token.iter().copied());
        }
        Mutation::Flip(..) | Mutation::Overwrite(..) => {}
    }
}

/// `bytes` written to `name` in a fresh temporary folder (removed when the guard drops).
fn case_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write the case");
    (dir, path)
}

/// Read the file (all chains, then chain A) and coarse-grain what is read; every error must name
/// the file.
fn exercise(path: &Path) -> Result<(), TestCaseError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    for selection in [ChainSelection::All, ChainSelection::Chains(vec!["A".into()])] {
        match Structure::read(path, &selection) {
            Ok(structure) => {
                if let Err(e) = CoarseModel::from_structure(&structure) {
                    let text = e.to_string();
                    prop_assert!(text.contains(&name), "the error does not name the file: {text}");
                }
            }
            Err(e) => {
                let text = e.to_string();
                prop_assert!(text.contains(&name), "the error does not name the file: {text}");
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

#[test]
fn the_unmutated_seeds_read_and_coarse_grain() {
    let Some(seeds) = seeds() else { return };
    for (name, bytes, residues) in [("seed.pdb", &seeds.pdb, 41), ("seed.cif", &seeds.cif, 41)] {
        let (_dir, path) = case_file(name, bytes);
        let structure = Structure::read(&path, &ChainSelection::All).unwrap_or_else(|e| panic!("{name}: {e}"));
        let model = CoarseModel::from_structure(&structure).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(model.n_residues(), residues, "{name}: residues up to atom {ATOMS}");
    }
}

#[test]
fn a_non_finite_coordinate_is_an_error_naming_the_line() {
    let Some(seeds) = seeds() else { return };
    let text = String::from_utf8(seeds.pdb.clone()).expect("UTF-8");
    let (n, line) = text.lines().enumerate().find(|(_, l)| l.starts_with("ATOM")).expect("an ATOM record");
    let bad = text.replacen(line, &format!("{}     nan{}", &line[..30], &line[38..]), 1);
    let (_dir, path) = case_file("nan.pdb", bad.as_bytes());
    let err = Structure::read(&path, &ChainSelection::All).expect_err("a NaN coordinate").to_string();
    assert!(err.contains("nan.pdb") && err.contains(&format!("line {}:", n + 1)) && err.contains("not finite"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn mutated_pdb_files_never_panic(mutations in prop::collection::vec(mutation(), 1..5)) {
        let Some(seeds) = seeds() else { return Ok(()) };
        let mut bytes = seeds.pdb.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let (_dir, path) = case_file("model.pdb", &bytes);
        exercise(&path)?;
    }

    #[test]
    fn mutated_mmcif_files_never_panic(mutations in prop::collection::vec(mutation(), 1..5)) {
        let Some(seeds) = seeds() else { return Ok(()) };
        let mut bytes = seeds.cif.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let (_dir, path) = case_file("model.cif", &bytes);
        exercise(&path)?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        for name in ["random.pdb", "random.cif"] {
            let (_dir, path) = case_file(name, &bytes);
            exercise(&path)?;
        }
    }
}
