//! `cryorbf train` stopped the ways a user stops it, on a small simulated dataset of 5NI1: Ctrl-C
//! (a real SIGINT) saves a checkpoint of the step reached, exits with 130 and says how to resume;
//! `kill -9` in the middle of an epoch loses at most that epoch's steps; a folder whose run never
//! saved a checkpoint starts again; and in every case `--resume` ends with exactly the model of an
//! uninterrupted run. A loss that stops being finite is named with its epoch and step.
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rbf_sim::SimulationConfig;

fn cryorbf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryorbf"))
}

/// 256 images of 5NI1 chain A at 1.5 Å/pixel in a 64-pixel box, SNR 1: 32 steps per epoch.
fn simulate(structure: &Path, out: &Path) {
    let config = SimulationConfig {
        structure: structure.to_path_buf(),
        chains: vec!["A".into()],
        out_dir: out.to_path_buf(),
        n_images: 256,
        box_size: 64,
        pixel_size: 1.5,
        max_shift: 2.0,
        snr: 1.0,
        seed: 11,
        ..SimulationConfig::default()
    };
    rbf_sim::simulate(&config, &burn::prelude::Device::flex(), |_| {}).unwrap();
}

/// `cryorbf train` on the dataset with learning rate `lr`: one warm-up epoch and 19 more (about two
/// seconds on a laptop: time for the signals to arrive mid-run), into `run`.
fn train(particles: &Path, structure: &Path, run: &Path, lr: &str) -> Command {
    let mut cmd = cryorbf();
    cmd.args(["train", "--chain", "A", "--init", "noise:2", "--epochs", "19", "--lr", lr, "--lr-units", "angstrom", "--quiet", "--particles"])
        .arg(particles)
        .arg("--reference")
        .arg(structure)
        .arg("--truth")
        .arg(particles)
        .arg("--out")
        .arg(run);
    cmd
}

fn resume(run: &Path) -> Command {
    let mut cmd = cryorbf();
    cmd.args(["train", "--quiet", "--resume"]).arg(run);
    cmd
}

/// Run to the end; panics with its stderr unless it succeeds.
fn succeed(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{:?} failed:\n{}", cmd, String::from_utf8_lossy(&out.stderr));
}

/// Wait until `path` exists; panics if the process ends first or after five minutes.
fn wait_for(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before {} appeared", path.display());
        }
        assert!(start.elapsed() < Duration::from_secs(300), "{} did not appear", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Send `signal` (a `kill` option: `-INT`, `-KILL`) to the process, through the shell's `kill`.
fn send(signal: &str, child: &Child) {
    let status = Command::new("sh").arg("-c").arg(format!("kill {signal} {}", child.id())).status().unwrap();
    assert!(status.success(), "kill {signal} failed");
}

fn stderr_of(child: Child) -> (ExitStatus, String) {
    let out = child.wait_with_output().unwrap();
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `log.jsonl` without the throughputs (the one thing a resumed run may change).
fn log_without_timing(run: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(run.join("log.jsonl")).unwrap();
    text.lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["images_per_s"] = serde_json::Value::Null;
            v
        })
        .collect()
}

/// The run in `run` ended with exactly the model, volume, log and accuracy of the one in `whole`.
fn assert_same_result(whole: &Path, run: &Path) {
    assert!(run.join("metrics.json").is_file(), "{}: no metrics.json", run.display());
    for file in ["model.pdb", "volume.mrc"] {
        assert!(std::fs::read(whole.join(file)).unwrap() == std::fs::read(run.join(file)).unwrap(), "{file} differs from the uninterrupted run's");
    }
    assert_eq!(log_without_timing(whole), log_without_timing(run));
    let (a, b) = (json(&whole.join("metrics.json")), json(&run.join("metrics.json")));
    assert_eq!(a["final_accuracy"], b["final_accuracy"]);
    assert_eq!(b["epochs"], 20);
}

#[test]
fn ctrl_c_and_kill_9_lose_nothing_that_resume_cannot_redo() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().unwrap();
    let particles = dir.path().join("sim");
    simulate(&structure, &particles);

    let whole = dir.path().join("whole");
    succeed(&mut train(&particles, &structure, &whole, "0.02"));

    // Ctrl-C: once the run has started (its first checkpoint is written when training begins), a
    // real SIGINT stops it after the step under way.
    let run = dir.path().join("interrupted");
    let mut child = train(&particles, &structure, &run, "0.02").stderr(Stdio::piped()).spawn().unwrap();
    wait_for(&run.join("checkpoint/state.json"), &mut child);
    send("-INT", &child);
    let (status, stderr) = stderr_of(child);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(!run.join("metrics.json").exists(), "stopped before the end");
    let state = json(&run.join("checkpoint/state.json"));
    let (epochs_done, steps_done) = (state["epochs_done"].as_u64().unwrap(), state["epoch_so_far"]["steps_done"].as_u64().unwrap_or(0));
    assert!(steps_done >= 1, "the checkpoint records the step reached: {state}");
    let stopped = format!("interrupted: stopped in epoch {} after step {steps_done};", epochs_done + 1);
    assert!(stderr.contains(&stopped), "{stopped:?} in\n{stderr}");
    assert!(stderr.contains(&format!("cryorbf train --resume {}", run.display())), "{stderr}");
    let saved: Vec<String> = std::fs::read_dir(run.join("checkpoint")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(saved.contains(&format!("model-{epochs_done}-{steps_done}.bin")), "the parameters of that step are saved: {saved:?}");
    succeed(&mut resume(&run));
    assert_same_result(&whole, &run);

    // kill -9 in the middle of epoch 2: the resumed run redoes that epoch from its start.
    let run = dir.path().join("killed");
    let mut child = train(&particles, &structure, &run, "0.02").stderr(Stdio::piped()).spawn().unwrap();
    wait_for(&run.join("log.jsonl"), &mut child);
    send("-KILL", &child);
    let (status, _) = stderr_of(child);
    assert_eq!(status.code(), None, "killed by the signal");
    assert!(!run.join("metrics.json").exists(), "killed before the end");
    succeed(&mut resume(&run));
    assert_same_result(&whole, &run);

    // A folder whose run was killed before its first checkpoint (only args.json written):
    // --resume starts it again.
    let run = dir.path().join("early");
    std::fs::create_dir(&run).unwrap();
    std::fs::copy(whole.join("args.json"), run.join("args.json")).unwrap();
    let out = resume(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_same_result(&whole, &run);
}

#[test]
fn a_loss_that_stops_being_finite_is_named_with_its_epoch_and_step() {
    let Some(structure) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().unwrap();
    let particles = dir.path().join("sim");
    simulate(&structure, &particles);
    let run = dir.path().join("run");
    // A learning rate of 1e30 Å per step sends the centers 1e30 Å apart after one step: the bond
    // energy overflows.
    let out = train(&particles, &structure, &run, "1e30").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("loss became") && stderr.contains("at epoch 1, step 2;"), "{stderr}");
    assert!(stderr.contains("the last good checkpoint is kept"), "{stderr}");
    let state = json(&run.join("checkpoint/state.json"));
    assert_eq!(state["epochs_done"], 0, "the checkpoint of the start stays");
    assert!(state["epoch_so_far"].is_null());
    assert!(!run.join("metrics.json").exists());
}
