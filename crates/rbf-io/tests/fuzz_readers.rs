//! Property tests: the STAR, MRC and cryoSPARC `.cs` readers never panic on mutated real files
//! (byte flips, header fields set to extreme values, truncations, deleted or duplicated lines,
//! inserted tokens) or on random bytes. They return `Ok` or an `Err` that names the file.
//!
//! Each property runs 64 cases by default; set `PROPTEST_CASES` to run more.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use rbf_io::ParticleTable;
use rbf_io::mrc::{MrcStack, read_volume};
use rbf_io::star::StarFile;
use rbf_io::testdata::require;

/// The real files the mutations start from.
struct Seeds {
    star: Vec<(String, Vec<u8>)>,
    mrc: Vec<u8>,
    cs: Vec<(String, Vec<u8>)>,
    /// `cryodrgn/`, where the stacks the STAR files name are (`relion31.mrcs`).
    stacks: PathBuf,
}

const STAR_FILES: [&str; 8] = [
    "cryodrgn/relion31.star",
    "cryodrgn/relion31.v2.star",
    "cryodrgn/toy_projections_13.star",
    "cryodrgn/FinalRefinement-OriginalParticles-PfCRT.star",
    "cryodrgn/empiar_10076_7.star",
    "cryodrgn/relion5.star",
    "star_syntax/postprocess.star",
    "star_syntax/rln3.1_data_style.star",
];

/// Records kept of `cryosparc_P12_J24_001_particles.cs` (which holds 2019).
const CS_RECORDS: usize = 8;

/// The first `CS_RECORDS` records of a `.npy` structured array of 2019 records, with the header's
/// shape changed to match (padding keeps the header length).
fn shorten_cs(bytes: &[u8]) -> Vec<u8> {
    let header_len = 10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let record = (bytes.len() - header_len) / 2019;
    let (old, new) = (b"(2019,), }", format!("({CS_RECORDS},), }}   "));
    assert_eq!(old.len(), new.len(), "the .cs header keeps its length");
    let at = bytes.windows(old.len()).position(|w| w == old).expect("the .cs header gives its shape");
    let mut out = bytes[..header_len].to_vec();
    out[at..at + old.len()].copy_from_slice(new.as_bytes());
    out.extend_from_slice(&bytes[header_len..header_len + CS_RECORDS * record]);
    out
}

fn seeds() -> Option<&'static Seeds> {
    static SEEDS: OnceLock<Option<Seeds>> = OnceLock::new();
    SEEDS
        .get_or_init(|| {
            let data = require("star_syntax")?.parent()?.to_path_buf();
            let read = |relative: &str| {
                std::fs::read(data.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
            };
            let mut star: Vec<(String, Vec<u8>)> = STAR_FILES
                .iter()
                .map(|f| (f.to_string(), read(f)))
                .collect();
            let mut syntax: Vec<PathBuf> = std::fs::read_dir(data.join("star_syntax"))
                .expect("star_syntax is readable")
                .map(|e| e.expect("directory entry").path())
                .collect();
            syntax.sort();
            for path in syntax {
                let name = format!("star_syntax/{}", path.file_name().unwrap_or_default().to_string_lossy());
                if !star.iter().any(|(n, _)| *n == name) {
                    star.push((name.clone(), read(&name)));
                }
            }
            let cs = vec![
                ("empiar_10076_7.cs".to_string(), read("cryodrgn/empiar_10076_7.cs")),
                (
                    "P12_J24 (8 records)".to_string(),
                    shorten_cs(&read("cryodrgn/cryosparc_P12_J24_001_particles.cs")),
                ),
            ];
            Some(Seeds { star, mrc: read("cryodrgn/hand.5.mrcs"), cs, stacks: data.join("cryodrgn") })
        })
        .as_ref()
}

/// `bytes` written to `name` in a fresh temporary folder (removed when the guard drops).
fn case_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write the case");
    (dir, path)
}

/// One edit of a file.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte with a non-zero mask.
    Flip(Index, u8),
    /// Cut the file at a position.
    Truncate(Index),
    /// Delete one line.
    DeleteLine(Index),
    /// Repeat one line.
    DuplicateLine(Index),
    /// Insert text at a position.
    Insert(Index, Vec<u8>),
    /// Overwrite the little-endian `i32` (or `f32` bits) at a header offset.
    HeaderWord(usize, i32),
}

/// Tokens that mean something to a STAR, npy or MRC reader.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            "loop_\n", "data_\n", "data_optics\n", "data_particles\n", "_rlnImageName\n",
            "_rlnImagePixelSize -1\n", "'", "\"", "#", "@", " ", "\n", "0@relion31.mrcs",
            "99999999999999999999@relion31.mrcs", "nan", "-inf", "1e400", "-1", "0", ";", "save_",
            "(", ")", ",", "'shape': (", "'<f4'", "'|S8'", "{", "}", "é", "\u{0}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 1..8),
    ]
}

/// Offsets of the MRC header words that shape the file: nx, ny, nz, mode, mx, my, mz, xlen,
/// mapc, mapr, maps, nsymbt, machst.
const MRC_WORDS: [usize; 13] = [0, 4, 8, 12, 28, 32, 36, 40, 64, 68, 72, 92, 212];

fn extreme_i32() -> impl Strategy<Value = i32> {
    prop_oneof![
        prop::sample::select(vec![0, 1, 2, 3, 4, 6, 12, 101, -1, i32::MAX, i32::MIN, 1 << 16, 0x4444]),
        -4i32..300,
        any::<i32>(),
        // f32 bit patterns: NaN, ±Inf, negative, zero.
        prop::sample::select(vec![
            f32::NAN.to_bits() as i32,
            f32::INFINITY.to_bits() as i32,
            (-1.0f32).to_bits() as i32,
            0.0f32.to_bits() as i32,
        ]),
    ]
}

fn mutation(header_words: bool) -> impl Strategy<Value = Mutation> {
    let word = if header_words {
        (prop::sample::select(MRC_WORDS.to_vec()), extreme_i32())
            .prop_map(|(o, v)| Mutation::HeaderWord(o, v))
            .boxed()
    } else {
        (any::<Index>(), token()).prop_map(|(i, t)| Mutation::Insert(i, t)).boxed()
    };
    prop_oneof![
        3 => (any::<Index>(), 1u8..).prop_map(|(i, m)| Mutation::Flip(i, m)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        2 => (any::<Index>(), token()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        3 => word,
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
        Mutation::Insert(i, text) => {
            let at = i.index(len + 1);
            bytes.splice(at..at, text.iter().copied());
        }
        Mutation::HeaderWord(offset, value) if offset + 4 <= len => {
            bytes[*offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        }
        Mutation::Flip(..) | Mutation::HeaderWord(..) => {}
    }
}

fn mutated(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for m in mutations {
        apply(&mut bytes, m);
    }
    bytes
}

/// Fail unless the error's message names one of `names` (file names).
fn names_file(error: &impl std::fmt::Display, names: &[&str]) -> Result<(), TestCaseError> {
    let text = error.to_string();
    prop_assert!(names.iter().any(|n| text.contains(n)), "the error does not name the file: {text}");
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap_or_default().to_string_lossy().into_owned()
}

/// Read a STAR file as a particle table (stacks in `stacks`) and use everything it gives; errors
/// name the STAR file or the stack.
fn exercise_star(path: &Path, stacks: &Path) -> Result<(), TestCaseError> {
    let name = file_name(path);
    match StarFile::read(path) {
        Ok(star) => {
            for block in &star.blocks {
                if let Some(table) = rbf_io::star::Table::new(path, block) {
                    for row in 0..table.len() {
                        if let Err(e) = table.f64(row, "rlnDefocusU") {
                            names_file(&e, &[&name])?;
                        }
                    }
                }
            }
        }
        Err(e) => return names_file(&e, &[&name]),
    }
    match ParticleTable::from_star(path, Some(stacks)) {
        Ok(table) => exercise_table(&table, &name),
        Err(e) => names_file(&e, &[&name, "relion31.mrcs"]),
    }
}

fn exercise_table(table: &ParticleTable, name: &str) -> Result<(), TestCaseError> {
    let stacks: Vec<String> = table.particles.iter().map(|p| file_name(&p.image.stack)).collect();
    let mut names: Vec<&str> = stacks.iter().map(String::as_str).collect();
    names.push(name);
    for result in [table.rotations().map(drop), table.shifts_fraction(64).map(drop), table.ctf_rows().map(drop)] {
        if let Err(e) = result {
            names_file(&e, &names)?;
        }
    }
    match table.open_images() {
        Ok(images) => {
            let (ny, nx) = images.image_shape();
            let mut image = vec![0.0f32; ny * nx];
            for i in 0..images.len().min(2) {
                if let Err(e) = images.read(i, &mut image) {
                    names_file(&e, &names)?;
                }
            }
            Ok(())
        }
        Err(e) => names_file(&e, &names),
    }
}

/// Open an MRC file as a stack and as a volume and read every image.
fn exercise_mrc(path: &Path) -> Result<(), TestCaseError> {
    let name = file_name(path);
    match MrcStack::open(path) {
        Ok(stack) => {
            let mut images = Vec::new();
            if let Err(e) = stack.read_images(0..stack.len(), &mut images) {
                names_file(&e, &[&name])?;
            }
            let (ny, nx) = stack.image_shape();
            let mut image = vec![0.0f32; ny * nx];
            for i in [0, stack.len().saturating_sub(1), stack.len()] {
                if let Err(e) = stack.read_image(i, &mut image) {
                    names_file(&e, &[&name])?;
                }
            }
        }
        Err(e) => names_file(&e, &[&name])?,
    }
    if let Err(e) = read_volume(path) {
        names_file(&e, &[&name])?;
    }
    Ok(())
}

fn exercise_cs(path: &Path) -> Result<(), TestCaseError> {
    let name = file_name(path);
    match ParticleTable::from_cs(path, None) {
        Ok(table) => exercise_table(&table, &name),
        Err(e) => names_file(&e, &[&name]),
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

#[test]
fn the_unmutated_seeds_read_without_error() {
    let Some(seeds) = seeds() else { return };
    for (name, bytes) in &seeds.star {
        let text = String::from_utf8_lossy(bytes);
        assert!(StarFile::parse(name, &text).is_ok(), "{name}");
    }
    let (_dir, path) = case_file("hand.5.mrcs", &seeds.mrc);
    let stack = MrcStack::open(&path).expect("hand.5.mrcs opens");
    assert_eq!((stack.len(), stack.image_shape()), (5, (64, 64)));
    for (name, bytes) in &seeds.cs {
        let (_dir, path) = case_file("particles.cs", bytes);
        let table = ParticleTable::from_cs(&path, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(table.len() == 7 || table.len() == CS_RECORDS, "{name}: {} records", table.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn mutated_star_files_never_panic(
        seed in any::<Index>(),
        mutations in prop::collection::vec(mutation(false), 1..5),
    ) {
        let Some(seeds) = seeds() else { return Ok(()) };
        let (_, bytes) = &seeds.star[seed.index(seeds.star.len())];
        let bytes = mutated(bytes, &mutations);
        // The parser on text as given (lossy UTF-8), then the whole reader on the file.
        if let Err(e) = StarFile::parse("mutated.star", &String::from_utf8_lossy(&bytes)) {
            names_file(&e, &["mutated.star"])?;
        }
        let (_dir, path) = case_file("particles.star", &bytes);
        exercise_star(&path, &seeds.stacks)?;
    }

    #[test]
    fn mutated_mrc_stacks_never_panic(mutations in prop::collection::vec(mutation(true), 1..4)) {
        let Some(seeds) = seeds() else { return Ok(()) };
        let (_dir, path) = case_file("stack.mrcs", &mutated(&seeds.mrc, &mutations));
        exercise_mrc(&path)?;
    }

    #[test]
    fn mutated_cs_files_never_panic(
        seed in any::<Index>(),
        mutations in prop::collection::vec(mutation(false), 1..5),
    ) {
        let Some(seeds) = seeds() else { return Ok(()) };
        let (_, bytes) = &seeds.cs[seed.index(seeds.cs.len())];
        let (_dir, path) = case_file("particles.cs", &mutated(bytes, &mutations));
        exercise_cs(&path)?;
    }

    #[test]
    fn random_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..3000),
        mrc_header in any::<bool>(),
    ) {
        let Some(seeds) = seeds() else { return Ok(()) };
        let (_star_dir, star) = case_file("particles.star", &bytes);
        exercise_star(&star, &seeds.stacks)?;
        let (_cs_dir, cs) = case_file("particles.cs", &bytes);
        exercise_cs(&cs)?;
        // Random data after a real header, or random bytes alone.
        let mut mrc = if mrc_header { seeds.mrc[..1024].to_vec() } else { Vec::new() };
        mrc.extend_from_slice(&bytes);
        let (_mrc_dir, path) = case_file("stack.mrcs", &mrc);
        exercise_mrc(&path)?;
    }
}
