//! The settings of a simulation, with the paper's defaults (App. A.1).
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// Which atoms of the amino acids make up the ground-truth density (paper Table S1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AtomSelection {
    /// Every heavy atom.
    #[default]
    All,
    /// Cα only.
    Ca,
    /// Cα and Cβ.
    CaCb,
}

/// Which backbone dihedral of a residue a [`DihedralMotion`] rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DihedralAngle {
    /// φ, about the N–CA bond.
    Phi,
    /// ψ, about the CA–C bond.
    #[default]
    Psi,
}

/// One backbone dihedral rotated through `total` radians in `states` equal steps (paper §4.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DihedralMotion {
    /// Residue number (author numbering) of the rotated residue; the first amino acid of the
    /// selection with this number is used. `None`: the middle amino acid of the selection.
    pub residue: Option<isize>,
    /// φ or ψ.
    pub angle: DihedralAngle,
    /// Total rotation from the first to the last state (radians).
    pub total: f64,
    /// Number of states; state `k` is rotated by `k/(states − 1)·total`.
    pub states: usize,
}

impl Default for DihedralMotion {
    fn default() -> Self {
        DihedralMotion { residue: None, angle: DihedralAngle::Psi, total: 0.25, states: 50 }
    }
}

/// A conformational motion that makes the dataset heterogeneous.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Motion {
    /// Rotate one backbone dihedral.
    Dihedral(DihedralMotion),
}

impl Motion {
    /// Number of states of the motion.
    pub fn states(&self) -> usize {
        match self {
            Motion::Dihedral(d) => d.states,
        }
    }
}

/// How particles are spread over the states of a motion (paper Fig. 4).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    /// Every state equally likely.
    #[default]
    Uniform,
    /// Weight ∝ exp(−E(x)), x = k/(states − 1), with a Gaussian barrier of height ln 10 and width
    /// 0.1 at x = 0.5: the middle state has 10% of the density of the ends.
    Barrier,
    /// A lower barrier shifted off-centre: height ln 4 (25% of the peak) at x = 0.35, width 0.1.
    Barrier2,
    /// Two clusters with an empty middle: only the outer 20% of the states at each end (at least
    /// one state each) are populated, equally.
    TwoClusters,
    /// One non-negative weight per state, read from a text file (one per line; blank lines and
    /// lines starting with `#` are skipped).
    Weights(PathBuf),
}

impl FromStr for Distribution {
    type Err = SimError;

    /// `uniform`, `barrier`, `barrier2`, `two-clusters` or `weights:FILE`.
    fn from_str(s: &str) -> Result<Self, SimError> {
        match s {
            "uniform" => Ok(Distribution::Uniform),
            "barrier" => Ok(Distribution::Barrier),
            "barrier2" => Ok(Distribution::Barrier2),
            "two-clusters" => Ok(Distribution::TwoClusters),
            _ => match s.strip_prefix("weights:") {
                Some(path) if !path.is_empty() => Ok(Distribution::Weights(PathBuf::from(path))),
                _ => Err(SimError::Invalid(format!(
                    "distribution {s:?}: expected uniform, barrier, barrier2, two-clusters or weights:FILE"
                ))),
            },
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Distribution::Uniform => write!(f, "uniform"),
            Distribution::Barrier => write!(f, "barrier"),
            Distribution::Barrier2 => write!(f, "barrier2"),
            Distribution::TwoClusters => write!(f, "two-clusters"),
            Distribution::Weights(p) => write!(f, "weights:{}", p.display()),
        }
    }
}

/// The range the per-particle CTF parameters are drawn from, and the fixed optics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CtfRange {
    /// Smallest defocus (Å); dfU and dfV are drawn independently and uniformly.
    pub defocus_min: f64,
    /// Largest defocus (Å).
    pub defocus_max: f64,
    /// Acceleration voltage (kV).
    pub voltage: f64,
    /// Spherical aberration (mm).
    pub spherical_aberration: f64,
    /// Amplitude contrast w (fraction).
    pub amplitude_contrast: f64,
}

impl Default for CtfRange {
    fn default() -> Self {
        CtfRange { defocus_min: 10_000.0, defocus_max: 25_000.0, voltage: 300.0, spherical_aberration: 2.7, amplitude_contrast: 0.1 }
    }
}

/// Every setting of a simulation. [`Default`] gives the paper's homogeneous dataset (App. A.1)
/// except for `structure` and `out_dir`, which must be set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimulationConfig {
    /// Structure file (PDB or mmCIF; model 1).
    pub structure: PathBuf,
    /// Chains to use (empty: all chains).
    pub chains: Vec<String>,
    /// Output folder; it must not exist unless `force` is set.
    pub out_dir: PathBuf,
    /// Replace an existing output folder.
    pub force: bool,
    /// Which atoms of the amino acids to use.
    pub atoms: AtomSelection,
    /// Include ligands (hetero residues other than water), all their heavy atoms.
    pub ligands: bool,
    /// Include waters.
    pub waters: bool,
    /// Resolution of the ground truth (Å); σ = resolution/(π·√2), as Chimera's `molmap`.
    pub resolution: f64,
    /// Number of particle images.
    pub n_images: usize,
    /// Box edge (pixels).
    pub box_size: usize,
    /// Pixel size (Å/pixel).
    pub pixel_size: f64,
    /// In-plane shifts are uniform in ±`max_shift` pixels along x and y.
    pub max_shift: f64,
    /// Per-particle CTF; `None` leaves the CTF out (as the paper does).
    pub ctf: Option<CtfRange>,
    /// Whether to add noise (tests switch it off to compare with clean renders).
    pub noise: bool,
    /// Signal-to-noise ratio: signal variance / noise variance over the stack.
    pub snr: f64,
    /// Number of images rendered (with their own poses, from the same distributions) to estimate
    /// the signal variance; the estimate does not depend on `n_images`.
    pub snr_sample: usize,
    /// A motion; `None` for a homogeneous dataset.
    pub motion: Option<Motion>,
    /// How particles are spread over the motion's states.
    pub distribution: Distribution,
    /// Seed of every random draw: the same seed and settings give identical files.
    pub seed: u64,
    /// Images rendered and written at a time.
    pub chunk_size: usize,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            structure: PathBuf::new(),
            chains: Vec::new(),
            out_dir: PathBuf::new(),
            force: false,
            atoms: AtomSelection::All,
            ligands: false,
            waters: false,
            resolution: 3.0,
            n_images: 50_000,
            box_size: 128,
            pixel_size: 1.0,
            max_shift: 10.0,
            ctf: None,
            noise: true,
            snr: 0.1,
            snr_sample: 1000,
            motion: None,
            distribution: Distribution::Uniform,
            seed: 0,
            chunk_size: 256,
        }
    }
}

impl SimulationConfig {
    /// Width of each atom's Gaussian (Å): σ = resolution / (π·√2), as Chimera's `molmap`.
    pub fn sigma(&self) -> f64 {
        self.resolution / (std::f64::consts::PI * std::f64::consts::SQRT_2)
    }

    /// Check every numeric setting.
    ///
    /// # Errors
    /// [`SimError::Invalid`] naming the first setting out of range and its value.
    pub fn validate(&self) -> Result<(), SimError> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 { Ok(()) } else { Err(SimError::Invalid(format!("{name} must be a positive number, got {v}"))) }
        };
        positive("resolution (Å)", self.resolution)?;
        positive("pixel size (Å/pixel)", self.pixel_size)?;
        if self.noise {
            positive("SNR", self.snr)?;
        }
        if self.box_size < 16 {
            return Err(SimError::Invalid(format!("box size must be at least 16 pixels, got {}", self.box_size)));
        }
        if self.n_images == 0 {
            return Err(SimError::Invalid("number of images must be at least 1, got 0".into()));
        }
        if self.noise && self.snr_sample == 0 {
            return Err(SimError::Invalid("SNR sample size must be at least 1, got 0".into()));
        }
        if self.chunk_size == 0 {
            return Err(SimError::Invalid("chunk size must be at least 1, got 0".into()));
        }
        if !(self.max_shift.is_finite() && self.max_shift >= 0.0) {
            return Err(SimError::Invalid(format!("maximum shift must be ≥ 0 pixels, got {}", self.max_shift)));
        }
        if let Some(ctf) = &self.ctf {
            positive("CTF minimum defocus (Å)", ctf.defocus_min)?;
            positive("voltage (kV)", ctf.voltage)?;
            if !(ctf.defocus_max.is_finite() && ctf.defocus_max >= ctf.defocus_min) {
                return Err(SimError::Invalid(format!(
                    "CTF defocus range {}–{} Å is empty",
                    ctf.defocus_min, ctf.defocus_max
                )));
            }
            if !(ctf.spherical_aberration.is_finite() && ctf.spherical_aberration >= 0.0) {
                return Err(SimError::Invalid(format!("spherical aberration must be ≥ 0 mm, got {}", ctf.spherical_aberration)));
            }
            if !(0.0..1.0).contains(&ctf.amplitude_contrast) {
                return Err(SimError::Invalid(format!("amplitude contrast must be in [0, 1), got {}", ctf.amplitude_contrast)));
            }
        }
        if let Some(Motion::Dihedral(d)) = &self.motion {
            if d.states < 2 {
                return Err(SimError::Invalid(format!("a motion needs at least 2 states, got {}", d.states)));
            }
            if !d.total.is_finite() {
                return Err(SimError::Invalid(format!("motion total angle must be finite, got {}", d.total)));
            }
        }
        Ok(())
    }
}
