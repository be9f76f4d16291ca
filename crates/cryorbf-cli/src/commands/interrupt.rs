//! Ctrl-C during training. The first one asks the run to stop after its current step: it saves a
//! checkpoint of that step and the command exits with [`EXIT_CODE`], saying how to resume. A second
//! one exits at once; the last checkpoint saved (at the start of the run or of the epoch) stays.
use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use rbf_train::TrainError;

/// The exit code after Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_CODE: u8 = 130;

static STOP: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Catch Ctrl-C from now on (once per process; later calls do nothing).
pub fn catch_ctrl_c() {
    INSTALL.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            if STOP.swap(true, Ordering::SeqCst) {
                eprintln!("\nstopped at once; the last saved checkpoint stays");
                std::process::exit(i32::from(EXIT_CODE));
            }
            eprintln!("\nstopping after this step (Ctrl-C again to quit at once)…");
        });
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C will not save a checkpoint ({e})");
        }
    });
}

/// What a training loop's progress callback returns: stop once Ctrl-C was pressed.
pub fn flow() -> ControlFlow<()> {
    if STOP.load(Ordering::SeqCst) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
}

/// A run stopped by Ctrl-C, with the command that continues it.
#[derive(Debug)]
pub struct Interrupted {
    source: TrainError,
    command: &'static str,
    run: PathBuf,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted: {}\nto continue: cryorbf {} --resume {}", self.source, self.command, self.run.display())
    }
}

impl std::error::Error for Interrupted {}

/// The error of a training run of `cryorbf <command>` in the folder `run`: an [`Interrupted`] that
/// names the resuming command when the run was stopped, else the error as it is.
pub fn explain(error: TrainError, command: &'static str, run: &Path) -> anyhow::Error {
    match error {
        TrainError::Interrupted { .. } => Interrupted { source: error, command, run: run.to_path_buf() }.into(),
        other => other.into(),
    }
}
