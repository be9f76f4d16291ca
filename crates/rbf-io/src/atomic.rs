//! Atomic file replacement: write to a hidden temporary file in the target's folder, then rename.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::IoError;

/// A temporary file that becomes `target` on [`TempFile::commit`] and is removed if dropped first.
pub(crate) struct TempFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
    committed: bool,
}

impl TempFile {
    /// Create `.<name>.tmp-<pid>` next to `target`.
    pub(crate) fn create(target: &Path) -> Result<Self, IoError> {
        let name = target
            .file_name()
            .ok_or_else(|| IoError::invalid(target, "the path has no file name"))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tmp-{}", std::process::id()));
        let temp = target.with_file_name(temp_name);
        let file = File::create(&temp).map_err(|e| IoError::io(target, e))?;
        Ok(Self {
            target: target.to_path_buf(),
            temp,
            writer: Some(BufWriter::new(file)),
            committed: false,
        })
    }

    /// The buffered writer; errors from it should be reported with [`TempFile::target`].
    pub(crate) fn writer(&mut self) -> Result<&mut BufWriter<File>, IoError> {
        self.writer
            .as_mut()
            .ok_or_else(|| IoError::invalid(&self.target, "the file was already committed"))
    }

    /// The final path.
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Flush, sync and rename the temporary file onto the target.
    pub(crate) fn commit(mut self) -> Result<(), IoError> {
        if let Some(writer) = self.writer.take() {
            let file = writer
                .into_inner()
                .map_err(|e| IoError::io(&self.target, e.into_error()))?;
            file.sync_all().map_err(|e| IoError::io(&self.target, e))?;
        }
        std::fs::rename(&self.temp, &self.target).map_err(|e| IoError::io(&self.target, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            self.writer = None;
            // Best effort: the temp file is ours and was never renamed into place.
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Write a whole file atomically through `body`: to a temporary name next to `target`, then
/// renamed onto it, so that a reader never sees a half-written file.
///
/// # Errors
/// [`IoError`] naming `target` if the file cannot be created, written or renamed.
pub fn write_atomically(
    target: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), IoError> {
    let mut temp = TempFile::create(target)?;
    body(temp.writer()?).map_err(|e| IoError::io(target, e))?;
    temp.writer()?.flush().map_err(|e| IoError::io(target, e))?;
    temp.commit()
}
