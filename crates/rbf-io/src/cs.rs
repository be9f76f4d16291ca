//! cryoSPARC `.cs` particle files: numpy `.npy` structured arrays with one record per particle.
//!
//! The header is parsed with `npyz`; the records are decoded here from the field offsets (npyz
//! reads structured arrays only into derived Rust structs, and cryoSPARC's field names contain
//! `/`). Fields used:
//!
//! | field | meaning |
//! |---|---|
//! | `blob/path`, `blob/idx` | stack file (a leading `>` is dropped) and 0-based image index |
//! | `blob/shape` | image shape `(ny, nx)`; the box edge is `nx` |
//! | `blob/psize_A` | pixel size (Å) |
//! | `alignments3D/pose` | rotation as an axis-angle vector (radians) |
//! | `alignments3D/shift` | in-plane shift (pixels) |
//! | `ctf/df1_A`, `ctf/df2_A`, `ctf/df_angle_rad`, `ctf/accel_kv`, `ctf/cs_mm`, `ctf/amp_contrast`, `ctf/phase_shift_rad` | CTF |
//!
//! Pose convention, as cryoDRGN's `parse_pose_csparc` reads it (pinned by the golden arrays
//! `pose.cs.{rot,trans}.npy`): the rotation is the **transpose** of `exp(v)`, the rotation by
//! `|v|` about `v` ([`axis_angle_to_matrix`]), and cryoSPARC's shift has RELION's origin sign:
//! `shift = rlnOrigin` in pixels, so `t = −shift · pixel_size` (Å) and cryoDRGN's
//! `trans = shift / D`. Angles in radians are converted to degrees for [`CtfParams`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use npyz::{DType, TypeChar};

use crate::IoError;
use crate::particles::{
    CtfParams, ImageRef, Particle, ParticleOptions, ParticleTable, Pose, box_from_stack,
    resolve_stack,
};

/// Rodrigues' formula: the rotation by angle `|v|` (radians) about the axis `v / |v|`.
pub fn axis_angle_to_matrix(v: [f64; 3]) -> [[f64; 3]; 3] {
    let theta = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let mut r = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    if theta < 1e-12 {
        return r;
    }
    let [x, y, z] = v.map(|c| c / theta);
    let k = [[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]];
    let (s, c) = theta.sin_cos();
    for (i, row) in r.iter_mut().enumerate() {
        for (j, value) in row.iter_mut().enumerate() {
            let kk: f64 = (0..3).map(|m| k[i][m] * k[m][j]).sum();
            *value += s * k[i][j] + (1.0 - c) * kk;
        }
    }
    r
}

/// One scalar field type of a record.
#[derive(Debug, Clone, Copy)]
struct Scalar {
    kind: TypeChar,
    size: usize,
    big_endian: bool,
}

/// A field's position in a record: offset, element type and element count.
#[derive(Debug, Clone, Copy)]
struct Field {
    offset: usize,
    scalar: Scalar,
    count: usize,
}

/// The records of a `.cs` file.
struct Records {
    path: PathBuf,
    fields: HashMap<String, Field>,
    record_size: usize,
    n_records: usize,
    data: Vec<u8>,
}

fn flatten(path: &Path, name: &str, dtype: &DType) -> Result<(Scalar, usize), IoError> {
    match dtype {
        DType::Plain(ts) => {
            let size = ts.num_bytes().ok_or_else(|| IoError::CsFormat {
                path: path.to_path_buf(),
                message: format!("field {name} has a variable-size type {ts}"),
            })?;
            Ok((
                Scalar {
                    kind: ts.type_char(),
                    size,
                    big_endian: ts.endianness() == npyz::Endianness::Big,
                },
                1,
            ))
        }
        DType::Array(n, inner) => {
            let (scalar, count) = flatten(path, name, inner)?;
            Ok((scalar, count * *n as usize))
        }
        DType::Record(_) => Err(IoError::CsFormat {
            path: path.to_path_buf(),
            message: format!("nested record field {name} is not supported"),
        }),
    }
}

impl Records {
    fn read(path: &Path) -> Result<Self, IoError> {
        let bytes = std::fs::read(path).map_err(|e| IoError::io(path, e))?;
        let format = |message: String| IoError::CsFormat {
            path: path.to_path_buf(),
            message,
        };
        let npy = npyz::NpyFile::new(&bytes[..])
            .map_err(|e| format(format!("not a numpy .npy file: {e}")))?;
        let DType::Record(record) = npy.dtype() else {
            return Err(format(format!(
                "expected a structured array, found dtype {}",
                npy.dtype().descr()
            )));
        };
        let [n_records] = npy.shape() else {
            return Err(format(format!(
                "expected a 1-D array, found shape {:?}",
                npy.shape()
            )));
        };
        let n_records = *n_records as usize;
        let mut fields = HashMap::new();
        let mut offset = 0;
        for f in &record {
            let (scalar, count) = flatten(path, &f.name, &f.dtype)?;
            fields.insert(
                f.name.clone(),
                Field {
                    offset,
                    scalar,
                    count,
                },
            );
            offset += scalar.size * count;
        }
        let data = npy.into_inner().to_vec();
        let needed = offset.checked_mul(n_records);
        if needed.is_none_or(|needed| data.len() < needed) {
            return Err(format(format!(
                "truncated: {n_records} records of {offset} bytes each, but only {} bytes of data",
                data.len()
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            fields,
            record_size: offset,
            n_records,
            data,
        })
    }

    fn field(&self, name: &str) -> Option<Field> {
        self.fields.get(name).copied()
    }

    fn require(&self, name: &str, what: &'static str) -> Result<Field, IoError> {
        self.field(name).ok_or_else(|| IoError::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
            what,
        })
    }

    fn bytes(&self, record: usize, field: Field, k: usize) -> &[u8] {
        let start = record * self.record_size + field.offset + k * field.scalar.size;
        &self.data[start..start + field.scalar.size]
    }

    fn error(&self, record: usize, name: &str, message: impl Into<String>) -> IoError {
        IoError::CsRecord {
            path: self.path.clone(),
            record,
            field: name.to_string(),
            message: message.into(),
        }
    }

    /// Element `k` of numeric field `name` in `record`, as a finite f64.
    fn number(&self, record: usize, name: &str, field: Field, k: usize) -> Result<f64, IoError> {
        let s = field.scalar;
        let raw = self.bytes(record, field, k);
        let mut b = [0u8; 8];
        b[..s.size].copy_from_slice(raw);
        if s.big_endian {
            b[..s.size].reverse();
        }
        let value = match (s.kind, s.size) {
            (TypeChar::Float, 4) => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            (TypeChar::Float, 8) => f64::from_le_bytes(b),
            (TypeChar::Uint, 1 | 2 | 4 | 8) => u64::from_le_bytes(b) as f64,
            (TypeChar::Int, 1 | 2 | 4 | 8) => {
                let shift = 64 - 8 * s.size as u32;
                ((i64::from_le_bytes(b) << shift) >> shift) as f64
            }
            _ => {
                return Err(self.error(
                    record,
                    name,
                    format!("unsupported type {:?}{}", s.kind, s.size),
                ));
            }
        };
        if value.is_finite() {
            Ok(value)
        } else {
            Err(self.error(record, name, format!("value {value} is not finite")))
        }
    }

    fn numbers<const N: usize>(
        &self,
        record: usize,
        name: &str,
        field: Field,
    ) -> Result<[f64; N], IoError> {
        if field.count != N {
            return Err(self.error(
                record,
                name,
                format!("expected {N} values, the field has {}", field.count),
            ));
        }
        let mut out = [0.0; N];
        for (k, v) in out.iter_mut().enumerate() {
            *v = self.number(record, name, field, k)?;
        }
        Ok(out)
    }

    fn text(&self, record: usize, name: &str, field: Field) -> Result<String, IoError> {
        if field.scalar.kind != TypeChar::ByteStr {
            return Err(self.error(record, name, "expected a byte string"));
        }
        let raw = self.bytes(record, field, 0);
        let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
        String::from_utf8(raw[..end].to_vec()).map_err(|_| self.error(record, name, "not UTF-8"))
    }
}

const CTF_FIELDS: [&str; 6] = [
    "ctf/df1_A",
    "ctf/df2_A",
    "ctf/df_angle_rad",
    "ctf/accel_kv",
    "ctf/cs_mm",
    "ctf/amp_contrast",
];

impl ParticleTable {
    /// Read a cryoSPARC `.cs` particle file; image paths are relative to `datadir` when given,
    /// else to the `.cs` file's folder.
    ///
    /// # Errors
    /// As [`ParticleTable::from_cs_with`].
    pub fn from_cs(path: impl AsRef<Path>, datadir: Option<&Path>) -> Result<Self, IoError> {
        let options = ParticleOptions {
            datadir: datadir.map(Path::to_path_buf),
            ..ParticleOptions::default()
        };
        Self::from_cs_with(path, &options)
    }

    /// Read a cryoSPARC `.cs` particle file with fallbacks for missing values.
    ///
    /// # Errors
    /// [`IoError::Io`] when the file cannot be read; [`IoError::CsFormat`] when it is not a 1-D
    /// numpy structured array or is truncated; [`IoError::MissingColumn`] without `blob/path` or
    /// `blob/idx`; [`IoError::CsRecord`] (naming record and field) for unusable values.
    pub fn from_cs_with(
        path: impl AsRef<Path>,
        options: &ParticleOptions,
    ) -> Result<Self, IoError> {
        let path = path.as_ref();
        let records = Records::read(path)?;
        let blob_path = records.require("blob/path", "particle images")?;
        let blob_idx = records.require("blob/idx", "particle images")?;
        let blob_shape = records.field("blob/shape");
        let psize = records.field("blob/psize_A");
        let pose_field = records.field("alignments3D/pose");
        let shift_field = records.field("alignments3D/shift");
        let ctf_fields: Vec<Option<Field>> = CTF_FIELDS.iter().map(|n| records.field(n)).collect();
        let phase_field = records.field("ctf/phase_shift_rad");

        let missing_pose = pose_field
            .is_none()
            .then(|| "alignments3D/pose".to_string());
        let missing_ctf = CTF_FIELDS
            .iter()
            .zip(&ctf_fields)
            .find(|(name, f)| {
                f.is_none()
                    && !(**name == "ctf/amp_contrast" && options.amplitude_contrast.is_some())
            })
            .map(|(name, _)| name.to_string());

        let base_dir = path.parent().unwrap_or(Path::new("."));
        let mut box_cache = HashMap::new();
        let mut particles = Vec::with_capacity(records.n_records);
        for r in 0..records.n_records {
            let name = records.text(r, "blob/path", blob_path)?;
            let name = name.strip_prefix('>').unwrap_or(&name);
            if name.is_empty() {
                return Err(records.error(r, "blob/path", "the image path is empty"));
            }
            let stack = resolve_stack(base_dir, options.datadir.as_deref(), name);
            let [index] = records.numbers::<1>(r, "blob/idx", blob_idx)?;
            let pixel_size = match psize {
                Some(f) => match records.numbers::<1>(r, "blob/psize_A", f)?[0] {
                    apix if apix > 0.0 => Some(apix),
                    apix => {
                        return Err(records.error(
                            r,
                            "blob/psize_A",
                            format!("pixel size {apix} Å is not positive"),
                        ));
                    }
                },
                None => options.pixel_size,
            };
            let box_size = match blob_shape {
                Some(f) => Some(records.numbers::<2>(r, "blob/shape", f)?[1] as usize),
                None => box_from_stack(&mut box_cache, &stack)?.or(options.box_size),
            };
            let pose = match pose_field {
                Some(f) => {
                    let v = records.numbers::<3>(r, "alignments3D/pose", f)?;
                    let shift_px = match shift_field {
                        Some(f) => records.numbers::<2>(r, "alignments3D/shift", f)?,
                        None => [0.0; 2],
                    };
                    let shift = match pixel_size {
                        Some(apix) => shift_px.map(|s| -s * apix),
                        None if shift_px == [0.0; 2] => [0.0; 2],
                        None => {
                            return Err(records.error(
                                r,
                                "alignments3D/shift",
                                "no pixel size to convert the shift to Å",
                            ));
                        }
                    };
                    Some(Pose {
                        rotation: transpose(axis_angle_to_matrix(v)),
                        shift,
                    })
                }
                None => None,
            };
            let ctf = if missing_ctf.is_some() {
                None
            } else {
                let mut v = [0.0; 6];
                for (k, (name, field)) in CTF_FIELDS.iter().zip(&ctf_fields).enumerate() {
                    v[k] = match field {
                        Some(f) => records.numbers::<1>(r, name, *f)?[0],
                        None => options.amplitude_contrast.unwrap_or_default(),
                    };
                }
                let phase = match phase_field {
                    Some(f) => records.numbers::<1>(r, "ctf/phase_shift_rad", f)?[0],
                    None => 0.0,
                };
                Some(CtfParams {
                    defocus_u: v[0],
                    defocus_v: v[1],
                    defocus_angle: v[2].to_degrees(),
                    voltage: v[3],
                    spherical_aberration: v[4],
                    amplitude_contrast: v[5],
                    phase_shift: phase.to_degrees(),
                })
            };
            particles.push(Particle {
                image: ImageRef {
                    stack,
                    index: index as usize,
                },
                pose,
                ctf,
                pixel_size,
                box_size,
            });
        }
        Ok(Self {
            source: path.to_path_buf(),
            particles,
            missing_pose,
            missing_ctf,
        })
    }
}

fn transpose(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    std::array::from_fn(|i| std::array::from_fn(|j| m[j][i]))
}
