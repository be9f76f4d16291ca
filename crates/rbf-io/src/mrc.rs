//! MRC-2014 volumes and particle stacks.
//!
//! * Volumes are stored `[z][y][x]` (x fastest) with shape `(nz, ny, nx)`; particle stacks are one
//!   file of `nz` images, each `[y][x]` (row = y, column = x).
//! * The pixel size (Å) is the cell length over the sampling, `xlen / mx` (`xlen / nx` when `mx`
//!   is unset); a cell of 0 (or any non-positive or non-finite result) means "unknown" and reads
//!   back as `None`.
//! * What we write is mode 2 (little-endian float32) with `mx = nx`, `my = ny`, cell lengths
//!   `n · pixel_size`, and the header statistics (`dmin`, `dmax`, `dmean`, `rms` = standard
//!   deviation) filled in. Volumes get `ispg = 1`, `mz = nz`; stacks `ispg = 0`, `mz = 1`,
//!   `zlen = pixel_size`.
//! * Every write is atomic: the data go to `.<name>.tmp-<pid>` in the target folder, which is
//!   renamed onto the target once complete and removed on error.
//! * Reading converts modes 0 (int8), 1 (int16), 2 (float32), 6 (uint16) and 12 (float16) to
//!   `f32`. Stack images are checked for NaN/Inf as they are read.

use std::io::{Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::IoError;
use crate::atomic::TempFile;

/// A 3-D map read from an MRC file.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Voxel values, `[z][y][x]` (x fastest).
    pub data: Vec<f32>,
    /// Grid shape `(nz, ny, nx)`.
    pub shape: (usize, usize, usize),
    /// Voxel edge (Å), or `None` when the header's cell is unset.
    pub pixel_size: Option<f64>,
    /// The header's ORIGIN field `(x, y, z)` (Å): the position of voxel `(0, 0, 0)`.
    pub origin: [f64; 3],
}

/// Running min / max / mean / standard deviation of the values written so far.
#[derive(Debug, Clone, Copy)]
struct Stats {
    min: f32,
    max: f32,
    sum: f64,
    sum_sq: f64,
    count: u64,
}

impl Stats {
    fn new() -> Self {
        Self {
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            sum: 0.0,
            sum_sq: 0.0,
            count: 0,
        }
    }

    fn add(&mut self, values: &[f32]) {
        for &v in values {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            let v = f64::from(v);
            self.sum += v;
            self.sum_sq += v * v;
        }
        self.count += values.len() as u64;
    }

    /// `(dmin, dmax, dmean, rms)`; MRC's `rms` is the standard deviation from the mean.
    fn header_values(&self) -> (f32, f32, f32, f32) {
        if self.count == 0 {
            return (0.0, -1.0, -2.0, -1.0);
        }
        let n = self.count as f64;
        let mean = self.sum / n;
        let var = (self.sum_sq / n - mean * mean).max(0.0);
        (self.min, self.max, mean as f32, var.sqrt() as f32)
    }
}

fn check_pixel_size(path: &Path, pixel_size: f64) -> Result<(), IoError> {
    if pixel_size.is_finite() && pixel_size > 0.0 {
        Ok(())
    } else {
        Err(IoError::invalid(
            path,
            format!("pixel size must be a positive number of Å, got {pixel_size}"),
        ))
    }
}

fn to_i32(path: &Path, what: &str, n: usize) -> Result<i32, IoError> {
    i32::try_from(n)
        .map_err(|_| IoError::invalid(path, format!("{what} = {n} does not fit an MRC header")))
}

/// Header for a mode-2 file of shape `(nz, ny, nx)`.
fn float_header(
    path: &Path,
    (nz, ny, nx): (usize, usize, usize),
    pixel_size: f64,
    stack: bool,
    stats: &Stats,
) -> Result<::mrc::Header, IoError> {
    let mut header = ::mrc::Header::new();
    header.nx = to_i32(path, "nx", nx)?;
    header.ny = to_i32(path, "ny", ny)?;
    header.nz = to_i32(path, "nz", nz)?;
    header.mode = 2;
    header.mx = header.nx;
    header.my = header.ny;
    header.xlen = (nx as f64 * pixel_size) as f32;
    header.ylen = (ny as f64 * pixel_size) as f32;
    if stack {
        header.set_image_stack();
        header.zlen = pixel_size as f32;
    } else {
        header.set_volume();
        header.zlen = (nz as f64 * pixel_size) as f32;
    }
    (header.dmin, header.dmax, header.dmean, header.rms) = stats.header_values();
    Ok(header)
}

fn header_bytes(header: &::mrc::Header) -> [u8; 1024] {
    let mut bytes = [0u8; 1024];
    header.encode_to_bytes(&mut bytes);
    bytes
}

fn write_f32_le(out: &mut impl Write, values: &[f32]) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(values.len().min(1 << 16) * 4);
    for chunk in values.chunks(1 << 16) {
        buf.clear();
        buf.extend(chunk.iter().flat_map(|v| v.to_le_bytes()));
        out.write_all(&buf)?;
    }
    Ok(())
}

fn first_non_finite(values: &[f32]) -> Option<(usize, f32)> {
    values
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite())
        .map(|(i, &v)| (i, v))
}

/// Write a cubic volume as a mode-2 MRC file, atomically.
///
/// # Shapes
/// `data`: `[size, size, size]` as `[z][y][x]` (x fastest).
///
/// `pixel_size` is the voxel edge in Å; the cell is `size · pixel_size` on each axis.
///
/// # Errors
/// [`IoError::InvalidArgument`] when `data.len() != size³`, the pixel size is not positive, or a
/// value is NaN/Inf; [`IoError::Io`] when the file cannot be written or renamed into place.
pub fn write_volume(
    path: impl AsRef<Path>,
    data: &[f32],
    size: usize,
    pixel_size: f64,
) -> Result<(), IoError> {
    write_volume_at(path, data, size, pixel_size, [0.0; 3])
}

/// Write a cubic volume as [`write_volume`] does, with the header's ORIGIN field set to `origin`
/// `(x, y, z)` (Å): the position of voxel `(0, 0, 0)` in the frame of whatever the map is
/// overlaid on (see [`MapGeometry`]).
///
/// # Errors
/// As [`write_volume`].
pub fn write_volume_at(
    path: impl AsRef<Path>,
    data: &[f32],
    size: usize,
    pixel_size: f64,
    origin: [f64; 3],
) -> Result<(), IoError> {
    let path = path.as_ref();
    check_pixel_size(path, pixel_size)?;
    if data.len() != size * size * size {
        return Err(IoError::invalid(
            path,
            format!(
                "volume data has {} values; a {size}³ volume needs {}",
                data.len(),
                size * size * size
            ),
        ));
    }
    if let Some((i, v)) = first_non_finite(data) {
        return Err(IoError::invalid(
            path,
            format!("voxel {i} is {v}; MRC maps must be finite"),
        ));
    }
    let mut stats = Stats::new();
    stats.add(data);
    let mut header = float_header(path, (size, size, size), pixel_size, false, &stats)?;
    header.origin = origin.map(|v| v as f32);
    let mut temp = TempFile::create(path)?;
    let out = temp.writer()?;
    out.write_all(&header_bytes(&header))
        .and_then(|()| write_f32_le(out, data))
        .map_err(|e| IoError::io(path, e))?;
    temp.commit()
}

/// Write a particle stack as one mode-2 MRC file, atomically.
///
/// # Shapes
/// `images`: `[n_images, ny, nx]` (x fastest).
///
/// # Errors
/// As [`StackWriter::append`] and [`StackWriter::finish`], and [`IoError::InvalidArgument`] when
/// `images.len() != n_images · ny · nx`.
pub fn write_stack(
    path: impl AsRef<Path>,
    images: &[f32],
    n_images: usize,
    ny: usize,
    nx: usize,
    pixel_size: f64,
) -> Result<(), IoError> {
    let path = path.as_ref();
    if images.len() != n_images * ny * nx {
        return Err(IoError::invalid(
            path,
            format!(
                "stack data has {} values; {n_images} images of {ny}×{nx} need {}",
                images.len(),
                n_images * ny * nx
            ),
        ));
    }
    let mut writer = StackWriter::create(path, ny, nx, pixel_size)?;
    writer.append(images)?;
    writer.finish()
}

/// Streaming writer for a mode-2 MRC particle stack: images are appended chunk by chunk and the
/// header (image count, statistics) is fixed up by [`StackWriter::finish`], which renames the
/// temporary file into place. Dropping the writer without finishing removes the temporary file.
///
/// ```no_run
/// # fn main() -> Result<(), rbf_io::IoError> {
/// let mut writer = rbf_io::mrc::StackWriter::create("particles.mrcs", 128, 128, 1.2)?;
/// for _chunk in 0..10 {
///     writer.append(&vec![0.0f32; 64 * 128 * 128])?; // 64 images per chunk
/// }
/// writer.finish()?;
/// # Ok(()) }
/// ```
pub struct StackWriter {
    temp: TempFile,
    ny: usize,
    nx: usize,
    pixel_size: f64,
    n_images: usize,
    stats: Stats,
}

impl StackWriter {
    /// Start a stack of `ny × nx` images with pixel size `pixel_size` (Å).
    ///
    /// # Errors
    /// [`IoError::InvalidArgument`] for an empty image shape or a non-positive pixel size;
    /// [`IoError::Io`] when the temporary file cannot be created.
    pub fn create(
        path: impl AsRef<Path>,
        ny: usize,
        nx: usize,
        pixel_size: f64,
    ) -> Result<Self, IoError> {
        let path = path.as_ref();
        check_pixel_size(path, pixel_size)?;
        if ny == 0 || nx == 0 {
            return Err(IoError::invalid(
                path,
                format!("image shape {ny}×{nx} is empty"),
            ));
        }
        let mut temp = TempFile::create(path)?;
        let placeholder = float_header(path, (0, ny, nx), pixel_size, true, &Stats::new())?;
        temp.writer()?
            .write_all(&header_bytes(&placeholder))
            .map_err(|e| IoError::io(path, e))?;
        Ok(Self {
            temp,
            ny,
            nx,
            pixel_size,
            n_images: 0,
            stats: Stats::new(),
        })
    }

    /// Append whole images.
    ///
    /// # Shapes
    /// `images`: `[k, ny, nx]` for any `k ≥ 0`.
    ///
    /// # Errors
    /// [`IoError::InvalidArgument`] when the length is not a whole number of images;
    /// [`IoError::NonFinite`] (naming the image's index in the stack) for NaN/Inf;
    /// [`IoError::Io`] on a write failure.
    pub fn append(&mut self, images: &[f32]) -> Result<(), IoError> {
        let image_len = self.ny * self.nx;
        if !images.len().is_multiple_of(image_len) {
            return Err(IoError::invalid(
                self.temp.target(),
                format!(
                    "appended {} values, not a whole number of {}×{} images",
                    images.len(),
                    self.ny,
                    self.nx
                ),
            ));
        }
        if let Some((i, value)) = first_non_finite(images) {
            return Err(IoError::NonFinite {
                path: self.temp.target().to_path_buf(),
                index: self.n_images + i / image_len,
                value,
            });
        }
        let target = self.temp.target().to_path_buf();
        write_f32_le(self.temp.writer()?, images).map_err(|e| IoError::io(&target, e))?;
        self.stats.add(images);
        self.n_images += images.len() / image_len;
        Ok(())
    }

    /// Number of images appended so far.
    pub fn len(&self) -> usize {
        self.n_images
    }

    /// Whether no image has been appended yet.
    pub fn is_empty(&self) -> bool {
        self.n_images == 0
    }

    /// Rewrite the header with the final image count and statistics and move the file into place.
    ///
    /// # Errors
    /// [`IoError::Io`] when the header cannot be rewritten or the rename fails.
    pub fn finish(mut self) -> Result<(), IoError> {
        let target = self.temp.target().to_path_buf();
        let header = float_header(
            &target,
            (self.n_images, self.ny, self.nx),
            self.pixel_size,
            true,
            &self.stats,
        )?;
        let out = self.temp.writer()?;
        out.seek(SeekFrom::Start(0))
            .and_then(|_| out.write_all(&header_bytes(&header)))
            .map_err(|e| IoError::io(&target, e))?;
        self.temp.commit()
    }
}

/// Compare the file length with the size its header describes (uncompressed files).
fn check_file_size(path: &Path) -> Result<(), IoError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| IoError::io(path, e))?;
    let actual = file.metadata().map_err(|e| IoError::io(path, e))?.len();
    let mut bytes = [0u8; 1024];
    if actual < 1024 {
        return Err(IoError::SizeMismatch {
            path: path.to_path_buf(),
            expected: 1024,
            actual,
        });
    }
    file.read_exact(&mut bytes)
        .map_err(|e| IoError::io(path, e))?;
    if bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(b"BZ") {
        return Ok(());
    }
    let header = ::mrc::Header::decode_from_bytes(&bytes);
    if !matches!(header.mode, 0 | 1 | 2 | 6 | 12) {
        return Err(IoError::UnsupportedMode {
            path: path.to_path_buf(),
            mode: header.mode,
        });
    }
    let (nx, ny, nz) = (header.nx, header.ny, header.nz);
    if nx < 1 || ny < 1 || nz < 0 {
        return Err(IoError::invalid(
            path,
            format!("the header gives a grid of {nx}×{ny}×{nz} (nx×ny×nz); not a valid MRC file"),
        ));
    }
    let expected = header
        .data_size()
        .and_then(|size| size.checked_add(header.data_offset()))
        .ok_or_else(|| {
            IoError::invalid(
                path,
                format!("the header's grid of {nx}×{ny}×{nz} is too large; not a valid MRC file"),
            )
        })? as u64;
    if expected != actual {
        return Err(IoError::SizeMismatch {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    Ok(())
}

/// Open an MRC file with the `mrc` crate, mapping its errors to ours.
fn open_reader(path: &Path) -> Result<::mrc::Reader, IoError> {
    check_file_size(path)?;
    let reader = ::mrc::Reader::open(path).map_err(|source| match source {
        ::mrc::Error::Io(e) => IoError::io(path, e),
        ::mrc::Error::FileSizeMismatch { expected, actual } => IoError::SizeMismatch {
            path: path.to_path_buf(),
            expected: expected as u64,
            actual: actual as u64,
        },
        source => IoError::Mrc {
            path: path.to_path_buf(),
            source,
        },
    })?;
    use ::mrc::Mode;
    match reader.mode() {
        Mode::Int8 | Mode::Int16 | Mode::Float32 | Mode::Uint16 | Mode::Float16 => {}
        _ => {
            return Err(IoError::UnsupportedMode {
                path: path.to_path_buf(),
                mode: reader.header().mode,
            });
        }
    }
    let h = reader.header();
    if (h.mapc, h.mapr, h.maps) != (1, 2, 3) {
        return Err(IoError::invalid(
            path,
            format!(
                "axis order (mapc, mapr, maps) = ({}, {}, {}) is not supported; only (1, 2, 3)",
                h.mapc, h.mapr, h.maps
            ),
        ));
    }
    Ok(reader)
}

fn header_pixel_size(header: &::mrc::Header) -> Option<f64> {
    let sampling = if header.mx > 0 { header.mx } else { header.nx };
    if sampling <= 0 {
        return None;
    }
    let size = f64::from(header.xlen / sampling as f32);
    (size.is_finite() && size > 0.0).then_some(size)
}

fn shape_of(reader: &::mrc::Reader) -> (usize, usize, usize) {
    let s = reader.shape();
    (s.nz, s.ny, s.nx)
}

/// Read a whole MRC file as a volume, converted to `f32`.
///
/// # Errors
/// [`IoError::Io`] when the file cannot be opened; [`IoError::SizeMismatch`] when it is shorter
/// or longer than its header says; [`IoError::UnsupportedMode`] / [`IoError::Mrc`] for modes or
/// headers rbf-io does not read; [`IoError::InvalidArgument`] for a non-standard axis order or a
/// header grid that is empty, negative or too large.
pub fn read_volume(path: impl AsRef<Path>) -> Result<Volume, IoError> {
    let path = path.as_ref();
    let reader = open_reader(path)?;
    let block = reader
        .convert::<f32>()
        .read_volume()
        .map_err(|source| IoError::Mrc {
            path: path.to_path_buf(),
            source,
        })?;
    let h = reader.header();
    Ok(Volume {
        data: block.data,
        shape: shape_of(&reader),
        pixel_size: header_pixel_size(h),
        origin: h.origin.map(f64::from),
    })
}

/// Where a map's grid lies in its own frame (the frame of the models built into it), from the
/// header alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapGeometry {
    /// Grid shape `(nz, ny, nx)`.
    pub shape: (usize, usize, usize),
    /// Voxel edge (Å) along x, or `None` when the header's cell is unset.
    pub pixel_size: Option<f64>,
    /// Position `(x, y, z)` (Å) of voxel `(0, 0, 0)`: the ORIGIN field when any of it is non-zero,
    /// else `(NXSTART, NYSTART, NZSTART)·pixel_size`. This is how ChimeraX places a map; EMDB
    /// and RELION maps use one or the other (or neither: both zero).
    pub origin: [f64; 3],
}

impl MapGeometry {
    /// Position `(x, y, z)` (Å) of the map's box center, voxel `(nx/2, ny/2, nz/2)` (integer
    /// division, as the box frame defines it), or `None` without a pixel size.
    pub fn box_center(&self) -> Option<[f64; 3]> {
        let pixel_size = self.pixel_size?;
        let (nz, ny, nx) = self.shape;
        let half = [nx / 2, ny / 2, nz / 2];
        Some(std::array::from_fn(|k| self.origin[k] + half[k] as f64 * pixel_size))
    }
}

/// Read where a map's grid lies (shape, voxel size, origin) without reading its data.
///
/// # Errors
/// As [`read_volume`] for files that are not MRC maps rbf-io reads.
pub fn read_geometry(path: impl AsRef<Path>) -> Result<MapGeometry, IoError> {
    let path = path.as_ref();
    let reader = open_reader(path)?;
    let h = reader.header();
    let pixel_size = header_pixel_size(h);
    let origin = if h.origin.iter().any(|&v| v != 0.0) {
        h.origin.map(f64::from)
    } else {
        let start = [h.nxstart, h.nystart, h.nzstart];
        start.map(|s| f64::from(s) * pixel_size.unwrap_or(0.0))
    };
    Ok(MapGeometry {
        shape: shape_of(&reader),
        pixel_size,
        origin,
    })
}

/// An MRC particle stack: `len()` images of `ny × nx` pixels.
///
/// The header is read (and checked against the file size) once; images are then read with
/// positional reads of just their bytes, so a stack of any length costs the memory of the images
/// asked for, not of the file (a memory map would count every page read into the process's
/// resident set). Reads from several threads need no lock.
pub struct MrcStack {
    path: PathBuf,
    reader: ::mrc::Reader,
    file: std::fs::File,
    n_images: usize,
    ny: usize,
    nx: usize,
}

impl std::fmt::Debug for MrcStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MrcStack")
            .field("path", &self.path)
            .field("n_images", &self.n_images)
            .field("ny", &self.ny)
            .field("nx", &self.nx)
            .finish()
    }
}

impl MrcStack {
    /// Open a stack and check that its length matches its header.
    ///
    /// # Errors
    /// As [`read_volume`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, IoError> {
        let path = path.as_ref();
        let reader = open_reader(path)?;
        let file = std::fs::File::open(path).map_err(|e| IoError::io(path, e))?;
        let (nz, ny, nx) = shape_of(&reader);
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            file,
            n_images: nz,
            ny,
            nx,
        })
    }

    /// Check that the images are square.
    ///
    /// # Errors
    /// [`IoError::NotSquare`] naming the file and its image shape.
    pub fn require_square(self) -> Result<Self, IoError> {
        if self.ny == self.nx {
            Ok(self)
        } else {
            Err(IoError::NotSquare {
                path: self.path,
                ny: self.ny,
                nx: self.nx,
            })
        }
    }

    /// The file this stack was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.n_images
    }

    /// Whether the stack has no images.
    pub fn is_empty(&self) -> bool {
        self.n_images == 0
    }

    /// Image shape `(ny, nx)` (rows, columns).
    pub fn image_shape(&self) -> (usize, usize) {
        (self.ny, self.nx)
    }

    /// Pixel size (Å) from the header, `None` when the cell is unset.
    pub fn pixel_size(&self) -> Option<f64> {
        header_pixel_size(self.reader.header())
    }

    /// Read image `index` (0-based) into `out`.
    ///
    /// # Shapes
    /// `out`: `[ny, nx]`.
    ///
    /// # Errors
    /// [`IoError::IndexOutOfRange`]; [`IoError::InvalidArgument`] when `out` has the wrong length;
    /// [`IoError::NonFinite`] naming the image when it holds NaN/Inf.
    pub fn read_image(&self, index: usize, out: &mut [f32]) -> Result<(), IoError> {
        if out.len() != self.ny * self.nx {
            return Err(IoError::invalid(
                &self.path,
                format!(
                    "output buffer has {} values; an image has {}",
                    out.len(),
                    self.ny * self.nx
                ),
            ));
        }
        let data = self.read_block(index..index + 1)?;
        out.copy_from_slice(&data);
        Ok(())
    }

    /// Read images `range` (0-based, end exclusive), replacing the contents of `out`.
    ///
    /// # Shapes
    /// `out` on return: `[range.len(), ny, nx]`.
    ///
    /// # Errors
    /// [`IoError::IndexOutOfRange`] naming the first index past the end; [`IoError::NonFinite`]
    /// naming the first image with NaN/Inf.
    pub fn read_images(&self, range: Range<usize>, out: &mut Vec<f32>) -> Result<(), IoError> {
        *out = self.read_block(range)?;
        Ok(())
    }

    fn read_block(&self, range: Range<usize>) -> Result<Vec<f32>, IoError> {
        if range.start > range.end {
            return Err(IoError::invalid(
                &self.path,
                format!("image range {}..{} is reversed", range.start, range.end),
            ));
        }
        if range.end > self.n_images {
            return Err(IoError::IndexOutOfRange {
                path: self.path.clone(),
                index: range.start.max(self.n_images),
                len: self.n_images,
            });
        }
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let data = self.read_values(range.clone())?;
        if let Some((i, value)) = first_non_finite(&data) {
            return Err(IoError::NonFinite {
                path: self.path.clone(),
                index: range.start + i / (self.ny * self.nx),
                value,
            });
        }
        Ok(data)
    }

    /// The pixels of images `range` (within the stack, not empty) as f32, read from the file.
    fn read_values(&self, range: Range<usize>) -> Result<Vec<f32>, IoError> {
        use std::os::unix::fs::FileExt;
        use ::mrc::Mode;
        let mode = self.reader.mode();
        let per_image = self.ny * self.nx;
        let n_values = range.len() * per_image;
        let width = mode.byte_size();
        let offset = self.reader.header().data_offset() + range.start * per_image * width;
        let mut bytes = vec![0u8; n_values * width];
        self.file
            .read_exact_at(&mut bytes, offset as u64)
            .map_err(|e| IoError::io(&self.path, e))?;
        let endian = self.reader.endian();
        let decode_error = |source| IoError::Mrc {
            path: self.path.clone(),
            source,
        };
        fn decode<T: ::mrc::Voxel + Copy + Default>(
            bytes: &[u8],
            n: usize,
            endian: ::mrc::FileEndian,
            to_f32: impl Fn(T) -> f32,
        ) -> Result<Vec<f32>, ::mrc::Error> {
            let mut values = vec![T::default(); n];
            ::mrc::decode_into(bytes, &mut values, endian)?;
            Ok(values.into_iter().map(to_f32).collect())
        }
        match mode {
            Mode::Float32 => decode::<f32>(&bytes, n_values, endian, |v| v),
            Mode::Int8 => decode::<i8>(&bytes, n_values, endian, f32::from),
            Mode::Int16 => decode::<i16>(&bytes, n_values, endian, f32::from),
            Mode::Uint16 => decode::<u16>(&bytes, n_values, endian, f32::from),
            Mode::Float16 => decode::<::mrc::f16>(&bytes, n_values, endian, f32::from),
            // open_reader accepts only the modes above.
            other => {
                return Err(IoError::UnsupportedMode {
                    path: self.path.clone(),
                    mode: other.as_i32(),
                });
            }
        }
        .map_err(decode_error)
    }
}
