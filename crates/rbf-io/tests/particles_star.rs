//! RELION particle tables: cryoDRGN golden arrays, RELION 3.0/3.1/5 fixtures and bad input.

mod common;

use common::{assert_close, read_npy};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rbf_io::particles::euler_to_matrix;
use rbf_io::testdata::require;
use rbf_io::{IoError, ParticleOptions, ParticleTable};

#[test]
fn euler_matrix_matches_relion_by_hand_and_is_a_rotation() {
    // rot = 90°: RELION's A maps x to -y: A = [[0, 1, 0], [-1, 0, 0], [0, 0, 1]].
    let a = euler_to_matrix(90.0, 0.0, 0.0);
    let expected = [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    assert_close(a.as_flattened(), expected.as_flattened(), 1e-12, "rot 90");
    // tilt = 90°: A(0,2) = -sin(tilt), A(2,0) = sin(tilt).
    let b = euler_to_matrix(0.0, 90.0, 0.0);
    let expected = [[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]];
    assert_close(b.as_flattened(), expected.as_flattened(), 1e-12, "tilt 90");
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..20 {
        let r = euler_to_matrix(
            rng.random_range(-180.0..180.0),
            rng.random_range(0.0..180.0),
            rng.random_range(-180.0..180.0),
        );
        for i in 0..3 {
            for j in 0..3 {
                let dot: f64 = (0..3).map(|k| r[i][k] * r[j][k]).sum();
                assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        let det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1])
            - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
            + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
        assert!((det - 1.0).abs() < 1e-12);
    }
}

#[test]
fn relion30_star_reproduces_cryodrgn_poses_and_ctf() -> anyhow::Result<()> {
    let (Some(star), Some(rot), Some(trans), Some(ctf)) = (
        require("cryodrgn/FinalRefinement-OriginalParticles-PfCRT.star"),
        require("cryodrgn/npy/pose.star.rot.npy"),
        require("cryodrgn/npy/pose.star.trans.npy"),
        require("cryodrgn/npy/ctf1.ctf.npy"),
    ) else {
        return Ok(());
    };
    let options = ParticleOptions {
        box_size: Some(300),
        amplitude_contrast: Some(0.1),
        ..ParticleOptions::default()
    };
    let table = ParticleTable::from_star_with(&star, &options)?;
    assert_eq!(table.len(), 5);
    assert_eq!(
        table.particles[0].pixel_size,
        Some(1.035),
        "1e4 · 1.035 µm / 10000"
    );

    let (expected, shape) = read_npy(&rot)?;
    assert_eq!(shape, [5, 3, 3]);
    let got: Vec<f64> = table
        .rotations()?
        .iter()
        .flat_map(|r| r.as_flattened().to_vec())
        .collect();
    assert_close(&got, &expected, 1e-4, "rot");

    let (expected, shape) = read_npy(&trans)?;
    assert_eq!(shape, [5, 2]);
    let got: Vec<f64> = table.shifts_fraction(300)?.concat();
    // The shifts are sub-pixel (|trans| < 1e-3), so compare them far tighter than their size.
    assert_close(&got, &expected, 1e-8, "trans");
    assert!(
        expected.iter().any(|v| v.abs() > 3e-4),
        "the golden shifts are not all zero"
    );

    let (expected, shape) = read_npy(&ctf)?;
    assert_eq!(shape, [5, 9]);
    assert_close(&table.ctf_rows()?.concat(), &expected, 1e-4, "ctf");

    // Without the amplitude-contrast fallback the CTF is incomplete, and says which column.
    let bare = ParticleTable::from_star(&star, None)?;
    let err = bare.ctf_rows().expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::MissingColumn { column, .. } if column == "rlnAmplitudeContrast"),
        "{err}"
    );
    Ok(())
}

#[test]
fn relion31_star_loads_five_real_particles() -> anyhow::Result<()> {
    let (Some(star), Some(v2)) = (
        require("cryodrgn/relion31.star"),
        require("cryodrgn/relion31.v2.star"),
    ) else {
        return Ok(());
    };
    let table = ParticleTable::from_star(&star, None)?;
    table.require_poses()?;
    table.require_ctf()?;
    assert_eq!(table.len(), 5);
    let dir = star.parent().expect("folder");
    for (i, p) in table.particles.iter().enumerate() {
        assert_eq!(p.image.stack, dir.join("relion31.mrcs"));
        assert_eq!(p.image.index, i);
        assert_eq!(p.pixel_size, Some(2.806));
        assert_eq!(p.box_size, Some(256));
    }
    // Row 1 by hand: rot -102.30296, tilt 82.318041, psi 124.706463; CTF from row and optics.
    let p = &table.particles[0];
    let pose = p.pose.expect("pose");
    let want = euler_to_matrix(-102.30296, 82.318041, 124.706463);
    assert_close(
        pose.rotation.as_flattened(),
        want.as_flattened(),
        1e-12,
        "rotation",
    );
    let ctf = p.ctf.expect("ctf");
    assert_eq!(
        [
            ctf.defocus_u,
            ctf.defocus_v,
            ctf.defocus_angle,
            ctf.voltage,
            ctf.spherical_aberration,
            ctf.amplitude_contrast,
            ctf.phase_shift
        ],
        [13108.082418, 12845.582418, -160.39, 300.0, 0.01, 0.1, 0.0]
    );

    let images = table.open_images()?;
    assert_eq!((images.len(), images.image_shape()), (5, (256, 256)));
    let mut first = vec![0.0; 256 * 256];
    let mut last = vec![0.0; 256 * 256];
    images.read(0, &mut first)?;
    images.read(4, &mut last)?;
    assert_ne!(first, last);
    let mean = first.iter().map(|&v| f64::from(v)).sum::<f64>() / first.len() as f64;
    let var = first
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / first.len() as f64;
    assert!(var > 0.0, "a real particle image has contrast");

    let reversed = ParticleTable::from_star(&v2, None)?;
    assert_eq!(
        reversed.particles, table.particles,
        "block order does not matter"
    );
    Ok(())
}

#[test]
fn relion31_shift_is_minus_origin_angst() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("shift.star");
    std::fs::write(
        &path,
        "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImagePixelSize\n_rlnImageSize\n1 2.0 64\n\n\
         data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n_rlnOriginXAngst\n_rlnOriginYAngst\n\
         1@none.mrcs 1 0 0 0 3.0 -5.0\n",
    )?;
    let table = ParticleTable::from_star(&path, None)?;
    assert_eq!(table.particles[0].pose.expect("pose").shift, [-3.0, 5.0]);
    assert_eq!(
        table.shifts_fraction(64)?,
        vec![[3.0 / (2.0 * 64.0), -5.0 / (2.0 * 64.0)]]
    );
    Ok(())
}

#[test]
fn six_optics_groups_are_looked_up_per_particle() -> anyhow::Result<()> {
    let Some(star) = require("cryodrgn/relion31.6opticsgroups.star") else {
        return Ok(());
    };
    let table = ParticleTable::from_star(&star, None)?;
    assert_eq!(table.len(), 139);
    table.require_poses()?;
    // Group 6 (first row): pixel 1.25, Cs 2.7; group 2: pixel 1.24; group 4: Cs 2.6.
    let first = &table.particles[0];
    assert_eq!(first.pixel_size, Some(1.25));
    assert_eq!(first.box_size, Some(196));
    assert_eq!(first.ctf.expect("ctf").voltage, 200.0);
    assert_eq!(first.image.index, 2);
    let text = std::fs::read_to_string(&star)?;
    let groups: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("MotionCorr/"))
        .map(|l| l.split_whitespace().nth(10).expect("group column"))
        .collect();
    assert_eq!(groups.len(), 139);
    for (p, group) in table.particles.iter().zip(&groups) {
        let (apix, cs) = match *group {
            "1" | "3" | "6" => (1.25, 2.7),
            "2" | "5" => (1.24, 2.7),
            "4" => (1.25, 2.6),
            other => panic!("unexpected group {other}"),
        };
        assert_eq!(p.pixel_size, Some(apix));
        assert_eq!(p.ctf.expect("ctf").spherical_aberration, cs);
    }
    assert!(
        groups.contains(&"4") && groups.contains(&"2"),
        "the fixture covers several groups"
    );
    Ok(())
}

#[test]
fn relion5_parses_and_reports_its_missing_stacks() -> anyhow::Result<()> {
    let Some(star) = require("cryodrgn/relion5.star") else {
        return Ok(());
    };
    let table = ParticleTable::from_star(&star, None)?;
    assert_eq!(table.len(), 17);
    table.require_poses()?;
    let p = &table.particles[0];
    assert_eq!((p.pixel_size, p.box_size), (Some(0.89), Some(448)));
    let ctf = p.ctf.expect("ctf");
    assert_eq!(
        (
            ctf.voltage,
            ctf.spherical_aberration,
            ctf.amplitude_contrast
        ),
        (100.0, 1.6, 0.1)
    );
    let err = table.open_images().expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{err}"
    );
    assert!(err.to_string().contains("toy_images_"), "{err}");
    Ok(())
}

#[test]
fn toy_projections_without_poses() -> anyhow::Result<()> {
    let (Some(star), Some(star13)) = (
        require("cryodrgn/toy_projections.star"),
        require("cryodrgn/toy_projections_13.star"),
    ) else {
        return Ok(());
    };
    let table = ParticleTable::from_star(&star, None)?;
    assert_eq!(table.len(), 1000);
    assert!(table.particles.iter().all(|p| p.pose.is_none()));
    let err = table.require_poses().expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::MissingColumn { column, .. } if column == "rlnAngleRot"),
        "{err}"
    );
    assert!(err.to_string().contains("toy_projections.star"), "{err}");
    assert!(table.rotations().is_err());
    let p = &table.particles[999];
    assert_eq!(p.image.index, 999);
    assert_eq!(p.box_size, Some(30), "box from the stack's MRC header");
    assert_eq!(p.pixel_size, None, "this STAR gives no pixel size");
    assert_eq!(p.ctf.expect("ctf").phase_shift, 90.0);
    assert_eq!(table.open_images()?.image_shape(), (30, 30));

    let table13 = ParticleTable::from_star(&star13, None)?;
    let indices: Vec<usize> = table13.particles.iter().map(|p| p.image.index).collect();
    assert_eq!(
        indices,
        [92, 31, 3, 4, 522, 555, 229, 874, 684, 320, 597, 154, 320]
    );
    assert_eq!(
        (
            table13.particles[0].pixel_size,
            table13.particles[0].box_size
        ),
        (Some(1.035), Some(300))
    );
    let err = table13.open_images().expect_err("must be rejected");
    assert!(err.to_string().contains("box size of 300"), "{err}");
    Ok(())
}

#[test]
fn empiar_star_pixel_size_from_detector_and_magnification() -> anyhow::Result<()> {
    let Some(star) = require("cryodrgn/empiar_10076_7.star") else {
        return Ok(());
    };
    let table = ParticleTable::from_star(&star, None)?;
    assert_eq!(table.len(), 7);
    let apix = table.particles[0].pixel_size.expect("pixel size");
    assert!((apix - 1e4 * 5.0 / 38168.0).abs() < 1e-12);
    assert_eq!(table.particles[6].box_size, Some(320));
    assert!(table.require_poses().is_err());
    let images = table.open_images()?;
    assert_eq!((images.len(), images.image_shape()), (7, (320, 320)));
    Ok(())
}

#[test]
fn datadir_resolves_stacks_by_path_or_file_name() -> anyhow::Result<()> {
    let Some(stack) = require("cryodrgn/relion31.mrcs") else {
        return Ok(());
    };
    let data = stack.parent().expect("folder");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("moved.star");
    std::fs::write(
        &path,
        "data_\nloop_\n_rlnImageName\n2@Extract/job1/relion31.mrcs\n",
    )?;
    let table = ParticleTable::from_star(&path, Some(data))?;
    assert_eq!(table.particles[0].image.stack, data.join("relion31.mrcs"));
    assert_eq!(table.particles[0].box_size, Some(256));
    assert_eq!(table.open_images()?.len(), 1);
    let without = ParticleTable::from_star(&path, None)?;
    assert_eq!(
        without.particles[0].image.stack,
        dir.path().join("Extract/job1/relion31.mrcs")
    );
    Ok(())
}

#[test]
fn bad_particle_files_name_the_problem() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let write = |name: &str, text: &str| -> anyhow::Result<std::path::PathBuf> {
        let path = dir.path().join(name);
        std::fs::write(&path, text)?;
        Ok(path)
    };
    let header =
        "data_particles\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n";

    let short = write(
        "short.star",
        &format!("{header}1@a.mrcs 1 2 3\n2@a.mrcs 1 2\n"),
    )?;
    let err = ParticleTable::from_star(&short, None).expect_err("must be rejected");
    assert!(
        matches!(
            err,
            IoError::RowLength {
                line: 8,
                found: 3,
                expected: 4,
                ..
            }
        ),
        "{err}"
    );

    let angle = write(
        "angle.star",
        &format!("{header}1@a.mrcs 1 2 3\n2@a.mrcs 1 tilted 3\n"),
    )?;
    let err = ParticleTable::from_star(&angle, None).expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::BadValue { line: 8, column, value, .. } if column == "rlnAngleTilt" && value == "tilted"),
        "{err}"
    );
    assert!(err.to_string().contains("angle.star:8"), "{err}");

    let name = write("name.star", &format!("{header}0@a.mrcs 1 2 3\n"))?;
    let err = ParticleTable::from_star(&name, None).expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::BadValue { line: 7, column, .. } if column == "rlnImageName"),
        "{err}"
    );

    let group = write(
        "group.star",
        "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImagePixelSize\n1 1.0\n2 1.1\ndata_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n1@a.mrcs 3\n",
    )?;
    let err = ParticleTable::from_star(&group, None).expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::UnknownOpticsGroup { line: 11, group, .. } if group == "3"),
        "{err}"
    );

    if let Some(stack) = require("cryodrgn/relion31.mrcs") {
        let past = write(
            "past.star",
            &format!(
                "data_\nloop_\n_rlnImageName\n5@{0}\n6@{0}\n",
                stack.display()
            ),
        )?;
        let table = ParticleTable::from_star(&past, None)?;
        let err = table.open_images().expect_err("must be rejected");
        assert!(
            matches!(
                err,
                IoError::IndexOutOfRange {
                    index: 5,
                    len: 5,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("relion31.mrcs"), "{err}");
    }

    let missing = write(
        "missing.star",
        "data_\nloop_\n_rlnImageName\n1@nowhere.mrcs\n",
    )?;
    let table = ParticleTable::from_star(&missing, None)?;
    let err = table.open_images().expect_err("must be rejected");
    assert!(err.to_string().contains("nowhere.mrcs"), "{err}");
    Ok(())
}
