//! Reading a heterogeneous run back and measuring what it learned (paper §4.2, Fig. 3 and Fig. 4).
//!
//! - [`VaeRun`]: a run folder of [`crate::heterogeneous::train_vae`], opened again; it decodes
//!   latents into structures and volumes.
//! - [`StateTruth`]: the ground truth of a simulated motion — the true Cα of every state, the
//!   reaction coordinate of every state and the state of every particle — from the folder
//!   `cryorbf simulate` writes (`truth.pdb` with one model per state, `states.npy`,
//!   `simulation.json`) or from memory.
//! - [`spearman`], [`Pca`], [`trajectory`], [`per_state_rmse`] (the paper's Fig. 4 method: the Cα
//!   RMSE at each true coordinate of the structure decoded at the median latent of the particles
//!   there).
//! - [`analyze`]: all of it at once, written as PNG plots, a multi-model PDB/mmCIF trajectory that
//!   ChimeraX plays as a movie, optional volumes along it, and Markdown/CSV tables.
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::module::Module;
use rbf_model::metrics::{rmse, rmse_superposed};
use rbf_model::{CoarseModel, ImageGrid, RbfDensityConfig};
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::heterogeneous::{LATENT_FILE, VAE_FILE, VAE_FORMAT, VAE_INFO_FILE, VaeInfo, VaeModel};
use crate::npy::read_matrix;
use crate::plots;
use crate::run::{load_parameters, read_json, write_json};

/// Per-particle state indices in a simulator folder (`int64 [n_particles]`).
pub const STATES_FILE: &str = "states.npy";
/// The all-atom truth of a simulator folder, one `MODEL` per state, box frame.
pub const TRUTH_FILE: &str = "truth.pdb";
/// The simulator's record (its `reaction_coordinates` give each state's coordinate).
pub const SIMULATION_FILE: &str = "simulation.json";
/// Per-particle reaction coordinates in a simulator folder (`float64 [n_particles]`, radians).
pub const REACTION_COORDINATES_FILE: &str = "reaction_coordinates.npy";

/// How well a heterogeneous model recovers a known motion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeterogeneousAccuracy {
    /// Spearman correlation of the latent (its first principal component when `latent_dim > 1`)
    /// with the true reaction coordinate, over the particles (sign arbitrary).
    pub spearman: f64,
    /// Mean over the populated states of the Cα RMSE of the structure at the state's median
    /// latent (Å, box frame).
    pub mean_ca_rmse: f64,
    /// Largest such RMSE (Å).
    pub max_ca_rmse: f64,
}

/// The ground truth of a simulated motion, matched to a coarse-grained model.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTruth {
    /// True Cα of every state, one per residue of the model (Å, box frame), `[n_states][n_residues]`.
    pub states_ca: Vec<Vec<[f64; 3]>>,
    /// Reaction coordinate of every state (radians for the simulator's dihedral motion), `[n_states]`.
    pub coordinates: Vec<f64>,
    /// State of every particle, in particle order, `[n_particles]`.
    pub particle_states: Vec<usize>,
}

impl StateTruth {
    /// Check the truth against a particle count and a model's residue count.
    ///
    /// # Errors
    /// [`TrainError::Data`] describing the first mismatch.
    pub fn check(&self, n_particles: usize, n_residues: usize) -> Result<(), TrainError> {
        if self.particle_states.len() != n_particles {
            return Err(TrainError::Data(format!(
                "the truth gives states for {} particles, the particle set has {n_particles}",
                self.particle_states.len()
            )));
        }
        if self.coordinates.len() != self.states_ca.len() {
            return Err(TrainError::Data(format!("{} coordinates for {} true states", self.coordinates.len(), self.states_ca.len())));
        }
        if let Some(&s) = self.particle_states.iter().find(|&&s| s >= self.states_ca.len()) {
            return Err(TrainError::Data(format!("a particle is in state {s}, the truth has {} states", self.states_ca.len())));
        }
        if let Some(ca) = self.states_ca.iter().find(|ca| ca.len() != n_residues) {
            return Err(TrainError::Data(format!("a true state has {} Cα, the model {n_residues} residues", ca.len())));
        }
        Ok(())
    }

    /// Particles in each state.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.states_ca.len()];
        for &s in &self.particle_states {
            counts[s] += 1;
        }
        counts
    }

    /// The true coordinate of every particle.
    pub fn particle_coordinates(&self) -> Vec<f64> {
        self.particle_states.iter().map(|&s| self.coordinates[s]).collect()
    }

    /// Whether `dir` looks like a simulator folder with a motion (it has [`STATES_FILE`]).
    pub fn is_simulation(dir: &Path) -> bool {
        dir.join(STATES_FILE).is_file() && dir.join(TRUTH_FILE).is_file()
    }

    /// Read the truth of a simulator folder for `model` (in the same box frame): the Cα of each
    /// residue of `model` in every model of `truth.pdb` (by chain, number and insertion code), the
    /// particles' states from `states.npy`, and each state's coordinate from `simulation.json`
    /// (or, failing that, from `reaction_coordinates.npy`).
    ///
    /// # Errors
    /// [`TrainError::Data`] naming the file and the problem: a missing file, a residue of the model
    /// without a Cα in the truth, a state index that is negative or past the last model.
    pub fn from_simulation(dir: &Path, model: &CoarseModel) -> Result<Self, TrainError> {
        let states_path = dir.join(STATES_FILE);
        let states = read_matrix(&states_path)?;
        let mut particle_states = Vec::with_capacity(states.values.len());
        for &s in &states.values {
            if !(s >= 0.0 && s.fract() == 0.0) {
                return Err(TrainError::Data(format!("{}: {s} is not a state index", states_path.display())));
            }
            particle_states.push(s as usize);
        }
        let truth_path = dir.join(TRUTH_FILE);
        let states_ca = read_ca_models(&truth_path, model)?;
        if let Some(&s) = particle_states.iter().find(|&&s| s >= states_ca.len()) {
            return Err(TrainError::Data(format!(
                "{}: state {s}, but {} holds {} models",
                states_path.display(),
                truth_path.display(),
                states_ca.len()
            )));
        }
        let coordinates = match state_coordinates_from_record(&dir.join(SIMULATION_FILE), states_ca.len()) {
            Some(c) => c,
            None => {
                let path = dir.join(REACTION_COORDINATES_FILE);
                let per_particle = read_matrix(&path)?;
                if per_particle.values.len() != particle_states.len() {
                    return Err(TrainError::Data(format!(
                        "{}: {} values for {} particles",
                        path.display(),
                        per_particle.values.len(),
                        particle_states.len()
                    )));
                }
                let mut c = vec![f64::NAN; states_ca.len()];
                for (&s, &x) in particle_states.iter().zip(&per_particle.values) {
                    c[s] = x;
                }
                c
            }
        };
        Ok(StateTruth { states_ca, coordinates, particle_states })
    }
}

fn state_coordinates_from_record(path: &Path, n_states: usize) -> Option<Vec<f64>> {
    let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let values: Vec<f64> = record["reaction_coordinates"].as_array()?.iter().filter_map(serde_json::Value::as_f64).collect();
    (values.len() == n_states).then_some(values)
}

/// The Cα of every residue of `model` in every model of a PDB or mmCIF file.
fn read_ca_models(path: &Path, model: &CoarseModel) -> Result<Vec<Vec<[f64; 3]>>, TrainError> {
    let fail = |reason: String| TrainError::Data(format!("{}: {reason}", path.display()));
    let pdb = rbf_model::structure::parse_file(path, false)?;
    let mut out = Vec::new();
    for (m, pdb_model) in pdb.models().enumerate() {
        let mut ca: HashMap<(String, isize, Option<String>), [f64; 3]> = HashMap::new();
        for chain in pdb_model.chains() {
            for residue in chain.residues() {
                let key = (chain.id().to_string(), residue.serial_number(), residue.insertion_code().map(str::to_string));
                if let Some(atom) = residue.conformers().flat_map(|c| c.atoms()).find(|a| a.name() == "CA") {
                    ca.entry(key).or_insert([atom.x(), atom.y(), atom.z()]);
                }
            }
        }
        let positions = model
            .residues
            .iter()
            .map(|r| {
                ca.get(&(r.chain.clone(), r.number, r.insertion_code.clone())).copied().ok_or_else(|| {
                    fail(format!("model {} has no Cα for residue {} {} of chain {}", m + 1, r.name, r.number, r.chain))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(positions);
    }
    if out.is_empty() {
        return Err(fail("the file holds no model".into()));
    }
    Ok(out)
}

/// Spearman's rank correlation of two samples (ties get their mean rank); NaN for fewer than two
/// points or a constant sample.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return f64::NAN;
    }
    pearson(&ranks(&a[..n]), &ranks(&b[..n]))
}

fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

/// The `p`-th percentile (0–100) of `values`, linearly interpolated; NaN when empty.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let x = (p / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo as f64)
}

/// The per-dimension median of latents, `[latent_dim]`.
pub fn median_latent(z: &[Vec<f64>], dim: usize) -> Vec<f64> {
    (0..dim).map(|k| percentile(&z.iter().map(|v| v[k]).collect::<Vec<_>>(), 50.0)).collect()
}

/// Principal components of a set of latents.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Mean, `[latent_dim]`.
    pub mean: Vec<f64>,
    /// Unit principal axes, largest variance first, `[k][latent_dim]`.
    pub axes: Vec<Vec<f64>>,
    /// Variance along each axis, `[k]`.
    pub variances: Vec<f64>,
}

impl Pca {
    /// The first `k` principal components of `z` (`[n][dim]`), by power iteration with deflation.
    pub fn fit(z: &[Vec<f64>], k: usize) -> Self {
        let dim = z.first().map_or(0, Vec::len);
        let n = z.len().max(1) as f64;
        let mean: Vec<f64> = (0..dim).map(|j| z.iter().map(|v| v[j]).sum::<f64>() / n).collect();
        let mut cov = vec![vec![0.0; dim]; dim];
        for v in z {
            for a in 0..dim {
                for b in 0..dim {
                    cov[a][b] += (v[a] - mean[a]) * (v[b] - mean[b]) / n;
                }
            }
        }
        let (mut axes, mut variances) = (Vec::new(), Vec::new());
        for c in 0..k.min(dim) {
            let mut axis: Vec<f64> = (0..dim).map(|j| if j == c { 1.0 } else { 0.1 }).collect();
            let mut value = 0.0;
            for _ in 0..500 {
                let next: Vec<f64> = (0..dim).map(|a| (0..dim).map(|b| cov[a][b] * axis[b]).sum()).collect();
                let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
                if norm == 0.0 {
                    break;
                }
                value = norm;
                axis = next.iter().map(|x| x / norm).collect();
            }
            for a in 0..dim {
                for b in 0..dim {
                    cov[a][b] -= value * axis[a] * axis[b];
                }
            }
            axes.push(axis);
            variances.push(value);
        }
        Pca { mean, axes, variances }
    }

    /// Coordinates of `v` along the axes, `[k]`.
    pub fn project(&self, v: &[f64]) -> Vec<f64> {
        self.axes.iter().map(|a| a.iter().zip(v).zip(&self.mean).map(|((a, x), m)| a * (x - m)).sum()).collect()
    }
}

/// One number per particle that orders the latents: the latent itself when `latent_dim` is 1,
/// else its coordinate along the first principal component.
pub fn latent_coordinate(z: &[Vec<f64>]) -> Vec<f64> {
    if z.first().is_some_and(|v| v.len() == 1) {
        return z.iter().map(|v| v[0]).collect();
    }
    let pca = Pca::fit(z, 1);
    z.iter().map(|v| pca.project(v).first().copied().unwrap_or(0.0)).collect()
}

/// `n` latents evenly spaced from the 5th to the 95th percentile of [`latent_coordinate`]: along
/// the latent axis when `latent_dim` is 1, along the first principal component otherwise.
pub fn trajectory(z: &[Vec<f64>], n: usize) -> Vec<Vec<f64>> {
    let coordinate = latent_coordinate(z);
    let (lo, hi) = (percentile(&coordinate, 5.0), percentile(&coordinate, 95.0));
    let at = |k: usize| if n > 1 { lo + (hi - lo) * k as f64 / (n - 1) as f64 } else { (lo + hi) / 2.0 };
    if z.first().is_some_and(|v| v.len() == 1) {
        return (0..n).map(|k| vec![at(k)]).collect();
    }
    let pca = Pca::fit(z, 1);
    let axis = pca.axes.first().cloned().unwrap_or_default();
    (0..n).map(|k| pca.mean.iter().zip(&axis).map(|(m, a)| m + a * at(k)).collect()).collect()
}

/// One row of the paper's Fig. 4: a true state, the median latent of its particles and the Cα
/// RMSE of the structure decoded there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateRow {
    /// State index.
    pub state: usize,
    /// True reaction coordinate.
    pub coordinate: f64,
    /// Particles in the state.
    pub particles: usize,
    /// Median latent of those particles (`None` when there are none).
    pub median_latent: Option<Vec<f64>>,
    /// Cα RMSE of the decoded structure to the true state (Å, box frame).
    pub ca_rmse: Option<f64>,
    /// The same after optimal superposition (Å).
    pub ca_rmse_superposed: Option<f64>,
}

/// The paper's Fig. 4 method: for every true state, the structure at the median latent of its
/// particles, and its Cα RMSE to the state's true Cα. States without particles get no RMSE.
///
/// # Shapes
/// `z`: `[n_particles][latent_dim]`, in the order of `truth.particle_states`.
pub fn per_state_rmse(vae: &VaeModel, model: &CoarseModel, z: &[Vec<f64>], truth: &StateTruth) -> Vec<StateRow> {
    let dim = vae.latent_dim();
    let mut members: Vec<Vec<Vec<f64>>> = vec![Vec::new(); truth.states_ca.len()];
    for (v, &s) in z.iter().zip(&truth.particle_states) {
        members[s].push(v.clone());
    }
    let medians: Vec<Option<Vec<f64>>> = members.iter().map(|m| (!m.is_empty()).then(|| median_latent(m, dim))).collect();
    let populated: Vec<Vec<f64>> = medians.iter().flatten().cloned().collect();
    let mut decoded = vae.decode_host(&populated).into_iter();
    medians
        .into_iter()
        .enumerate()
        .map(|(state, median)| {
            let ca = median.as_ref().and_then(|_| decoded.next()).map(|centers| model.ca_positions(&centers));
            StateRow {
                state,
                coordinate: truth.coordinates[state],
                particles: members[state].len(),
                ca_rmse: ca.as_ref().map(|ca| rmse(ca, &truth.states_ca[state])),
                ca_rmse_superposed: ca.as_ref().map(|ca| rmse_superposed(ca, &truth.states_ca[state])),
                median_latent: median,
            }
        })
        .collect()
}

/// Spearman correlation with the true coordinate and the per-state RMSE, summarised.
pub fn score(vae: &VaeModel, model: &CoarseModel, z: &[Vec<f64>], truth: &StateTruth) -> HeterogeneousAccuracy {
    let rows = per_state_rmse(vae, model, z, truth);
    let errors: Vec<f64> = rows.iter().filter_map(|r| r.ca_rmse).collect();
    HeterogeneousAccuracy {
        spearman: spearman(&latent_coordinate(z), &truth.particle_coordinates()),
        mean_ca_rmse: errors.iter().sum::<f64>() / errors.len().max(1) as f64,
        max_ca_rmse: errors.iter().copied().fold(0.0, f64::max),
    }
}

/// A heterogeneous run folder, opened again.
pub struct VaeRun {
    /// The folder.
    pub dir: PathBuf,
    /// Its `vae.json`.
    pub info: VaeInfo,
    /// The coarse-grained structure (box frame, centers at the start of training).
    pub model: CoarseModel,
    /// The trained model (no autodiff).
    pub vae: VaeModel,
    /// The particles' image grid.
    pub grid: ImageGrid,
}

impl VaeRun {
    /// Open the run folder `dir` on `device`.
    ///
    /// # Errors
    /// [`TrainError::Data`] naming the folder when it is a homogeneous run or not a run at all,
    /// or naming the file that is missing, unreadable or inconsistent.
    pub fn open(dir: &Path, device: &Device) -> Result<Self, TrainError> {
        let info_path = dir.join(VAE_INFO_FILE);
        if !info_path.is_file() {
            let reason = if dir.join("model.pdb").is_file() && dir.join("config.json").is_file() {
                format!("a homogeneous run (no {VAE_INFO_FILE}); decode and analyze need a run of `cryorbf train-vae`")
            } else if dir.join("checkpoint").is_dir() {
                format!("an unfinished run (no {VAE_INFO_FILE} yet); finish it with --resume")
            } else {
                format!("not a run folder of `cryorbf train-vae` (no {VAE_INFO_FILE})")
            };
            return Err(TrainError::Data(format!("{}: {reason}", dir.display())));
        }
        let info: VaeInfo = read_json(&info_path)?;
        let bad = |reason: String| TrainError::Data(format!("{}: {reason}", info_path.display()));
        if info.format != VAE_FORMAT {
            return Err(bad(format!("format {:?}, expected {VAE_FORMAT:?}", info.format)));
        }
        let model = info.structure.to_model().map_err(bad)?;
        let grid = ImageGrid::new(info.box_size, info.pixel_size)?;
        let density = RbfDensityConfig::new().init(&model.centers, &model.electrons, device);
        let vae = load_parameters(VaeModel::new(&info.config, density, info.box_size, device), &dir.join(VAE_FILE))?;
        Ok(VaeRun { dir: dir.to_path_buf(), info, model, vae: vae.valid(), grid })
    }

    /// Latent dimension.
    pub fn latent_dim(&self) -> usize {
        self.vae.latent_dim()
    }

    /// The latent mean of every training particle (`z.npy`), `[n_particles][latent_dim]`.
    ///
    /// # Errors
    /// When `z.npy` is missing or its width is not the latent dimension.
    pub fn latents(&self) -> Result<Vec<Vec<f64>>, TrainError> {
        let path = self.dir.join(LATENT_FILE);
        let z = read_matrix(&path)?;
        if z.cols != self.latent_dim() {
            return Err(TrainError::Data(format!("{}: {} columns, the model's latent dimension is {}", path.display(), z.cols, self.latent_dim())));
        }
        Ok(z.to_rows())
    }

    /// The latents of `z` that lie outside the range seen in training, with the first dimension
    /// that does.
    pub fn outside_training_range(&self, z: &[Vec<f64>]) -> Vec<(usize, usize)> {
        z.iter()
            .enumerate()
            .filter_map(|(i, v)| v.iter().zip(&self.info.latent_range).position(|(x, [lo, hi])| x < lo || x > hi).map(|d| (i, d)))
            .collect()
    }

    /// The structures at `z`, `[n][n_rbf][3]` (Å, box frame).
    ///
    /// # Errors
    /// When a latent has the wrong dimension or is not finite.
    pub fn decode(&self, z: &[Vec<f64>]) -> Result<Vec<Vec<[f64; 3]>>, TrainError> {
        if let Some((i, v)) = z.iter().enumerate().find(|(_, v)| v.len() != self.latent_dim()) {
            return Err(TrainError::Data(format!("latent {} has {} values, the model's latent dimension is {}", i + 1, v.len(), self.latent_dim())));
        }
        if let Some(i) = z.iter().position(|v| v.iter().any(|x| !x.is_finite())) {
            return Err(TrainError::Data(format!("latent {} is not finite: {:?}", i + 1, z[i])));
        }
        Ok(self.vae.decode_host(z))
    }

    /// The RBF density of a structure on the run's grid, `[z][y][x]`.
    pub fn volume(&self, centers: &[[f64; 3]]) -> Vec<f32> {
        let density = self.vae.density.clone().with_centers(centers);
        density.volume(&self.grid).into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default()
    }

    /// Write the structures at `z` as one multi-model file (PDB or mmCIF by the extension of
    /// `path`), and with `volumes` the volume of each next to it as `<stem>_<k>.mrc` (k from 1).
    /// Returns the files written.
    ///
    /// # Errors
    /// As [`VaeRun::decode`], and when a file cannot be written.
    pub fn write_decoded(&self, z: &[Vec<f64>], path: &Path, volumes: bool) -> Result<Vec<PathBuf>, TrainError> {
        let models = self.decode(z)?;
        self.model.write_models(path, &models)?;
        let mut files = vec![path.to_path_buf()];
        if volumes {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
            let width = models.len().to_string().len().max(2);
            for (k, centers) in models.iter().enumerate() {
                let file = path.with_file_name(format!("{stem}_{:0width$}.mrc", k + 1));
                rbf_io::mrc::write_volume(&file, &self.volume(centers), self.grid.box_size(), self.grid.pixel_size())?;
                files.push(file);
            }
        }
        Ok(files)
    }
}

/// What [`analyze`] found (also written as `analysis.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisSummary {
    /// Particles analysed.
    pub particles: usize,
    /// Latent dimension.
    pub latent_dim: usize,
    /// The 5th, 50th and 95th percentile of the latent coordinate (the latent, or its first
    /// principal component).
    pub latent_percentiles: [f64; 3],
    /// The latents of the trajectory, `[n][latent_dim]`.
    pub trajectory: Vec<Vec<f64>>,
    /// Spearman correlation of the latent coordinate with the true coordinate, with a truth.
    pub spearman: Option<f64>,
    /// The per-state table, with a truth.
    pub states: Option<Vec<StateRow>>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Frames of the trajectory [`analyze`] writes.
pub const TRAJECTORY_FRAMES: usize = 20;

/// Analyse a run: write into `out` the latent histogram (`latent_histogram.png`), for
/// `latent_dim > 1` the latents on their first two principal components (`latent_pca.png`), the
/// trajectory of [`TRAJECTORY_FRAMES`] structures from the 5th to the 95th percentile
/// (`trajectory.pdb`, `trajectory.cif`, and with `volumes` `trajectory_<k>.mrc`), and with a
/// truth the latent against the true coordinate (`latent_vs_truth.png`, with the Spearman
/// correlation) and the Cα RMSE at every true coordinate (`rmse_per_state.png`, `.md`, `.csv`).
/// `analysis.json` sums it up.
///
/// # Errors
/// When `z.npy` is unreadable or disagrees with the truth's particle count, or a file cannot be
/// written (each error names its file).
pub fn analyze(run: &VaeRun, truth: Option<&StateTruth>, out: &Path, volumes: bool) -> Result<AnalysisSummary, TrainError> {
    let z = run.latents()?;
    if z.is_empty() {
        return Err(TrainError::Data(format!("{}: no latents", run.dir.join(LATENT_FILE).display())));
    }
    if let Some(t) = truth {
        t.check(z.len(), run.model.n_residues()).map_err(|e| {
            TrainError::Data(format!("{} against the truth: {e}", run.dir.join(LATENT_FILE).display()))
        })?;
    }
    std::fs::create_dir_all(out).map_err(|e| rbf_io::IoError::Io { path: out.to_path_buf(), source: e })?;
    let dim = run.latent_dim();
    let coordinate = latent_coordinate(&z);
    let mut files = Vec::new();

    let label = if dim == 1 { "latent z" } else { "latent PC1" };
    let path = out.join("latent_histogram.png");
    plots::histogram(&path, &coordinate, &format!("{} particles: {label}", z.len()), label)?;
    files.push(path);
    if dim > 1 {
        let pca = Pca::fit(&z, 2);
        let projected: Vec<Vec<f64>> = z.iter().map(|v| pca.project(v)).collect();
        let (xs, ys): (Vec<f64>, Vec<f64>) = projected.iter().map(|p| (p[0], p.get(1).copied().unwrap_or(0.0))).unzip();
        let path = out.join("latent_pca.png");
        let colors = truth.map(StateTruth::particle_coordinates);
        plots::scatter(&path, &xs, &ys, colors.as_deref(), "latents on their principal components", "PC1", "PC2")?;
        files.push(path);
    }

    let frames = trajectory(&z, TRAJECTORY_FRAMES);
    for name in ["trajectory.pdb", "trajectory.cif"] {
        files.extend(run.write_decoded(&frames, &out.join(name), volumes && name.ends_with(".pdb"))?);
    }

    let (mut spearman_value, mut states) = (None, None);
    if let Some(t) = truth {
        let true_coordinates = t.particle_coordinates();
        let rho = spearman(&coordinate, &true_coordinates);
        let path = out.join("latent_vs_truth.png");
        plots::scatter(&path, &true_coordinates, &coordinate, None, &format!("Spearman ρ = {rho:.3}"), "true reaction coordinate", label)?;
        files.push(path);
        let rows = per_state_rmse(&run.vae, &run.model, &z, t);
        let path = out.join("rmse_per_state.png");
        plots::rmse_per_state(&path, &rows)?;
        files.push(path);
        let path = out.join("rmse_per_state.md");
        rbf_io::atomic::write_atomically(&path, |w| w.write_all(markdown_table(&rows, rho).as_bytes()))?;
        files.push(path);
        let path = out.join("rmse_per_state.csv");
        rbf_io::atomic::write_atomically(&path, |w| w.write_all(csv_table(&rows).as_bytes()))?;
        files.push(path);
        spearman_value = Some(rho);
        states = Some(rows);
    }
    let summary_path = out.join("analysis.json");
    files.push(summary_path.clone());
    let summary = AnalysisSummary {
        particles: z.len(),
        latent_dim: dim,
        latent_percentiles: [percentile(&coordinate, 5.0), percentile(&coordinate, 50.0), percentile(&coordinate, 95.0)],
        trajectory: frames,
        spearman: spearman_value,
        states,
        files,
    };
    write_json(&summary_path, &summary)?;
    Ok(summary)
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.2}"))
}

/// The per-state table as Markdown, with the Spearman correlation above it.
pub fn markdown_table(rows: &[StateRow], spearman: f64) -> String {
    let mut text = format!("Spearman correlation of the latent with the true coordinate: {spearman:.3}\n\n");
    text.push_str("| state | coordinate | particles | median latent | Cα RMSE (Å) | superposed (Å) |\n|---|---|---|---|---|---|\n");
    for r in rows {
        let latent = r.median_latent.as_ref().map_or("–".into(), |v| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", "));
        text.push_str(&format!(
            "| {} | {:.4} | {} | {latent} | {} | {} |\n",
            r.state,
            r.coordinate,
            r.particles,
            fmt(r.ca_rmse),
            fmt(r.ca_rmse_superposed)
        ));
    }
    text
}

/// The per-state table as CSV (empty fields where a state has no particles).
pub fn csv_table(rows: &[StateRow]) -> String {
    let mut text = String::from("state,coordinate,particles,median_latent,ca_rmse,ca_rmse_superposed\n");
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.4}"));
    for r in rows {
        let latent = r.median_latent.as_ref().map_or(String::new(), |v| v.iter().map(|x| format!("{x:.5}")).collect::<Vec<_>>().join(";"));
        text.push_str(&format!("{},{},{},{latent},{},{}\n", r.state, r.coordinate, r.particles, opt(r.ca_rmse), opt(r.ca_rmse_superposed)));
    }
    text
}
