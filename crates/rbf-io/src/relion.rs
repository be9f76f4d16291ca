//! Writing particle files as RELION 3.1 does: a `data_optics` block with one row per optics group
//! and a `data_particles` block with one row per particle. This is the one writer of particle STAR
//! files (`cryorbf simulate` and `cryorbf downsample` use it); [`crate::ParticleTable::from_star`]
//! reads its files back with the same poses, shifts and CTF.
//!
//! Columns, in order:
//! * optics: `rlnOpticsGroupName`, `rlnOpticsGroup`, `rlnImagePixelSize` (Å), `rlnImageSize`
//!   (pixels), `rlnImageDimensionality` (2), then, when the particles have a CTF, `rlnVoltage`
//!   (kV), `rlnSphericalAberration` (mm) and `rlnAmplitudeContrast`. Particles that agree on
//!   these values share a group, numbered from 1 in order of first appearance.
//! * particles: `rlnImageName`, `rlnOpticsGroup`, then, when every particle has a pose,
//!   `rlnAngleRot`, `rlnAngleTilt`, `rlnAnglePsi` (degrees, [`matrix_to_euler`]) and
//!   `rlnOriginXAngst`, `rlnOriginYAngst` (Å, `−t`); when every particle has a CTF,
//!   `rlnDefocusU`, `rlnDefocusV` (Å), `rlnDefocusAngle`, `rlnPhaseShift` (degrees); then the
//!   caller's extra columns.
use std::path::Path;

use crate::IoError;
use crate::particles::{CtfParams, Pose, matrix_to_euler};
use crate::star::{StarBlock, write_star};

/// One particle to write.
#[derive(Debug, Clone, PartialEq)]
pub struct StarParticle {
    /// `rlnImageName`: `N@stack`, N counted from 1 (see [`image_name`]).
    pub image_name: String,
    /// Pixel size (Å).
    pub pixel_size: f64,
    /// Box edge (pixels).
    pub box_size: usize,
    /// Pose; the angle and origin columns are written when every particle has one.
    pub pose: Option<Pose>,
    /// CTF; the CTF columns are written when every particle has one.
    pub ctf: Option<CtfParams>,
    /// Values of the extra columns, in their order.
    pub extra: Vec<String>,
}

/// `rlnImageName` of image `index` (0-based) of `stack`: `{index + 1:06}@stack`.
pub fn image_name(index: usize, stack: &str) -> String {
    format!("{:06}@{stack}", index + 1)
}

/// An optics group's values, compared bit for bit.
#[derive(PartialEq)]
struct OpticsKey {
    pixel_size: u64,
    box_size: usize,
    ctf: Option<[u64; 3]>,
}

impl OpticsKey {
    fn of(p: &StarParticle, with_ctf: bool) -> Self {
        OpticsKey {
            pixel_size: p.pixel_size.to_bits(),
            box_size: p.box_size,
            ctf: p.ctf.filter(|_| with_ctf).map(|c| {
                [
                    c.voltage.to_bits(),
                    c.spherical_aberration.to_bits(),
                    c.amplitude_contrast.to_bits(),
                ]
            }),
        }
    }
}

/// The optics and particle blocks of `particles` (see the module docs for the columns).
///
/// # Errors
/// [`IoError::InvalidArgument`] naming `path` (the file they are for) when there are no
/// particles, a pixel size is not positive, or a particle's extra values do not match
/// `extra_columns`.
pub fn particle_star_blocks(
    path: &Path,
    particles: &[StarParticle],
    extra_columns: &[&str],
) -> Result<[StarBlock; 2], IoError> {
    if particles.is_empty() {
        return Err(IoError::invalid(path, "no particles to write"));
    }
    let with_pose = particles.iter().all(|p| p.pose.is_some());
    let with_ctf = particles.iter().all(|p| p.ctf.is_some());
    let mut optics_columns = vec![
        "rlnOpticsGroupName",
        "rlnOpticsGroup",
        "rlnImagePixelSize",
        "rlnImageSize",
        "rlnImageDimensionality",
    ];
    if with_ctf {
        optics_columns.extend([
            "rlnVoltage",
            "rlnSphericalAberration",
            "rlnAmplitudeContrast",
        ]);
    }
    let mut columns = vec!["rlnImageName", "rlnOpticsGroup"];
    if with_pose {
        columns.extend([
            "rlnAngleRot",
            "rlnAngleTilt",
            "rlnAnglePsi",
            "rlnOriginXAngst",
            "rlnOriginYAngst",
        ]);
    }
    if with_ctf {
        columns.extend([
            "rlnDefocusU",
            "rlnDefocusV",
            "rlnDefocusAngle",
            "rlnPhaseShift",
        ]);
    }
    columns.extend(extra_columns);
    let mut groups: Vec<OpticsKey> = Vec::new();
    let mut optics_rows: Vec<Vec<String>> = Vec::new();
    let mut rows = Vec::with_capacity(particles.len());
    for (i, p) in particles.iter().enumerate() {
        if !(p.pixel_size.is_finite() && p.pixel_size > 0.0) {
            return Err(IoError::invalid(
                path,
                format!(
                    "particle {i} (0-based): pixel size {} Å is not positive",
                    p.pixel_size
                ),
            ));
        }
        if p.extra.len() != extra_columns.len() {
            return Err(IoError::invalid(
                path,
                format!(
                    "particle {i} (0-based): {} extra values for the columns {}",
                    p.extra.len(),
                    extra_columns.join(", ")
                ),
            ));
        }
        let key = OpticsKey::of(p, with_ctf);
        let group = match groups.iter().position(|g| *g == key) {
            Some(g) => g + 1,
            None => {
                groups.push(key);
                let n = groups.len();
                let mut row = vec![
                    format!("opticsGroup{n}"),
                    n.to_string(),
                    format!("{}", p.pixel_size),
                    p.box_size.to_string(),
                    "2".into(),
                ];
                if let (true, Some(c)) = (with_ctf, &p.ctf) {
                    row.extend([
                        format!("{}", c.voltage),
                        format!("{}", c.spherical_aberration),
                        format!("{}", c.amplitude_contrast),
                    ]);
                }
                optics_rows.push(row);
                n
            }
        };
        let mut row = vec![p.image_name.clone(), group.to_string()];
        if let (true, Some(pose)) = (with_pose, &p.pose) {
            let (rot, tilt, psi) = matrix_to_euler(&pose.rotation);
            row.extend([
                format!("{rot:.6}"),
                format!("{tilt:.6}"),
                format!("{psi:.6}"),
                format!("{:.6}", -pose.shift[0]),
                format!("{:.6}", -pose.shift[1]),
            ]);
        }
        if let (true, Some(c)) = (with_ctf, &p.ctf) {
            row.extend([
                format!("{:.3}", c.defocus_u),
                format!("{:.3}", c.defocus_v),
                format!("{:.4}", c.defocus_angle),
                format!("{:.4}", c.phase_shift),
            ]);
        }
        row.extend(p.extra.iter().cloned());
        rows.push(row);
    }
    let names = |c: Vec<&str>| c.into_iter().map(String::from).collect();
    Ok([
        StarBlock::new_loop("optics", names(optics_columns), optics_rows),
        StarBlock::new_loop("particles", names(columns), rows),
    ])
}

/// Write `particles` as a RELION 3.1 STAR file, atomically (see the module docs).
///
/// # Errors
/// As [`particle_star_blocks`] and [`write_star`].
pub fn write_particle_star(
    path: impl AsRef<Path>,
    particles: &[StarParticle],
    extra_columns: &[&str],
) -> Result<(), IoError> {
    let path = path.as_ref();
    write_star(path, &particle_star_blocks(path, particles, extra_columns)?)
}
