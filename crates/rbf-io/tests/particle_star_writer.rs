//! The RELION 3.1 particle writer ([`rbf_io::relion`]) read back by [`ParticleTable::from_star`],
//! its Euler angles, and the check of stack headers against a particle file's pixel size.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rbf_io::particles::{euler_to_matrix, matrix_to_euler};
use rbf_io::relion::{StarParticle, image_name, write_particle_star};
use rbf_io::testdata::require;
use rbf_io::{CtfParams, ParticleTable, Pose};

fn max_diff(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> f64 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn matrix_to_euler_inverts_euler_to_matrix() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut cases: Vec<(f64, f64, f64)> = (0..1000)
        .map(|_| (rng.random_range(-180.0..180.0), rng.random_range(0.0..180.0), rng.random_range(-180.0..180.0)))
        .collect();
    cases.extend([(30.0, 0.0, 40.0), (-75.0, 1e-12, 10.0), (30.0, 180.0, 40.0), (120.0, 180.0 - 1e-12, -60.0), (0.0, 90.0, 0.0), (180.0, 45.0, -180.0)]);
    for (rot, tilt, psi) in cases {
        let m = euler_to_matrix(rot, tilt, psi);
        let (r2, t2, p2) = matrix_to_euler(&m);
        assert!((0.0..=180.0).contains(&t2));
        let back = euler_to_matrix(r2, t2, p2);
        assert!(max_diff(&m, &back) < 1e-9, "({rot}, {tilt}, {psi}) → ({r2}, {t2}, {p2})");
    }
}

fn ctf(defocus: f64, voltage: f64) -> CtfParams {
    CtfParams {
        defocus_u: defocus,
        defocus_v: defocus - 250.5,
        defocus_angle: -33.25,
        voltage,
        spherical_aberration: 2.7,
        amplitude_contrast: 0.07,
        phase_shift: 12.5,
    }
}

/// Particles of two optics groups (pixel sizes 1.5 and 2 Å, 200 and 300 kV), with poses, CTF and
/// an extra column, come back from the file as they were written.
#[test]
fn written_particles_read_back_with_their_optics_poses_and_ctf() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("particles.star");
    let mut rng = StdRng::seed_from_u64(3);
    let particles: Vec<StarParticle> = (0..6)
        .map(|i| {
            let rotation = euler_to_matrix(rng.random_range(-180.0..180.0), rng.random_range(0.0..180.0), rng.random_range(-180.0..180.0));
            let (pixel_size, voltage) = if i % 3 == 2 { (2.0, 300.0) } else { (1.5, 200.0) };
            StarParticle {
                image_name: image_name(i, "stack.mrcs"),
                pixel_size,
                box_size: 48,
                pose: Some(Pose { rotation, shift: [rng.random_range(-5.0..5.0), rng.random_range(-5.0..5.0)] }),
                ctf: Some(ctf(10_000.0 + 100.0 * i as f64, voltage)),
                extra: vec![format!("{}", i * 10)],
            }
        })
        .collect();
    write_particle_star(&path, &particles, &["cryorbfTag"]).expect("written");
    let table = ParticleTable::from_star(&path, None).expect("read back");
    assert_eq!(table.len(), 6);
    for (p, q) in particles.iter().zip(&table.particles) {
        assert_eq!(q.image.stack, dir.path().join("stack.mrcs"));
        assert_eq!(p.image_name, format!("{:06}@stack.mrcs", q.image.index + 1));
        assert_eq!((q.pixel_size, q.box_size), (Some(p.pixel_size), Some(48)));
        let (want, got) = (p.pose.expect("posed"), q.pose.expect("read pose"));
        assert!(max_diff(&want.rotation, &got.rotation) < 1e-7);
        assert!((want.shift[0] - got.shift[0]).abs() < 1e-6 && (want.shift[1] - got.shift[1]).abs() < 1e-6);
        let (want, got) = (p.ctf.expect("ctf"), q.ctf.expect("read ctf"));
        assert!((want.defocus_u - got.defocus_u).abs() < 1e-3 && (want.defocus_v - got.defocus_v).abs() < 1e-3);
        assert_eq!(
            (got.defocus_angle, got.voltage, got.spherical_aberration, got.amplitude_contrast, got.phase_shift),
            (want.defocus_angle, want.voltage, want.spherical_aberration, want.amplitude_contrast, want.phase_shift)
        );
    }
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(text.contains("opticsGroup2 2 2 48 2 300 2.7 0.07"), "{text}");
    assert!(text.contains("_cryorbfTag") && text.contains(" 50\n"), "{text}");
}

/// Without a pose or CTF for every particle, those columns are left out (not filled with zeros);
/// nothing is written for no particles or for extra values that do not match the columns.
#[test]
fn missing_poses_leave_out_the_columns_and_bad_records_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("particles.star");
    let mut particles = vec![
        StarParticle { image_name: image_name(0, "s.mrcs"), pixel_size: 1.0, box_size: 32, pose: None, ctf: Some(ctf(9000.0, 300.0)), extra: vec![] },
        StarParticle {
            image_name: image_name(1, "s.mrcs"),
            pixel_size: 1.0,
            box_size: 32,
            pose: Some(Pose { rotation: euler_to_matrix(0.0, 0.0, 0.0), shift: [0.0; 2] }),
            ctf: None,
            extra: vec![],
        },
    ];
    write_particle_star(&path, &particles, &[]).expect("written");
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(!text.contains("rlnAngleRot") && !text.contains("rlnDefocusU") && !text.contains("rlnVoltage"), "{text}");
    let table = ParticleTable::from_star(&path, None).expect("read back");
    assert!(table.require_poses().is_err() && table.require_ctf().is_err());

    let other = dir.path().join("other.star");
    let error = write_particle_star(&other, &[], &[]).expect_err("no particles");
    assert!(error.to_string().contains("other.star") && error.to_string().contains("no particles"), "{error}");
    particles[1].extra.push("x".into());
    let error = write_particle_star(&other, &particles, &[]).expect_err("extra value without a column");
    assert!(error.to_string().contains("particle 1"), "{error}");
    assert!(!other.exists());
}

/// relion31.mrcs's header says 1 Å/pixel (cell 256 Å for 256 pixels); relion31.star says
/// 2.806 Å/pixel. The mismatch names both values and the files, and that the STAR file's is used
/// (the table's pixel size stays 2.806). A stack whose header agrees gives no mismatch.
#[test]
fn a_stack_header_that_disagrees_with_the_star_file_is_reported() {
    let Some(star) = require("cryodrgn/relion31.star") else { return };
    let table = ParticleTable::from_star(&star, None).expect("readable");
    let mismatches = table.pixel_size_mismatches().expect("stacks readable");
    assert_eq!(mismatches.len(), 1, "one stack, one pixel size: {mismatches:?}");
    let m = &mismatches[0];
    assert_eq!((m.metadata_pixel_size, m.header_pixel_size), (2.806, 1.0));
    let text = m.to_string();
    for word in ["relion31.mrcs", "relion31.star", "1 Å/pixel", "using 2.806 Å/pixel", "particle file wins"] {
        assert!(text.contains(word), "{text}");
    }
    assert!(table.particles.iter().all(|p| p.pixel_size == Some(2.806)));

    let dir = tempfile::tempdir().expect("temp dir");
    rbf_io::mrc::write_stack(dir.path().join("s.mrcs"), &[0.0; 2 * 16 * 16], 2, 16, 16, 2.806).expect("stack written");
    let particles: Vec<StarParticle> = (0..2)
        .map(|i| StarParticle { image_name: image_name(i, "s.mrcs"), pixel_size: 2.806, box_size: 16, pose: None, ctf: None, extra: vec![] })
        .collect();
    write_particle_star(dir.path().join("p.star"), &particles, &[]).expect("written");
    let agreeing = ParticleTable::from_star(dir.path().join("p.star"), None).expect("readable");
    assert_eq!(agreeing.pixel_size_mismatches().expect("stacks readable"), vec![]);
}
