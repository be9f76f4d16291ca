//! Particle tables: which image each particle is, its pose, CTF, pixel size and box size, read
//! from RELION STAR files (here) or cryoSPARC `.cs` files ([`crate::cs`]).
//!
//! Conventions (see the crate root for the full list):
//! * `rlnImageName` is `N@stack`, N counted from 1; [`ImageRef::index`] is 0-based. The stack path
//!   is relative to the STAR file's folder, or to the data directory when one is given (where, if
//!   `datadir/path` does not exist, `datadir/<file name>` is used, as cryoDRGN does).
//! * The rotation is RELION's `Euler_angles2matrix(rot, tilt, psi)` ([`euler_to_matrix`]).
//! * The in-plane shift `t` (Å) is minus RELION's origin: `t = −rlnOriginXAngst`, or
//!   `t = −rlnOriginX · pixel_size` for RELION 3.0 files whose origins are in pixels. Missing origin
//!   columns mean a zero shift.
//! * Values are looked up in the particle's row first, then in its optics group's row of
//!   `data_optics` (RELION 3.1 and 5). RELION 3.0 files (one block, often `data_images`) give the
//!   pixel size as `10⁴ · rlnDetectorPixelSize / rlnMagnification`.
//! * CTF: a missing `rlnDefocusV` means `rlnDefocusU`, a missing `rlnDefocusAngle` or
//!   `rlnPhaseShift` means 0 (as RELION reads them).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::IoError;
use crate::mrc::MrcStack;
use crate::star::{StarFile, Table};

/// Where a particle's image is: image `index` (0-based) of the MRC stack `stack`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// The stack file, resolved against the metadata file's folder or the data directory.
    pub stack: PathBuf,
    /// 0-based index of the image in the stack.
    pub index: usize,
}

/// A particle's pose: the image is the projection along z of the volume rotated by `rotation`,
/// shifted in-plane by `shift`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// RELION's `Euler_angles2matrix(rot, tilt, psi)`, row-major.
    pub rotation: [[f64; 3]; 3],
    /// In-plane offset `t = (t_x, t_y)` (Å) = −(rlnOriginXAngst, rlnOriginYAngst).
    pub shift: [f64; 2],
}

/// CTF parameters in file units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CtfParams {
    /// Defocus along the first astigmatism axis (Å).
    pub defocus_u: f64,
    /// Defocus along the second astigmatism axis (Å).
    pub defocus_v: f64,
    /// Astigmatism angle (degrees).
    pub defocus_angle: f64,
    /// Acceleration voltage (kV).
    pub voltage: f64,
    /// Spherical aberration (mm).
    pub spherical_aberration: f64,
    /// Amplitude contrast (fraction, 0–1).
    pub amplitude_contrast: f64,
    /// Phase shift (degrees).
    pub phase_shift: f64,
}

/// One particle.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    /// The particle image.
    pub image: ImageRef,
    /// Pose, when the file has angles.
    pub pose: Option<Pose>,
    /// CTF, when the file has the CTF parameters.
    pub ctf: Option<CtfParams>,
    /// Pixel size (Å).
    pub pixel_size: Option<f64>,
    /// Box edge (pixels).
    pub box_size: Option<usize>,
}

/// Fallbacks for values a metadata file may not hold. None of them overrides a value the file
/// gives.
#[derive(Debug, Clone, Default)]
pub struct ParticleOptions {
    /// Folder the image paths are relative to (default: the metadata file's folder).
    pub datadir: Option<PathBuf>,
    /// Box edge (pixels) when neither the file nor the stack's MRC header gives one.
    pub box_size: Option<usize>,
    /// Pixel size (Å) when the file gives none.
    pub pixel_size: Option<f64>,
    /// Amplitude contrast when the file gives none (cryoDRGN's default is 0.1).
    pub amplitude_contrast: Option<f64>,
}

/// A table of particles read from a STAR or `.cs` file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticleTable {
    /// The metadata file.
    pub source: PathBuf,
    /// The particles, in file order.
    pub particles: Vec<Particle>,
    /// The first pose column missing, when poses are absent.
    pub(crate) missing_pose: Option<String>,
    /// The first CTF column missing, when CTF parameters are absent.
    pub(crate) missing_ctf: Option<String>,
}

/// RELION's `Euler_angles2matrix(rot, tilt, psi)` (ZYZ, angles in degrees).
pub fn euler_to_matrix(rot: f64, tilt: f64, psi: f64) -> [[f64; 3]; 3] {
    let (sa, ca) = rot.to_radians().sin_cos();
    let (sb, cb) = tilt.to_radians().sin_cos();
    let (sg, cg) = psi.to_radians().sin_cos();
    let (cc, cs, sc, ss) = (cb * ca, cb * sa, sb * ca, sb * sa);
    [
        [cg * cc - sg * sa, cg * cs + sg * ca, -cg * sb],
        [-sg * cc - cg * sa, -sg * cs + cg * ca, sg * sb],
        [sc, ss, cb],
    ]
}

/// RELION's Euler angles `(rot, tilt, psi)` (degrees, ZYZ) of a rotation matrix: the inverse of
/// [`euler_to_matrix`]. Tilt is in [0°, 180°]; rot and psi in (−180°, 180°]. At tilt 0° or 180°
/// only rot ± psi is defined; rot is then 0.
pub fn matrix_to_euler(r: &[[f64; 3]; 3]) -> (f64, f64, f64) {
    // Third row = (sin tilt·cos rot, sin tilt·sin rot, cos tilt); third column = (−cos psi·sin tilt,
    // sin psi·sin tilt, cos tilt).
    let sin_tilt = r[2][0].hypot(r[2][1]);
    let tilt = sin_tilt.atan2(r[2][2]);
    let (rot, psi) = if sin_tilt > 1e-9 {
        (r[2][1].atan2(r[2][0]), r[1][2].atan2(-r[0][2]))
    } else if r[2][2] > 0.0 {
        // tilt = 0: the first row is (cos(rot + psi), sin(rot + psi), 0).
        (0.0, r[0][1].atan2(r[0][0]))
    } else {
        // tilt = 180°: the first row is (−cos(psi − rot), sin(psi − rot), 0).
        (0.0, r[0][1].atan2(-r[0][0]))
    };
    (rot.to_degrees(), tilt.to_degrees(), psi.to_degrees())
}

/// Resolve a stack path from a metadata file: absolute paths are kept; relative ones are joined to
/// `datadir` (falling back to `datadir/<file name>` when that exists and the full join does not)
/// or to `base_dir`.
pub(crate) fn resolve_stack(base_dir: &Path, datadir: Option<&Path>, name: &str) -> PathBuf {
    let name = Path::new(name);
    match datadir {
        Some(dir) => {
            let joined = dir.join(name);
            match name.file_name() {
                Some(file) if !joined.exists() && dir.join(file).exists() => dir.join(file),
                _ => joined,
            }
        }
        None => base_dir.join(name),
    }
}

/// Box edge from a stack's header, when the stack exists; cached per stack.
pub(crate) fn box_from_stack(
    cache: &mut HashMap<PathBuf, Option<usize>>,
    stack: &Path,
) -> Result<Option<usize>, IoError> {
    if let Some(size) = cache.get(stack) {
        return Ok(*size);
    }
    let size = if stack.exists() {
        Some(MrcStack::open(stack)?.image_shape().1)
    } else {
        None
    };
    cache.insert(stack.to_path_buf(), size);
    Ok(size)
}

fn parse_image_name(table: &Table<'_>, row: usize, text: &str) -> Result<(usize, String), IoError> {
    let bad = || table.bad_value(row, "rlnImageName", text, "N@stack with N ≥ 1");
    match text.split_once('@') {
        Some((n, stack)) => {
            let n: usize = n.parse().map_err(|_| bad())?;
            if n == 0 || stack.is_empty() {
                return Err(bad());
            }
            Ok((n - 1, stack.to_string()))
        }
        None => Ok((0, text.to_string())),
    }
}

/// The particle block: `data_particles`, else the first loop with `rlnImageName`.
fn particle_table(star: &StarFile) -> Result<Table<'_>, IoError> {
    if let Ok(table) = star.table("particles") {
        return Ok(table);
    }
    star.blocks
        .iter()
        .filter_map(|b| Table::new(&star.path, b))
        .find(|t| t.name() != "optics" && t.has_column("rlnImageName"))
        .ok_or_else(|| IoError::MissingBlock {
            path: star.path.clone(),
            block: "data_particles (or any loop with rlnImageName)".into(),
        })
}

/// A particle row with its optics row, for "particle first, then optics group" lookups.
struct Row<'a> {
    particles: Table<'a>,
    row: usize,
    optics: Option<(Table<'a>, usize)>,
}

impl Row<'_> {
    fn f64(&self, column: &str) -> Result<Option<f64>, IoError> {
        if let Some(v) = self.particles.f64(self.row, column)? {
            return Ok(Some(v));
        }
        match &self.optics {
            Some((optics, r)) => optics.f64(*r, column),
            None => Ok(None),
        }
    }

    /// The value of `column` (particle row first, then optics row), which must be positive.
    fn positive(&self, column: &str) -> Result<Option<f64>, IoError> {
        let optics = self.optics.as_ref().map(|(table, row)| (table, *row));
        for (table, row) in std::iter::once((&self.particles, self.row)).chain(optics) {
            match table.f64(row, column)? {
                Some(v) if v > 0.0 => return Ok(Some(v)),
                Some(_) => {
                    let text = table.str(row, column).unwrap_or_default();
                    return Err(table.bad_value(row, column, text, "a positive number"));
                }
                None => {}
            }
        }
        Ok(None)
    }

    fn pixel_size(&self) -> Result<Option<f64>, IoError> {
        if let Some(apix) = self.positive("rlnImagePixelSize")? {
            return Ok(Some(apix));
        }
        match (
            self.positive("rlnDetectorPixelSize")?,
            self.positive("rlnMagnification")?,
        ) {
            (Some(detector_um), Some(mag)) => Ok(Some(1e4 * detector_um / mag)),
            _ => Ok(None),
        }
    }
}

/// Find the optics row of each particle row.
fn optics_row<'a>(
    particles: &Table<'a>,
    optics: Option<&Table<'a>>,
    row: usize,
) -> Result<Option<(Table<'a>, usize)>, IoError> {
    let Some(optics) = optics else {
        return Ok(None);
    };
    let Some(group) = particles.str(row, "rlnOpticsGroup") else {
        return Ok((optics.len() == 1).then_some((*optics, 0)));
    };
    let same = |other: &str| {
        other == group
            || matches!((other.parse::<f64>(), group.parse::<f64>()), (Ok(a), Ok(b)) if a == b)
    };
    (0..optics.len())
        .find(|&r| optics.str(r, "rlnOpticsGroup").is_some_and(same))
        .map(|r| Some((*optics, r)))
        .ok_or_else(|| IoError::UnknownOpticsGroup {
            path: particles.path().to_path_buf(),
            line: particles.line(row),
            group: group.to_string(),
        })
}

/// Read the pose of one row: `Ok(Err(column))` names the first missing angle column.
fn star_pose(row: &Row<'_>, pixel_size: Option<f64>) -> Result<Result<Pose, String>, IoError> {
    let mut angles = [0.0; 3];
    for (angle, column) in angles
        .iter_mut()
        .zip(["rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"])
    {
        match row.f64(column)? {
            Some(v) => *angle = v,
            None => return Ok(Err(column.to_string())),
        }
    }
    let origin_angst = [row.f64("rlnOriginXAngst")?, row.f64("rlnOriginYAngst")?];
    let origin_px = [row.f64("rlnOriginX")?, row.f64("rlnOriginY")?];
    let mut shift = [0.0; 2];
    for k in 0..2 {
        shift[k] = match (origin_angst[k], origin_px[k]) {
            (Some(angst), _) => -angst,
            (None, Some(px)) => match pixel_size {
                Some(apix) => -px * apix,
                None => {
                    return Err(IoError::MissingColumn {
                        path: row.particles.path().to_path_buf(),
                        column: "rlnImagePixelSize or rlnDetectorPixelSize+rlnMagnification".into(),
                        what: "converting rlnOriginX/Y (pixels) to Å",
                    });
                }
            },
            (None, None) => 0.0,
        };
    }
    let [rot, tilt, psi] = angles;
    Ok(Ok(Pose {
        rotation: euler_to_matrix(rot, tilt, psi),
        shift,
    }))
}

/// Read the CTF of one row: `Ok(Err(column))` names the first missing required column.
fn star_ctf(row: &Row<'_>, fallback_w: Option<f64>) -> Result<Result<CtfParams, String>, IoError> {
    let required = |column: &str, fallback: Option<f64>| -> Result<Result<f64, String>, IoError> {
        Ok(row
            .f64(column)?
            .or(fallback)
            .ok_or_else(|| column.to_string()))
    };
    let defocus_u = match required("rlnDefocusU", None)? {
        Ok(v) => v,
        Err(c) => return Ok(Err(c)),
    };
    let mut values = [0.0; 3];
    for (v, (column, fallback)) in values.iter_mut().zip([
        ("rlnVoltage", None),
        ("rlnSphericalAberration", None),
        ("rlnAmplitudeContrast", fallback_w),
    ]) {
        match required(column, fallback)? {
            Ok(x) => *v = x,
            Err(c) => return Ok(Err(c)),
        }
    }
    let [voltage, spherical_aberration, amplitude_contrast] = values;
    Ok(Ok(CtfParams {
        defocus_u,
        defocus_v: row.f64("rlnDefocusV")?.unwrap_or(defocus_u),
        defocus_angle: row.f64("rlnDefocusAngle")?.unwrap_or(0.0),
        voltage,
        spherical_aberration,
        amplitude_contrast,
        phase_shift: row.f64("rlnPhaseShift")?.unwrap_or(0.0),
    }))
}

impl ParticleTable {
    /// Read a RELION STAR particle file; image paths are relative to `datadir` when given, else to
    /// the STAR file's folder.
    ///
    /// # Errors
    /// As [`ParticleTable::from_star_with`].
    pub fn from_star(path: impl AsRef<Path>, datadir: Option<&Path>) -> Result<Self, IoError> {
        let options = ParticleOptions {
            datadir: datadir.map(Path::to_path_buf),
            ..ParticleOptions::default()
        };
        Self::from_star_with(path, &options)
    }

    /// Read a RELION STAR particle file (3.0, 3.1 or 5 style) with fallbacks for missing values.
    ///
    /// # Errors
    /// [`IoError::Io`] / [`IoError::StarSyntax`] / [`IoError::RowLength`] from reading the file;
    /// [`IoError::MissingBlock`] when no block lists particles; [`IoError::MissingColumn`] without
    /// `rlnImageName`; [`IoError::BadValue`] (file, line, column, value) for a malformed number or
    /// image name, or a pixel size, detector pixel size or magnification that is not positive; [`IoError::UnknownOpticsGroup`]; MRC errors when a referenced stack exists but
    /// its header cannot be read (it is opened only when the box size is needed from it).
    pub fn from_star_with(
        path: impl AsRef<Path>,
        options: &ParticleOptions,
    ) -> Result<Self, IoError> {
        let path = path.as_ref();
        let star = StarFile::read(path)?;
        let particles = particle_table(&star)?;
        if !particles.has_column("rlnImageName") {
            return Err(IoError::MissingColumn {
                path: path.to_path_buf(),
                column: "rlnImageName".into(),
                what: "a particle table",
            });
        }
        let optics = star.table("optics").ok();
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let mut box_cache = HashMap::new();
        let mut table = Self {
            source: path.to_path_buf(),
            particles: Vec::with_capacity(particles.len()),
            missing_pose: None,
            missing_ctf: None,
        };
        for r in 0..particles.len() {
            let row = Row {
                particles,
                row: r,
                optics: optics_row(&particles, optics.as_ref(), r)?,
            };
            let name = particles.str(r, "rlnImageName").unwrap_or_default();
            let (index, stack_name) = parse_image_name(&particles, r, name)?;
            let stack = resolve_stack(base_dir, options.datadir.as_deref(), &stack_name);
            let pixel_size = row.pixel_size()?.or(options.pixel_size);
            let box_size = match row.f64("rlnImageSize")? {
                Some(size) if size >= 1.0 && size.fract() == 0.0 => Some(size as usize),
                Some(_) => {
                    let text = row
                        .particles
                        .str(r, "rlnImageSize")
                        .or_else(|| {
                            row.optics
                                .as_ref()
                                .and_then(|(o, i)| o.str(*i, "rlnImageSize"))
                        })
                        .unwrap_or_default();
                    return Err(particles.bad_value(r, "rlnImageSize", text, "a positive integer"));
                }
                None => box_from_stack(&mut box_cache, &stack)?.or(options.box_size),
            };
            let pose = star_pose(&row, pixel_size)?
                .map_err(|c| table.missing_pose.get_or_insert(c).clone())
                .ok();
            let ctf = star_ctf(&row, options.amplitude_contrast)?
                .map_err(|c| table.missing_ctf.get_or_insert(c).clone())
                .ok();
            table.particles.push(Particle {
                image: ImageRef { stack, index },
                pose,
                ctf,
                pixel_size,
                box_size,
            });
        }
        Ok(table)
    }

    /// Number of particles.
    pub fn len(&self) -> usize {
        self.particles.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.particles.is_empty()
    }

    /// Check that every particle has a pose.
    ///
    /// # Errors
    /// [`IoError::MissingColumn`] naming the file and the first missing pose column.
    pub fn require_poses(&self) -> Result<(), IoError> {
        match &self.missing_pose {
            Some(column) => Err(IoError::MissingColumn {
                path: self.source.clone(),
                column: column.clone(),
                what: "particle poses",
            }),
            None => Ok(()),
        }
    }

    /// Check that every particle has CTF parameters.
    ///
    /// # Errors
    /// [`IoError::MissingColumn`] naming the file and the first missing CTF column.
    pub fn require_ctf(&self) -> Result<(), IoError> {
        match &self.missing_ctf {
            Some(column) => Err(IoError::MissingColumn {
                path: self.source.clone(),
                column: column.clone(),
                what: "CTF parameters",
            }),
            None => Ok(()),
        }
    }

    fn missing(&self, particle: usize, message: &str) -> IoError {
        IoError::MissingValue {
            path: self.source.clone(),
            particle,
            message: message.to_string(),
        }
    }

    fn poses(&self) -> Result<Vec<Pose>, IoError> {
        self.require_poses()?;
        self.particles
            .iter()
            .enumerate()
            .map(|(i, p)| p.pose.ok_or_else(|| self.missing(i, "no pose")))
            .collect()
    }

    /// Rotation matrices, one per particle (cryoDRGN's `rot` array).
    ///
    /// # Shapes
    /// `[n_particles][3][3]`.
    ///
    /// # Errors
    /// As [`ParticleTable::require_poses`].
    pub fn rotations(&self) -> Result<Vec<[[f64; 3]; 3]>, IoError> {
        Ok(self.poses()?.into_iter().map(|p| p.rotation).collect())
    }

    /// Shifts as cryoDRGN stores them: RELION's origin in pixels over the box edge,
    /// `−t / (pixel_size · box_size)`.
    ///
    /// # Shapes
    /// `[n_particles][2]` as `(x, y)`.
    ///
    /// # Errors
    /// As [`ParticleTable::require_poses`]; [`IoError::MissingValue`] for a particle without a
    /// pixel size.
    pub fn shifts_fraction(&self, box_size: usize) -> Result<Vec<[f64; 2]>, IoError> {
        let d = box_size as f64;
        self.poses()?
            .into_iter()
            .zip(&self.particles)
            .enumerate()
            .map(|(i, (pose, p))| {
                let apix = p
                    .pixel_size
                    .ok_or_else(|| self.missing(i, "no pixel size"))?;
                Ok(pose.shift.map(|t| -t / (apix * d)))
            })
            .collect()
    }

    /// CTF rows in cryoDRGN's layout: `[box (px), pixel size (Å), dfU (Å), dfV (Å),
    /// dfAngle (°), voltage (kV), Cs (mm), amplitude contrast, phase shift (°)]`.
    ///
    /// # Shapes
    /// `[n_particles][9]`.
    ///
    /// # Errors
    /// As [`ParticleTable::require_ctf`]; [`IoError::MissingValue`] for a particle without a box
    /// or pixel size.
    pub fn ctf_rows(&self) -> Result<Vec<[f64; 9]>, IoError> {
        self.require_ctf()?;
        self.particles
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let c = p.ctf.ok_or_else(|| self.missing(i, "no CTF parameters"))?;
                let d = p.box_size.ok_or_else(|| self.missing(i, "no box size"))?;
                let apix = p
                    .pixel_size
                    .ok_or_else(|| self.missing(i, "no pixel size"))?;
                Ok([
                    d as f64,
                    apix,
                    c.defocus_u,
                    c.defocus_v,
                    c.defocus_angle,
                    c.voltage,
                    c.spherical_aberration,
                    c.amplitude_contrast,
                    c.phase_shift,
                ])
            })
            .collect()
    }

    /// Open every referenced stack and check the particles' image indices against them.
    ///
    /// # Errors
    /// [`IoError::Io`] naming a stack that does not exist; MRC errors for a stack that cannot be
    /// read; [`IoError::IndexOutOfRange`] naming the stack, index and length for an image past the
    /// end; [`IoError::InvalidArgument`] when stacks disagree on the image shape or it disagrees
    /// with the particle's box size.
    pub fn open_images(&self) -> Result<ParticleImages, IoError> {
        let mut stacks: Vec<MrcStack> = Vec::new();
        let mut by_path: HashMap<&Path, usize> = HashMap::new();
        let mut which = Vec::with_capacity(self.particles.len());
        let mut shape: Option<(usize, usize)> = None;
        for p in &self.particles {
            let s = match by_path.get(p.image.stack.as_path()) {
                Some(&s) => s,
                None => {
                    let stack = MrcStack::open(&p.image.stack)?;
                    let this = stack.image_shape();
                    match shape {
                        Some(first) if first != this => {
                            return Err(IoError::invalid(
                                stack.path(),
                                format!(
                                    "images are {}×{}, other stacks of {} have {}×{}",
                                    this.0,
                                    this.1,
                                    self.source.display(),
                                    first.0,
                                    first.1
                                ),
                            ));
                        }
                        _ => shape = Some(this),
                    }
                    stacks.push(stack);
                    by_path.insert(&p.image.stack, stacks.len() - 1);
                    stacks.len() - 1
                }
            };
            let stack = &stacks[s];
            if p.image.index >= stack.len() {
                return Err(IoError::IndexOutOfRange {
                    path: p.image.stack.clone(),
                    index: p.image.index,
                    len: stack.len(),
                });
            }
            if let Some(d) = p.box_size
                && stack.image_shape() != (d, d)
            {
                let (ny, nx) = stack.image_shape();
                return Err(IoError::invalid(
                    stack.path(),
                    format!(
                        "images are {ny}×{nx} but {} gives a box size of {d}",
                        self.source.display()
                    ),
                ));
            }
            which.push((s, p.image.index));
        }
        Ok(ParticleImages {
            source: self.source.clone(),
            stacks,
            which,
            shape: shape.unwrap_or((0, 0)),
        })
    }
}

/// A stack whose MRC header gives another pixel size than the particle file
/// ([`ParticleTable::pixel_size_mismatches`]). The particle file's value is the one used, as RELION
/// does: headers are often left at 1 Å or at the pixel size before a rescaling.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelSizeMismatch {
    /// The particle file (STAR or `.cs`).
    pub metadata: PathBuf,
    /// Its pixel size (Å), the one used.
    pub metadata_pixel_size: f64,
    /// The stack.
    pub stack: PathBuf,
    /// The pixel size (Å) in the stack's MRC header (`xlen / mx`).
    pub header_pixel_size: f64,
}

impl std::fmt::Display for PixelSizeMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: its MRC header gives {} Å/pixel but {} gives {} Å/pixel; using {} Å/pixel (the particle file wins, as in RELION)",
            self.stack.display(),
            self.header_pixel_size,
            self.metadata.display(),
            self.metadata_pixel_size,
            self.metadata_pixel_size,
        )
    }
}

impl ParticleTable {
    /// Relative difference between a stack header's pixel size and the particle file's above which
    /// [`ParticleTable::pixel_size_mismatches`] reports it (headers store the cell as `f32`, files
    /// print a few decimals).
    pub const PIXEL_SIZE_TOLERANCE: f64 = 1e-3;

    /// The stacks whose MRC header gives a pixel size that differs from their particles' (by more
    /// than [`Self::PIXEL_SIZE_TOLERANCE`], relatively), one entry per stack and pixel size, in
    /// file order. Stacks whose header leaves the cell unset, and particles without a pixel size,
    /// are not compared.
    ///
    /// # Errors
    /// As [`MrcStack::open`], for a stack that cannot be opened.
    pub fn pixel_size_mismatches(&self) -> Result<Vec<PixelSizeMismatch>, IoError> {
        let mut headers: HashMap<&Path, Option<f64>> = HashMap::new();
        let mut seen: HashSet<(&Path, u64)> = HashSet::new();
        let mut mismatches = Vec::new();
        for p in &self.particles {
            let Some(apix) = p.pixel_size else { continue };
            let stack = p.image.stack.as_path();
            if !seen.insert((stack, apix.to_bits())) {
                continue;
            }
            let header = match headers.get(stack) {
                Some(h) => *h,
                None => {
                    let h = MrcStack::open(stack)?.pixel_size();
                    headers.insert(stack, h);
                    h
                }
            };
            if let Some(h) = header
                && (h - apix).abs() > Self::PIXEL_SIZE_TOLERANCE * apix
            {
                mismatches.push(PixelSizeMismatch {
                    metadata: self.source.clone(),
                    metadata_pixel_size: apix,
                    stack: stack.to_path_buf(),
                    header_pixel_size: h,
                });
            }
        }
        Ok(mismatches)
    }
}

/// The images of a [`ParticleTable`], with every stack open and every index checked.
#[derive(Debug)]
pub struct ParticleImages {
    source: PathBuf,
    stacks: Vec<MrcStack>,
    which: Vec<(usize, usize)>,
    shape: (usize, usize),
}

impl ParticleImages {
    /// Number of particles.
    pub fn len(&self) -> usize {
        self.which.len()
    }

    /// Whether there are no particles.
    pub fn is_empty(&self) -> bool {
        self.which.is_empty()
    }

    /// Image shape `(ny, nx)`.
    pub fn image_shape(&self) -> (usize, usize) {
        self.shape
    }

    /// Read particle `particle`'s image into `out`.
    ///
    /// # Shapes
    /// `out`: `[ny, nx]`.
    ///
    /// # Errors
    /// [`IoError::IndexOutOfRange`] (naming the metadata file) for a particle index past the
    /// table; [`IoError::InvalidArgument`] for a wrongly sized `out`;
    /// [`IoError::NonFinite`] for an image with NaN/Inf.
    pub fn read(&self, particle: usize, out: &mut [f32]) -> Result<(), IoError> {
        let Some(&(s, index)) = self.which.get(particle) else {
            return Err(IoError::IndexOutOfRange {
                path: self.source.clone(),
                index: particle,
                len: self.which.len(),
            });
        };
        self.stacks[s].read_image(index, out)
    }
}
