//! The simulation: structure → ground truth → poses → images (+ CTF, + noise) → files.
//!
//! Random draws come from three independent ChaCha8 streams of one seed: the particles' poses,
//! states and CTFs (stream 0), the images used to estimate the signal variance (stream 1) and the
//! noise (stream 2). The same seed and settings therefore give byte-identical files, and the noise
//! level does not depend on the number of images.
use std::io::Write;
use std::path::Path;

use burn::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rbf_io::CtfParams;
use rbf_io::mrc::StackWriter;
use rbf_io::atomic::StagingDir;
use rbf_io::relion::{StarParticle, image_name, write_particle_star};
use rbf_model::projection::project;
use rbf_model::{ChainSelection, ImageGrid, Poses, Structure};
use serde::Serialize;

use crate::all_atom::{SimAtom, amplitudes, ca_centroid, collect_atoms, is_selected};
use crate::config::{CtfRange, DihedralAngle, Distribution, Motion, SimulationConfig};
use crate::ctf::CtfFilter;
use crate::distribution::{StateSampler, state_weights};
use crate::error::SimError;
use crate::motion::{DihedralSite, state_angles};
use crate::rotations::uniform_rotation;

/// Name of the particle stack in the output folder.
pub const STACK_FILE: &str = "particles.mrcs";
/// Name of the STAR file in the output folder.
pub const STAR_FILE: &str = "particles.star";
/// Name of the all-atom ground truth in the output folder.
pub const TRUTH_FILE: &str = "truth.pdb";
/// Name of the per-particle state indices (`int64 [n_images]`), written for motions.
pub const STATES_FILE: &str = "states.npy";
/// Name of the per-particle reaction coordinates (`float64 [n_images]`, radians), written for motions.
pub const REACTION_COORDINATES_FILE: &str = "reaction_coordinates.npy";
/// Name of the record of every setting and derived value.
pub const RECORD_FILE: &str = "simulation.json";
/// STAR column holding each particle's state index (0-based), written for motions.
pub const STATE_COLUMN: &str = "cryorbfStateIndex";
/// STAR column holding each particle's reaction coordinate (radians), written for motions.
pub const REACTION_COORDINATE_COLUMN: &str = "cryorbfReactionCoordinate";

/// Upper bound on `batch · n_atoms · D` values in one call to the renderer (its largest temporaries
/// are `[batch, n_atoms, D]`).
const RENDER_BUDGET: usize = 1 << 23;

/// The ground truth of a simulation: the selected atoms and their coordinates in each state.
#[derive(Debug, Clone)]
pub struct GroundTruth {
    /// The atoms used (file order); `position` is in the file's frame.
    pub atoms: Vec<SimAtom>,
    /// Coordinates (Å, box frame) of `atoms` in each state, `[n_states][n_atoms]`; one state
    /// without a motion.
    pub states: Vec<Vec<[f64; 3]>>,
    /// Reaction coordinate of each state: the dihedral rotation from state 0 (radians); `[0.0]`
    /// without a motion.
    pub reaction_coordinates: Vec<f64>,
    /// Translation added to the file's coordinates to reach the box frame (Å): minus the Cα
    /// centroid of the selected chains.
    pub translation: [f64; 3],
    /// Width σ of every atom's Gaussian (Å).
    pub sigma: f64,
    /// Where the motion acts, if there is one.
    pub motion_site: Option<MotionSite>,
}

/// The residue and dihedral a motion rotates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MotionSite {
    /// Chain identifier.
    pub chain: String,
    /// Residue name.
    pub residue_name: String,
    /// Residue number (author numbering).
    pub residue_number: isize,
    /// φ or ψ.
    pub angle: DihedralAngle,
    /// Number of atoms (of all heavy atoms of the selection's residues) that move.
    pub moving_atoms: usize,
}

impl GroundTruth {
    /// Read the structure of `config` and build the ground truth: select atoms, centre the Cα
    /// centroid at the box center and apply the motion.
    ///
    /// # Errors
    /// [`SimError::Model`] when the structure cannot be read or a chain is missing;
    /// [`SimError::Motion`] when the structure has no Cα, no atom under the selection, or the
    /// motion's residue cannot be found.
    pub fn build(config: &SimulationConfig) -> Result<Self, SimError> {
        let selection = if config.chains.is_empty() { ChainSelection::All } else { ChainSelection::Chains(config.chains.clone()) };
        let structure = Structure::read(&config.structure, &selection)?;
        Self::from_structure(&structure, config)
    }

    /// As [`GroundTruth::build`], from a structure already read.
    ///
    /// # Errors
    /// As [`GroundTruth::build`], except for reading.
    pub fn from_structure(structure: &Structure, config: &SimulationConfig) -> Result<Self, SimError> {
        let fail = |reason: String| SimError::Motion { path: structure.path.clone(), reason };
        let all = collect_atoms(structure, config.ligands, config.waters);
        let centroid = ca_centroid(&all).ok_or_else(|| fail("no amino-acid Cα atom to centre on".into()))?;
        let translation = centroid.map(|c| -c);
        let positions: Vec<[f64; 3]> = all.iter().map(|a| a.position).collect();
        let (all_states, reaction_coordinates, motion_site) = match &config.motion {
            None => (vec![positions], vec![0.0], None),
            Some(Motion::Dihedral(d)) => {
                let site = DihedralSite::find(&all, d, &structure.path)?;
                let angles = state_angles(d);
                let states = angles.iter().map(|&a| site.rotate(&positions, a)).collect();
                let record = MotionSite {
                    chain: site.chain.clone(),
                    residue_name: site.residue_name.clone(),
                    residue_number: site.residue_number,
                    angle: site.angle,
                    moving_atoms: site.moving.iter().filter(|&&m| m).count(),
                };
                (states, angles, Some(record))
            }
        };
        let keep: Vec<bool> = all.iter().map(|a| is_selected(a, config.atoms)).collect();
        if !keep.iter().any(|&k| k) {
            return Err(fail(format!("no atoms selected with --atoms {:?}", config.atoms)));
        }
        let atoms: Vec<SimAtom> = all.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(a, _)| a).collect();
        let states = all_states
            .into_iter()
            .map(|s| s.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(p, _)| std::array::from_fn(|c| p[c] + translation[c])).collect())
            .collect();
        Ok(GroundTruth { atoms, states, reaction_coordinates, translation, sigma: config.sigma(), motion_site })
    }

    /// Number of atoms.
    pub fn n_atoms(&self) -> usize {
        self.atoms.len()
    }

    /// Number of states (1 without a motion).
    pub fn n_states(&self) -> usize {
        self.states.len()
    }

    /// The largest distance of an atom from the box center over all states (Å).
    pub fn radius(&self) -> f64 {
        self.states.iter().flatten().map(|p| (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt()).fold(0.0, f64::max)
    }
}

/// The parameters of one particle image.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticleParams {
    /// Rotation R (RELION's convention), row-major.
    pub rotation: [[f64; 3]; 3],
    /// In-plane shift t (Å): a point μ lands at `(R·μ)_xy + t`.
    pub shift: [f64; 2],
    /// State index (0 without a motion).
    pub state: usize,
    /// The CTF, if one is applied.
    pub ctf: Option<CtfParams>,
}

/// Renders clean images (projection, then CTF) of a ground truth.
pub struct Renderer {
    grid: ImageGrid,
    device: Device,
    states: Tensor<3>,
    n_states: usize,
    amplitudes: Tensor<1>,
    sigma: Tensor<1>,
    ctf: CtfFilter,
    max_batch: usize,
}

impl Renderer {
    /// A renderer of `truth` on `grid`, computing on `device`.
    pub fn new(truth: &GroundTruth, grid: ImageGrid, device: &Device) -> Self {
        let (n_states, n_atoms) = (truth.n_states(), truth.n_atoms());
        let flat: Vec<f32> = truth.states.iter().flatten().flatten().map(|&v| v as f32).collect();
        let amps = amplitudes(&truth.atoms);
        Renderer {
            grid,
            device: device.clone(),
            states: Tensor::from_data(TensorData::new(flat, [n_states, n_atoms, 3]), device),
            n_states,
            amplitudes: Tensor::from_data(TensorData::new(amps, [n_atoms]), device),
            sigma: Tensor::from_data(TensorData::new(vec![truth.sigma as f32], [1]), device),
            ctf: CtfFilter::new(grid.box_size(), grid.pixel_size()),
            max_batch: (RENDER_BUDGET / (n_atoms.max(1) * grid.box_size())).max(1),
        }
    }

    /// Clean images of `particles`: the projection of the Gaussians at each pose, multiplied by the
    /// particle's CTF in Fourier space when it has one.
    ///
    /// # Shapes
    /// Returns `[particles.len(), D, D]` row-major (`[image][y][x]`).
    ///
    /// # Errors
    /// [`SimError::Invalid`] for a state index past the last state; [`SimError::Backend`] when the
    /// images cannot be read back from the device.
    pub fn render(&mut self, particles: &[ParticleParams]) -> Result<Vec<f32>, SimError> {
        let d = self.grid.box_size();
        let mut out = Vec::with_capacity(particles.len() * d * d);
        for batch in particles.chunks(self.max_batch) {
            if let Some(p) = batch.iter().find(|p| p.state >= self.n_states) {
                return Err(SimError::Invalid(format!("state {} of a ground truth with {} states", p.state, self.n_states)));
            }
            let rotations: Vec<[[f64; 3]; 3]> = batch.iter().map(|p| p.rotation).collect();
            let shifts: Vec<[f64; 2]> = batch.iter().map(|p| p.shift).collect();
            let poses = Poses::from_host(&rotations, &shifts, &self.device);
            let centers = if self.n_states == 1 {
                self.states.clone()
            } else {
                let index: Vec<i64> = batch.iter().map(|p| p.state as i64).collect();
                let index = Tensor::<1, Int>::from_data(TensorData::new(index, [batch.len()]), &self.device);
                self.states.clone().select(0, index)
            };
            let images = project(centers, self.amplitudes.clone(), self.sigma.clone(), &poses, &self.grid);
            let mut host: Vec<f32> =
                images.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| SimError::Backend(format!("{e:?}")))?;
            for (image, p) in host.chunks_exact_mut(d * d).zip(batch) {
                if let Some(ctf) = &p.ctf {
                    self.ctf.apply(image, ctf)?;
                }
            }
            out.append(&mut host);
        }
        Ok(out)
    }
}

/// Draws particle parameters from the distributions of a configuration.
struct ParticleSampler<'a> {
    rng: ChaCha8Rng,
    states: Option<StateSampler>,
    ctf: Option<&'a CtfRange>,
    max_shift: f64,
}

impl ParticleSampler<'_> {
    fn draw(&mut self) -> ParticleParams {
        let rotation = uniform_rotation(&mut self.rng);
        let shift = if self.max_shift > 0.0 {
            [self.rng.random_range(-self.max_shift..=self.max_shift), self.rng.random_range(-self.max_shift..=self.max_shift)]
        } else {
            [0.0; 2]
        };
        let state = self.states.as_ref().map_or(0, |s| s.sample(&mut self.rng));
        let ctf = self.ctf.map(|range| {
            let mut defocus = || {
                if range.defocus_max > range.defocus_min { self.rng.random_range(range.defocus_min..range.defocus_max) } else { range.defocus_min }
            };
            let (defocus_u, defocus_v) = (defocus(), defocus());
            CtfParams {
                defocus_u,
                defocus_v,
                defocus_angle: self.rng.random_range(0.0..180.0),
                voltage: range.voltage,
                spherical_aberration: range.spherical_aberration,
                amplitude_contrast: range.amplitude_contrast,
                phase_shift: 0.0,
            }
        });
        ParticleParams { rotation, shift, state, ctf }
    }
}

/// What a simulation did; written to `simulation.json` in the output folder.
#[derive(Debug, Clone, Serialize)]
pub struct SimulationSummary {
    /// Every setting.
    pub config: SimulationConfig,
    /// Version of the simulator.
    pub version: String,
    /// Number of atoms (Gaussians) in the ground truth.
    pub n_atoms: usize,
    /// Gaussian width σ = resolution / (π·√2) (Å).
    pub sigma: f64,
    /// Translation added to the structure file's coordinates to reach the box frame (Å).
    pub translation: [f64; 3],
    /// Largest distance of an atom from the box center (Å, over all states).
    pub radius: f64,
    /// Number of states (1 without a motion).
    pub n_states: usize,
    /// Probability of each state.
    pub state_weights: Vec<f64>,
    /// Reaction coordinate of each state (radians of dihedral rotation).
    pub reaction_coordinates: Vec<f64>,
    /// Where the motion acts.
    pub motion_site: Option<MotionSite>,
    /// Signal variance estimated from `snr_sample` independent images (0 without noise).
    pub estimated_signal_variance: f64,
    /// Standard deviation of the Gaussian noise added to every pixel (0 without noise).
    pub noise_std: f64,
    /// Signal variance over the whole stack (clean images).
    pub signal_variance: f64,
    /// Variance of the noise actually added, over the whole stack.
    pub noise_variance: f64,
    /// `signal_variance / noise_variance` (`null` without noise).
    pub achieved_snr: Option<f64>,
    /// Files written to the output folder.
    pub files: Vec<String>,
}

/// Running mean and variance of many values (Welford over chunks, in f64).
#[derive(Debug, Default, Clone, Copy)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn add(&mut self, values: impl Iterator<Item = f64>) {
        for v in values {
            self.n += 1.0;
            let delta = v - self.mean;
            self.mean += delta / self.n;
            self.m2 += delta * (v - self.mean);
        }
    }

    fn variance(&self) -> f64 {
        if self.n > 0.0 { self.m2 / self.n } else { 0.0 }
    }
}

/// Check that the output folder may be written: it must not exist, be empty, or `force` be set.
///
/// # Errors
/// [`SimError::OutputExists`] for a non-empty folder without `force`; [`SimError::Invalid`] when
/// the path is a file; [`SimError::File`] when the folder cannot be listed.
pub fn check_output_dir(out_dir: &Path, force: bool) -> Result<(), SimError> {
    if !out_dir.exists() {
        return Ok(());
    }
    if !out_dir.is_dir() {
        return Err(SimError::Invalid(format!("output path {} exists and is not a folder", out_dir.display())));
    }
    let mut entries = std::fs::read_dir(out_dir).map_err(|e| SimError::file(out_dir, e))?;
    if entries.next().is_some() && !force {
        return Err(SimError::OutputExists(out_dir.to_path_buf()));
    }
    Ok(())
}

/// Run a simulation: write `particles.mrcs`, `particles.star`, `truth.pdb`, `simulation.json` and,
/// for motions, `states.npy` and `reaction_coordinates.npy` into `config.out_dir`.
///
/// Images are rendered and written `config.chunk_size` at a time; nothing of the size of the stack
/// is held in memory. Every file is written into a staging folder beside the output folder and
/// moved into place only when all are complete, so a failed run leaves no partial output.
/// `on_progress` is called with the number of images written so far after each chunk.
///
/// # Errors
/// [`SimError::Invalid`] for settings out of range (naming the setting), a structure that does not
/// fit the box or a distribution without a motion; [`SimError::OutputExists`]; errors reading the
/// structure or weights file and writing the outputs, each naming the file.
pub fn simulate(config: &SimulationConfig, device: &Device, mut on_progress: impl FnMut(usize)) -> Result<SimulationSummary, SimError> {
    config.validate()?;
    if config.motion.is_none() && config.distribution != Distribution::Uniform {
        return Err(SimError::Invalid(format!("distribution {} needs a motion (--motion dihedral)", config.distribution)));
    }
    check_output_dir(&config.out_dir, config.force)?;
    let truth = GroundTruth::build(config)?;
    let grid = ImageGrid::new(config.box_size, config.pixel_size)?;
    let half_box = grid.coordinate(0).abs().min(grid.coordinate(config.box_size - 1));
    let max_shift = config.max_shift * config.pixel_size;
    let reach = truth.radius() + max_shift * std::f64::consts::SQRT_2;
    if reach > half_box {
        return Err(SimError::Invalid(format!(
            "structure {}: atoms reach {:.1} Å from the box center and shifts add up to {:.1} Å, more than the half-box of {:.1} Å \
             ({} pixels of {} Å); use a larger box or pixel size, or a smaller maximum shift",
            config.structure.display(),
            truth.radius(),
            max_shift * std::f64::consts::SQRT_2,
            half_box,
            config.box_size,
            config.pixel_size
        )));
    }
    let weights = match &config.motion {
        Some(m) => state_weights(&config.distribution, m.states())?,
        None => vec![1.0],
    };
    let sampler = |stream: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(stream);
        ParticleSampler {
            rng,
            states: config.motion.as_ref().map(|_| StateSampler::new(&weights)),
            ctf: config.ctf.as_ref(),
            max_shift,
        }
    };
    let mut renderer = Renderer::new(&truth, grid, device);
    let d2 = config.box_size * config.box_size;

    // The noise level: signal variance over a sample of images with their own poses.
    let (estimated_signal_variance, noise_std) = if config.noise {
        let mut sample = sampler(1);
        let mut moments = Moments::default();
        let mut left = config.snr_sample;
        while left > 0 {
            let n = left.min(config.chunk_size);
            let params: Vec<ParticleParams> = (0..n).map(|_| sample.draw()).collect();
            moments.add(renderer.render(&params)?.iter().map(|&v| f64::from(v)));
            left -= n;
        }
        let variance = moments.variance();
        if !(variance > 0.0 && variance.is_finite()) {
            return Err(SimError::Invalid(format!("the images of {} have no signal (variance {variance})", config.structure.display())));
        }
        (variance, (variance / config.snr).sqrt())
    } else {
        (0.0, 0.0)
    };

    let staging = StagingDir::create(&config.out_dir)?;
    let mut particles = sampler(0);
    let mut noise_rng = ChaCha8Rng::seed_from_u64(config.seed);
    noise_rng.set_stream(2);
    let mut writer = StackWriter::create(staging.path().join(STACK_FILE), config.box_size, config.box_size, config.pixel_size)?;
    let mut rows: Vec<StarParticle> = Vec::with_capacity(config.n_images);
    let mut states: Vec<i64> = Vec::with_capacity(if config.motion.is_some() { config.n_images } else { 0 });
    let (mut signal, mut noise) = (Moments::default(), Moments::default());
    let mut noise_values = vec![0.0f32; config.chunk_size * d2];
    let mut done = 0;
    while done < config.n_images {
        let n = (config.n_images - done).min(config.chunk_size);
        let params: Vec<ParticleParams> = (0..n).map(|_| particles.draw()).collect();
        let mut images = renderer.render(&params)?;
        signal.add(images.iter().map(|&v| f64::from(v)));
        if config.noise {
            let noise_chunk = &mut noise_values[..n * d2];
            for v in noise_chunk.iter_mut() {
                *v = noise_std as f32 * noise_rng.sample::<f32, _>(StandardNormal);
            }
            noise.add(noise_chunk.iter().map(|&v| f64::from(v)));
            for (image, v) in images.iter_mut().zip(noise_chunk.iter()) {
                *image += v;
            }
        }
        writer.append(&images)?;
        for (k, p) in params.iter().enumerate() {
            rows.push(star_particle(config, done + k, p, config.motion.is_some().then(|| truth.reaction_coordinates[p.state])));
            if config.motion.is_some() {
                states.push(p.state as i64);
            }
        }
        done += n;
        on_progress(done);
    }
    writer.finish()?;

    let mut files = vec![STACK_FILE.to_string(), STAR_FILE.to_string(), TRUTH_FILE.to_string()];
    let extra_columns: &[&str] = if config.motion.is_some() { &[STATE_COLUMN, REACTION_COORDINATE_COLUMN] } else { &[] };
    write_particle_star(staging.path().join(STAR_FILE), &rows, extra_columns)?;
    let remarks = truth_remarks(config, &truth);
    crate::pdb::write_models(&staging.path().join(TRUTH_FILE), &truth.atoms, &truth.states, &remarks)?;
    if config.motion.is_some() {
        let coordinates: Vec<f64> = states.iter().map(|&s| truth.reaction_coordinates[s as usize]).collect();
        write_npy(&staging.path().join(STATES_FILE), &states)?;
        write_npy(&staging.path().join(REACTION_COORDINATES_FILE), &coordinates)?;
        files.push(STATES_FILE.into());
        files.push(REACTION_COORDINATES_FILE.into());
    }
    files.push(RECORD_FILE.into());
    let summary = SimulationSummary {
        config: config.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
        n_atoms: truth.n_atoms(),
        sigma: truth.sigma,
        translation: truth.translation,
        radius: truth.radius(),
        n_states: truth.n_states(),
        state_weights: weights,
        reaction_coordinates: truth.reaction_coordinates.clone(),
        motion_site: truth.motion_site.clone(),
        estimated_signal_variance,
        noise_std,
        signal_variance: signal.variance(),
        noise_variance: noise.variance(),
        achieved_snr: config.noise.then(|| signal.variance() / noise.variance()),
        files: files.clone(),
    };
    let record_path = staging.path().join(RECORD_FILE);
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| SimError::Invalid(format!("{}: {e}", record_path.display())))?;
    rbf_io::atomic::write_atomically(&record_path, |out| out.write_all(&json))?;
    staging.commit(&config.out_dir, &files, &[STATES_FILE, REACTION_COORDINATES_FILE])?;
    Ok(summary)
}

/// The STAR record of particle `index` (0-based): its image in the stack, pose and CTF, and for
/// motions its state and reaction coordinate (the columns [`STATE_COLUMN`] and
/// [`REACTION_COORDINATE_COLUMN`]).
fn star_particle(config: &SimulationConfig, index: usize, p: &ParticleParams, reaction_coordinate: Option<f64>) -> StarParticle {
    StarParticle {
        image_name: image_name(index, STACK_FILE),
        pixel_size: config.pixel_size,
        box_size: config.box_size,
        pose: Some(rbf_io::Pose { rotation: p.rotation, shift: p.shift }),
        ctf: p.ctf,
        extra: reaction_coordinate.map(|x| vec![p.state.to_string(), format!("{x:.8}")]).unwrap_or_default(),
    }
}

fn truth_remarks(config: &SimulationConfig, truth: &GroundTruth) -> Vec<String> {
    let t = truth.translation;
    let mut remarks = vec![
        format!("cryorbf simulate ground truth from {}", config.structure.display()),
        format!("box frame: origin at the box center; file coordinates + ({:.3}, {:.3}, {:.3}) A", t[0], t[1], t[2]),
        format!("{} atoms, Gaussian sigma {:.4} A (resolution {} A), weight = atomic number", truth.n_atoms(), truth.sigma, config.resolution),
    ];
    if let Some(site) = &truth.motion_site {
        remarks.push(format!(
            "motion: {:?} of {} {} chain {} rotated by 0 to {} rad in {} models",
            site.angle,
            site.residue_name,
            site.residue_number,
            site.chain,
            truth.reaction_coordinates.last().copied().unwrap_or(0.0),
            truth.n_states()
        ));
    }
    remarks
}

fn write_npy<T: npyz::AutoSerialize + Copy>(path: &Path, values: &[T]) -> Result<(), SimError> {
    rbf_io::atomic::write_atomically(path, |out| {
        use npyz::WriterBuilder;
        let mut writer = npyz::WriteOptions::<T>::new().default_dtype().shape(&[values.len() as u64]).writer(out).begin_nd()?;
        writer.extend(values.iter().copied())?;
        writer.finish()
    })?;
    Ok(())
}
