//! Where the reference goes in the particles' box frame (`--map`), and the checks that warn when
//! the placed reference does not sit inside the box or does not overlap the particles.
use std::path::Path;

use anyhow::Context;
use rbf_model::ImageGrid;

/// A reference placed by the frame of the map it was built into.
#[derive(Debug, Clone, PartialEq)]
pub struct MapPlacement {
    /// The shift (Å) from the map's frame to the box frame: minus the map's box center.
    pub shift: [f64; 3],
    /// How the reference was placed, for the log.
    pub description: String,
    /// Set when the map's pixel size is not the particles'.
    pub warning: Option<String>,
}

/// Place a structure that is in `map`'s frame: the map's box center (voxel `N/2` along each axis,
/// at the map's own pixel size and origin) goes to the origin of the box frame, where the
/// particles' box center is (CONVENTIONS.md).
///
/// # Errors
/// When the map cannot be read or its header has no pixel size.
pub fn map_placement(map: &Path, particle_pixel_size: f64) -> anyhow::Result<MapPlacement> {
    let geometry = rbf_io::mrc::read_geometry(map)?;
    let center = geometry
        .box_center()
        .with_context(|| format!("--map {}: the header has no pixel size (its cell lengths are 0), so its frame is unknown", map.display()))?;
    let map_pixel_size = geometry.pixel_size.unwrap_or(particle_pixel_size);
    let warning = ((map_pixel_size - particle_pixel_size).abs() > 1e-3 * particle_pixel_size).then(|| {
        format!(
            "--map {}: its pixel size, {} Å, is not the particles' {particle_pixel_size} Å; its own is used to place the reference in its frame \
             (expected when the particles are downsampled; otherwise check the pixel sizes)",
            map.display(),
            // The header holds the cell in f32: 1.05 Å reads back as 1.0499999523.
            (map_pixel_size * 1e5).round() / 1e5
        )
    });
    Ok(MapPlacement {
        shift: center.map(|c| -c),
        description: format!(
            "placed by the frame of {}: its box center, ({:.2}, {:.2}, {:.2}) Å, at the box center",
            map.display(),
            center[0],
            center[1],
            center[2]
        ),
        warning,
    })
}

/// A warning when part of the placed reference lies farther than half the box, `(D/2)·pixel_size`,
/// from the box center: seen from some directions it projects outside the images' inscribed circle.
pub fn outside_circle(centers: &[[f64; 3]], grid: &ImageGrid) -> Option<String> {
    let radius = (grid.box_size() / 2) as f64 * grid.pixel_size();
    let distances: Vec<f64> = centers.iter().map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt()).filter(|&r| r > radius).collect();
    let farthest = distances.iter().copied().fold(f64::NAN, f64::max);
    (!distances.is_empty()).then(|| {
        format!(
            "{} of the reference's {} RBF centers lie farther than half the box ({radius:.1} Å) from its center, up to {farthest:.1} Å: \
             seen from some directions they project outside the images' inscribed circle. Check the placement (--map, --reference-shift) or use a larger box",
            distances.len(),
            centers.len()
        )
    })
}

/// A warning when the placed reference's Cα centroid is more than a quarter of the box from the
/// center of the particles' density ([`rbf_train::center::particle_center`]), naming both (Å).
pub fn far_from_particles(reference: [f64; 3], particles: [f64; 3], grid: &ImageGrid) -> Option<String> {
    let distance = (0..3).map(|k| (reference[k] - particles[k]).powi(2)).sum::<f64>().sqrt();
    let limit = grid.box_size() as f64 * grid.pixel_size() / 4.0;
    (distance > limit).then(|| {
        format!(
            "the reference's Cα centroid, {}, is {distance:.1} Å from the center of the particles' density found from the images and their poses, {} \
             (more than a quarter of the box, {limit:.1} Å): the reference may not overlap the particles. Place it with --map (the map it was built into) or --reference-shift",
            position(reference),
            position(particles)
        )
    })
}

fn position(p: [f64; 3]) -> String {
    format!("({:.1}, {:.1}, {:.1}) Å", p[0], p[1], p[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> ImageGrid {
        ImageGrid::new(64, 1.5).expect("valid grid")
    }

    /// A structure in a map's frame lands where the map's box center is the origin.
    #[test]
    fn a_map_places_its_box_center_at_the_origin_and_warns_of_another_pixel_size() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let map = dir.path().join("consensus.mrc");
        rbf_io::mrc::write_volume_at(&map, &vec![0.0; 40 * 40 * 40], 40, 1.25, [100.0, -20.0, 3.5])?;
        let placed = map_placement(&map, 1.25)?;
        assert_eq!(placed.shift, [-125.0, -5.0, -28.5], "origin + 20 voxels of 1.25 Å");
        assert!(placed.description.contains("(125.00, 5.00, 28.50) Å"), "{}", placed.description);
        assert_eq!(placed.warning, None);
        let other = map_placement(&map, 2.5)?;
        assert_eq!(other.shift, placed.shift, "the map's own pixel size places it");
        let warning = other.warning.expect("a pixel-size warning");
        assert!(warning.contains("1.25 Å") && warning.contains("2.5 Å"), "{warning}");
        Ok(())
    }

    #[test]
    fn centers_beyond_half_the_box_are_reported() {
        let inside = [[40.0, 0.0, 0.0], [0.0, -30.0, 30.0]];
        assert_eq!(outside_circle(&inside, &grid()), None, "42.4 Å < 48 Å");
        let warning = outside_circle(&[[40.0, 0.0, 0.0], [30.0, 30.0, 30.0], [0.0; 3]], &grid()).expect("52 Å > 48 Å");
        assert!(warning.starts_with("1 of the reference's 3 RBF centers") && warning.contains("up to 52.0 Å"), "{warning}");
    }

    #[test]
    fn a_reference_a_quarter_box_from_the_particles_is_reported() {
        // A quarter of the 96 Å box is 24 Å.
        assert_eq!(far_from_particles([10.0, 0.0, 0.0], [-10.0, 5.0, 0.0], &grid()), None, "20.6 Å");
        let warning = far_from_particles([20.0, 0.0, 3.0], [-10.0, 0.0, 3.0], &grid()).expect("30 Å");
        assert!(warning.contains("(20.0, 0.0, 3.0) Å") && warning.contains("(-10.0, 0.0, 3.0) Å") && warning.contains("--map"), "{warning}");
    }
}
