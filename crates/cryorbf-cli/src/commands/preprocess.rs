//! The preprocessing options of the training commands (`--normalize`, `--lowpass`, `--mask`); what
//! they do is [`rbf_train::preprocess`].
use rbf_train::preprocess::Preprocessing;

/// How the particle images are preprocessed as they are read (all off by default).
#[derive(clap::Args, Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PreprocessArgs {
    /// Normalize each image as RELION does: subtract the mean of its background (the pixels
    /// outside the circle of 75% of the box's diameter) and divide by their standard deviation.
    #[arg(long)]
    #[serde(default)]
    pub normalize: bool,
    /// Low-pass the images to this resolution (Å; at least the Nyquist resolution, 2 × the pixel
    /// size), with a soft edge over the last 2 Fourier shells.
    #[arg(long, value_name = "Å")]
    #[serde(default)]
    pub lowpass: Option<f64>,
    /// Mask the images with a circle of this radius (Å) around the box center, with a soft edge of
    /// 5 pixels inside it. The model's projections are not masked: choose a radius that encloses
    /// the particle.
    #[arg(long, value_name = "Å")]
    #[serde(default)]
    pub mask: Option<f64>,
}

impl PreprocessArgs {
    /// The library's options.
    pub fn options(&self) -> Preprocessing {
        Preprocessing { normalize: self.normalize, lowpass: self.lowpass, mask_radius: self.mask }
    }
}
