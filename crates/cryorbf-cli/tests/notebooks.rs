//! The analysis notebooks in `notebooks/` run headless on real run folders: a tiny homogeneous
//! run, and a tiny `train-vae` run on a simulated motion with `cryorbf analyze` beside it. Each
//! notebook must execute without error and save its figures.
//!
//! They need python3 with nbconvert, nbclient, ipykernel, numpy and matplotlib
//! (`python3 -m pip install nbconvert nbclient ipykernel numpy matplotlib`); without them the test
//! fails when `CRYORBF_REQUIRE_DATA=1` (as in CI) and is skipped otherwise.
use std::path::{Path, PathBuf};
use std::process::Command;

use rbf_sim::SimulationConfig;

const PYTHON_MODULES: &str = "nbconvert, nbclient, ipykernel, numpy, matplotlib";

fn cryorbf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryorbf"))
}

/// Whether python3 can import what the notebooks need; `false` (after saying so) when it cannot
/// and the tools are not required.
///
/// # Panics
/// When they are missing and `CRYORBF_REQUIRE_DATA=1`.
fn python_ready() -> bool {
    let check = Command::new("python3").args(["-c", &format!("import {PYTHON_MODULES}")]).output();
    let problem = match check {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
        Err(e) => format!("python3: {e}"),
    };
    let message = format!("skipped: the notebooks need python3 with {PYTHON_MODULES} ({problem})");
    assert!(!std::env::var("CRYORBF_REQUIRE_DATA").is_ok_and(|v| v == "1"), "{message}");
    println!("{message}");
    false
}

fn notebook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notebooks").join(name)
}

fn succeed(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// Execute `name` on `run` (and `cryorbf analyze`'s folder, if given) and check that it saved every
/// figure in `figures` as a PNG file.
fn execute(name: &str, run: &Path, analysis: Option<&Path>, work: &Path, figures: &[&str]) {
    let out_dir = work.join(format!("{name}.figures"));
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=300", "--output-dir"])
        .arg(work)
        .arg(notebook(name))
        .env("CRYORBF_RUN", run)
        .env("CRYORBF_FIGURES", &out_dir)
        .env("MPLCONFIGDIR", work.join("mpl"));
    if let Some(dir) = analysis {
        cmd.env("CRYORBF_ANALYSIS", dir);
    }
    succeed(&mut cmd);
    assert!(work.join(name).is_file(), "the executed notebook is written");
    for figure in figures {
        let path = out_dir.join(format!("{figure}.png"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name} did not save {}: {e}", path.display()));
        assert!(bytes.len() > 1000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG figure ({} bytes)", path.display(), bytes.len());
    }
}

#[test]
fn the_notebooks_explore_a_homogeneous_and_a_heterogeneous_run() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    if !python_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = SimulationConfig {
        structure: structure.clone(),
        chains: vec!["A".into()],
        atoms: rbf_sim::AtomSelection::Ca,
        n_images: 48,
        box_size: 48,
        pixel_size: 2.0,
        max_shift: 2.0,
        snr: 1.0,
        ..SimulationConfig::default()
    };
    let common = |cmd: &mut Command, particles: &Path| {
        cmd.args(["--quiet", "--chain", "A", "--epochs", "1", "--particles"]).arg(particles).arg("--reference").arg(&structure).arg("--truth").arg(particles);
    };

    let particles = dir.path().join("sim");
    rbf_sim::simulate(&SimulationConfig { out_dir: particles.clone(), seed: 5, ..base.clone() }, &burn::prelude::Device::flex(), |_| {}).unwrap();
    let run = dir.path().join("run1");
    let mut cmd = cryorbf();
    cmd.args(["train", "--init", "noise:2", "--lr", "0.02", "--lr-units", "angstrom"]);
    common(&mut cmd, &particles);
    succeed(cmd.arg("--out").arg(&run));
    execute(
        "analyze_homogeneous.ipynb",
        &run,
        None,
        dir.path(),
        &["loss_curves", "sigma_amplitude", "accuracy", "ca_trace", "ca_distance", "volume_slices"],
    );

    let motion = dir.path().join("motion");
    let config = SimulationConfig {
        out_dir: motion.clone(),
        motion: Some(rbf_sim::Motion::Dihedral(rbf_sim::DihedralMotion { states: 4, ..Default::default() })),
        seed: 6,
        ..base
    };
    rbf_sim::simulate(&config, &burn::prelude::Device::flex(), |_| {}).unwrap();
    let vae = dir.path().join("vae1");
    let mut cmd = cryorbf();
    cmd.args(["train-vae", "--width", "32", "--layers", "1", "--lr", "1e-3"]);
    common(&mut cmd, &motion);
    succeed(cmd.arg("--out").arg(&vae));
    let analysis = dir.path().join("analysis");
    succeed(cryorbf().args(["analyze", "-o"]).arg(&analysis).arg(&vae));
    execute(
        "analyze_heterogeneous.ipynb",
        &vae,
        Some(&analysis),
        dir.path(),
        &["loss_curves", "sigma_amplitude", "accuracy", "latent_histogram", "latent_vs_truth", "trajectory", "rmse_per_state"],
    );
}
