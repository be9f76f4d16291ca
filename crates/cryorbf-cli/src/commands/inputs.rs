//! The inputs every training command shares: particles, the reference placed in the box frame,
//! and an optional ground truth.
use std::path::{Path, PathBuf};

use anyhow::Context;
use rbf_model::{ChainSelection, CoarseModel, ImageGrid, Structure};
use rbf_train::data::{FileParticles, ParticleSource};
use rbf_train::truth::Truth;

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
    /// the translation recorded by `cryorbf simulate` when the particles come from it, else the
    /// shift that puts the reference's Cα centroid at the box center.
    #[arg(long, value_delimiter = ',', num_args = 3, value_name = "X,Y,Z", allow_negative_numbers = true)]
    pub reference_shift: Option<Vec<f64>>,
    /// Ground truth for metrics: a structure in the box frame (e.g. the simulator's truth.pdb) or
    /// a simulator folder (its truth.pdb).
    #[arg(long, value_name = "FILE|DIR")]
    pub truth: Option<PathBuf>,
    /// Resolution (Å) of the all-atom truth volume used for the volume NMSE (default: the
    /// simulator's, or 3 Å).
    #[arg(long, value_name = "Å")]
    pub truth_resolution: Option<f64>,
}

/// Everything a training command needs, loaded and checked.
pub struct Inputs {
    /// The particles.
    pub particles: FileParticles,
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
        let path = self.particles.clone().context("--particles is required")?;
        Ok(if path.is_dir() { path.join("particles.star") } else { path })
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

    /// Read and check everything.
    ///
    /// # Errors
    /// Naming the file and the problem: unreadable particles or structures, a reference that
    /// does not fit the box, a truth that lacks residues of the reference.
    pub fn load(&self, device: &burn::prelude::Device) -> anyhow::Result<Inputs> {
        let file = self.particle_file()?;
        let table = if file.extension().is_some_and(|e| e == "cs") {
            rbf_io::ParticleTable::from_cs(&file, self.datadir.as_deref())?
        } else {
            rbf_io::ParticleTable::from_star(&file, self.datadir.as_deref())?
        };
        let particles = FileParticles::new(&table)?;
        let reference = self.reference.clone().context("--reference is required")?;
        let structure = Structure::read(&reference, &self.chains())?;
        let mut model = CoarseModel::from_structure(&structure)?;
        let record = self.simulation_record();
        let (shift, placement) = match (&self.reference_shift, record.as_ref().and_then(|r| translation(r))) {
            (Some(s), _) => ([s[0], s[1], s[2]], "shifted by --reference-shift".to_string()),
            (None, Some(t)) => (t, "shifted by the simulator's recorded translation".to_string()),
            (None, None) => {
                let c = model.ca_centroid();
                ([-c[0], -c[1], -c[2]], "Cα centroid moved to the box center".to_string())
            }
        };
        model.translate(shift);
        let grid = ImageGrid::new(particles.box_size(), particles.pixel_size())?;
        grid.check_fits(&model.centers, 0.0).with_context(|| format!("{} placed in the particles' box", reference.display()))?;
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
        format!(
            "{} particles, box {} px at {} Å/px; reference {} residues, {} RBFs ({})",
            self.particles.len(),
            self.particles.box_size(),
            self.particles.pixel_size(),
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
