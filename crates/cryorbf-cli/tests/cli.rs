//! The `cryorbf` binary, run as a user runs it.
use std::path::PathBuf;
use std::process::Command;

fn cryorbf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryorbf"))
}

fn data_dir() -> Option<PathBuf> {
    rbf_io::testdata::test_data_dir()
}

#[test]
fn help_lists_the_subcommands() {
    let out = cryorbf().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["coarse-grain", "render", "simulate", "train", "reproduce", "bench"] {
        assert!(text.contains(sub), "--help does not list {sub}:\n{text}");
    }
    let out = cryorbf().args(["render", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--pixel-size") && text.contains("--device"), "{text}");
}

#[test]
fn coarse_grain_and_render_5ni1() {
    let Some(dir) = data_dir() else { return };
    let out = tempfile::tempdir().unwrap();
    let structure = dir.join("structures/5ni1_updated.cif");
    let model = out.path().join("cg.pdb");
    let status = cryorbf()
        .args(["coarse-grain", "--chain", "A", "--structure"])
        .arg(&structure)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let text = std::fs::read_to_string(&model).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("ATOM") && &l[12..16] == " CA ").count(), 141);

    let volume = out.path().join("vol.mrc");
    let status = cryorbf()
        .args(["render", "--chain", "A", "--box", "64", "--pixel-size", "1.5", "--structure"])
        .arg(&structure)
        .arg("--out")
        .arg(&volume)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let v = rbf_io::mrc::read_volume(&volume).unwrap();
    assert_eq!(v.shape, (64, 64, 64));
    assert!((v.pixel_size.unwrap() - 1.5).abs() < 1e-6);
    // The total density is a₀ times the electrons of chain A's RBFs, divided by the voxel volume.
    let sum: f64 = v.data.iter().map(|&x| f64::from(x)).sum::<f64>() * 1.5f64.powi(3);
    assert!(sum > 100.0, "{sum}");
}

#[test]
fn bad_input_is_an_error_that_names_it() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("x.pdb");
    let run = |args: &[&str]| {
        let o = cryorbf().args(args).output().unwrap();
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let err = run(&["coarse-grain", "--structure", "/nonexistent/model.cif", "--out", target.to_str().unwrap()]);
    assert!(err.contains("/nonexistent/model.cif") && !err.contains("panicked"), "{err}");
    assert!(!target.exists());
    if let Some(dir) = data_dir() {
        let s = dir.join("structures/5ni1_updated.cif");
        let err = run(&["coarse-grain", "--chain", "Q", "--structure", s.to_str().unwrap(), "--out", target.to_str().unwrap()]);
        assert!(err.contains("\"Q\"") && err.contains("5ni1_updated.cif"), "{err}");
        let vol = out.path().join("v.mrc");
        let err = run(&["render", "--box", "16", "--structure", s.to_str().unwrap(), "--out", vol.to_str().unwrap()]);
        assert!(err.contains("does not fit"), "{err}");
        let err = run(&["render", "--pixel-size", "-1", "--structure", s.to_str().unwrap(), "--out", vol.to_str().unwrap()]);
        assert!(err.contains("pixel size"), "{err}");
        assert!(!vol.exists());
    }
}
