//! MRC volumes and stacks: round trips, fixtures from cryoDRGN and CCP-EM, and bad files.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rbf_io::IoError;
use rbf_io::mrc::{MrcStack, StackWriter, read_volume, write_stack, write_volume};
use rbf_io::testdata::require;

fn random_values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-3.0f32..5.0)).collect()
}

fn no_temp_files(dir: &std::path::Path) {
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .expect("readable temp dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn volume_round_trip_keeps_values_shape_pixel_size_and_fills_stats() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("vol.mrc");
    let size = 7;
    let data = random_values(size * size * size, 1);
    write_volume(&path, &data, size, 1.5)?;
    let volume = read_volume(&path)?;
    assert_eq!(volume.shape, (size, size, size));
    assert_eq!(volume.data, data);
    assert_eq!(volume.pixel_size, Some(1.5));
    assert_eq!(volume.origin, [0.0; 3]);

    let reader = mrc::Reader::open(&path)?;
    let h = reader.header();
    assert_eq!(h.mode, 2);
    assert_eq!((h.xlen, h.ylen, h.zlen), (10.5, 10.5, 10.5));
    let min = data.iter().copied().fold(f32::INFINITY, f32::min);
    let max = data.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / data.len() as f64;
    let std = (data
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / data.len() as f64)
        .sqrt();
    assert_eq!((h.dmin, h.dmax), (min, max));
    assert!((f64::from(h.dmean) - mean).abs() < 1e-5);
    assert!((f64::from(h.rms) - std).abs() < 1e-5);
    no_temp_files(dir.path());
    Ok(())
}

#[test]
fn volume_is_stored_z_y_x_with_x_fastest() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ramp.mrc");
    let size = 4;
    // value = 100 z + 10 y + x
    let data: Vec<f32> = (0..size * size * size)
        .map(|i| (100 * (i / 16) + 10 * ((i / 4) % 4) + i % 4) as f32)
        .collect();
    write_volume(&path, &data, size, 2.0)?;
    let reader = mrc::Reader::open(&path)?;
    // The mrc crate addresses blocks as [x, y, z]: voxel (x=3, y=1, z=2).
    let block = reader.convert::<f32>().subregion([3, 1, 2], [1, 1, 1])?;
    assert_eq!(block.data, vec![213.0]);
    Ok(())
}

#[test]
fn stack_round_trip_non_square() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("stack.mrcs");
    let (n, ny, nx) = (3, 6, 5);
    let data = random_values(n * ny * nx, 2);
    write_stack(&path, &data, n, ny, nx, 2.806)?;
    let stack = MrcStack::open(&path)?;
    assert_eq!(stack.len(), n);
    assert_eq!(stack.image_shape(), (ny, nx));
    let apix = stack.pixel_size().expect("pixel size written");
    assert!((apix - 2.806).abs() < 1e-6, "pixel size {apix}");
    let mut image = vec![0.0; ny * nx];
    stack.read_image(1, &mut image)?;
    assert_eq!(image, data[ny * nx..2 * ny * nx]);
    let mut all = Vec::new();
    stack.read_images(0..n, &mut all)?;
    assert_eq!(all, data);
    let h = mrc::Reader::open(&path)?.header().to_owned();
    assert_eq!((h.ispg, h.mz), (0, 1));
    assert!(matches!(
        stack.require_square(),
        Err(IoError::NotSquare { ny: 6, nx: 5, .. })
    ));
    Ok(())
}

#[test]
fn stack_pixel_size_reads_back_exactly() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("stack.mrcs");
    write_stack(&path, &random_values(2 * 64 * 64, 3), 2, 64, 64, 1.75)?;
    assert_eq!(MrcStack::open(&path)?.pixel_size(), Some(1.75));
    Ok(())
}

#[test]
fn streaming_writer_matches_one_shot_writer_byte_for_byte() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (n, d) = (10, 8);
    let data = random_values(n * d * d, 4);
    let one_shot = dir.path().join("a.mrcs");
    write_stack(&one_shot, &data, n, d, d, 1.2)?;
    let streamed = dir.path().join("b.mrcs");
    let mut writer = StackWriter::create(&streamed, d, d, 1.2)?;
    for chunk in data.chunks(3 * d * d) {
        writer.append(chunk)?;
    }
    assert!(!streamed.exists(), "the target appears only on finish");
    assert_eq!(writer.len(), n);
    writer.finish()?;
    assert_eq!(std::fs::read(&one_shot)?, std::fs::read(&streamed)?);
    no_temp_files(dir.path());
    Ok(())
}

#[test]
fn abandoned_or_failed_writes_leave_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("stack.mrcs");
    {
        let mut writer = StackWriter::create(&path, 4, 4, 1.0)?;
        writer.append(&[0.5; 16])?;
        let mut bad = vec![0.0; 32];
        bad[20] = f32::NAN;
        let err = writer.append(&bad).expect_err("must be rejected");
        assert!(matches!(err, IoError::NonFinite { index: 2, .. }), "{err}");
    }
    assert!(!path.exists());
    let err = write_volume(&path, &[0.0; 7], 2, 1.0).expect_err("must be rejected");
    assert!(matches!(err, IoError::InvalidArgument { .. }), "{err}");
    let err = write_volume(&path, &[0.0; 8], 2, 0.0).expect_err("must be rejected");
    assert!(matches!(err, IoError::InvalidArgument { .. }), "{err}");
    assert!(!path.exists());
    no_temp_files(dir.path());
    Ok(())
}

#[test]
fn integer_and_half_modes_are_converted_to_f32() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let shape = [3, 2, 2]; // nx, ny, nz
    let int16 = dir.path().join("m1.mrcs");
    let values: Vec<i16> = vec![-300, -2, 0, 1, 7, 32000, -32000, 5, 6, 7, 8, 9];
    mrc::write_as(&int16, &values, shape)?;
    let uint16 = dir.path().join("m6.mrcs");
    let uvalues: Vec<u16> = vec![0, 1, 2, 60000, 4, 5, 6, 7, 8, 9, 10, 11];
    mrc::write_as(&uint16, &uvalues, shape)?;
    let int8 = dir.path().join("m0.mrcs");
    let bvalues: Vec<i8> = vec![-128, -1, 0, 1, 127, 3, 4, 5, 6, 7, 8, 9];
    mrc::write_as(&int8, &bvalues, shape)?;
    let half = dir.path().join("m12.mrcs");
    let hvalues: Vec<f32> = vec![
        0.5, -1.25, 2.0, 1024.0, 0.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, -0.125,
    ];
    let h16: Vec<mrc::f16> = hvalues.iter().map(|&v| mrc::f16::from_f32(v)).collect();
    mrc::write_as(&half, &h16, shape)?;

    let cases: [(&std::path::Path, Vec<f32>); 4] = [
        (&int16, values.iter().map(|&v| f32::from(v)).collect()),
        (&uint16, uvalues.iter().map(|&v| f32::from(v)).collect()),
        (&int8, bvalues.iter().map(|&v| f32::from(v)).collect()),
        (&half, hvalues),
    ];
    for (path, expected) in cases {
        let stack = MrcStack::open(path)?;
        assert_eq!((stack.len(), stack.image_shape()), (2, (2, 3)));
        let mut all = Vec::new();
        stack.read_images(0..2, &mut all)?;
        assert_eq!(all, expected, "{}", path.display());
    }
    Ok(())
}

#[test]
fn hand_stack_has_100_images_and_matches_its_5_image_copy() -> anyhow::Result<()> {
    let (Some(hand), Some(hand5)) = (
        require("cryodrgn/hand.mrcs"),
        require("cryodrgn/hand.5.mrcs"),
    ) else {
        return Ok(());
    };
    let stack = MrcStack::open(&hand)?.require_square()?;
    assert_eq!(stack.len(), 100);
    assert_eq!(stack.image_shape(), (64, 64));
    assert_eq!(stack.pixel_size(), Some(1.0));
    let small = MrcStack::open(&hand5)?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    stack.read_images(0..5, &mut a)?;
    small.read_images(0..5, &mut b)?;
    assert_eq!(a, b);
    assert!(a.iter().any(|&v| v > 1.0), "hand projections are not blank");
    let err = stack
        .read_image(100, &mut vec![0.0; 64 * 64])
        .expect_err("must be rejected");
    assert!(
        matches!(
            err,
            IoError::IndexOutOfRange {
                index: 100,
                len: 100,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("hand.mrcs"));
    Ok(())
}

#[test]
fn real_relion_and_empiar_stacks() -> anyhow::Result<()> {
    let (Some(relion), Some(empiar)) = (
        require("cryodrgn/relion31.mrcs"),
        require("cryodrgn/empiar_10076_7.mrc"),
    ) else {
        return Ok(());
    };
    let stack = MrcStack::open(&relion)?;
    assert_eq!((stack.len(), stack.image_shape()), (5, (256, 256)));
    let mut all = Vec::new();
    stack.read_images(0..5, &mut all)?;
    assert_eq!(all.len(), 5 * 256 * 256);

    let stack = MrcStack::open(&empiar)?;
    assert_eq!((stack.len(), stack.image_shape()), (7, (320, 320)));
    assert_eq!(stack.pixel_size(), None, "the header cell is 0");
    Ok(())
}

#[test]
fn molmap_origin_and_pixel_size() -> anyhow::Result<()> {
    let Some(path) = require("maps/1ake_molmap45.mrc") else {
        return Ok(());
    };
    let volume = read_volume(&path)?;
    assert_eq!(volume.shape, (49, 46, 48));
    assert_eq!(volume.data.len(), 49 * 46 * 48);
    assert_eq!(volume.pixel_size, Some(1.5));
    for (got, want) in volume.origin.iter().zip([-10.994, 11.881, -9.910]) {
        assert!((got - want).abs() < 1e-3, "origin {:?}", volume.origin);
    }
    Ok(())
}

#[test]
fn truncated_file_is_reported_with_its_name() -> anyhow::Result<()> {
    let Some(hand5) = require("cryodrgn/hand.5.mrcs") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let cut = dir.path().join("cut.mrcs");
    let bytes = std::fs::read(&hand5)?;
    std::fs::write(&cut, &bytes[..bytes.len() - 100])?;
    let err = MrcStack::open(&cut).expect_err("must be rejected");
    assert!(
        matches!(
            err,
            IoError::SizeMismatch {
                expected: 82944,
                actual: 82844,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("cut.mrcs"), "{err}");
    assert!(matches!(
        read_volume(&cut),
        Err(IoError::SizeMismatch { .. })
    ));
    Ok(())
}

#[test]
fn nan_pixel_is_reported_with_the_image_index() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nan.mrcs");
    write_stack(&path, &random_values(4 * 8 * 8, 5), 4, 8, 8, 1.0)?;
    let mut bytes = std::fs::read(&path)?;
    let offset = 1024 + 4 * (2 * 64 + 17); // image 2, pixel 17
    bytes[offset..offset + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&path, bytes)?;

    let stack = MrcStack::open(&path)?;
    let mut image = vec![0.0; 64];
    stack.read_image(1, &mut image)?;
    let err = stack
        .read_image(2, &mut image)
        .expect_err("must be rejected");
    assert!(matches!(err, IoError::NonFinite { index: 2, .. }), "{err}");
    assert!(
        err.to_string().contains("nan.mrcs") && err.to_string().contains("image 2"),
        "{err}"
    );
    let mut all = Vec::new();
    assert!(matches!(
        stack.read_images(0..4, &mut all),
        Err(IoError::NonFinite { index: 2, .. })
    ));
    Ok(())
}

/// IEEE half-precision bits of an integer `n` with |n| < 2048 (exactly representable).
fn f16_bits(n: i32) -> u16 {
    let sign = if n < 0 { 0x8000 } else { 0 };
    let m = n.unsigned_abs();
    if m == 0 {
        return sign;
    }
    let e = 31 - m.leading_zeros(); // floor(log2 m)
    let mantissa = (m - (1 << e)) << (10 - e);
    sign | (((e + 15) << 10) | mantissa) as u16
}

#[test]
fn stacks_in_integer_and_half_modes_read_as_their_values_by_both_readers() -> anyhow::Result<()> {
    // A float32 stack, then the same header with the mode word (bytes 12..16) changed and the
    // data re-encoded in modes 0 (i8), 1 (i16), 6 (u16) and 12 (f16), little-endian.
    let (n, d) = (3, 5);
    let values: Vec<i32> = (0..n * d * d).map(|i| (i as i32 * 7) % 101 - 50).collect();
    let dir = tempfile::tempdir()?;
    let float_path = dir.path().join("float.mrcs");
    let as_f32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    write_stack(&float_path, &as_f32, n, d, d, 1.0)?;
    let header = std::fs::read(&float_path)?[..1024].to_vec();
    type Encode = fn(i32) -> Vec<u8>;
    let modes: [(i32, Encode, i32); 4] = [
        (0, |v| (v as i8).to_le_bytes().to_vec(), 0),
        (1, |v| (v as i16 * 100).to_le_bytes().to_vec(), 100),
        (6, |v| ((v + 50) as u16 * 300).to_le_bytes().to_vec(), 300),
        (12, |v| f16_bits(v * 4).to_le_bytes().to_vec(), 4),
    ];
    for (mode, encode, scale) in modes {
        let expected: Vec<f32> = values
            .iter()
            .map(|&v| match mode {
                0 => v as f32,
                6 => ((v + 50) * scale) as f32,
                _ => (v * scale) as f32,
            })
            .collect();
        let mut bytes = header.clone();
        bytes[12..16].copy_from_slice(&mode.to_le_bytes());
        bytes.extend(values.iter().flat_map(|&v| encode(v)));
        let path = dir.path().join(format!("mode{mode}.mrcs"));
        std::fs::write(&path, &bytes)?;
        let stack = MrcStack::open(&path)?;
        let mut image = vec![0.0f32; d * d];
        for i in 0..n {
            stack.read_image(i, &mut image)?;
            assert_eq!(image, expected[i * d * d..(i + 1) * d * d], "mode {mode}, image {i}");
        }
        let mut block = Vec::new();
        stack.read_images(1..3, &mut block)?;
        assert_eq!(block, expected[d * d..], "mode {mode}, images 1..3");
        // The mrc crate's own (memory-mapped) reader agrees.
        assert_eq!(read_volume(&path)?.data, expected, "mode {mode}, read_volume");
    }
    Ok(())
}
