//! Where the RBF centers start before training (paper §4.1, Table 1).
//!
//! - [`Init::Exact`]: the reference's RBF centers (backbone at the Cα, side chain at the
//!   side-chain centroid).
//! - [`Init::Noise`]`(a)`: each Cα moved by independent uniform noise in `[−a, a]` Å per
//!   coordinate (the paper's "Uniform[6 Å]"). The expected Cα RMSD is `a` (each coordinate has
//!   variance `a²/3`).
//! - [`Init::Approx`]`(r)`: a physically plausible deformed structure at Cα RMSD exactly `r` Å —
//!   a stand-in for the paper's MD-evolved model. The Cα trace is displaced along a random
//!   combination of the lowest non-trivial normal modes of an anisotropic network model (ANM,
//!   Atilgan et al. 2001), each mode weighted by a standard normal draw over `√λ` (thermal
//!   amplitudes), with rigid-body motion projected out. Low-frequency modes are collective
//!   motions that barely stretch the springs; what a linear step along them still stretches
//!   (turning parts of the chain) is undone by restoring the Cα–Cα bond lengths, and the result
//!   is rescaled to the RMSD asked for. Bond lengths thus stay close to the reference's, unlike
//!   noise of the same RMSD. See [`ElasticNetwork`].
//! - [`Init::Random`]`(e)`: each Cα uniform in a cube of edge `e` Å centred at the reference's
//!   Cα centroid (paper: 64 Å).
//!
//! For every initialization but `exact`, side-chain RBFs start at their residue's Cα (as in the
//! paper); [`side_chains_in_frames`] moves them to where the reference puts them around the
//! moved Cα trace.
//!
//! ```
//! use rbf_model::init::{initial_centers, Init};
//! use rbf_model::{builtin, CoarseModel};
//!
//! let model = CoarseModel::from_structure(&builtin::helix_bundle(3, 14, 7.0)).unwrap();
//! let init: Init = "approx:3".parse().unwrap();
//! let start = initial_centers(&model, &model.centers, &init, 7).unwrap();
//! let rmsd = rbf_model::metrics::rmse(&model.ca_positions(&start), &model.ca_positions(&model.centers));
//! assert!((rmsd - 3.0).abs() < 1e-9);
//! ```
use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::coarse::{CoarseModel, centroid, cross, dot};
use crate::error::ModelError;
use crate::linalg::Tridiagonalized;

/// How the RBF centers are initialized. Parsed from and displayed as `exact`, `noise:<Å>`,
/// `approx:<Å>` or `random:<Å>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// The reference's centers.
    Exact,
    /// Uniform noise in `[−a, a]` Å on each Cα coordinate (paper: 6 Å).
    Noise(f64),
    /// A normal-mode deformation of the reference at this Cα RMSD (Å).
    Approx(f64),
    /// Cα uniform in a central cube of this edge (Å) around the reference's Cα centroid
    /// (paper: 64 Å).
    Random(f64),
}

const EXPECTED: &str = "expected exact, noise:<Å>, approx:<Å> or random:<Å>, e.g. noise:6";

impl Init {
    /// The distance parameter (Å), if any.
    pub fn distance(&self) -> Option<f64> {
        match *self {
            Init::Exact => None,
            Init::Noise(a) | Init::Approx(a) | Init::Random(a) => Some(a),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Init::Exact => "exact",
            Init::Noise(_) => "noise",
            Init::Approx(_) => "approx",
            Init::Random(_) => "random",
        }
    }

    /// Check that the distance is finite and not negative.
    fn validate(&self, text: &str) -> Result<(), ModelError> {
        match self.distance() {
            Some(d) if !d.is_finite() || d < 0.0 => Err(invalid(
                text,
                format!("the distance of {} must be a finite number of Å ≥ 0, not {d}", self.name()),
            )),
            _ => Ok(()),
        }
    }
}

fn invalid(text: &str, reason: impl Into<String>) -> ModelError {
    ModelError::InvalidInit { text: text.to_string(), reason: format!("{}; {EXPECTED}", reason.into()) }
}

impl FromStr for Init {
    type Err = ModelError;

    /// Parse `exact`, `noise:<Å>`, `approx:<Å>` or `random:<Å>` (names case-insensitive,
    /// surrounding spaces ignored).
    fn from_str(text: &str) -> Result<Self, ModelError> {
        let trimmed = text.trim();
        let (name, value) = match trimmed.split_once(':') {
            Some((name, value)) => (name.trim().to_ascii_lowercase(), Some(value.trim())),
            None => (trimmed.to_ascii_lowercase(), None),
        };
        let make: fn(f64) -> Init = match name.as_str() {
            "exact" => {
                return match value {
                    None => Ok(Init::Exact),
                    Some(_) => Err(invalid(text, "exact takes no distance")),
                };
            }
            "noise" => Init::Noise,
            "approx" => Init::Approx,
            "random" => Init::Random,
            "" => return Err(invalid(text, "no initialization given")),
            other => return Err(invalid(text, format!("unknown initialization {other:?}"))),
        };
        let value = match value {
            None | Some("") => return Err(invalid(text, format!("{name} needs a distance in Å after a colon"))),
            Some(v) => v,
        };
        let distance: f64 = value
            .parse()
            .map_err(|_| invalid(text, format!("{value:?} is not a number")))?;
        let init = make(distance);
        init.validate(text)?;
        Ok(init)
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.distance() {
            None => f.write_str(self.name()),
            Some(d) => write!(f, "{}:{d}", self.name()),
        }
    }
}

/// The anisotropic network model behind [`Init::Approx`]: Cα joined by Hookean springs to every
/// Cα within `cutoff`, its Hessian's lowest non-rigid modes used as deformation directions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElasticNetwork {
    /// Springs join Cα closer than this (Å). ANM's usual range is 12–15 Å.
    pub cutoff: f64,
    /// How many of the lowest non-trivial modes are combined.
    pub n_modes: usize,
    /// Spring constant of the Cα–Cα bonds of sequence neighbours, relative to 1 for the other
    /// springs (stiffer bonds keep the chain's geometry; 1 is the plain ANM).
    pub bond_stiffness: f64,
}

impl Default for ElasticNetwork {
    fn default() -> Self {
        ElasticNetwork { cutoff: 13.0, n_modes: 10, bond_stiffness: 10.0 }
    }
}

impl ElasticNetwork {
    /// The `3N×3N` ANM Hessian of the points `ca`, row-major, coordinates of point `i` at rows
    /// `3i..3i+3`. `bonds` are pairs of point indices that get the `bond_stiffness` spring
    /// (whether or not they are within the cutoff).
    ///
    /// # Shapes
    /// `ca`: `[N][3]` → `[3N·3N]`.
    pub fn hessian(&self, ca: &[[f64; 3]], bonds: &[(usize, usize)]) -> Vec<f64> {
        let n = ca.len();
        let dim = 3 * n;
        let mut h = vec![0.0; dim * dim];
        let mut bonded = vec![Vec::new(); n];
        for &(a, b) in bonds {
            if a < n && b < n && a != b {
                bonded[a.min(b)].push(a.max(b));
            }
        }
        let cutoff2 = self.cutoff * self.cutoff;
        for i in 0..n {
            for j in i + 1..n {
                let r: [f64; 3] = std::array::from_fn(|k| ca[j][k] - ca[i][k]);
                let d2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
                let bond = bonded[i].contains(&j);
                if d2 == 0.0 || (d2 >= cutoff2 && !bond) {
                    continue;
                }
                let gamma = if bond { self.bond_stiffness } else { 1.0 };
                for a in 0..3 {
                    for b in 0..3 {
                        let k = gamma * r[a] * r[b] / d2;
                        h[(3 * i + a) * dim + 3 * j + b] -= k;
                        h[(3 * j + a) * dim + 3 * i + b] -= k;
                        h[(3 * i + a) * dim + 3 * i + b] += k;
                        h[(3 * j + a) * dim + 3 * j + b] += k;
                    }
                }
            }
        }
        h
    }

    /// Displace the points `ca` along a random thermal combination of the lowest `n_modes`
    /// non-trivial normal modes, rigid-body motion removed, restore the lengths of `bonds`
    /// (pairs of point indices), and scale the displacement so that the RMSD to `ca` is exactly
    /// `rmsd` (Å).
    ///
    /// # Shapes
    /// `ca`: `[N][3]` → `[N][3]`.
    ///
    /// # Errors
    /// [`ModelError::InvalidInit`] if the network has no non-rigid mode (fewer than two points),
    /// a point is not finite, or the parameters are not usable.
    pub fn deform(
        &self,
        ca: &[[f64; 3]],
        bonds: &[(usize, usize)],
        rmsd: f64,
        rng: &mut impl Rng,
    ) -> Result<Vec<[f64; 3]>, ModelError> {
        let text = Init::Approx(rmsd).to_string();
        if !(self.cutoff > 0.0 && self.cutoff.is_finite() && self.bond_stiffness > 0.0 && self.bond_stiffness.is_finite())
            || self.n_modes == 0
        {
            return Err(invalid(&text, format!("unusable elastic network {self:?}")));
        }
        if ca.iter().flatten().any(|v| !v.is_finite()) {
            return Err(invalid(&text, "the reference has non-finite coordinates"));
        }
        let n = ca.len();
        let dim = 3 * n;
        let tri = Tridiagonalized::new(self.hessian(ca, bonds), dim);
        // Rigid-body (and any other zero-energy) modes: eigenvalues at round-off level.
        let zero = 1e-9 * tri.norm_bound().max(f64::MIN_POSITIVE);
        let mut count = (6 + self.n_modes).min(dim);
        let modes = loop {
            let pairs = tri.lowest(count);
            let soft: Vec<usize> = (0..pairs.values.len()).filter(|&i| pairs.values[i] > zero).collect();
            if soft.len() >= self.n_modes || count == dim {
                break soft.into_iter().take(self.n_modes).map(|i| (pairs.values[i], pairs.vectors[i].clone())).collect::<Vec<_>>();
            }
            count = (count + self.n_modes - soft.len()).min(dim);
        };
        if modes.is_empty() {
            return Err(invalid(&text, format!("a structure of {n} residue(s) has no internal normal mode to deform along")));
        }
        let mut u = vec![0.0; dim];
        for (lambda, vector) in &modes {
            let weight: f64 = rng.sample::<f64, _>(StandardNormal) / lambda.sqrt();
            u.iter_mut().zip(vector).for_each(|(a, b)| *a += weight * b);
        }
        remove_rigid_motion(&mut u, ca);
        let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return Err(invalid(&text, "the normal-mode displacement vanished"));
        }
        let scale = rmsd * (n as f64).sqrt() / norm;
        let mut moved: Vec<[f64; 3]> =
            ca.iter().enumerate().map(|(i, p)| std::array::from_fn(|k| p[k] + scale * u[3 * i + k])).collect();
        // A linear step along a mode that turns part of the chain stretches its bonds (to second
        // order in the angle): give the bonds back their reference lengths, then set the RMSD
        // exactly again (a rescaling by a fraction of a percent, which changes bonds by far less).
        restore_bond_lengths(&mut moved, ca, bonds);
        let sum: f64 = moved.iter().zip(ca).map(|(p, q)| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>()).sum();
        let current = (sum / n as f64).sqrt();
        if current > 0.0 {
            let scale = rmsd / current;
            for (p, q) in moved.iter_mut().zip(ca) {
                *p = std::array::from_fn(|k| q[k] + scale * (p[k] - q[k]));
            }
        }
        Ok(moved)
    }
}

/// Move the two ends of each bond `(i, j)` of `points` symmetrically along it until its length
/// is that in `reference` (Gauss–Seidel sweeps, as in SHAKE with equal masses), to 1e-6 Å.
fn restore_bond_lengths(points: &mut [[f64; 3]], reference: &[[f64; 3]], bonds: &[(usize, usize)]) {
    let n = points.len();
    let bonds: Vec<(usize, usize, f64)> = bonds
        .iter()
        .filter(|&&(i, j)| i < n && j < n && i != j)
        .map(|&(i, j)| (i, j, crate::coarse::distance(reference[i], reference[j])))
        .collect();
    for _ in 0..500 {
        let mut worst = 0.0f64;
        for &(i, j, target) in &bonds {
            let d: [f64; 3] = std::array::from_fn(|k| points[j][k] - points[i][k]);
            let length = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            if length == 0.0 {
                continue;
            }
            worst = worst.max((length - target).abs());
            let f = 0.5 * (length - target) / length;
            for k in 0..3 {
                points[i][k] += f * d[k];
                points[j][k] -= f * d[k];
            }
        }
        if worst < 1e-6 {
            break;
        }
    }
}

/// Project the six infinitesimal rigid-body motions (translations, rotations about the
/// centroid) of the points `ca` out of the displacement `u` (`[3N]`).
fn remove_rigid_motion(u: &mut [f64], ca: &[[f64; 3]]) {
    let c = centroid(ca);
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(6);
    for axis in 0..3 {
        let translation: Vec<f64> = (0..3 * ca.len()).map(|i| if i % 3 == axis { 1.0 } else { 0.0 }).collect();
        let mut rotation = vec![0.0; 3 * ca.len()];
        for (i, p) in ca.iter().enumerate() {
            let r = [p[0] - c[0], p[1] - c[1], p[2] - c[2]];
            // e_axis × r
            let (a, b) = ((axis + 1) % 3, (axis + 2) % 3);
            rotation[3 * i + a] = -r[b];
            rotation[3 * i + b] = r[a];
        }
        for mut v in [translation, rotation] {
            for _ in 0..2 {
                for q in &basis {
                    let dot: f64 = v.iter().zip(q).map(|(x, y)| x * y).sum();
                    v.iter_mut().zip(q).for_each(|(x, y)| *x -= dot * y);
                }
            }
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            // A rotation about the axis of a collinear chain moves nothing: skip it.
            if norm > 1e-9 * (ca.len() as f64).sqrt() {
                v.iter_mut().for_each(|x| *x /= norm);
                basis.push(v);
            }
        }
    }
    for q in &basis {
        let dot: f64 = u.iter().zip(q).map(|(x, y)| x * y).sum();
        u.iter_mut().zip(q).for_each(|(x, y)| *x -= dot * y);
    }
}

/// The starting RBF centers for `init`, one per RBF of `model`, in the frame of `reference`
/// (the reference RBF centers, normally `model.centers`). Random draws come from a ChaCha8
/// generator seeded with `seed`: the same seed gives the same centers. `approx` uses
/// [`ElasticNetwork::default`]; see [`initial_centers_with`] to change it.
///
/// # Shapes
/// `reference`: `[n_rbf][3]` → `[n_rbf][3]`.
///
/// # Errors
/// [`ModelError::Shape`] if `reference` does not have one center per RBF,
/// [`ModelError::InvalidInit`] for a negative or non-finite distance or a structure without
/// internal normal modes (`approx` on a single residue).
pub fn initial_centers(
    model: &CoarseModel,
    reference: &[[f64; 3]],
    init: &Init,
    seed: u64,
) -> Result<Vec<[f64; 3]>, ModelError> {
    initial_centers_with(model, reference, init, seed, &ElasticNetwork::default())
}

/// [`initial_centers`] with the elastic network of `approx` given.
///
/// # Errors
/// As [`initial_centers`], and [`ModelError::InvalidInit`] for an unusable `network`.
pub fn initial_centers_with(
    model: &CoarseModel,
    reference: &[[f64; 3]],
    init: &Init,
    seed: u64,
    network: &ElasticNetwork,
) -> Result<Vec<[f64; 3]>, ModelError> {
    if reference.len() != model.n_rbf() {
        return Err(ModelError::Shape(format!(
            "{} reference centers for a coarse-grained model of {} RBFs",
            reference.len(),
            model.n_rbf()
        )));
    }
    init.validate(&init.to_string())?;
    let ca = model.ca_positions(reference);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Uniform in [−half, half] (also for half = 0, where a range would be empty).
    let mut uniform = |half: f64| half * (2.0 * rng.random::<f64>() - 1.0);
    let new_ca: Vec<[f64; 3]> = match *init {
        Init::Exact => return Ok(reference.to_vec()),
        Init::Noise(a) => ca.iter().map(|p| std::array::from_fn(|k| p[k] + uniform(a))).collect(),
        Init::Random(edge) => {
            let c = centroid(&ca);
            ca.iter().map(|_| std::array::from_fn(|k| c[k] + uniform(edge / 2.0))).collect()
        }
        Init::Approx(rmsd) => {
            let bonds: Vec<(usize, usize)> =
                model.bonds.iter().map(|&(i, j)| (model.residue_of[i], model.residue_of[j])).collect();
            network.deform(&ca, &bonds, rmsd, &mut rng)?
        }
    };
    // Backbone and side-chain RBFs alike start at their residue's new Cα.
    Ok(model.residue_of.iter().map(|&residue| new_ca[residue]).collect())
}

/// Put each side-chain RBF of `centers` where the reference puts it relative to the Cα trace
/// around its residue: the reference's side-chain offset, expressed in the local frame of three
/// consecutive bonded Cα (the residue and its neighbours; at a chain end, the nearest such
/// triple), is rebuilt in the same frame of `centers`' Cα. Backbone RBFs are kept. A residue
/// without a bonded triple, or whose triple is collinear in either structure, gets its side chain
/// at its Cα, as [`initial_centers`] does.
///
/// This is how a model builder places side chains on a moved Cα trace: a start of this kind keeps
/// every side chain on its residue's side of the chain, where the paper's starts put all of them
/// on their Cα.
///
/// # Shapes
/// `reference`, `centers`: `[n_rbf][3]` → `[n_rbf][3]`.
///
/// # Errors
/// [`ModelError::Shape`] if either does not have one center per RBF.
pub fn side_chains_in_frames(
    model: &CoarseModel,
    reference: &[[f64; 3]],
    centers: &[[f64; 3]],
) -> Result<Vec<[f64; 3]>, ModelError> {
    for (what, points) in [("reference", reference), ("start", centers)] {
        if points.len() != model.n_rbf() {
            return Err(ModelError::Shape(format!(
                "{} {what} centers for a coarse-grained model of {} RBFs",
                points.len(),
                model.n_rbf()
            )));
        }
    }
    let (previous, next) = model.chain_neighbours();
    // The middle residue of the bonded triple that frames residue `r`.
    let middle = |r: usize| -> Option<usize> {
        match (previous[r], next[r]) {
            (Some(_), Some(_)) => Some(r),
            (None, Some(m)) => next[m].map(|_| m),
            (Some(m), None) => previous[m].map(|_| m),
            (None, None) => None,
        }
    };
    let mut out = centers.to_vec();
    for (i, &residue) in model.residue_of.iter().enumerate() {
        if model.kinds[i] == crate::RbfKind::Backbone {
            continue;
        }
        let ca = model.backbone[residue];
        out[i] = centers[ca];
        let Some(m) = middle(residue) else { continue };
        let (Some(p), Some(q)) = (previous[m], next[m]) else { continue };
        let triple = |points: &[[f64; 3]]| local_frame(points[model.backbone[p]], points[model.backbone[m]], points[model.backbone[q]]);
        let (Some(from), Some(to)) = (triple(reference), triple(centers)) else { continue };
        let offset: [f64; 3] = std::array::from_fn(|k| reference[i][k] - reference[ca][k]);
        let local: [f64; 3] = std::array::from_fn(|a| (0..3).map(|k| from[a][k] * offset[k]).sum());
        out[i] = std::array::from_fn(|k| centers[ca][k] + (0..3).map(|a| to[a][k] * local[a]).sum::<f64>());
    }
    Ok(out)
}

/// An orthonormal frame (rows) of the Cα triple `a`, `b`, `c`: the bisector of the bend at `b`
/// (pointing away from the chain), the normal of the plane and their cross product. `None` when
/// the three are (nearly) collinear or coincide.
fn local_frame(a: [f64; 3], b: [f64; 3], c: [f64; 3]) -> Option<[[f64; 3]; 3]> {
    let unit = |v: [f64; 3]| -> Option<[f64; 3]> {
        let norm = dot(v, v).sqrt();
        (norm > 1e-6).then(|| v.map(|x| x / norm))
    };
    let u = unit(std::array::from_fn(|k| b[k] - a[k]))?;
    let v = unit(std::array::from_fn(|k| c[k] - b[k]))?;
    let normal = cross(u, v);
    if dot(normal, normal).sqrt() < 1e-3 {
        return None;
    }
    let normal = unit(normal)?;
    let bisector = unit(std::array::from_fn(|k| u[k] - v[k]))?;
    Some([bisector, normal, cross(bisector, normal)])
}
