//! The ground truth a run is scored against: the true Cα trace and the true volume, in the box
//! frame, matched residue by residue to the coarse-grained model.
use std::collections::HashMap;

use burn::prelude::*;
use rbf_model::coarse::ResidueId;
use rbf_model::{CoarseModel, ImageGrid, RbfDensityConfig, Structure};

use crate::TrainError;

/// The truth, in the box frame.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    /// True Cα positions, one per residue of the model (Å).
    pub ca: Vec<[f64; 3]>,
    /// True volume on the run's `D³` grid, `[z][y][x]`, for the volume NMSE.
    pub volume: Option<Vec<f32>>,
}

impl Truth {
    /// The truth of `model` from a true structure (already in the box frame): the Cα of every
    /// residue of `model`, found by chain, number and insertion code.
    ///
    /// # Errors
    /// [`TrainError::Data`] naming the structure file and the first residue of the model that the
    /// structure lacks (or that has no Cα).
    pub fn from_structure(model: &CoarseModel, truth: &Structure) -> Result<Self, TrainError> {
        let key = |chain: &str, number: isize, icode: &Option<String>| (chain.to_string(), number, icode.clone());
        let ca: HashMap<_, [f64; 3]> = truth
            .residues
            .iter()
            .filter_map(|r| r.atom("CA").map(|a| (key(&r.chain, r.number, &r.insertion_code), a.position)))
            .collect();
        let positions = model
            .residues
            .iter()
            .map(|r: &ResidueId| {
                ca.get(&key(&r.chain, r.number, &r.insertion_code)).copied().ok_or_else(|| {
                    TrainError::Data(format!(
                        "{}: the truth has no Cα for residue {} {}{} of chain {}",
                        truth.path.display(),
                        r.name,
                        r.number,
                        r.insertion_code.as_deref().unwrap_or(""),
                        r.chain
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Truth { ca: positions, volume: None })
    }

    /// Add the all-atom volume of `truth` on `grid`, as Chimera's `molmap` makes it: one Gaussian
    /// per heavy atom of the amino acids, of integral equal to its atomic number and of width
    /// σ = resolution/(π·√2) (the simulator's ground truth).
    ///
    /// # Errors
    /// When the resolution is not positive.
    pub fn with_molmap(mut self, truth: &Structure, resolution: f64, grid: &ImageGrid, device: &Device) -> Result<Self, TrainError> {
        if !(resolution > 0.0 && resolution.is_finite()) {
            return Err(TrainError::Data(format!("the truth's resolution must be positive, got {resolution} Å")));
        }
        let (centers, z): (Vec<[f64; 3]>, Vec<f64>) = truth
            .residues
            .iter()
            .filter(|r| r.is_amino_acid())
            .flat_map(|r| r.atoms.iter().map(|a| (a.position, f64::from(a.atomic_number))))
            .unzip();
        let sigma = resolution / (std::f64::consts::PI * std::f64::consts::SQRT_2);
        let density = RbfDensityConfig::new().with_sigma(sigma).with_amplitude_scale(1.0).init(&centers, &z, device);
        let volume = density.volume(grid).into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| TrainError::Data(format!("{e:?}")))?;
        self.volume = Some(volume);
        Ok(self)
    }
}
