//! Writing output files atomically: to a temporary name in the same folder, then renamed.
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::ModelError;

/// Create `path` by running `fill` on a temporary file next to it and renaming it into place, so
/// that a reader never sees a half-written file. On error the temporary file is removed.
///
/// # Errors
/// [`ModelError::Write`] naming `path` if the file cannot be created, filled or renamed.
pub(crate) fn write(path: &Path, fill: impl FnOnce(&mut File) -> std::io::Result<()>) -> Result<(), ModelError> {
    let error = |e: std::io::Error| ModelError::Write { path: path.to_path_buf(), reason: e.to_string() };
    let tmp = temporary_name(path);
    let result = File::create(&tmp).and_then(|mut f| {
        fill(&mut f)?;
        f.sync_all()
    });
    match result.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(error(e))
        }
    }
}

fn temporary_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
