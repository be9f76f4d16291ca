//! `cryorbf train --ctf`: on a simulation with a CTF, `auto` (the default) models it and training
//! improves a noisy start; `--ctf on` is refused for particles without CTF parameters.
use std::path::Path;
use std::process::Command;

use rbf_sim::{CtfRange, SimulationConfig};

/// 48 images of 5NI1 chain A at 1.5 Å/pixel in a 64-pixel box, SNR 1, with or without a CTF.
fn simulate(structure: &Path, out: &Path, ctf: bool) {
    let config = SimulationConfig {
        structure: structure.to_path_buf(),
        chains: vec!["A".into()],
        out_dir: out.to_path_buf(),
        n_images: 48,
        box_size: 64,
        pixel_size: 1.5,
        max_shift: 2.0,
        ctf: ctf.then(|| CtfRange { defocus_min: 5_000.0, defocus_max: 15_000.0, ..CtfRange::default() }),
        snr: 1.0,
        snr_sample: 48,
        seed: 4,
        ..SimulationConfig::default()
    };
    rbf_sim::simulate(&config, &burn::prelude::Device::flex(), |_| {}).unwrap();
}

fn train(structure: &Path, particles: &Path, out: &Path, epochs: u32, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cryorbf"))
        .args(["train", "--chain", "A", "--init", "noise:2", "--lr", "0.02", "--lr-units", "angstrom", "--epochs", &epochs.to_string(), "--particles"])
        .arg(particles)
        .arg("--reference")
        .arg(structure)
        .arg("--truth")
        .arg(particles)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn ctf_auto_models_a_simulated_ctf_and_on_needs_ctf_parameters() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().unwrap();
    let with_ctf = dir.path().join("sim_ctf");
    simulate(&structure, &with_ctf, true);
    let run = dir.path().join("run");
    let out = train(&structure, &with_ctf, &run, 2, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("CTF on"), "{stdout}");
    let metrics: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let (initial, last) = (metrics["initial"]["ca_rmse"].as_f64().unwrap(), metrics["final_accuracy"]["ca_rmse"].as_f64().unwrap());
    assert!(last < initial, "training with the CTF improves the start: {initial} → {last}");
    let args = std::fs::read_to_string(run.join("args.json")).unwrap();
    assert!(args.contains(r#""ctf": "auto""#), "{args}");

    let plain = dir.path().join("sim_plain");
    simulate(&structure, &plain, false);
    let out = train(&structure, &plain, &dir.path().join("refused"), 2, &["--ctf", "on"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no CTF parameters"), "{err}");
    let out = train(&structure, &plain, &dir.path().join("plain"), 0, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CTF off"), "auto without CTF columns");
}
