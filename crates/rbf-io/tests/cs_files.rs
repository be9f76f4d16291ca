//! cryoSPARC `.cs` particle files: cryoDRGN golden arrays, a STAR cross-check and bad input.

mod common;

use common::{assert_close, read_npy};
use rbf_io::cs::axis_angle_to_matrix;
use rbf_io::testdata::require;
use rbf_io::{IoError, ParticleTable};

#[test]
fn axis_angle_by_hand() {
    let r = axis_angle_to_matrix([0.0, 0.0, std::f64::consts::FRAC_PI_2]);
    let expected = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    assert_close(
        r.as_flattened(),
        expected.as_flattened(),
        1e-12,
        "90° about z",
    );
    let r = axis_angle_to_matrix([std::f64::consts::PI, 0.0, 0.0]);
    let expected = [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]];
    assert_close(
        r.as_flattened(),
        expected.as_flattened(),
        1e-12,
        "180° about x",
    );
    assert_eq!(
        axis_angle_to_matrix([0.0; 3]),
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    );
}

#[test]
fn cs_file_reproduces_cryodrgn_poses_and_ctf() -> anyhow::Result<()> {
    let (Some(cs), Some(rot), Some(trans), Some(ctf)) = (
        require("cryodrgn/cryosparc_P12_J24_001_particles.cs"),
        require("cryodrgn/npy/pose.cs.rot.npy"),
        require("cryodrgn/npy/pose.cs.trans.npy"),
        require("cryodrgn/npy/ctf2.ctf.npy"),
    ) else {
        return Ok(());
    };
    let table = ParticleTable::from_cs(&cs, None)?;
    assert_eq!(table.len(), 2019);
    let p = &table.particles[0];
    assert_eq!(p.box_size, Some(180));
    assert!((p.pixel_size.expect("apix") - 2.95).abs() < 1e-6);

    let (expected, shape) = read_npy(&rot)?;
    assert_eq!(shape, [2019, 3, 3]);
    let got: Vec<f64> = table
        .rotations()?
        .iter()
        .flat_map(|r| r.as_flattened().to_vec())
        .collect();
    assert_close(&got, &expected, 1e-4, "rot");

    let (expected, shape) = read_npy(&trans)?;
    assert_eq!(shape, [2019, 2]);
    assert_close(
        &table.shifts_fraction(180)?.concat(),
        &expected,
        1e-4,
        "trans",
    );
    assert!(
        expected.iter().any(|v| v.abs() > 1e-3),
        "the golden shifts are not all zero"
    );

    let (expected, shape) = read_npy(&ctf)?;
    assert_eq!(shape, [2019, 9]);
    assert_close(&table.ctf_rows()?.concat(), &expected, 1e-4, "ctf");
    Ok(())
}

#[test]
fn empiar_cs_agrees_with_its_star_and_loads_images() -> anyhow::Result<()> {
    let (Some(cs), Some(star)) = (
        require("cryodrgn/empiar_10076_7.cs"),
        require("cryodrgn/empiar_10076_7.star"),
    ) else {
        return Ok(());
    };
    let from_cs = ParticleTable::from_cs(&cs, None)?;
    let from_star = ParticleTable::from_star(&star, None)?;
    assert_eq!(from_cs.len(), 7);
    let err = from_cs.require_poses().expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::MissingColumn { column, .. } if column == "alignments3D/pose"),
        "{err}"
    );
    for (a, b) in from_cs.particles.iter().zip(&from_star.particles) {
        assert_eq!(a.image, b.image);
        assert_eq!(a.box_size, Some(320));
        assert!((a.pixel_size.expect("cs apix") - b.pixel_size.expect("star apix")).abs() < 1e-3);
        let (ca, cb) = (a.ctf.expect("cs ctf"), b.ctf.expect("star ctf"));
        assert!(
            (ca.defocus_u - cb.defocus_u).abs() < 0.1 && (ca.defocus_v - cb.defocus_v).abs() < 0.1
        );
        assert!(
            (ca.spherical_aberration - 2.7).abs() < 1e-5
                && (ca.amplitude_contrast - 0.07).abs() < 1e-6
        );
    }
    assert_eq!(from_cs.open_images()?.len(), 7);
    Ok(())
}

/// A minimal structured `.npy` file with the given descr and raw records.
fn write_npy(path: &std::path::Path, descr: &str, n: usize, records: &[u8]) -> std::io::Result<()> {
    let mut header = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': ({n},), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(records);
    std::fs::write(path, bytes)
}

#[test]
fn bad_cs_files_are_reported() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let no_path = dir.path().join("no_path.cs");
    write_npy(
        &no_path,
        "[('uid', '<u8'), ('blob/idx', '<u4')]",
        1,
        &[0; 12],
    )?;
    let err = ParticleTable::from_cs(&no_path, None).expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::MissingColumn { column, .. } if column == "blob/path"),
        "{err}"
    );
    assert!(err.to_string().contains("no_path.cs"), "{err}");

    let short = dir.path().join("short.cs");
    write_npy(
        &short,
        "[('blob/path', '|S4'), ('blob/idx', '<u4')]",
        3,
        &[0; 16],
    )?;
    let err = ParticleTable::from_cs(&short, None).expect_err("must be rejected");
    assert!(matches!(err, IoError::CsFormat { .. }), "{err}");

    let plain = dir.path().join("plain.cs");
    write_npy(&plain, "'<f4'", 2, &[0; 8])?;
    assert!(matches!(
        ParticleTable::from_cs(&plain, None),
        Err(IoError::CsFormat { .. })
    ));

    let mut record = b"a.mr".to_vec();
    record.extend(2u32.to_le_bytes());
    record.extend(f32::NAN.to_le_bytes());
    let nan = dir.path().join("nan.cs");
    write_npy(
        &nan,
        "[('blob/path', '|S4'), ('blob/idx', '<u4'), ('blob/psize_A', '<f4')]",
        1,
        &record,
    )?;
    let err = ParticleTable::from_cs(&nan, None).expect_err("must be rejected");
    assert!(
        matches!(&err, IoError::CsRecord { record: 0, field, .. } if field == "blob/psize_A"),
        "{err}"
    );

    let text = std::fs::write(dir.path().join("not.cs"), "hello");
    text?;
    assert!(matches!(
        ParticleTable::from_cs(dir.path().join("not.cs"), None),
        Err(IoError::CsFormat { .. })
    ));
    Ok(())
}
