//! `cryorbf train` as a user runs it: on a small simulated dataset of 5NI1, from a noisy start,
//! with a truth, then refused into a used folder, then resumed for more epochs.
use std::path::Path;
use std::process::Command;

use rbf_sim::SimulationConfig;

fn cryorbf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryorbf"))
}

/// 160 images of 5NI1 chain A at 1.5 Å/pixel in a 64-pixel box, SNR 1.
fn simulate(structure: &Path, out: &Path) {
    let config = SimulationConfig {
        structure: structure.to_path_buf(),
        chains: vec!["A".into()],
        out_dir: out.to_path_buf(),
        n_images: 160,
        box_size: 64,
        pixel_size: 1.5,
        max_shift: 2.0,
        snr: 1.0,
        seed: 3,
        ..SimulationConfig::default()
    };
    rbf_sim::simulate(&config, &burn::prelude::Device::flex(), |_| {}).unwrap();
}

fn metrics(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn train_a_simulated_dataset_refuse_a_used_folder_and_resume() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().unwrap();
    let particles = dir.path().join("sim");
    simulate(&structure, &particles);
    let run = dir.path().join("run");
    let train = |extra: &[&str]| {
        let mut cmd = cryorbf();
        cmd.args(["train", "--chain", "A", "--init", "noise:2", "--epochs", "2", "--lr", "0.02", "--lr-units", "angstrom", "--quiet", "--particles"])
            .arg(&particles)
            .arg("--reference")
            .arg(&structure)
            .arg("--truth")
            .arg(&particles)
            .args(extra);
        cmd
    };
    let out = train(&["--out", run.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for file in ["model.pdb", "model.cif", "volume.mrc", "log.jsonl", "metrics.json", "args.json", "checkpoint/state.json"] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let m = metrics(&run);
    let (initial, last) = (m["initial"]["ca_rmse"].as_f64().unwrap(), m["final_accuracy"]["ca_rmse"].as_f64().unwrap());
    assert!(initial > 1.5, "noise:2 start: {initial}");
    assert!(last < initial, "training improves the start: {initial} → {last}");
    assert!(m["final_accuracy"]["volume_nmse"].as_f64().unwrap() < 1.0, "{m}");

    // The used folder is refused, and nothing in it changes.
    let before = std::fs::read(run.join("model.pdb")).unwrap();
    let out = train(&["--out", run.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not empty") && err.contains(run.to_str().unwrap()), "{err}");
    assert_eq!(before, std::fs::read(run.join("model.pdb")).unwrap());

    // --resume continues with the saved settings for one more epoch.
    let out = cryorbf().args(["train", "--quiet", "--epochs", "3", "--resume"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = std::fs::read_to_string(run.join("log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 4, "1 warm-up + 3 epochs:\n{log}");
    assert_eq!(metrics(&run)["epochs"], 4);
}

#[test]
fn train_names_a_missing_reference() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().unwrap();
    let particles = dir.path().join("sim");
    simulate(&structure, &particles);
    let missing = dir.path().join("no_such.pdb");
    let run = dir.path().join("run");
    let out = cryorbf().args(["train", "--quiet", "--particles"]).arg(&particles).arg("--reference").arg(&missing).arg("--out").arg(&run).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no_such.pdb"), "{err}");
    assert!(!run.exists(), "nothing written");
    let out = cryorbf().args(["train", "--quiet", "--init", "sideways:3", "--particles"]).arg(&particles).arg("--reference").arg(&structure).arg("--out").arg(&run).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("sideways:3"), "{err}");
    assert!(!run.exists(), "nothing written");
}

#[test]
fn train_vae_resume_decode_and_analyze_a_simulated_motion() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().unwrap();
    let particles = dir.path().join("motion");
    let config = SimulationConfig {
        structure: structure.clone(),
        chains: vec!["A".into()],
        out_dir: particles.clone(),
        atoms: rbf_sim::AtomSelection::Ca,
        n_images: 96,
        box_size: 64,
        pixel_size: 1.5,
        max_shift: 2.0,
        snr: 1.0,
        motion: Some(rbf_sim::Motion::Dihedral(rbf_sim::DihedralMotion { states: 4, ..Default::default() })),
        seed: 4,
        ..SimulationConfig::default()
    };
    rbf_sim::simulate(&config, &burn::prelude::Device::flex(), |_| {}).unwrap();
    let run = dir.path().join("vae");
    let out = cryorbf()
        .args(["train-vae", "--quiet", "--chain", "A", "--epochs", "1", "--width", "32", "--layers", "1", "--lr", "1e-3", "--particles"])
        .arg(&particles)
        .arg("--reference")
        .arg(&structure)
        .arg("--truth")
        .arg(&particles)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = cryorbf().args(["train-vae", "--quiet", "--epochs", "2", "--resume"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(run.join("log.jsonl")).unwrap().lines().count(), 3, "1 warm-up + 2 epochs");
    let z = std::fs::read(run.join("z.npy")).unwrap();
    let header = z.len() - 96 * 4;
    assert!(z.starts_with(b"\x93NUMPY") && header >= 64 && header % 64 == 0, "one float32 latent per particle after a .npy header ({} bytes)", z.len());

    let decoded = dir.path().join("three.pdb");
    let out = cryorbf().args(["decode", "--z", "-1,0,1", "--out"]).arg(&decoded).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&decoded).unwrap();
    assert_eq!(text.matches("\nMODEL").count() + usize::from(text.starts_with("MODEL")), 3, "three models");

    let analysis = dir.path().join("analysis");
    let out = cryorbf().args(["analyze", "-o"]).arg(&analysis).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for file in ["latent_histogram.png", "latent_vs_truth.png", "rmse_per_state.png", "rmse_per_state.md", "trajectory.pdb"] {
        assert!(analysis.join(file).is_file(), "{file} missing");
    }
}
