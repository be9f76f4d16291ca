//! The reference's frame and the standard preprocessing, as a user meets them: `--map` places a
//! reference by its map's header, the placement is checked against the particles (a warning
//! when the reference is far off them), and `--normalize`, `--lowpass`, `--mask` are applied to
//! simulated particles and refused with bad values.
use std::path::Path;
use std::process::{Command, Output};

use rbf_model::{ChainSelection, CoarseModel, Structure};
use rbf_sim::SimulationConfig;
use rbf_train::data::{FileParticles, ParticleSource};
use rbf_train::preprocess::{BACKGROUND_DIAMETER, Preprocessed, Preprocessing};

const BOX: usize = 96;
const PIXEL_SIZE: f64 = 1.5;

/// 48 images of 5NI1 chain A at 1.5 Å/pixel in a 96-pixel box, SNR 1.
fn simulate(structure: &Path, out: &Path) -> [f64; 3] {
    let config = SimulationConfig {
        structure: structure.to_path_buf(),
        chains: vec!["A".into()],
        out_dir: out.to_path_buf(),
        n_images: 48,
        box_size: BOX,
        pixel_size: PIXEL_SIZE,
        max_shift: 2.0,
        snr: 1.0,
        snr_sample: 48,
        seed: 11,
        ..SimulationConfig::default()
    };
    rbf_sim::simulate(&config, &burn::prelude::Device::flex(), |_| {}).unwrap();
    let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("simulation.json")).unwrap()).unwrap();
    std::array::from_fn(|k| record["translation"][k].as_f64().unwrap())
}

/// `cryorbf <command> --epochs 0 --warmup-epochs 0` on the particles: the run writes the start
/// (the placed reference) as model.pdb.
fn start_run(command: &str, structure: &Path, particles: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cryorbf"))
        .args([command, "--chain", "A", "--epochs", "0", "--warmup-epochs", "0", "--particles"])
        .arg(particles)
        .arg("--reference")
        .arg(structure)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The CA coordinates of a PDB file, in order.
fn ca_of_pdb(path: &Path) -> Vec<[f64; 3]> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("ATOM") && l[12..16].trim() == "CA")
        .map(|l| std::array::from_fn(|k| l[30 + 8 * k..38 + 8 * k].trim().parse().unwrap()))
        .collect()
}

#[test]
fn a_map_places_the_reference_and_a_reference_far_off_the_particles_is_warned_of() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().unwrap();
    let particles = dir.path().join("sim");
    let translation = simulate(&structure, &particles);

    // The reference's Cα in its file's frame.
    let model = CoarseModel::from_structure(&Structure::read(&structure, &ChainSelection::Chains(vec!["A".into()])).unwrap()).unwrap();
    let file_ca = model.ca_positions(&model.centers);

    // A map of another box (80 voxels of 1.5 Å) whose box center is 3 Å off the simulator's
    // placement along each axis, its origin on quarter-Å values (exact in the header's f32).
    let center: [f64; 3] = std::array::from_fn(|k| (-translation[k] * 4.0).round() / 4.0 + 3.0);
    let origin = center.map(|c| c - 40.0 * PIXEL_SIZE);
    let map = dir.path().join("consensus.mrc");
    rbf_io::mrc::write_volume_at(&map, &vec![0.0; 80 * 80 * 80], 80, PIXEL_SIZE, origin).unwrap();
    let run = dir.path().join("by_map");
    let out = start_run("train", &structure, &particles, &run, &["--map", map.to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("placed by the frame of {}", map.display())), "{stdout}");
    assert!(!stderr.contains("warning"), "3 Å off the particles is no cause for a warning: {stderr}");
    let placed = ca_of_pdb(&run.join("model.pdb"));
    assert_eq!(placed.len(), file_ca.len());
    for (p, f) in placed.iter().zip(&file_ca) {
        for k in 0..3 {
            assert!((p[k] - (f[k] - center[k])).abs() < 1.5e-3, "placed {p:?}, in the file {f:?}, map center {center:?}");
        }
    }
    let args = std::fs::read_to_string(run.join("args.json")).unwrap();
    assert!(args.contains("consensus.mrc"), "--map is saved for --resume: {args}");

    // The simulator's own placement is not warned of; 40 Å off it (more than a quarter of the
    // 144 Å box) is, naming both positions.
    let out = start_run("train", &structure, &particles, &dir.path().join("recorded"), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("warning"), "{}", text(&out.stderr));
    let far: Vec<String> = translation.iter().zip([40.0, 0.0, 0.0]).map(|(t, d)| (t + d).to_string()).collect();
    let out = start_run("train", &structure, &particles, &dir.path().join("far"), &["--reference-shift", &far.join(",")]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "a warning, not an error: {stderr}");
    assert!(
        stderr.contains("warning: the reference's Cα centroid, (40.") && stderr.contains("--map") && stderr.contains("--reference-shift"),
        "{stderr}"
    );

    // --map and --reference-shift exclude each other.
    let out = start_run("train", &structure, &particles, &dir.path().join("both"), &["--map", map.to_str().unwrap(), "--reference-shift", "0,0,0"]);
    assert!(!out.status.success() && text(&out.stderr).contains("cannot be used with"), "{}", text(&out.stderr));
}

#[test]
fn preprocessing_normalizes_simulated_particles_and_refuses_bad_values() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().unwrap();
    let particles = dir.path().join("sim");
    simulate(&structure, &particles);

    // Every normalized image has a background of mean 0 and standard deviation 1.
    let table = rbf_io::ParticleTable::from_star(&particles.join("particles.star"), None).unwrap();
    let options = Preprocessing { normalize: true, ..Preprocessing::default() };
    let data = Preprocessed::new(FileParticles::new(&table).unwrap(), options).unwrap();
    let center = (BOX / 2) as f64;
    let background: Vec<usize> =
        (0..BOX * BOX).filter(|&p| ((p / BOX) as f64 - center).hypot((p % BOX) as f64 - center) > BACKGROUND_DIAMETER * BOX as f64 / 2.0).collect();
    let mut image = vec![0.0; BOX * BOX];
    for i in 0..data.len() {
        data.read_image(i, &mut image).unwrap();
        let values: Vec<f64> = background.iter().map(|&p| f64::from(image[p])).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt();
        assert!(mean.abs() < 1e-4 && (std - 1.0).abs() < 1e-4, "particle {i}: mean {mean}, std {std}");
        let middle: Vec<f64> = (0..BOX * BOX).filter(|&p| ((p / BOX) as f64 - center).hypot((p % BOX) as f64 - center) < 6.0).map(|p| f64::from(image[p])).collect();
        let signal = middle.iter().sum::<f64>() / middle.len() as f64;
        assert!(signal > 0.5, "particle {i}: the particle is white, in units of the noise: {signal}");
    }

    // The options reach training (train and train-vae share them) and are saved for --resume.
    let run = dir.path().join("preprocessed");
    let out = start_run("train", &structure, &particles, &run, &["--normalize", "--lowpass", "8", "--mask", "60"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("images normalized, low-pass 8 Å, mask 60 Å"), "{}", text(&out.stdout));
    let args: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("args.json")).unwrap()).unwrap();
    assert_eq!((args["normalize"].as_bool(), args["lowpass"].as_f64(), args["mask"].as_f64()), (Some(true), Some(8.0), Some(60.0)));
    let help = text(&Command::new(env!("CARGO_BIN_EXE_cryorbf")).args(["train-vae", "--help"]).output().unwrap().stdout);
    assert!(["--map", "--normalize", "--lowpass", "--mask"].iter().all(|o| help.contains(o)), "{help}");

    for (option, value, message) in [("--mask", "0", "mask radius 0 Å"), ("--mask", "75", "mask radius 75 Å"), ("--lowpass", "2.5", "low-pass 2.5 Å")] {
        let out = start_run("train", &structure, &particles, &dir.path().join("refused"), &[option, value]);
        assert!(!out.status.success(), "{option} {value}");
        assert!(text(&out.stderr).contains(message), "{option} {value}: {}", text(&out.stderr));
    }
}
