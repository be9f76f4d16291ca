//! A small protein-like structure built in code, so that examples and tests need no files: a
//! bundle of ideal α-helices (3.6 residues per turn, 1.5 Å rise, Cα on a 2.3 Å radius) with
//! alanine, leucine, serine and lysine side chains pointing away from each helix axis.
use std::f64::consts::PI;
use std::path::PathBuf;

use crate::structure::{Atom, Residue, Structure};

/// Cylindrical coordinates (radius Å, angle offset °, rise Å) of each atom relative to its
/// residue's Cα angle and height on an ideal right-handed α-helix.
const BACKBONE: [(&str, u32, f64, f64, f64); 4] =
    [("N", 7, 1.55, -28.0, -0.87), ("CA", 6, 2.3, 0.0, 0.0), ("C", 6, 1.65, 26.0, 0.95), ("O", 8, 1.85, 40.0, 2.15)];

/// Side chains as (atom, Z, radius, angle offset, rise), extending outward from the Cα.
fn side_chain(name: &str) -> &'static [(&'static str, u32, f64, f64, f64)] {
    match name {
        "ALA" => &[("CB", 6, 3.3, 8.0, -0.7)],
        "SER" => &[("CB", 6, 3.3, 8.0, -0.7), ("OG", 8, 4.6, 4.0, -0.2)],
        "LEU" => &[("CB", 6, 3.3, 8.0, -0.7), ("CG", 6, 4.7, 6.0, -0.4), ("CD1", 6, 5.6, -6.0, 0.4), ("CD2", 6, 5.5, 16.0, -1.3)],
        _ => &[("CB", 6, 3.3, 8.0, -0.7), ("CG", 6, 4.7, 6.0, -0.4), ("CD", 6, 6.1, 4.0, 0.1), ("CE", 6, 7.5, 2.0, -0.3), ("NZ", 7, 8.9, 0.0, 0.2)],
    }
}

const SEQUENCE: [&str; 7] = ["LEU", "ALA", "LYS", "LEU", "SER", "ALA", "LEU"];

/// A bundle of `n_helices` antiparallel ideal α-helices of `residues` residues each, one chain per
/// helix (`A`, `B`, …), their axes parallel to z on a circle of radius `bundle_radius` Å around
/// the origin.
pub fn helix_bundle(n_helices: usize, residues: usize, bundle_radius: f64) -> Structure {
    let mut out = Vec::new();
    for h in 0..n_helices {
        let chain = char::from(b'A' + (h % 26) as u8).to_string();
        let axis_angle = 2.0 * PI * h as f64 / n_helices as f64;
        let axis = [bundle_radius * axis_angle.cos(), bundle_radius * axis_angle.sin()];
        let up = if h % 2 == 0 { 1.0 } else { -1.0 };
        let length = (residues as f64 - 1.0) * 1.5;
        for i in 0..residues {
            let name = SEQUENCE[(i + 3 * h) % SEQUENCE.len()];
            let phase = (100.0 * i as f64 + 40.0 * h as f64).to_radians();
            let height = -length / 2.0 + 1.5 * i as f64;
            let place = |&(atom, z, r, dphi, dz): &(&str, u32, f64, f64, f64)| {
                let phi = phase + dphi.to_radians();
                // Antiparallel helices are the same helix turned upside down about x.
                let (x, y, zz) = (r * phi.cos(), r * phi.sin(), height + dz);
                let (y, zz) = (up * y, up * zz);
                Atom { name: atom.to_string(), atomic_number: z, position: [axis[0] + x, axis[1] + y, zz] }
            };
            let atoms = BACKBONE.iter().chain(side_chain(name)).map(place).collect();
            out.push(Residue { chain: chain.clone(), name: name.to_string(), number: i as isize + 1, insertion_code: None, atoms });
        }
    }
    Structure { path: PathBuf::from("<built-in helix bundle>"), residues: out }
}
