//! Progress bars for long work.
use indicatif::{ProgressBar, ProgressStyle};

/// A bar over the steps of an epoch, showing the epoch, the loss and the throughput.
pub struct EpochBar {
    bar: Option<ProgressBar>,
    epoch: usize,
}

impl EpochBar {
    /// A bar, or nothing when `quiet`.
    pub fn new(quiet: bool) -> Self {
        EpochBar { bar: (!quiet).then(ProgressBar::hidden), epoch: 0 }
    }

    /// Show step `step` of `steps` in epoch `epoch` of `epochs`.
    pub fn update(&mut self, epoch: usize, epochs: usize, step: usize, steps: usize, loss: f64, images_per_s: f64) {
        let Some(bar) = &mut self.bar else { return };
        if epoch != self.epoch {
            bar.finish();
            *bar = ProgressBar::new(steps as u64);
            bar.set_style(
                ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}<{eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(format!("{epoch}/{epochs}"));
            self.epoch = epoch;
        }
        bar.set_position(step as u64);
        if step % 16 == 0 || step == steps {
            bar.set_message(format!("loss {loss:.4e}, {images_per_s:.0} images/s"));
        }
    }

    /// Leave the last bar on screen.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
