//! End-to-end: simulate datasets, read them back with the project's own readers, and check the
//! images, poses, CTF, noise level, motion and reproducibility.
use std::path::{Path, PathBuf};

use burn::prelude::Device;
use rbf_io::ParticleTable;
use rbf_io::star::StarFile;
use rbf_model::{ChainSelection, ImageGrid, Structure};
use rbf_sim::all_atom::{ResidueKind, SimAtom};
use rbf_sim::simulate::{REACTION_COORDINATE_COLUMN, STATE_COLUMN};
use rbf_sim::{
    AtomSelection, CtfRange, DihedralAngle, DihedralMotion, Distribution, GroundTruth, Motion, ParticleParams, Renderer, SimError,
    SimulationConfig, simulate,
};

fn cpu() -> Device {
    Device::flex()
}

/// Chain A of 5NI1 (skipped without the test data).
fn structure() -> Option<PathBuf> {
    rbf_io::testdata::require("structures/5ni1_updated.cif")
}

fn base_config(structure: PathBuf, out_dir: PathBuf) -> SimulationConfig {
    SimulationConfig {
        structure,
        chains: vec!["A".into()],
        out_dir,
        atoms: AtomSelection::Ca,
        n_images: 40,
        box_size: 96,
        pixel_size: 1.0,
        max_shift: 5.0,
        chunk_size: 16,
        snr_sample: 200,
        seed: 5,
        ..SimulationConfig::default()
    }
}

/// The images of a particle table, `[n, D, D]`.
fn read_images(table: &ParticleTable) -> Vec<f32> {
    let images = table.open_images().expect("stack opens");
    let (ny, nx) = images.image_shape();
    let mut all = vec![0.0f32; images.len() * ny * nx];
    for (k, out) in all.chunks_exact_mut(ny * nx).enumerate() {
        images.read(k, out).expect("image reads");
    }
    all
}

/// Integer column of the particle block.
fn star_column(path: &Path, column: &str) -> Vec<f64> {
    let star = StarFile::read(path).expect("star reads");
    let table = star.table("particles").expect("particles block");
    (0..table.len()).map(|r| table.f64(r, column).expect("number").expect("value present")).collect()
}

/// Poses, states and CTFs as read back from the STAR file.
fn read_back_params(table: &ParticleTable, states: &[usize]) -> Vec<ParticleParams> {
    table
        .particles
        .iter()
        .zip(states)
        .map(|(p, &state)| {
            let pose = p.pose.expect("pose");
            ParticleParams { rotation: pose.rotation, shift: pose.shift, state, ctf: p.ctf }
        })
        .collect()
}

fn variance(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = values.clone().count() as f64;
    let mean = values.clone().sum::<f64>() / n;
    values.map(|v| (v - mean).powi(2)).sum::<f64>() / n
}

/// The crucial check: what the simulator writes, the project's readers read back, and rendering
/// the ground truth again at the read-back poses, states and CTFs reproduces the stored images.
#[test]
fn star_and_stack_round_trip_through_the_readers() {
    let Some(structure) = structure() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("sim");
    let config = SimulationConfig {
        atoms: AtomSelection::All,
        n_images: 30,
        noise: false,
        ctf: Some(CtfRange::default()),
        motion: Some(Motion::Dihedral(DihedralMotion { states: 5, total: 0.6, ..DihedralMotion::default() })),
        ..base_config(structure, out.clone())
    };
    let summary = simulate(&config, &cpu(), |_| {}).expect("simulation runs");
    for f in &summary.files {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("list").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("sim")], "no staging folder is left behind");

    let star = out.join("particles.star");
    let table = ParticleTable::from_star(&star, None).expect("STAR reads");
    table.require_poses().expect("poses");
    table.require_ctf().expect("CTF");
    assert_eq!(table.len(), 30);
    for p in &table.particles {
        assert_eq!((p.pixel_size, p.box_size), (Some(1.0), Some(96)));
        let pose = p.pose.as_ref().expect("pose");
        assert!(pose.shift.iter().all(|t| t.abs() <= 5.0), "{:?}", pose.shift);
        let ctf = p.ctf.as_ref().expect("ctf");
        assert!((10_000.0..=25_000.0).contains(&ctf.defocus_u) && (10_000.0..=25_000.0).contains(&ctf.defocus_v));
        assert_eq!((ctf.voltage, ctf.spherical_aberration, ctf.amplitude_contrast), (300.0, 2.7, 0.1));
    }
    let stored = read_images(&table);
    let stack = rbf_io::mrc::MrcStack::open(out.join("particles.mrcs")).expect("stack");
    assert_eq!(stack.pixel_size(), Some(1.0));

    // States from the extra STAR columns agree with states.npy and reaction_coordinates.npy.
    let states: Vec<usize> = star_column(&star, STATE_COLUMN).iter().map(|&s| s as usize).collect();
    let coordinates = star_column(&star, REACTION_COORDINATE_COLUMN);
    let npy_states: Vec<i64> = npyz::NpyFile::new(&std::fs::read(out.join("states.npy")).expect("npy")[..])
        .expect("npy header")
        .into_vec()
        .expect("npy data");
    let npy_coordinates: Vec<f64> = npyz::NpyFile::new(&std::fs::read(out.join("reaction_coordinates.npy")).expect("npy")[..])
        .expect("npy header")
        .into_vec()
        .expect("npy data");
    assert_eq!(npy_states, states.iter().map(|&s| s as i64).collect::<Vec<_>>());
    for ((&s, &x), &y) in states.iter().zip(&coordinates).zip(&npy_coordinates) {
        assert!((x - 0.6 * s as f64 / 4.0).abs() < 1e-7 && (y - x).abs() < 1e-7);
    }
    assert!(states.contains(&0) && states.contains(&4), "{states:?}");

    // truth.pdb (model 1) is state 0 of the ground truth, in the box frame (Cα centroid at 0).
    let truth = GroundTruth::build(&config).expect("truth");
    let pdb = Structure::read(&out.join("truth.pdb"), &ChainSelection::All).expect("truth.pdb reads");
    let pdb_atoms: Vec<[f64; 3]> = pdb.residues.iter().flat_map(|r| r.atoms.iter().map(|a| a.position)).collect();
    assert_eq!(pdb_atoms.len(), truth.n_atoms());
    for (a, b) in pdb_atoms.iter().zip(&truth.states[0]) {
        assert!((0..3).all(|c| (a[c] - b[c]).abs() < 1e-3), "{a:?} vs {b:?}");
    }
    let cas: Vec<&[f64; 3]> = pdb.residues.iter().filter_map(|r| r.atom("CA")).map(|a| &a.position).collect();
    for c in 0..3 {
        assert!((cas.iter().map(|p| p[c]).sum::<f64>() / cas.len() as f64).abs() < 1e-3);
    }
    let pdb_text = std::fs::read_to_string(out.join("truth.pdb")).expect("text");
    assert_eq!(pdb_text.lines().filter(|l| l.starts_with("MODEL")).count(), 5);

    // Render again from the truth with the read-back poses, states and CTFs.
    let mut renderer = Renderer::new(&truth, ImageGrid::new(96, 1.0).expect("grid"), &cpu());
    let params = read_back_params(&table, &states);
    let rendered = renderer.render(&params).expect("render");
    let scale = rendered.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let worst = stored.iter().zip(&rendered).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-4 * scale, "images differ by {worst} (scale {scale})");

    // The comparison has teeth: without the CTF, or in another state, the images differ.
    let no_ctf: Vec<ParticleParams> = params.iter().map(|p| ParticleParams { ctf: None, ..p.clone() }).collect();
    let plain = renderer.render(&no_ctf[..1]).expect("render");
    assert!(stored.iter().zip(&plain).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max) > 0.1 * scale);
    let other_state = ParticleParams { state: (params[0].state + 2) % 5, ..params[0].clone() };
    let moved = renderer.render(&[other_state]).expect("render");
    assert!(stored.iter().zip(&moved).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max) > 0.01 * scale);
}

/// Each atom's Gaussian integrates to its atomic number: the sum over a clean image without CTF,
/// times the pixel area, is the sum of Z over the selected atoms.
#[test]
fn image_integral_is_the_sum_of_atomic_numbers() {
    let Some(structure) = structure() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    for (atoms, electrons_per_residue) in [(AtomSelection::Ca, 6.0..6.01), (AtomSelection::All, 40.0..70.0)] {
        let config = SimulationConfig { atoms, noise: false, n_images: 3, ..base_config(structure.clone(), dir.path().join("x")) };
        let truth = GroundTruth::build(&config).expect("truth");
        let z: f64 = truth.atoms.iter().map(|a| f64::from(a.atomic_number)).sum();
        assert!(electrons_per_residue.contains(&(z / 141.0)), "{z}");
        let mut renderer = Renderer::new(&truth, ImageGrid::new(96, 0.8).expect("grid"), &cpu());
        let p = ParticleParams { rotation: rbf_io::particles::euler_to_matrix(20.0, 70.0, -40.0), shift: [1.0, -2.0], state: 0, ctf: None };
        let image = renderer.render(&[p]).expect("render");
        let integral: f64 = image.iter().map(|&v| f64::from(v)).sum::<f64>() * 0.8 * 0.8;
        assert!((integral / z - 1.0).abs() < 1e-3, "{integral} vs {z}");
    }
}

/// The noise is scaled so that signal variance / noise variance over the stack is the SNR.
#[test]
fn snr_over_the_stack_matches_the_setting() {
    let Some(structure) = structure() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("noisy");
    let config = SimulationConfig { n_images: 400, snr: 0.1, snr_sample: 2000, chunk_size: 64, ..base_config(structure, out.clone()) };
    let summary = simulate(&config, &cpu(), |_| {}).expect("simulation runs");
    let table = ParticleTable::from_star(out.join("particles.star"), None).expect("STAR reads");
    assert!(table.require_ctf().is_err(), "no CTF columns without --ctf");
    let stored = read_images(&table);
    let truth = GroundTruth::build(&config).expect("truth");
    let mut renderer = Renderer::new(&truth, ImageGrid::new(96, 1.0).expect("grid"), &cpu());
    let clean = renderer.render(&read_back_params(&table, &vec![0; table.len()])).expect("render");
    let signal = variance(clean.iter().map(|&v| f64::from(v)));
    let noise = variance(stored.iter().zip(&clean).map(|(&a, &b)| f64::from(a - b)));
    let snr = signal / noise;
    assert!((snr / 0.1 - 1.0).abs() < 0.04, "SNR over the stack {snr}");
    let recorded = summary.achieved_snr.expect("recorded");
    assert!((recorded / snr - 1.0).abs() < 1e-3, "{recorded} vs {snr}");
    // The noise is Gaussian with the recorded standard deviation: about 4.6% of |n| > 2σ.
    let beyond = stored.iter().zip(&clean).filter(|&(&a, &b)| f64::from(a - b).abs() > 2.0 * summary.noise_std).count();
    assert!((beyond as f64 / stored.len() as f64 - 0.0455).abs() < 0.002);
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["particles.mrcs", "particles.star", "truth.pdb", "states.npy", "reaction_coordinates.npy"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).expect("output file")))
        .collect()
}

/// The same seed gives byte-identical files, whatever the chunk size; another seed does not.
#[test]
fn seeded_runs_are_reproducible() {
    let Some(structure) = structure() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |name: &str, seed: u64, chunk_size: usize| {
        let config = SimulationConfig {
            seed,
            chunk_size,
            n_images: 50,
            ctf: Some(CtfRange::default()),
            motion: Some(Motion::Dihedral(DihedralMotion::default())),
            distribution: Distribution::TwoClusters,
            ..base_config(structure.clone(), dir.path().join(name))
        };
        simulate(&config, &cpu(), |_| {}).expect("simulation runs");
        files_of(&dir.path().join(name))
    };
    let first = run("a", 11, 16);
    let again = run("b", 11, 7);
    let other = run("c", 12, 16);
    for ((name, a), ((_, b), (_, c))) in first.iter().zip(again.iter().zip(&other)) {
        assert!(a == b, "{name} differs between identical runs");
        if name != "truth.pdb" {
            assert!(a != c, "{name} does not depend on the seed");
        }
    }
    // Two clusters: no particle in the middle 60% of the 50 states.
    let states = star_column(&dir.path().join("a/particles.star"), STATE_COLUMN);
    assert!(states.iter().all(|&s| !(10.0..40.0).contains(&s)), "{states:?}");
    assert!(states.iter().any(|&s| s < 10.0) && states.iter().any(|&s| s >= 40.0));
}

/// A ψ motion moves the downstream half of the chain and keeps every bond length.
#[test]
fn dihedral_motion_on_5ni1_keeps_bonds_and_moves_the_tail() {
    let Some(structure) = structure() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let motion = DihedralMotion { residue: Some(70), angle: DihedralAngle::Psi, total: 0.25, states: 50 };
    let config = SimulationConfig { atoms: AtomSelection::All, motion: Some(Motion::Dihedral(motion)), ..base_config(structure, dir.path().join("m")) };
    let truth = GroundTruth::build(&config).expect("truth");
    let site = truth.motion_site.clone().expect("site");
    assert_eq!((site.chain.as_str(), site.residue_number), ("A", 70));
    assert_eq!(truth.reaction_coordinates.len(), 50);
    assert!((truth.reaction_coordinates[49] - 0.25).abs() < 1e-12);
    let (first, last) = (&truth.states[0], &truth.states[49]);
    let d = |p: &[[f64; 3]], i: usize, j: usize| ((0..3).map(|c| (p[i][c] - p[j][c]).powi(2)).sum::<f64>()).sqrt();
    let mut bonds = 0;
    for i in 0..truth.n_atoms() {
        for j in i + 1..(i + 30).min(truth.n_atoms()) {
            if d(first, i, j) < 1.9 {
                bonds += 1;
                assert!((d(first, i, j) - d(last, i, j)).abs() < 1e-9, "bond {i}-{j}");
            }
        }
        let moved = (0..3).any(|c| (first[i][c] - last[i][c]).abs() > 1e-9);
        let a = &truth.atoms[i];
        let downstream = a.residue_number > 70 || (a.residue_number == 70 && matches!(a.name.as_str(), "O" | "OXT"));
        assert_eq!(moved, downstream, "{} {} {}", a.residue_name, a.residue_number, a.name);
    }
    assert!(bonds > truth.n_atoms());
}

/// The rotation convention, end to end: atoms of an asymmetric structure land in the stored
/// images where `(R·μ)_xy + t` puts them, with R and t read back from the STAR file.
#[test]
fn known_atoms_land_where_the_read_back_pose_puts_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let positions = [[10.0, 2.0, 1.0], [-3.0, 7.0, -2.0], [0.0, -8.0, 5.0], [1.0, 1.0, -9.0]];
    let atoms: Vec<SimAtom> = positions
        .iter()
        .enumerate()
        .map(|(i, &p)| SimAtom {
            residue: i,
            chain: "A".into(),
            residue_name: "ALA".into(),
            residue_number: i as isize + 1,
            insertion_code: None,
            name: "CA".into(),
            atomic_number: 6,
            position: [p[0] + 30.0, p[1] - 4.0, p[2] + 11.0],
            kind: ResidueKind::AminoAcid,
        })
        .collect();
    let input = dir.path().join("four.pdb");
    let file_positions: Vec<[f64; 3]> = atoms.iter().map(|a| a.position).collect();
    rbf_sim::pdb::write_models(&input, &atoms, &[file_positions], &[]).expect("write input");
    let out = dir.path().join("pinned");
    let config = SimulationConfig {
        structure: input,
        out_dir: out.clone(),
        atoms: AtomSelection::Ca,
        n_images: 6,
        box_size: 64,
        pixel_size: 0.5,
        max_shift: 4.0,
        noise: false,
        seed: 9,
        ..SimulationConfig::default()
    };
    let summary = simulate(&config, &cpu(), |_| {}).expect("simulation runs");
    let centroid = [2.0, 0.5, -1.25];
    for c in 0..3 {
        assert!((summary.translation[c] + [30.0, -4.0, 11.0][c] + centroid[c]).abs() < 1e-9, "{:?}", summary.translation);
    }
    let table = ParticleTable::from_star(out.join("particles.star"), None).expect("STAR reads");
    let images = read_images(&table);
    let (d, apix) = (64usize, 0.5);
    let mut checked = 0;
    for (k, particle) in table.particles.iter().enumerate() {
        let pose = particle.pose.as_ref().expect("pose");
        let image = &images[k * d * d..(k + 1) * d * d];
        let projected: Vec<[f64; 2]> = positions
            .iter()
            .map(|p| {
                let mu: Vec<f64> = (0..3).map(|c| p[c] - centroid[c]).collect();
                std::array::from_fn(|r| (0..3).map(|c| pose.rotation[r][c] * mu[c]).sum::<f64>() + pose.shift[r])
            })
            .collect();
        for (a, &[x, y]) in projected.iter().enumerate() {
            // Atoms whose projections overlap (closer than the window plus 3σ) are not measured.
            if projected.iter().enumerate().any(|(b, q)| b != a && (q[0] - x).hypot(q[1] - y) < 4.5) {
                continue;
            }
            // Intensity-weighted centroid in a ±2 Å window around the expected position.
            let (j0, i0) = ((x / apix).round() as isize + 32, (y / apix).round() as isize + 32);
            let (mut sum, mut sx, mut sy) = (0.0, 0.0, 0.0);
            for i in i0 - 4..=i0 + 4 {
                for j in j0 - 4..=j0 + 4 {
                    let v = f64::from(image[i as usize * d + j as usize]);
                    sum += v;
                    sx += v * (j - 32) as f64 * apix;
                    sy += v * (i - 32) as f64 * apix;
                }
            }
            assert!(
                (sx / sum - x).abs() < 0.03 && (sy / sum - y).abs() < 0.03,
                "image {k}: expected ({x:.2}, {y:.2}), found ({:.2}, {:.2})",
                sx / sum,
                sy / sum
            );
            checked += 1;
        }
    }
    assert!(checked >= 16, "only {checked} isolated atoms");
}

#[test]
fn output_folder_rules_and_no_partial_output() {
    let Some(structure) = structure() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("busy");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("keep.txt"), "x").expect("write");
    let config = SimulationConfig { n_images: 4, ..base_config(structure, out.clone()) };
    let err = simulate(&config, &cpu(), |_| {}).expect_err("non-empty folder");
    assert!(matches!(err, SimError::OutputExists(_)) && err.to_string().contains("busy") && err.to_string().contains("--force"), "{err}");
    simulate(&SimulationConfig { force: true, ..config.clone() }, &cpu(), |_| {}).expect("--force replaces");
    assert!(out.join("particles.mrcs").is_file() && out.join("keep.txt").is_file());

    // A bad weights file fails before anything is written, naming the file and the line.
    let weights = dir.path().join("weights.txt");
    std::fs::write(&weights, "1\n2\nx\n").expect("write");
    let fresh = dir.path().join("fresh");
    let bad = SimulationConfig {
        out_dir: fresh.clone(),
        motion: Some(Motion::Dihedral(DihedralMotion { states: 3, ..DihedralMotion::default() })),
        distribution: Distribution::Weights(weights),
        ..config.clone()
    };
    let err = simulate(&bad, &cpu(), |_| {}).expect_err("bad weights").to_string();
    assert!(err.contains("weights.txt") && err.contains("line 3"), "{err}");
    assert!(!fresh.exists());
    let names: Vec<String> = std::fs::read_dir(dir.path()).expect("list").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");

    // Settings out of range name the setting; a structure too big for the box names the file.
    let err = simulate(&SimulationConfig { snr: -1.0, out_dir: fresh.clone(), ..config.clone() }, &cpu(), |_| {}).expect_err("bad SNR");
    assert!(err.to_string().contains("SNR") && err.to_string().contains("-1"), "{err}");
    let err = simulate(&SimulationConfig { box_size: 32, out_dir: fresh.clone(), ..config.clone() }, &cpu(), |_| {}).expect_err("too small");
    assert!(err.to_string().contains("5ni1_updated.cif") && err.to_string().contains("half-box"), "{err}");
    let err = simulate(&SimulationConfig { distribution: Distribution::Barrier, out_dir: fresh.clone(), ..config }, &cpu(), |_| {})
        .expect_err("distribution without motion");
    assert!(err.to_string().contains("needs a motion"), "{err}");
    assert!(!fresh.exists());
}
