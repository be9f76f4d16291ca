//! Atomic file replacement: write to a hidden temporary file in the target's folder, then rename;
//! and [`StagingDir`], for outputs of several files that appear together or not at all.

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

/// A staging folder beside an output folder, for outputs of several files that should appear
/// together or not at all: the files are written into [`StagingDir::path`] and moved into the
/// output folder by [`StagingDir::commit`]; dropping it first removes it and everything in it.
#[derive(Debug)]
pub struct StagingDir {
    dir: PathBuf,
}

impl StagingDir {
    /// Create `.<name>.tmp-<pid>` beside `out_dir` (and `out_dir`'s parent if needed), replacing
    /// a leftover of the same name.
    ///
    /// # Errors
    /// [`IoError::InvalidArgument`] when `out_dir` has no folder name; [`IoError::Io`] naming the
    /// folder that cannot be created or cleared.
    pub fn create(out_dir: &Path) -> Result<Self, IoError> {
        let name = out_dir
            .file_name()
            .ok_or_else(|| IoError::invalid(out_dir, "the output folder has no name"))?;
        let parent = match out_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| IoError::io(&parent, e))?;
        let mut staging_name = std::ffi::OsString::from(".");
        staging_name.push(name);
        staging_name.push(format!(".tmp-{}", std::process::id()));
        let dir = parent.join(staging_name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| IoError::io(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| IoError::io(&dir, e))?;
        Ok(StagingDir { dir })
    }

    /// The staging folder, to write the files into.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Move `files` (names in the staging folder) into `out_dir` (created if needed), replacing
    /// files of the same names, and remove `stale` files of earlier runs that were not written
    /// this time.
    ///
    /// # Errors
    /// [`IoError::Io`] naming the folder or file that cannot be created, removed or renamed.
    pub fn commit(self, out_dir: &Path, files: &[String], stale: &[&str]) -> Result<(), IoError> {
        std::fs::create_dir_all(out_dir).map_err(|e| IoError::io(out_dir, e))?;
        for name in stale {
            let path = out_dir.join(name);
            if !files.iter().any(|f| f == name) && path.exists() {
                std::fs::remove_file(&path).map_err(|e| IoError::io(&path, e))?;
            }
        }
        for name in files {
            let target = out_dir.join(name);
            std::fs::rename(self.dir.join(name), &target).map_err(|e| IoError::io(&target, e))?;
        }
        Ok(())
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        // Best effort: the folder is ours; after a commit it is empty.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
