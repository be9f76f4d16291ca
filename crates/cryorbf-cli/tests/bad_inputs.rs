//! The bad-input catalogue: every case runs the `cryorbf` binary on one broken input (a structure,
//! an MRC stack, a STAR or `.cs` file, a run folder, a latent file or a command-line argument),
//! built in a temporary folder mostly by mutating a copy of a real file from the test data, and
//! checks that the command
//! * exits with an error status (not a crash),
//! * prints no panic,
//! * names the offending file or argument and the problem (the case's keywords), and
//! * writes nothing: its output path does not appear (or an existing output folder is unchanged).
//!
//! The files: `structures/5ni1_updated.cif` (chain A, the reference for training) and
//! `structures/pdb1ake.pdb`; `cryodrgn/relion31.star` with its five real 256×256 images
//! `relion31.mrcs`; `cryodrgn/empiar_10076_7.cs` and `cryodrgn/cryosparc_P12_J24_001_particles.cs`.
//! Two real runs on the five particles (one homogeneous, one VAE) give the run folders.
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What every case may use: the test data and the two real run folders.
struct Env {
    data: PathBuf,
    /// `structures/5ni1_updated.cif`.
    reference: PathBuf,
    /// A finished `cryorbf train` run on relion31.
    homogeneous_run: PathBuf,
    /// A finished `cryorbf train-vae` run on relion31 (latent dimension 1, five particles).
    vae_run: PathBuf,
}

impl Env {
    fn file(&self, relative: &str) -> PathBuf {
        self.data.join(relative)
    }

    fn read(&self, relative: &str) -> Vec<u8> {
        std::fs::read(self.file(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    fn text(&self, relative: &str) -> String {
        String::from_utf8(self.read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    /// The folder holding `relion31.mrcs`, for `--datadir`.
    fn stacks(&self) -> PathBuf {
        self.file("cryodrgn")
    }
}

/// A command line and the path it must not write.
struct Setup {
    args: Vec<OsString>,
    out: PathBuf,
}

/// One bad input: a name, what builds it in its own folder, and the words the error must hold.
struct Case {
    name: &'static str,
    setup: Box<dyn Fn(&Env, &Path) -> Setup>,
    expect: Vec<String>,
}

fn case(name: &'static str, expect: &[&str], setup: impl Fn(&Env, &Path) -> Setup + 'static) -> Case {
    Case { name, setup: Box::new(setup), expect: expect.iter().map(|s| s.to_string()).collect() }
}

fn cryorbf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryorbf"))
}

fn os(items: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    items.iter().map(|s| s.as_ref().to_os_string()).collect()
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> PathBuf {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_path_buf()
}

/// `text` with `from` replaced once by `to`; the case is void if `from` is not there.
fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the fixture no longer holds {from:?}");
    text.replacen(from, to, 1)
}

/// relion31.star edited by `edits` (each replaced once), written to `dir/name`.
fn relion_star(env: &Env, dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = env.text("cryodrgn/relion31.star");
    for (from, to) in edits {
        text = replace(&text, from, to);
    }
    write(&dir.join(name), text)
}

/// Byte offset of pixel `pixel` of image `image` of relion31.mrcs (mode 2, 256×256, no extended
/// header).
fn pixel_offset(image: usize, pixel: usize) -> usize {
    1024 + 4 * (image * 256 * 256 + pixel)
}

/// relion31.star beside a copy of relion31.mrcs changed by `edit`; returns the STAR file.
fn relion_with_stack(env: &Env, dir: &Path, edit: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let mut stack = env.read("cryodrgn/relion31.mrcs");
    edit(&mut stack);
    write(&dir.join("relion31.mrcs"), stack);
    relion_star(env, dir, "relion31.star", &[])
}

fn set_i32(bytes: &mut [u8], offset: usize, value: i32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

fn set_f32(bytes: &mut [u8], offset: usize, value: f32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

/// `cryorbf train` of chain A of 5NI1 on `particles` into `dir/run`: one epoch, batch 4 unless
/// `extra` sets it.
fn train(env: &Env, dir: &Path, particles: &Path, extra: &[&str]) -> Setup {
    let out = dir.join("run");
    let mut args = os(&[&"train", &"--quiet", &"--chain", &"A", &"--epochs", &"1", &"--particles", &particles]);
    args.extend(os(&[&"--reference", &env.reference, &"--out", &out]));
    if !extra.contains(&"--batch") {
        args.extend(os(&[&"--batch", &"4"]));
    }
    args.extend(extra.iter().map(OsString::from));
    Setup { args, out }
}

/// As [`train`], with the stacks found through `--datadir` in the test data.
fn train_star(env: &Env, dir: &Path, star: &Path, extra: &[&str]) -> Setup {
    let datadir = env.stacks();
    let mut setup = train(env, dir, star, extra);
    setup.args.extend(os(&[&"--datadir", &datadir]));
    setup
}

/// `cryorbf train-vae` as [`train`], with a small network.
fn train_vae(env: &Env, dir: &Path, particles: &Path, extra: &[&str]) -> Setup {
    let mut setup = train(env, dir, particles, &[&["--width", "8", "--layers", "1"], extra].concat());
    setup.args[0] = "train-vae".into();
    setup
}

/// `cryorbf coarse-grain` of `structure` into `dir/cg.pdb`.
fn coarse_grain(dir: &Path, structure: &Path, extra: &[&str]) -> Setup {
    coarse_grain_into(&dir.join("cg.pdb"), structure, extra)
}

/// `cryorbf coarse-grain` of `structure` into `out`.
fn coarse_grain_into(out: &Path, structure: &Path, extra: &[&str]) -> Setup {
    let out = out.to_path_buf();
    let mut args = os(&[&"coarse-grain", &"--structure", &structure, &"--out", &out]);
    args.extend(extra.iter().map(OsString::from));
    Setup { args, out }
}

/// `cryorbf simulate` of 16 images of chain A of 5NI1 (box 64 at 1.5 Å unless `extra` sets
/// them) into `dir/sim`.
fn simulate(env: &Env, dir: &Path, extra: &[&str]) -> Setup {
    let out = dir.join("sim");
    let mut args = os(&[&"simulate", &"--quiet", &"--chain", &"A", &"-n", &"16", &"--structure", &env.reference]);
    args.extend(os(&[&"--out", &out]));
    for (flag, default) in [("--box", "64"), ("--pixel-size", "1.5")] {
        if !extra.contains(&flag) {
            args.extend(os(&[&flag, &default]));
        }
    }
    args.extend(extra.iter().map(OsString::from));
    Setup { args, out }
}

/// A `.npy` file of `values` with numpy's header for `descr` and `shape`.
fn npy(path: &Path, descr: &str, shape: &str, values: &[u8]) -> PathBuf {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&u16::try_from(header.len()).expect("short header").to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(values);
    write(path, bytes)
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A copy of the VAE run whose `z.npy` is replaced by `z` (float32, `shape`).
fn vae_copy_with_z(env: &Env, dir: &Path, shape: &str, z: &[f32]) -> PathBuf {
    let run = dir.join("vae");
    std::fs::create_dir_all(&run).expect("create the copy");
    for entry in std::fs::read_dir(&env.vae_run).expect("the VAE run is readable") {
        let entry = entry.expect("directory entry");
        if entry.path().is_file() {
            std::fs::copy(entry.path(), run.join(entry.file_name())).expect("copy a run file");
        }
    }
    npy(&run.join("z.npy"), "<f4", shape, &f32_bytes(z));
    run
}

/// The first 8 records of the 2019 of `cryosparc_P12_J24_001_particles.cs` (the header's shape
/// changed to 8, its length kept), with the `f32` at element `element` of field `field` of record
/// `record` set to `value` when given.
fn p12_cs(env: &Env, path: &Path, edit: Option<(usize, &str, usize, f32)>) -> PathBuf {
    const KEPT: usize = 8;
    let bytes = env.read("cryodrgn/cryosparc_P12_J24_001_particles.cs");
    let header_len = 10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let record_size = (bytes.len() - header_len) / 2019;
    let (old, new) = (b"(2019,), }".as_slice(), format!("{:<10}", format!("({KEPT},), }}")));
    let at = bytes.windows(old.len()).position(|w| w == old).expect("the header gives the shape");
    let mut out = bytes[..header_len + KEPT * record_size].to_vec();
    out[at..at + old.len()].copy_from_slice(new.as_bytes());
    if let Some((record, field, element, value)) = edit {
        let offset = header_len + record * record_size + cs_field_offset(&String::from_utf8_lossy(&bytes[10..header_len]), field) + 4 * element;
        set_f32(&mut out, offset, value);
    }
    write(path, out)
}

/// Byte offset of field `name` in a record described by the `.npy` header `header` (fields of
/// fixed size).
fn cs_field_offset(header: &str, name: &str) -> usize {
    let start = header.find("'descr': [").expect("a structured dtype") + "'descr': [".len();
    let mut offset = 0;
    for field in header[start..].split("), (") {
        let parts: Vec<&str> = field.split('\'').collect();
        let (field_name, dtype) = (parts[1], parts[3]);
        if field_name == name {
            return offset;
        }
        let size: usize = dtype[2..].parse().expect("a sized dtype");
        let count: usize = field
            .split_once(", (")
            .map_or(1, |(_, dims)| dims.trim_end_matches([')', ']', ',', ' ']).split(',').filter(|d| !d.trim().is_empty()).map(|d| d.trim().parse::<usize>().expect("a dimension")).product());
        offset += size * count;
    }
    panic!("no field {name}")
}

fn structure_cases() -> Vec<Case> {
    vec![
        case("structure file missing", &["no_such.cif", "no such file"], |_, dir| coarse_grain(dir, &dir.join("no_such.cif"), &[])),
        case("structure file is not mmCIF", &["garbage.cif", "cannot read structure file"], |_, dir| {
            coarse_grain(dir, &write(&dir.join("garbage.cif"), "this is not a structure\n"), &[])
        }),
        case("mmCIF truncated inside the atom loop", &["cut.cif", "cannot read structure file", "line"], |env, dir| {
            let bytes = env.read("structures/5ni1_updated.cif");
            coarse_grain(dir, &write(&dir.join("cut.cif"), &bytes[..300_000]), &[])
        }),
        case("PDB truncated inside a record", &["cut.pdb", "line"], |env, dir| {
            let bytes = env.read("structures/pdb1ake.pdb");
            coarse_grain(dir, &write(&dir.join("cut.pdb"), &bytes[..5000]), &[])
        }),
        case("PDB file empty", &["empty.pdb", "No Atoms"], |_, dir| coarse_grain(dir, &write(&dir.join("empty.pdb"), ""), &[])),
        case("PDB with a NaN coordinate", &["nan.pdb", "malformed"], |env, dir| {
            let text = env.text("structures/pdb1ake.pdb");
            let line = text.lines().find(|l| l.starts_with("ATOM")).expect("an ATOM record");
            let bad = format!("{}     nan{}", &line[..30], &line[38..]);
            coarse_grain(dir, &write(&dir.join("nan.pdb"), replace(&text, line, &bad)), &[])
        }),
        case("PDB with an infinite coordinate", &["inf.pdb", "malformed"], |env, dir| {
            let text = env.text("structures/pdb1ake.pdb");
            let line = text.lines().find(|l| l.starts_with("ATOM")).expect("an ATOM record");
            let bad = format!("{}{}1e999   {}", &line[..30], &line[30..38], &line[46..]);
            coarse_grain(dir, &write(&dir.join("inf.pdb"), replace(&text, line, &bad)), &[])
        }),
        case("residue without a CA atom", &["noca.pdb", "MET 1", "no CA atom"], |env, dir| {
            let text = env.text("structures/pdb1ake.pdb");
            let line = text.lines().find(|l| l.starts_with("ATOM") && &l[12..16] == " CA ").expect("a CA record");
            coarse_grain(dir, &write(&dir.join("noca.pdb"), replace(&text, &format!("{line}\n"), "")), &[])
        }),
        case("structure without amino acids", &["water.pdb", "no amino-acid residues"], |_, dir| {
            let waters = "HETATM    1  O   HOH A   1      10.000  10.000  10.000  1.00 20.00           O\n\
                          HETATM    2  O   HOH A   2      13.000  10.000  10.000  1.00 20.00           O\nEND\n";
            coarse_grain(dir, &write(&dir.join("water.pdb"), waters), &[])
        }),
        case("structure with an unknown extension", &["model.txt", "unknown structure format"], |env, dir| {
            coarse_grain(dir, &write(&dir.join("model.txt"), env.read("structures/pdb1ake.pdb")), &[])
        }),
        case("chain that does not exist", &["5ni1_updated.cif", "\"Q\"", "does not exist"], |env, dir| {
            coarse_grain(dir, &env.reference, &["--chain", "Q"])
        }),
        case("coarse-grain into a missing folder", &["no_folder", "cg.pdb", "No such file"], |env, dir| {
            coarse_grain_into(&dir.join("no_folder/cg.pdb"), &env.reference, &["--chain", "A"])
        }),
        case("motion at a residue that does not exist", &["5ni1_updated.cif", "9999"], |env, dir| {
            simulate(env, dir, &["--motion", "dihedral", "--residue", "9999"])
        }),
        case("render box smaller than the structure", &["5ni1_updated.cif", "does not fit"], |env, dir| {
            let out = dir.join("vol.mrc");
            Setup { args: os(&[&"render", &"--chain", &"A", &"--box", &"16", &"--structure", &env.reference, &"--out", &out]), out }
        }),
        case("render with a negative pixel size", &["pixel size", "-1"], |env, dir| {
            let out = dir.join("vol.mrc");
            Setup { args: os(&[&"render", &"--pixel-size", &"-1", &"--structure", &env.reference, &"--out", &out]), out }
        }),
        case("render with σ = 0", &["--sigma", "0"], |env, dir| {
            let out = dir.join("vol.mrc");
            Setup { args: os(&[&"render", &"--sigma", &"0", &"--structure", &env.reference, &"--out", &out]), out }
        }),
    ]
}

fn mrc_cases() -> Vec<Case> {
    vec![
        case("stack truncated", &["relion31.mrcs", "1000000 bytes", "truncated"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| s.truncate(1_000_000));
            train(env, dir, &star, &[])
        }),
        case("stack shorter than its header", &["relion31.mrcs", "500 bytes"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| s.truncate(500));
            train(env, dir, &star, &[])
        }),
        case("stack of complex numbers (mode 4)", &["relion31.mrcs", "unsupported MRC mode 4"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| set_i32(s, 12, 4));
            train(env, dir, &star, &[])
        }),
        case("stack of an unknown mode", &["relion31.mrcs", "unsupported MRC mode 99"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| set_i32(s, 12, 99));
            train(env, dir, &star, &[])
        }),
        case("stack whose header has the wrong size", &["relion31.mrcs", "656384 bytes", "1311744 bytes"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| set_i32(s, 0, 128));
            train(env, dir, &star, &[])
        }),
        case("stack with a negative image width", &["relion31.mrcs", "-5×256×5", "not a valid MRC file"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| set_i32(s, 0, -5));
            train(env, dir, &star, &[])
        }),
        case("stack with a negative extended header", &["relion31.mrcs", "nsymbt"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| set_i32(s, 92, -100));
            train(env, dir, &star, &[])
        }),
        case("stack with swapped axes", &["relion31.mrcs", "axis order"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| {
                set_i32(s, 64, 2);
                set_i32(s, 68, 1);
            });
            train(env, dir, &star, &[])
        }),
        case("stack with a NaN pixel", &["relion31.mrcs", "image 4", "NaN"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| set_f32(s, pixel_offset(4, 1000), f32::NAN));
            train(env, dir, &star, &[])
        }),
        case("stack with an infinite pixel", &["relion31.mrcs", "image 2", "inf"], |env, dir| {
            let star = relion_with_stack(env, dir, |s| set_f32(s, pixel_offset(2, 77), f32::INFINITY));
            train(env, dir, &star, &[])
        }),
        case("stack file empty", &["relion31.mrcs", "0 bytes"], |env, dir| {
            let star = relion_with_stack(env, dir, Vec::clear);
            train(env, dir, &star, &[])
        }),
    ]
}

fn star_cases() -> Vec<Case> {
    vec![
        case("STAR file missing", &["no_such.star", "No such file"], |env, dir| train(env, dir, &dir.join("no_such.star"), &[])),
        case("STAR without rlnImageName", &["noname.star", "rlnImageName"], |env, dir| {
            let star = relion_star(env, dir, "noname.star", &[("_rlnImageName #22", "_rlnImageNumber #22")]);
            train_star(env, dir, &star, &[])
        }),
        case("STAR without a pose column", &["nopose.star", "rlnAngleTilt"], |env, dir| {
            let star = relion_star(env, dir, "nopose.star", &[("_rlnAngleTilt #14", "_rlnAngleTiltPrior #14")]);
            train_star(env, dir, &star, &[])
        }),
        case("image index past the end of the stack", &["relion31.mrcs", "index 8", "5 images"], |env, dir| {
            let star = relion_star(env, dir, "past_end.star", &[("000003@relion31.mrcs", "000009@relion31.mrcs")]);
            train_star(env, dir, &star, &[])
        }),
        case("image index 0 (they count from 1)", &["zero.star:52", "rlnImageName", "0@relion31.mrcs"], |env, dir| {
            let star = relion_star(env, dir, "zero.star", &[("000003@relion31.mrcs", "0@relion31.mrcs")]);
            train_star(env, dir, &star, &[])
        }),
        case("stack named by the STAR file missing", &["missing.mrcs", "No such file"], |env, dir| {
            let star = relion_star(env, dir, "missing_stack.star", &[("000003@relion31.mrcs", "000003@missing.mrcs")]);
            train_star(env, dir, &star, &[])
        }),
        case("STAR truncated inside a row", &["cut.star:51", "26 columns"], |env, dir| {
            let text = env.text("cryodrgn/relion31.star");
            train_star(env, dir, &write(&dir.join("cut.star"), &text[..2000]), &[])
        }),
        case("negative pixel size", &["negative.star:16", "rlnImagePixelSize", "-2.806", "positive"], |env, dir| {
            let star = relion_star(env, dir, "negative.star", &[(" 2.806000 ", " -2.806000 ")]);
            train_star(env, dir, &star, &[])
        }),
        case("pixel size 0", &["zero_apix.star:16", "rlnImagePixelSize", "positive"], |env, dir| {
            let star = relion_star(env, dir, "zero_apix.star", &[(" 2.806000 ", " 0 ")]);
            train_star(env, dir, &star, &[])
        }),
        case("pixel size not a number", &["word.star:16", "rlnImagePixelSize", "\"abc\""], |env, dir| {
            let star = relion_star(env, dir, "word.star", &[(" 2.806000 ", " abc ")]);
            train_star(env, dir, &star, &[])
        }),
        case("box size disagrees with the stack", &["relion31.mrcs", "256×256", "box size of 128"], |env, dir| {
            let star = relion_star(env, dir, "box.star", &[(" 256 ", " 128 ")]);
            train_star(env, dir, &star, &[])
        }),
        case("a defocus of 0 (an unfitted CTF)", &["defocus.star", "particle 3", "defocus U 0", "Å"], |env, dir| {
            let star = relion_star(env, dir, "defocus.star", &[(" 12730.825404 ", " 0.000000 ")]);
            train_star(env, dir, &star, &[])
        }),
        case("a defocus in nm read as Å", &["nm.star", "particle 4", "defocus V 124435422.89"], |env, dir| {
            let star = relion_star(env, dir, "nm.star", &[(" 12243.542289 ", " 124435422.89 ")]);
            train_star(env, dir, &star, &[])
        }),
        case("optics group that is not defined", &["group.star:51", "optics group 7"], |env, dir| {
            let star = relion_star(env, dir, "group.star", &[("            1     -0.25248", "            7     -0.25248")]);
            train_star(env, dir, &star, &[])
        }),
        case("no pixel size anywhere", &["no_optics.star", "no pixel size"], |env, dir| {
            let star = relion_star(env, dir, "no_optics.star", &[("data_optics", "data_opticsX")]);
            train_star(env, dir, &star, &[])
        }),
        case("STAR with an unterminated quote", &["quote.star:50", "unterminated"], |env, dir| {
            let star = relion_star(env, dir, "quote.star", &[(" 3277.000000 ", " '3277.000000 ")]);
            train_star(env, dir, &star, &[])
        }),
    ]
}

fn cs_cases() -> Vec<Case> {
    vec![
        case(".cs file without poses", &["empiar_10076_7.cs", "alignments3D/pose"], |env, dir| {
            let cs = write(&dir.join("empiar_10076_7.cs"), env.read("cryodrgn/empiar_10076_7.cs"));
            train(env, dir, &cs, &[])
        }),
        case(".cs file truncated", &["cut.cs", "truncated"], |env, dir| {
            let bytes = env.read("cryodrgn/empiar_10076_7.cs");
            train(env, dir, &write(&dir.join("cut.cs"), &bytes[..bytes.len() - 100]), &[])
        }),
        case(".cs file of random bytes", &["noise.cs", "not a numpy .npy file"], |env, dir| {
            let bytes: Vec<u8> = (0..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
            train(env, dir, &write(&dir.join("noise.cs"), bytes), &[])
        }),
        case(".cs file naming a stack that is not there", &["_particles.mrc", "No such file"], |env, dir| {
            train(env, dir, &p12_cs(env, &dir.join("p12.cs"), None), &[])
        }),
        case(".cs record with a negative pixel size", &["p12.cs", "record 2", "blob/psize_A", "not positive"], |env, dir| {
            train(env, dir, &p12_cs(env, &dir.join("p12.cs"), Some((2, "blob/psize_A", 0, -2.95))), &[])
        }),
        case(".cs record with a NaN pose", &["p12.cs", "record 5", "alignments3D/pose", "not finite"], |env, dir| {
            train(env, dir, &p12_cs(env, &dir.join("p12.cs"), Some((5, "alignments3D/pose", 1, f32::NAN))), &[])
        }),
    ]
}

fn argument_cases() -> Vec<Case> {
    let relion = |env: &Env, dir: &Path, extra: &[&str]| train_star(env, dir, &env.file("cryodrgn/relion31.star"), extra);
    vec![
        case("--batch 0", &["batch of 0"], move |env, dir| relion(env, dir, &["--batch", "0"])),
        case("batch larger than the particle set", &["5 particles", "batch of 8"], move |env, dir| relion(env, dir, &["--batch", "8"])),
        case("--batch not a number", &["--batch", "abc"], move |env, dir| relion(env, dir, &["--batch", "abc"])),
        case("--lr 0", &["learning rate", "0"], move |env, dir| relion(env, dir, &["--lr", "0"])),
        case("--lr NaN", &["learning rate", "NaN"], move |env, dir| relion(env, dir, &["--lr", "nan"])),
        case("--lr negative", &["'-1'"], move |env, dir| relion(env, dir, &["--lr", "-1"])),
        case("--steric-strength negative", &["steric strength", "-2"], move |env, dir| relion(env, dir, &["--steric-strength=-2"])),
        case("--side-chain-frame-strength negative", &["side-chain frame strength", "-1"], move |env, dir| {
            relion(env, dir, &["--side-chain-frame-strength=-1"])
        }),
        case("--backbone-frame-strength infinite", &["backbone frame strength", "inf"], move |env, dir| {
            relion(env, dir, &["--backbone-frame-strength", "inf"])
        }),
        case("--side-chain-start unknown", &["--side-chain-start", "nowhere"], move |env, dir| relion(env, dir, &["--side-chain-start", "nowhere"])),
        case("--lr-units unknown", &["--lr-units", "parsec"], move |env, dir| relion(env, dir, &["--lr-units", "parsec"])),
        case("--sigma 0 for training", &["σ", "0 Å"], move |env, dir| relion(env, dir, &["--sigma", "0"])),
        case("--noise-variance 0", &["noise variance", "0"], move |env, dir| relion(env, dir, &["--noise-variance", "0"])),
        case("--init garbage", &["--init garbage", "expected exact"], move |env, dir| relion(env, dir, &["--init", "garbage"])),
        case("--init with a negative distance", &["--init noise:-3", "≥ 0"], move |env, dir| relion(env, dir, &["--init", "noise:-3"])),
        case("--init with a word for a distance", &["--init approx:far", "\"far\" is not a number"], move |env, dir| {
            relion(env, dir, &["--init", "approx:far"])
        }),
        case("train-vae --zdim 0", &["--zdim"], |env, dir| train_vae(env, dir, &env.file("cryodrgn/relion31.star"), &["--zdim", "0"])),
        case("simulate --snr 0", &["SNR", "0"], |env, dir| simulate(env, dir, &["--snr", "0"])),
        case("simulate --snr negative", &["SNR", "-1"], |env, dir| simulate(env, dir, &["--snr", "-1"])),
        case("simulate --pixel-size negative", &["pixel size", "-1"], |env, dir| simulate(env, dir, &["--pixel-size", "-1"])),
        case("simulate box smaller than the structure", &["5ni1_updated.cif", "half-box", "16 pixels"], |env, dir| {
            simulate(env, dir, &["--box", "16"])
        }),
        case("simulate with an empty defocus range", &["defocus range", "30000"], |env, dir| {
            simulate(env, dir, &["--ctf", "--defocus-min", "30000", "--defocus-max", "100"])
        }),
        case("simulate weights file missing", &["no_weights.txt", "No such file"], |env, dir| {
            let weights = format!("weights:{}", dir.join("no_weights.txt").display());
            simulate(env, dir, &["--motion", "dihedral", "--states", "3", "--distribution", &weights])
        }),
        case("simulate weights file with a word", &["weights.txt", "line 3", "\"x\""], |env, dir| {
            let weights = format!("weights:{}", write(&dir.join("weights.txt"), "1\n2\nx\n").display());
            simulate(env, dir, &["--motion", "dihedral", "--states", "3", "--distribution", &weights])
        }),
    ]
}

fn run_folder_cases() -> Vec<Case> {
    /// `dir/run` holding one file of the user's.
    fn used_folder(dir: &Path) -> PathBuf {
        let run = dir.join("run");
        std::fs::create_dir_all(&run).expect("create the folder");
        write(&run.join("notes.txt"), "mine\n");
        run
    }
    vec![
        case("train into a used folder without --force", &["run", "not empty", "--force"], |env, dir| {
            used_folder(dir);
            train_star(env, dir, &env.file("cryodrgn/relion31.star"), &[])
        }),
        case("simulate into a used folder without --force", &["sim", "already exists", "--force"], |env, dir| {
            let setup = simulate(env, dir, &[]);
            std::fs::create_dir_all(&setup.out).expect("create the folder");
            write(&setup.out.join("notes.txt"), "mine\n");
            setup
        }),
        case("--resume on a folder that is not a run", &["cannot resume", "args.json"], |_, dir| {
            let run = used_folder(dir);
            Setup { args: os(&[&"train", &"--quiet", &"--resume", &run]), out: run }
        }),
        case("train --resume on a train-vae run", &["cannot resume", "args.json", "cryorbf train` record"], |env, _| {
            Setup { args: os(&[&"train", &"--quiet", &"--epochs", &"2", &"--resume", &env.vae_run]), out: env.vae_run.clone() }
        }),
        case("decode on a homogeneous run", &["homogeneous run", "train-vae"], |env, dir| {
            let out = dir.join("decoded.pdb");
            Setup { args: os(&[&"decode", &env.homogeneous_run, &"--z", &"0", &"--out", &out]), out }
        }),
        case("analyze on a folder that is not a run", &["run", "not a run folder", "vae.json"], |_, dir| {
            let run = used_folder(dir);
            let out = dir.join("analysis");
            Setup { args: os(&[&"analyze", &run, &"-o", &out]), out }
        }),
        case("decode --z with a word", &["--z", "\"abc\" is not a number"], |env, dir| {
            let out = dir.join("decoded.pdb");
            Setup { args: os(&[&"decode", &env.vae_run, &"--z", &"0,abc", &"--out", &out]), out }
        }),
        case("decode --z NaN", &["latent 1", "not finite"], |env, dir| {
            let out = dir.join("decoded.pdb");
            Setup { args: os(&[&"decode", &env.vae_run, &"--z", &"nan", &"--out", &out]), out }
        }),
        case("decode into an unknown format", &["decoded.xyz", ".pdb or .cif"], |env, dir| {
            let out = dir.join("decoded.xyz");
            Setup { args: os(&[&"decode", &env.vae_run, &"--z", &"-0.5", &"--out", &out]), out }
        }),
        case("decode --z file of the wrong width", &["z2.npy", "2 values per row", "latent dimension is 1"], |env, dir| {
            let z = npy(&dir.join("z2.npy"), "<f4", "(2, 2)", &f32_bytes(&[0.0, 0.1, 0.2, 0.3]));
            let out = dir.join("decoded.pdb");
            Setup { args: os(&[&"decode", &env.vae_run, &"--z", &z, &"--out", &out]), out }
        }),
        case("decode --z file truncated", &["short.npy", "truncated"], |env, dir| {
            let z = npy(&dir.join("short.npy"), "<f4", "(5, 1)", &f32_bytes(&[0.0, 0.1]));
            let out = dir.join("decoded.pdb");
            Setup { args: os(&[&"decode", &env.vae_run, &"--z", &z, &"--out", &out]), out }
        }),
        case("analyze a run whose z.npy has the wrong width", &["z.npy", "2 columns", "latent dimension is 1"], |env, dir| {
            let run = vae_copy_with_z(env, dir, "(5, 2)", &[0.0; 10]);
            let out = dir.join("analysis");
            Setup { args: os(&[&"analyze", &run, &"--no-truth", &"-o", &out]), out }
        }),
        case("analyze a run whose z.npy disagrees with the truth's length", &["z.npy", "against the truth", "5 particles", "has 3"], |env, dir| {
            let run = vae_copy_with_z(env, dir, "(3, 1)", &[-0.5, -0.4, -0.3]);
            let truth = dir.join("truth");
            std::fs::create_dir_all(&truth).expect("create the truth folder");
            std::fs::copy(env.vae_run.join("model.pdb"), truth.join("truth.pdb")).expect("copy the structure");
            npy(&truth.join("states.npy"), "<i8", "(5,)", &[0u8; 5 * 8]);
            write(&truth.join("simulation.json"), r#"{"reaction_coordinates": [0.0]}"#);
            let out = dir.join("analysis");
            Setup { args: os(&[&"analyze", &run, &"--truth", &truth, &"-o", &out]), out }
        }),
    ]
}

/// Every file under `dir` (relative) with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap_or_default();
                files.push((path.strip_prefix(dir).unwrap_or(&path).to_path_buf(), bytes));
            }
        }
    }
    files.sort();
    files
}

/// Run `cryorbf` and fail the test with its output unless it succeeds.
fn run_ok(args: &[OsString]) {
    let output = cryorbf().args(args).output().expect("the binary runs");
    assert!(output.status.success(), "{args:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
}

/// The two real run folders: `train` and `train-vae` on the five relion31 particles. These are
/// also the controls: the unmutated files train without error.
fn make_runs(env_dir: &Path, data: &Path, reference: &Path) -> (PathBuf, PathBuf) {
    let probe = Env { data: data.to_path_buf(), reference: reference.to_path_buf(), homogeneous_run: PathBuf::new(), vae_run: PathBuf::new() };
    let star = data.join("cryodrgn/relion31.star");
    let homogeneous = train(&probe, &env_dir.join("homogeneous"), &star, &[]);
    run_ok(&homogeneous.args);
    let vae = train_vae(&probe, &env_dir.join("vae"), &star, &[]);
    run_ok(&vae.args);
    assert!(vae.out.join("z.npy").is_file() && homogeneous.out.join("model.pdb").is_file());
    (homogeneous.out, vae.out)
}

#[test]
fn every_bad_input_is_refused_by_name_without_a_panic_or_output() {
    let Some(data) = rbf_io::testdata::test_data_dir() else {
        println!("skipped: test data not found");
        return;
    };
    let scratch = tempfile::tempdir().expect("temporary folder");
    let reference = data.join("structures/5ni1_updated.cif");
    let started = Instant::now();
    let (homogeneous_run, vae_run) = make_runs(scratch.path(), &data, &reference);
    let env = Env { data, reference, homogeneous_run, vae_run };
    let runs_took = started.elapsed();
    let runs_before = (snapshot(&env.homogeneous_run), snapshot(&env.vae_run));

    let cases: Vec<Case> =
        [structure_cases(), mrc_cases(), star_cases(), cs_cases(), argument_cases(), run_folder_cases()].into_iter().flatten().collect();
    let mut failures = Vec::new();
    for (k, case) in cases.iter().enumerate() {
        let dir = scratch.path().join(format!("case{k:02}"));
        std::fs::create_dir_all(&dir).expect("create the case folder");
        let setup = (case.setup)(&env, &dir);
        let before = setup.out.exists().then(|| snapshot(&setup.out));
        let output = cryorbf().args(&setup.args).output().expect("the binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut problems = Vec::new();
        match output.status.code() {
            Some(0) => problems.push("it succeeded".to_string()),
            None => problems.push(format!("it was killed ({:?})", output.status)),
            Some(_) => {}
        }
        if stderr.contains("panicked") {
            problems.push("it panicked".into());
        }
        for word in &case.expect {
            if !stderr.contains(word.as_str()) {
                problems.push(format!("stderr lacks {word:?}"));
            }
        }
        match before {
            Some(before) if before != snapshot(&setup.out) => problems.push(format!("{} changed", setup.out.display())),
            None if setup.out.exists() => problems.push(format!("{} was written", setup.out.display())),
            _ => {}
        }
        println!("{:<60} {}", case.name, stderr.trim().replace('\n', " | "));
        if !problems.is_empty() {
            failures.push(format!("{} ({}): {}\n  args: {:?}\n  stderr: {}", case.name, k, problems.join("; "), setup.args, stderr.trim()));
        }
    }
    assert_eq!(runs_before, (snapshot(&env.homogeneous_run), snapshot(&env.vae_run)), "a case changed the shared run folders");
    println!("{} bad inputs in {:.1} s (the two runs they use: {:.1} s)", cases.len(), started.elapsed().as_secs_f64(), runs_took.as_secs_f64());
    assert!(cases.len() >= 30, "the catalogue has {} cases", cases.len());
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
