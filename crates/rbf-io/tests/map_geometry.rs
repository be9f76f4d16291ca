//! Where a map's grid lies in its own frame: the ORIGIN field, NXSTART/NYSTART/NZSTART when the
//! origin is zero, and the box center the box frame puts at the origin.
use rbf_io::mrc::{read_geometry, read_volume, write_volume, write_volume_at};
use rbf_io::testdata::require;

#[test]
fn origin_written_is_the_origin_read_and_the_box_center_is_voxel_half_n() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("map.mrc");
    let (size, pixel_size, origin) = (9, 1.25, [-10.5, 3.0, 40.25]);
    write_volume_at(&path, &vec![0.5; size * size * size], size, pixel_size, origin)?;
    let geometry = read_geometry(&path)?;
    assert_eq!(geometry.shape, (size, size, size));
    assert_eq!(geometry.pixel_size, Some(pixel_size));
    assert_eq!(geometry.origin, origin);
    // Voxel 9/2 = 4 along each axis.
    assert_eq!(geometry.box_center(), Some([-10.5 + 5.0, 3.0 + 5.0, 40.25 + 5.0]));
    assert_eq!(read_volume(&path)?.origin, origin, "the full reader agrees");
    Ok(())
}

/// EMDB-style maps give the position by NXSTART.. (in voxels) and leave ORIGIN zero.
#[test]
fn start_indices_place_the_map_when_the_origin_is_zero() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("start.mrc");
    let size = 8;
    write_volume(&path, &vec![1.0; size * size * size], size, 2.0)?;
    let mut bytes = std::fs::read(&path)?;
    for (word, start) in [(4usize, -4i32), (5, 2), (6, -1)] {
        bytes[word * 4..word * 4 + 4].copy_from_slice(&start.to_le_bytes());
    }
    std::fs::write(&path, &bytes)?;
    let geometry = read_geometry(&path)?;
    assert_eq!(geometry.origin, [-8.0, 4.0, -2.0]);
    assert_eq!(geometry.box_center(), Some([0.0, 12.0, 6.0]));

    // A non-zero ORIGIN wins over the start indices.
    bytes[196..200].copy_from_slice(&7.5f32.to_le_bytes());
    std::fs::write(&path, &bytes)?;
    assert_eq!(read_geometry(&path)?.origin, [7.5, 0.0, 0.0]);
    Ok(())
}

#[test]
fn a_map_without_a_cell_has_no_box_center() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nocell.mrc");
    write_volume(&path, &[0.0; 8], 2, 1.0)?;
    let mut bytes = std::fs::read(&path)?;
    bytes[40..52].fill(0); // xlen, ylen, zlen
    std::fs::write(&path, &bytes)?;
    let geometry = read_geometry(&path)?;
    assert_eq!(geometry.pixel_size, None);
    assert_eq!(geometry.box_center(), None);
    Ok(())
}

/// Chimera's molmap of 1AKE chain A (48×46×49 voxels of 1.5 Å, placed by ORIGIN): its density's
/// center of mass in its own frame is the chain's centroid, (24.28, 45.80, 24.63) Å (SOURCES.md).
#[test]
fn a_chimera_molmap_is_placed_where_its_model_is() -> anyhow::Result<()> {
    let Some(path) = require("maps/1ake_molmap45.mrc") else { return Ok(()) };
    let geometry = read_geometry(&path)?;
    assert_eq!(geometry.shape, (49, 46, 48));
    let pixel_size = geometry.pixel_size.expect("the map has a cell");
    let volume = read_volume(&path)?;
    let (nz, ny, nx) = volume.shape;
    let (mut mass, mut moment) = (0.0, [0.0f64; 3]);
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let v = f64::from(volume.data[(z * ny + y) * nx + x]);
                mass += v;
                for (m, i) in moment.iter_mut().zip([x, y, z]) {
                    *m += v * i as f64;
                }
            }
        }
    }
    let com: Vec<f64> = (0..3).map(|k| geometry.origin[k] + moment[k] / mass * pixel_size).collect();
    for (k, expected) in [24.28, 45.80, 24.63].into_iter().enumerate() {
        assert!((com[k] - expected).abs() < 0.3, "axis {k}: center of mass {com:?}");
    }
    Ok(())
}
