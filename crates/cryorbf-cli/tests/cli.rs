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

#[test]
fn reproduce_fig4_writes_its_table_and_plot_and_reuses_finished_rows() {
    let Some(dir) = data_dir() else { return };
    let out = tempfile::tempdir().unwrap();
    let run = || {
        cryorbf()
            .args(["reproduce", "fig4", "--images", "160", "--epochs", "1", "--distributions", "uniform,two-clusters", "--reference"])
            .arg(dir.join("structures/5ni1_updated.cif"))
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let table = std::fs::read_to_string(out.path().join("fig4.md")).unwrap();
    assert!(table.contains("| uniform |") && table.contains("| two-clusters |"), "{table}");
    // Two clusters leave the middle states empty: their RMSE cells say so.
    let middle = table.lines().find(|l| l.starts_with("| 25 |")).unwrap_or_else(|| panic!("no state 25 row:\n{table}"));
    assert!(middle.trim_end().ends_with("| – |"), "{middle}");
    assert!(std::fs::metadata(out.path().join("fig4.png")).unwrap().len() > 1000);
    for name in ["uniform", "two-clusters"] {
        let analysis = out.path().join(format!("fig4_{name}/analysis"));
        assert!(analysis.join("rmse_per_state.md").is_file() && analysis.join("latent_vs_truth.png").is_file());
    }
    // A second call finds both rows finished and reuses them (and the datasets).
    let second = run();
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let text = String::from_utf8_lossy(&second.stdout);
    assert_eq!(text.matches("resuming the row").count(), 2, "{text}");
    assert_eq!(text.matches("using the dataset").count(), 2, "{text}");
    assert_eq!(std::fs::read_to_string(out.path().join("fig4.md")).unwrap(), table);
}
