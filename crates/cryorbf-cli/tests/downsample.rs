//! Real particles at a coarser pixel: `cryorbf downsample` on cryoDRGN's relion31 set (five real
//! 256×256 particles at 2.806 Å/pixel with poses and CTF), `cryorbf train --downsample` on the same
//! particles, and the sizes both refuse.
use std::process::{Command, Output};

use rbf_io::ParticleTable;
use rbf_io::mrc::MrcStack;
use rbf_io::testdata::require;

fn cryorbf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryorbf"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Each image's mean pixel value, over all particles of `table`.
fn image_means(table: &ParticleTable) -> Vec<f64> {
    let images = table.open_images().expect("stacks readable");
    let (ny, nx) = images.image_shape();
    let mut image = vec![0.0f32; ny * nx];
    (0..images.len())
        .map(|i| {
            images.read(i, &mut image).expect("image readable");
            image.iter().map(|&v| f64::from(v)).sum::<f64>() / image.len() as f64
        })
        .collect()
}

/// `cryorbf downsample -D 64` writes a 64-pixel stack at 2.806·256/64 = 11.224 Å/pixel (in the
/// header and in the STAR file's optics group) and a STAR file that reads back with the same five
/// particles, poses, shifts (Å) and CTF. The relion31 stack's header says 1 Å/pixel: the command
/// warns naming both values and keeps the STAR file's. Each image keeps its mean (pixel values keep
/// their meaning).
#[test]
fn downsample_relion31_to_64_pixels() {
    let Some(star) = require("cryodrgn/relion31.star") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("ds64");
    let output = cryorbf().args(["downsample", "--particles"]).arg(&star).args(["-D", "64", "--out"]).arg(&out).output().expect("runs");
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    for word in ["warning", "relion31.mrcs", "1 Å/pixel", "relion31.star", "using 2.806 Å/pixel"] {
        assert!(err.contains(word), "the pixel-size warning should name {word}: {err}");
    }
    assert!(String::from_utf8_lossy(&output.stdout).contains("5 images of 64×64 px at 11.224 Å/px"));

    let original = ParticleTable::from_star(&star, None).expect("readable");
    let table = ParticleTable::from_star(out.join("particles.star"), None).expect("the new STAR file reads back");
    assert_eq!(table.len(), 5);
    for (i, (p, q)) in original.particles.iter().zip(&table.particles).enumerate() {
        assert_eq!((q.image.stack.as_path(), q.image.index), (out.join("particles.mrcs").as_path(), i));
        assert!((q.pixel_size.expect("pixel size") - 11.224).abs() < 1e-9, "{:?}", q.pixel_size);
        assert_eq!(q.box_size, Some(64));
        let (want, got) = (p.pose.expect("pose"), q.pose.expect("pose written"));
        let rotation = want.rotation.iter().flatten().zip(got.rotation.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(rotation < 1e-7, "particle {i}: rotation off by {rotation}");
        assert!((want.shift[0] - got.shift[0]).abs() < 1e-6 && (want.shift[1] - got.shift[1]).abs() < 1e-6, "particle {i}: shift");
        let (want, got) = (p.ctf.expect("ctf"), q.ctf.expect("ctf written"));
        assert!((want.defocus_u - got.defocus_u).abs() < 1e-3 && (want.defocus_v - got.defocus_v).abs() < 1e-3, "particle {i}: defocus");
        assert!((want.defocus_angle - got.defocus_angle).abs() < 1e-4 && (want.phase_shift - got.phase_shift).abs() < 1e-4);
        assert_eq!((got.voltage, got.spherical_aberration, got.amplitude_contrast), (300.0, 0.01, 0.1));
    }
    let stack = MrcStack::open(out.join("particles.mrcs")).expect("stack readable");
    assert_eq!((stack.len(), stack.image_shape()), (5, (64, 64)));
    assert!((stack.pixel_size().expect("header pixel size") - 11.224).abs() < 1e-4);
    assert_eq!(table.pixel_size_mismatches().expect("stack readable"), vec![], "the new header agrees with the new STAR file");

    for (i, (before, after)) in image_means(&original).iter().zip(image_means(&table)).enumerate() {
        assert!((before - after).abs() < 1e-5 * (1.0 + before.abs()), "image {i}: mean {before} became {after}");
    }
    let names: Vec<_> = std::fs::read_dir(dir.path()).expect("listable").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(names, vec!["ds64"], "no staging folder left beside the output");
}

/// Sizes that cannot be made are refused naming the values, by `downsample` and by the training
/// commands' `--downsample`, before anything is written; a used folder is refused without --force.
#[test]
fn impossible_sizes_and_a_used_folder_are_refused() {
    let Some(star) = require("cryodrgn/relion31.star") else { return };
    let Some(reference) = require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let check = |output: Output, words: &[&str]| {
        let err = stderr(&output);
        assert!(!output.status.success(), "should fail: {err}");
        assert!(!err.contains("panicked"), "{err}");
        for word in words {
            assert!(err.contains(word), "should name {word}: {err}");
        }
        assert!(!out.exists(), "nothing written: {err}");
    };
    for (size, words) in [("63", ["63", "must be even"]), ("300", ["300", "larger than the images' 256"]), ("4", ["4", "at least 8"])] {
        let run = |args: &[&str]| cryorbf().args(args).arg("--particles").arg(&star).arg("--out").arg(&out).output().expect("runs");
        check(run(&["downsample", "-D", size]), &words);
        for command in ["train", "train-vae"] {
            let output = cryorbf()
                .args([command, "--quiet", "--chain", "A", "--epochs", "1", "--downsample", size, "--reference"])
                .arg(&reference)
                .arg("--particles")
                .arg(&star)
                .arg("--out")
                .arg(&out)
                .output()
                .expect("runs");
            check(output, &[words[0], words[1], "--downsample", "relion31.star"]);
        }
    }

    std::fs::create_dir(&out).expect("folder");
    std::fs::write(out.join("keep.txt"), "x").expect("file");
    let run = |force: bool| {
        let mut command = cryorbf();
        command.args(["downsample", "--quiet", "-D", "32", "--particles"]).arg(&star).arg("--out").arg(&out);
        if force {
            command.arg("--force");
        }
        command.output().expect("runs")
    };
    let refused = run(false);
    assert!(!refused.status.success() && stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert!(!out.join("particles.mrcs").exists());
    let forced = run(true);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(out.join("particles.mrcs").exists() && out.join("particles.star").exists() && out.join("keep.txt").exists());
}

/// `cryorbf train --downsample 64` on the five real particles: one warm-up epoch (σ, a₀) and one
/// epoch of the centers, five steps each (batch 1), with the particles' CTF. The reference, 5NI1
/// chain A (haemoglobin, ~50 Å), is not what these particles show (the relion31 set is an
/// unrelated, much larger complex in a 718 Å box), so no accuracy is expected: the run must finish
/// with finite losses, the second epoch's mean image loss must be below the first's (the optimizer
/// reduces the misfit on the images it is given), and the outputs must carry the downsampled
/// pixel size.
#[test]
fn train_on_relion31_downsampled_to_64_pixels() {
    let Some(star) = require("cryodrgn/relion31.star") else { return };
    let Some(reference) = require("structures/5ni1_updated.cif") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run");
    let output = cryorbf()
        .args(["train", "--chain", "A", "--downsample", "64", "--epochs", "1", "--warmup-epochs", "1", "--batch", "1", "--reference"])
        .arg(&reference)
        .arg("--particles")
        .arg(&star)
        .arg("--out")
        .arg(&run)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("box 64 px at 11.224 Å/px (downsampled from 256 px at 2.806 Å/px)"), "{stdout}");
    assert!(stdout.contains("CTF on"), "{stdout}");

    let log = std::fs::read_to_string(run.join("log.jsonl")).expect("log written");
    let epochs: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(epochs.len(), 2, "{log}");
    let image: Vec<f64> = epochs.iter().map(|e| e["image"].as_f64().expect("image loss")).collect();
    assert!(image.iter().all(|v| v.is_finite() && *v > 0.0), "{log}");
    assert!(image[1] < image[0], "the image loss should fall: {image:?}");

    let volume = rbf_io::mrc::read_volume(run.join("volume.mrc")).expect("volume written");
    assert_eq!(volume.shape, (64, 64, 64));
    assert!((volume.pixel_size.expect("pixel size in the header") - 11.224).abs() < 1e-4, "{:?}", volume.pixel_size);
    assert!(std::fs::read_to_string(run.join("model.pdb")).expect("model written").contains("ATOM"));
    let args: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("args.json")).expect("args")).expect("JSON");
    assert_eq!(args["downsample"], 64, "saved for --resume");
}

/// A stack whose header agrees with the STAR file gives no warning (the downsampled one does).
#[test]
fn no_pixel_size_warning_when_the_header_agrees() {
    let Some(star) = require("cryodrgn/relion31.star") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let first = dir.path().join("a");
    let output = cryorbf().args(["downsample", "--quiet", "-D", "64", "--particles"]).arg(&star).arg("--out").arg(&first).output().expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let second = cryorbf()
        .args(["downsample", "--quiet", "-D", "32", "--particles"])
        .arg(first.join("particles.star"))
        .arg("--out")
        .arg(dir.path().join("b"))
        .output()
        .expect("runs");
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(!stderr(&second).contains("warning"), "{}", stderr(&second));
    assert!(dir.path().join("b").join("particles.mrcs").exists());
}

/// A stack that fails midway (a NaN pixel in the last of five images, read after two chunks of two
/// were written) leaves no output folder and no staging folder, and the error names the stack and
/// the image.
#[test]
fn a_failure_midway_leaves_nothing() {
    let Some(star) = require("cryodrgn/relion31.star") else { return };
    let Some(stack) = require("cryodrgn/relion31.mrcs") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(&star, dir.path().join("relion31.star")).expect("copy");
    let mut bytes = std::fs::read(&stack).expect("stack readable");
    let pixel = 1024 + 4 * (4 * 256 * 256) + 4 * (128 * 256 + 128); // image 4 (0-based), center pixel
    bytes[pixel..pixel + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(dir.path().join("relion31.mrcs"), bytes).expect("write");
    let out = dir.path().join("out");
    let output = cryorbf()
        .args(["downsample", "--quiet", "-D", "64", "--chunk", "2", "--particles"])
        .arg(dir.path().join("relion31.star"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    let err = stderr(&output);
    assert!(!output.status.success() && !err.contains("panicked"), "{err}");
    assert!(err.contains("relion31.mrcs") && err.contains("image 4") && err.contains("NaN"), "{err}");
    let mut names: Vec<_> = std::fs::read_dir(dir.path()).expect("listable").map(|e| e.expect("entry").file_name()).collect();
    names.sort();
    assert_eq!(names, vec!["relion31.mrcs", "relion31.star"], "nothing but the inputs");
}
