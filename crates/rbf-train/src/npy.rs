//! NumPy `.npy` arrays of numbers: the latents a run writes (`z.npy`) and the per-particle ground
//! truth the simulator writes (`states.npy`, `reaction_coordinates.npy`).
use std::path::Path;

use npyz::{DType, Order, TypeChar, WriterBuilder};

use crate::TrainError;

/// A row-major matrix read from a `.npy` file (a 1-D array is one column).
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// The values, row-major, `[rows × cols]`.
    pub values: Vec<f64>,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
}

impl Matrix {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }

    /// The rows as vectors.
    pub fn to_rows(&self) -> Vec<Vec<f64>> {
        (0..self.rows).map(|i| self.row(i).to_vec()).collect()
    }
}

fn bad(path: &Path, reason: impl std::fmt::Display) -> TrainError {
    TrainError::Data(format!("{}: {reason}", path.display()))
}

/// Read a 1-D or 2-D array of floats or integers (any width, C order) as `f64`.
///
/// # Errors
/// [`TrainError::Data`] naming the file when it cannot be read, is not a `.npy` array, has more
/// than two dimensions, Fortran order, or a non-numeric type.
pub fn read_matrix(path: &Path) -> Result<Matrix, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| bad(path, format!("not a .npy array ({e})")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    let (rows, cols) = match shape[..] {
        [n] => (n, 1),
        [n, m] => (n, m),
        _ => return Err(bad(path, format!("expected a 1-D or 2-D array, found shape {shape:?}"))),
    };
    if npy.order() != Order::C && cols > 1 {
        return Err(bad(path, "Fortran-ordered arrays are not supported; save it with numpy's default C order"));
    }
    let DType::Plain(ts) = npy.dtype() else {
        return Err(bad(path, "expected an array of numbers, found a structured array"));
    };
    let read = |e: std::io::Error| bad(path, format!("the data of shape {shape:?} are truncated or unreadable ({e})"));
    let values: Vec<f64> = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(read)?,
        (TypeChar::Float, 4) => npy.into_vec::<f32>().map_err(read)?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, 8) => npy.into_vec::<i64>().map_err(read)?.into_iter().map(|v| v as f64).collect(),
        (TypeChar::Int, 4) => npy.into_vec::<i32>().map_err(read)?.into_iter().map(f64::from).collect(),
        (TypeChar::Uint, 8) => npy.into_vec::<u64>().map_err(read)?.into_iter().map(|v| v as f64).collect(),
        (TypeChar::Uint, 4) => npy.into_vec::<u32>().map_err(read)?.into_iter().map(f64::from).collect(),
        _ => return Err(bad(path, format!("unsupported element type {ts}; use float32/64 or int32/64"))),
    };
    if values.len() != rows * cols {
        return Err(bad(path, format!("{} values for shape {shape:?}", values.len())));
    }
    Ok(Matrix { values, rows, cols })
}

/// Write a `[rows, cols]` float32 array, atomically.
///
/// # Errors
/// When the file cannot be written, naming it.
pub fn write_matrix_f32(path: &Path, values: &[f32], rows: usize, cols: usize) -> Result<(), TrainError> {
    if values.len() != rows * cols {
        return Err(bad(path, format!("{} values for a {rows}×{cols} array", values.len())));
    }
    rbf_io::atomic::write_atomically(path, |out| {
        let mut writer =
            npyz::WriteOptions::<f32>::new().default_dtype().shape(&[rows as u64, cols as u64]).writer(out).begin_nd()?;
        writer.extend(values.iter().copied())?;
        writer.finish()
    })?;
    Ok(())
}
