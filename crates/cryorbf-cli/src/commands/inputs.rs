//! The inputs every training command shares: particles, the reference placed in the box frame,
//! and an optional ground truth; and reading a particle file (with the warning every command
//! that reads particles gives when a stack's header disagrees with it on the pixel size).
use std::path::{Path, PathBuf};

use anyhow::Context;
use rbf_io::ParticleTable;
use rbf_model::{ChainSelection, CoarseModel, ImageGrid, Structure};
use rbf_train::data::{FileParticles, ParticleSource};
use rbf_train::downsample::Downsampled;
use rbf_train::preprocess::Preprocessed;
use rbf_train::truth::Truth;

use super::placement::{far_from_particles, map_placement, outside_circle};
use super::preprocess::PreprocessArgs;

/// Where the particles are and which structure they are of.
#[derive(clap::Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InputArgs {
    /// Particles: a RELION STAR file, a cryoSPARC .cs file, or a folder written by
    /// `cryorbf simulate` (its particles.star is used).
    #[arg(long, value_name = "FILE|DIR")]
    pub particles: Option<PathBuf>,
    /// Folder the image paths of the particle file are relative to (default: the file's folder).
    #[arg(long, value_name = "DIR")]
    pub datadir: Option<PathBuf>,
    /// Reference structure (PDB or mmCIF, model 1) whose residues become the RBFs.
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// Chain(s) of the reference to use, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub chain: Vec<String>,
    /// Shift (Å) that puts the reference in the box frame (origin at the box center). Default:
    /// the frame of --map when given, else the translation recorded by `cryorbf simulate` when the
    /// particles come from it, else the shift that puts the reference's Cα centroid at the box
    /// center.
    #[arg(long, value_delimiter = ',', num_args = 1, value_name = "X,Y,Z", allow_hyphen_values = true)]
    pub reference_shift: Option<Vec<f64>>,
    /// The map the reference was built into (e.g. the consensus refinement's MRC): the reference is
    /// in its frame, so the map's box center (from its header's origin and pixel size) is moved to
    /// the particles' box center.
    #[arg(long, value_name = "FILE", conflicts_with = "reference_shift")]
    #[serde(default)]
    pub map: Option<PathBuf>,
    /// Ground truth for metrics: a structure in the box frame (e.g. the simulator's truth.pdb) or
    /// a simulator folder (its truth.pdb).
    #[arg(long, value_name = "FILE|DIR")]
    pub truth: Option<PathBuf>,
    /// Resolution (Å) of the all-atom truth volume used for the volume NMSE (default: the
    /// simulator's, or 3 Å).
    #[arg(long, value_name = "Å")]
    pub truth_resolution: Option<f64>,
    /// Downsample the images to this box (pixels; even, at least 8, at most the particles' box)
    /// by Fourier cropping as they are read: the pixel size grows by the same factor, the poses
    /// (in Å) and the CTF stay. `cryorbf downsample` writes such a stack once instead.
    #[arg(long, value_name = "PIXELS")]
    #[serde(default)]
    pub downsample: Option<usize>,
    #[command(flatten)]
    #[serde(flatten)]
    pub preprocess: PreprocessArgs,
}

/// Everything a training command needs, loaded and checked.
pub struct Inputs {
    /// The particles (downsampled, then preprocessed, when asked).
    pub particles: Preprocessed<Downsampled<FileParticles>>,
    /// The coarse-grained reference, in the box frame.
    pub model: CoarseModel,
    /// The truth, when given.
    pub truth: Option<Truth>,
    /// How the reference was placed, for the log.
    pub placement: String,
}

impl InputArgs {
    /// The particle metadata file: the path itself, or `particles.star` in a folder.
    fn particle_file(&self) -> anyhow::Result<PathBuf> {
        Ok(particle_file(self.particles.as_deref().context("--particles is required")?))
    }

    /// The simulator's record next to the particles, if any.
    fn simulation_record(&self) -> Option<serde_json::Value> {
        let file = self.particle_file().ok()?;
        let text = std::fs::read_to_string(file.parent()?.join("simulation.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn chains(&self) -> ChainSelection {
        if self.chain.is_empty() { ChainSelection::All } else { ChainSelection::Chains(self.chain.clone()) }
    }

    /// Read and check everything; warn (on stderr) when the placed reference reaches outside the
    /// box's inscribed sphere or is far from the particles' density.
    ///
    /// # Errors
    /// Naming the file and the problem: unreadable particles, structures or map, a reference that
    /// does not fit the box, a truth that lacks residues of the reference, preprocessing values
    /// that do not suit the images.
    pub fn load(&self, device: &burn::prelude::Device) -> anyhow::Result<Inputs> {
        let file = self.particle_file()?;
        let table = read_particles(&file, self.datadir.as_deref())?;
        let particles = FileParticles::new(&table)?;
        warn_pixel_size_mismatches(&table)?;
        let particles = Downsampled::new(particles, self.downsample)
            .with_context(|| format!("--downsample for the particles of {}", file.display()))?;
        let reference = self.reference.clone().context("--reference is required")?;
        let structure = Structure::read(&reference, &self.chains())?;
        let mut model = CoarseModel::from_structure(&structure)?;
        let record = self.simulation_record();
        let (shift, placement) = match (&self.map, &self.reference_shift, record.as_ref().and_then(translation)) {
            (Some(map), _, _) => {
                let placed = map_placement(map, particles.pixel_size())?;
                if let Some(warning) = placed.warning {
                    eprintln!("warning: {warning}");
                }
                (placed.shift, placed.description)
            }
            (None, Some(s), _) => match s[..] {
                [x, y, z] => ([x, y, z], "shifted by --reference-shift".to_string()),
                _ => anyhow::bail!("--reference-shift takes three values, X,Y,Z (Å); got {}", s.len()),
            },
            (None, None, Some(t)) => (t, "shifted by the simulator's recorded translation".to_string()),
            (None, None, None) => {
                let c = model.ca_centroid();
                ([-c[0], -c[1], -c[2]], "Cα centroid moved to the box center".to_string())
            }
        };
        model.translate(shift);
        let grid = ImageGrid::new(particles.box_size(), particles.pixel_size())?;
        grid.check_fits(&model.centers, 0.0).with_context(|| format!("{} placed in the particles' box", reference.display()))?;
        let mut warnings: Vec<String> = outside_circle(&model.centers, &grid).into_iter().collect();
        match rbf_train::center::particle_center(&particles, 1000)? {
            Some(center) => warnings.extend(far_from_particles(model.ca_centroid(), center, &grid)),
            None => eprintln!(
                "note: the center of the particles' density cannot be found from their images (no clear net density, or too few viewing directions); the reference's placement is not checked against it"
            ),
        }
        for warning in warnings {
            eprintln!("warning: {warning}");
        }
        let particles = Preprocessed::new(particles, self.preprocess.options())?;
        let truth = match &self.truth {
            None => None,
            Some(path) => {
                let path = if path.is_dir() { path.join("truth.pdb") } else { path.clone() };
                let truth_structure = Structure::read(&path, &self.chains())?;
                let resolution = self
                    .truth_resolution
                    .or_else(|| record.as_ref().and_then(|r| r["config"]["resolution"].as_f64()))
                    .unwrap_or(3.0);
                let truth = Truth::from_structure(&model, &truth_structure)?.with_molmap(&truth_structure, resolution, &grid, device)?;
                Some(truth)
            }
        };
        Ok(Inputs { particles, model, truth, placement })
    }
}

impl Inputs {
    /// One line about the particles and the reference, for the log.
    pub fn describe(&self) -> String {
        let original = self.particles.inner().inner();
        let options = self.particles.options();
        format!(
            "{} particles, box {} px at {} Å/px{}{}; reference {} residues, {} RBFs ({})",
            self.particles.len(),
            self.particles.box_size(),
            self.particles.pixel_size(),
            if self.particles.inner().is_downsampled() {
                format!(" (downsampled from {} px at {} Å/px)", original.box_size(), original.pixel_size())
            } else {
                String::new()
            },
            if options.is_off() { String::new() } else { format!(", images {}", options.describe()) },
            self.model.n_residues(),
            self.model.n_rbf(),
            self.placement
        )
    }
}

fn translation(record: &serde_json::Value) -> Option<[f64; 3]> {
    let t = record["translation"].as_array()?;
    Some([t.first()?.as_f64()?, t.get(1)?.as_f64()?, t.get(2)?.as_f64()?])
}

/// The particle metadata file: `path` itself, or `particles.star` in a folder (a simulator's).
fn particle_file(path: &Path) -> PathBuf {
    if path.is_dir() { path.join("particles.star") } else { path.to_path_buf() }
}

/// Read a particle file: a `.cs` file by its extension, else a STAR file (`particles.star` for a
/// folder).
///
/// # Errors
/// As [`ParticleTable::from_star`] and [`ParticleTable::from_cs`].
pub fn read_particles(path: &Path, datadir: Option<&Path>) -> anyhow::Result<ParticleTable> {
    let file = particle_file(path);
    Ok(if file.extension().is_some_and(|e| e == "cs") { ParticleTable::from_cs(&file, datadir)? } else { ParticleTable::from_star(&file, datadir)? })
}

/// Print a warning (to stderr) for each stack whose MRC header gives another pixel size than the
/// particle file, saying which is used (the file's); at most three, then how many more.
///
/// # Errors
/// When a stack's header cannot be read.
pub fn warn_pixel_size_mismatches(table: &ParticleTable) -> anyhow::Result<()> {
    const SHOWN: usize = 3;
    let mismatches = table.pixel_size_mismatches()?;
    for m in mismatches.iter().take(SHOWN) {
        eprintln!("warning: {m}");
    }
    if mismatches.len() > SHOWN {
        eprintln!("warning: and {} more stacks whose header disagrees with {}", mismatches.len() - SHOWN, table.source.display());
    }
    Ok(())
}

/// Refuse to write into a non-empty folder unless forced; create it.
///
/// # Errors
/// When the folder exists and is not empty, or cannot be created.
pub fn prepare_out_dir(out: &Path, force: bool) -> anyhow::Result<()> {
    if out.exists() && !force && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        anyhow::bail!("{}: the output folder exists and is not empty (use --force to write into it, or --resume to continue it)", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))
}
