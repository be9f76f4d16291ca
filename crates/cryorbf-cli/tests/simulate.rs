//! `cryorbf simulate`, run as a user runs it.
use std::process::{Command, Output};

fn cryorbf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cryorbf")).args(args).output().expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_documents_the_options() {
    let out = cryorbf(&["simulate", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for option in ["--structure", "--out", "--snr", "--ctf", "--motion", "--distribution", "--atoms", "--max-shift", "--seed", "--force"] {
        assert!(text.contains(option), "--help lacks {option}:\n{text}");
    }
    assert!(text.contains("[default: 50000]") && text.contains("[default: 128]") && text.contains("[default: 0.1]"), "{text}");
}

#[test]
fn missing_structure_and_bad_settings_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let out = out_dir.to_str().expect("utf-8");
    let missing = dir.path().join("nothing_here.cif");
    let result = cryorbf(&["simulate", "--structure", missing.to_str().expect("utf-8"), "--out", out, "-n", "2"]);
    assert!(!result.status.success());
    assert!(stderr(&result).contains("nothing_here.cif") && stderr(&result).contains("no such file"), "{}", stderr(&result));
    assert!(!stderr(&result).contains("panicked"));

    let result = cryorbf(&["simulate", "--structure", missing.to_str().expect("utf-8"), "--out", out, "--snr", "-0.5"]);
    assert!(!result.status.success());
    assert!(stderr(&result).contains("SNR") && stderr(&result).contains("-0.5"), "{}", stderr(&result));
    let result = cryorbf(&["simulate", "--structure", missing.to_str().expect("utf-8"), "--out", out, "--snr", "abc"]);
    assert!(!result.status.success() && stderr(&result).contains("--snr"), "{}", stderr(&result));
    let result = cryorbf(&["simulate", "--structure", missing.to_str().expect("utf-8"), "--out", out, "--distribution", "bumpy"]);
    assert!(!result.status.success() && stderr(&result).contains("bumpy"), "{}", stderr(&result));
    assert!(!out_dir.exists());
}

#[test]
fn simulate_5ni1_then_refuse_a_full_folder() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("sim");
    let out = out_dir.to_str().expect("utf-8");
    let s = structure.to_str().expect("utf-8");
    let args = ["simulate", "--structure", s, "--chain", "A", "--out", out, "-n", "12", "--box", "96", "--atoms", "ca", "--ctf", "--motion", "dihedral", "--states", "4", "-q"];
    let result = cryorbf(&args);
    assert!(result.status.success(), "{}", stderr(&result));
    let table = rbf_io::ParticleTable::from_star(out_dir.join("particles.star"), None).expect("STAR reads");
    assert_eq!(table.len(), 12);
    assert_eq!(table.open_images().expect("stack").image_shape(), (96, 96));
    let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("simulation.json")).expect("json")).expect("parses");
    assert_eq!(record["config"]["n_images"], 12);
    assert_eq!(record["n_states"], 4);

    let again = cryorbf(&args);
    assert!(!again.status.success() && stderr(&again).contains("already exists") && stderr(&again).contains("--force"), "{}", stderr(&again));
    let forced: Vec<&str> = args.iter().copied().chain(["--force"]).collect();
    assert!(cryorbf(&forced).status.success());
}
