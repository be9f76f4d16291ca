//! Autodiff gradients of the image loss and of the priors against central finite differences.
mod common;

use burn::prelude::*;
use common::*;
use rand::Rng;
use rbf_model::coarse::{CoarseModel, RbfKind, ResidueId, SideChainBound};
use rbf_model::priors::{PriorConfig, Priors};
use rbf_model::projection::image_mse;
use rbf_model::{ImageGrid, Poses, RbfDensity, RbfDensityConfig};

/// A tiny chain of three residues with side chains; the side chains sit past their bounds so the
/// one-sided term is active.
fn tiny_model(rng: &mut rand::rngs::StdRng) -> CoarseModel {
    let mut centers = Vec::new();
    for r in 0..3 {
        let ca = [r as f64 * 3.5 - 3.5, rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        centers.push(ca);
        centers.push([ca[0] + 1.0, ca[1] + 2.5, ca[2] - 1.0]);
    }
    let residue = |n| ResidueId { chain: "A".into(), name: "LEU".into(), number: n, insertion_code: None };
    CoarseModel {
        residues: vec![residue(1), residue(2), residue(3)],
        centers,
        electrons: vec![27.0, 24.0, 27.0, 24.0, 27.0, 24.0],
        kinds: [RbfKind::Backbone, RbfKind::SideChain].repeat(3),
        residue_of: vec![0, 0, 1, 1, 2, 2],
        backbone: vec![0, 2, 4],
        bonds: vec![(0, 2), (2, 4)],
        side_chain_bounds: (0..3).map(|r| SideChainBound { backbone: 2 * r, side_chain: 2 * r + 1, max_distance: 2.0 }).collect(),
    }
}

struct Problem {
    model: CoarseModel,
    poses_r: Vec<[[f64; 3]; 3]>,
    poses_t: Vec<[f64; 2]>,
    target: Vec<f32>,
    grid: ImageGrid,
}

fn problem() -> Problem {
    let mut rng = rng(21);
    let model = tiny_model(&mut rng);
    let grid = ImageGrid::new(16, 1.2).unwrap();
    let poses_r: Vec<_> = (0..3).map(|_| random_rotation(&mut rng)).collect();
    let poses_t: Vec<[f64; 2]> = (0..3).map(|_| [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)]).collect();
    let target: Vec<f32> = (0..3 * 16 * 16).map(|_| rng.random_range(0.0..0.05)).collect();
    Problem { model, poses_r, poses_t, target, grid }
}

/// The full loss of eq. (3) for a density with the given parameters.
fn loss(p: &Problem, density: &RbfDensity, device: &Device) -> Tensor<1> {
    let poses = Poses::from_host(&p.poses_r, &p.poses_t, device);
    let target = Tensor::from_data(TensorData::new(p.target.clone(), [3, 16, 16]), device);
    let priors = Priors::new(&p.model, PriorConfig::new().with_bond_strength(0.01).with_side_chain_strength(0.02), device);
    let centers = density.centers.val().unsqueeze_dim(0);
    image_mse(density.project(&poses, &p.grid), target) + priors.bond_energy(centers.clone()) + priors.side_chain_energy(centers)
}

fn density(p: &Problem, centers: &[[f64; 3]], sigma: f64, scale: f64, device: &Device) -> RbfDensity {
    RbfDensityConfig::new().with_sigma(sigma).with_amplitude_scale(scale).init(centers, &p.model.electrons, device)
}

fn value(t: Tensor<1>) -> f64 {
    f64::from(to_vec(t)[0])
}

#[test]
fn loss_gradients_match_central_finite_differences() {
    let p = problem();
    let device = cpu().autodiff();
    let (sigma, scale) = (1.9, 0.05);
    let model = density(&p, &p.model.centers, sigma, scale, &device);
    let grads = loss(&p, &model, &device).backward();
    let g_centers = to_vec(model.centers.val().grad(&grads).expect("centers gradient"));
    let g_log_sigma = f64::from(to_vec(model.log_sigma.val().grad(&grads).expect("sigma gradient"))[0]);
    let g_scale = f64::from(to_vec(model.amplitude_scale.val().grad(&grads).expect("a0 gradient"))[0]);

    let plain = cpu();
    let eval = |centers: &[[f64; 3]], sigma: f64, scale: f64| value(loss(&p, &density(&p, centers, sigma, scale, &plain), &plain));
    let h = 1e-2;
    let max_g = g_centers.iter().fold(0.0f32, |m, g| m.max(g.abs())) as f64;
    for i in 0..p.model.n_rbf() {
        for k in 0..3 {
            let mut plus = p.model.centers.clone();
            let mut minus = p.model.centers.clone();
            plus[i][k] += h;
            minus[i][k] -= h;
            let fd = (eval(&plus, sigma, scale) - eval(&minus, sigma, scale)) / (2.0 * h);
            let ad = f64::from(g_centers[i * 3 + k]);
            assert!((fd - ad).abs() < 2e-2 * max_g, "d/dμ[{i}][{k}]: autodiff {ad}, finite difference {fd}");
        }
    }
    // σ is learned as ln σ: d/d(ln σ) = σ·d/dσ.
    let hs = 1e-3;
    let fd_sigma = (eval(&p.model.centers, sigma + hs, scale) - eval(&p.model.centers, sigma - hs, scale)) / (2.0 * hs) * sigma;
    assert!((fd_sigma - g_log_sigma).abs() < 2e-2 * fd_sigma.abs().max(1e-6), "d/dlnσ: {g_log_sigma} vs {fd_sigma}");
    let ha = 1e-3;
    let fd_scale = (eval(&p.model.centers, sigma, scale + ha) - eval(&p.model.centers, sigma, scale - ha)) / (2.0 * ha);
    assert!((fd_scale - g_scale).abs() < 2e-2 * fd_scale.abs().max(1e-6), "d/da₀: {g_scale} vs {fd_scale}");
    assert!(max_g > 0.0 && g_log_sigma != 0.0 && g_scale != 0.0, "every gradient is non-trivial");
}

#[test]
fn prior_gradients_match_analytic_forms() {
    // For one bond of length d: E = k(d − l)², dE/dμ_j = 2k(d − l)(μ_j − μ_i)/d.
    let mut rng = rng(5);
    let mut model = tiny_model(&mut rng);
    model.centers[2] = [model.centers[0][0] + 5.0, model.centers[0][1], model.centers[0][2]];
    let device = cpu().autodiff();
    let k = 0.7;
    let priors = Priors::new(&model, PriorConfig::new().with_bond_strength(k).with_side_chain_strength(0.0), &device);
    let centers = rbf_model::density::centers_tensor(&model.centers, &device).require_grad();
    let energy = priors.bond_energy(centers.clone().unsqueeze_dim(0));
    let grads = energy.backward();
    let g = to_vec(centers.grad(&grads).unwrap());
    // RBF 2 takes part in bonds (0,2) and (2,4).
    let mut want = [0.0; 3];
    for other in [0usize, 4] {
        let (a, b) = (model.centers[2], model.centers[other]);
        let d = rbf_model::coarse::distance(a, b);
        for c in 0..3 {
            want[c] += 2.0 * k * (d - 3.8) * (a[c] - b[c]) / d;
        }
    }
    for c in 0..3 {
        assert!((f64::from(g[2 * 3 + c]) - want[c]).abs() < 1e-3 * want[c].abs().max(1.0), "{g:?} vs {want:?}");
    }
}

#[test]
fn side_chain_bound_is_one_sided_and_finite_at_zero_distance() {
    let mut rng = rng(9);
    let mut model = tiny_model(&mut rng);
    let device = cpu().autodiff();
    let priors = Priors::new(&model, PriorConfig::new().with_side_chain_strength(3.0), &device);
    // Side chains on their Cα (the paper's initialisation): zero energy, zero (not NaN) gradient.
    for r in 0..3 {
        model.centers[2 * r + 1] = model.centers[2 * r];
    }
    let centers = rbf_model::density::centers_tensor(&model.centers, &device).require_grad();
    let energy = priors.side_chain_energy(centers.clone().unsqueeze_dim(0));
    assert_eq!(value(energy.clone()), 0.0);
    let g = to_vec(centers.grad(&energy.backward()).unwrap());
    assert!(g.iter().all(|v| *v == 0.0), "{g:?}");
    // One side chain 1.5 Å past its 2 Å bound: E = 3·1.5².
    model.centers[1] = [model.centers[0][0] + 3.5, model.centers[0][1], model.centers[0][2]];
    let centers = rbf_model::density::centers_tensor(&model.centers, &device);
    let e = value(priors.side_chain_energy(centers.unsqueeze_dim(0)));
    assert!((e - 3.0 * 1.5 * 1.5).abs() < 1e-4, "{e}");
}

#[test]
fn steric_pairs_skip_bonds_and_hold_angle_pairs_further_apart() {
    let points: Vec<[f64; 3]> = (0..5).map(|i| [i as f64 * 3.0, if i % 2 == 0 { 0.0 } else { 2.0 }, 0.0]).collect();
    let model = CoarseModel::ca_trace(&points);
    let pairs = rbf_model::priors::steric_pairs(&model);
    // 10 pairs of 5 points, less the 4 bonds; (i, i+2) at 4.8 Å, the rest at 4.0 Å.
    assert_eq!(pairs.len(), 6, "{pairs:?}");
    for (a, b, d) in pairs {
        assert!(b > a + 1, "bonded pair ({a}, {b}) in the steric list");
        let want = if b == a + 2 { rbf_model::priors::STERIC_DISTANCE_13 } else { rbf_model::priors::STERIC_DISTANCE };
        assert_eq!(d, want, "pair ({a}, {b})");
    }
}

#[test]
fn steric_energy_is_one_sided_with_the_analytic_gradient() {
    // A hairpin: residue 3 folded back to 3 Å from residue 0 (|i − j| = 3, closest approach 4 Å),
    // every other non-bonded pair far apart.
    let points = vec![[0.0, 0.0, 0.0], [3.8, 0.0, 0.0], [3.8, 3.8 * 2.0, 0.0], [0.0, 3.0, 0.0]];
    let model = CoarseModel::ca_trace(&points);
    let device = cpu().autodiff();
    let k = 2.5;
    let priors = Priors::new(&model, PriorConfig::new().with_steric_strength(k), &device);
    let centers = rbf_model::density::centers_tensor(&model.centers, &device).require_grad();
    let energy = priors.steric_energy(centers.clone().unsqueeze_dim(0));
    // Pairs: (0,2) at 8.7 Å and (1,3) at 4.8 Å ≥ 4.8 (i, i+2: no energy); (0,3) 1 Å inside 4 Å.
    let e = value(energy.clone());
    assert!((e - k * 1.0).abs() < 1e-4, "E = k·(4 − 3)² = {k}, got {e}");
    let g = to_vec(centers.grad(&energy.backward()).unwrap());
    // dE/dμ_3 = −2k(4 − d)(μ_3 − μ_0)/d = −2k·(0, 1, 0); μ_0 the opposite; 1 and 2 untouched.
    let want = [[0.0, 2.0 * k, 0.0], [0.0; 3], [0.0; 3], [0.0, -2.0 * k, 0.0]];
    for (i, w) in want.iter().enumerate() {
        for c in 0..3 {
            assert!((f64::from(g[3 * i + c]) - w[c]).abs() < 1e-3, "RBF {i}: {g:?} vs {want:?}");
        }
    }
    // Off by default (the paper's model): no energy whatever the geometry.
    let off = Priors::new(&model, PriorConfig::new(), &device);
    assert_eq!(value(off.steric_energy(rbf_model::density::centers_tensor(&points, &device).unsqueeze_dim(0))), 0.0);
}

#[test]
fn side_chain_frame_pairs_reach_two_residues_along_the_chain() {
    let model = CoarseModel::from_structure(&rbf_model::builtin::helix_bundle(1, 9, 0.0)).unwrap();
    let pairs = rbf_model::priors::frame_pairs(&model, &model.centers);
    for bound in &model.side_chain_bounds {
        let residue = model.residue_of[bound.backbone];
        let mut partners: Vec<usize> =
            pairs.iter().filter(|p| p.0 == bound.side_chain).map(|p| model.residue_of[p.1]).collect();
        partners.sort_unstable();
        let want: Vec<usize> = (residue.saturating_sub(2)..=(residue + 2).min(8)).collect();
        assert_eq!(partners, want, "residue {residue}");
        for &(a, b, d) in pairs.iter().filter(|p| p.0 == bound.side_chain) {
            assert_eq!(model.kinds[b], RbfKind::Backbone);
            assert!((d - rbf_model::coarse::distance(model.centers[a], model.centers[b])).abs() < 1e-12);
        }
    }
    // Nine residues without a glycine: 3 + 4 + 5·5 + 4 + 3 pairs.
    assert_eq!(model.side_chain_bounds.len(), 9);
    assert_eq!(pairs.len(), 39);
}

/// Check that `term` of `priors` (on an autodiff device) is `Σ k (‖μ_a − μ_b‖ − length)²` over
/// `pairs` at `centers`, strained by the move of `rbf`, with that energy's gradient with respect to
/// the center of `rbf`, both written out by hand.
fn check_harmonic_term(
    priors: &Priors,
    term: fn(&Priors, Tensor<3>) -> Tensor<1>,
    pairs: &[(usize, usize, f64)],
    centers: &[[f64; 3]],
    rbf: usize,
    k: f64,
) {
    let (mut want_e, mut want_g) = (0.0, [0.0f64; 3]);
    for &(a, b, length) in pairs {
        let other = if a == rbf { b } else if b == rbf { a } else { continue };
        let d = rbf_model::coarse::distance(centers[rbf], centers[other]);
        want_e += k * (d - length).powi(2);
        for c in 0..3 {
            want_g[c] += 2.0 * k * (d - length) * (centers[rbf][c] - centers[other][c]) / d;
        }
    }
    let tensor = rbf_model::density::centers_tensor(centers, &cpu().autodiff()).require_grad();
    let energy = term(priors, tensor.clone().unsqueeze_dim(0));
    let e = value(energy.clone());
    let grad = to_vec(tensor.grad(&energy.backward()).unwrap());
    assert!(want_e > 0.1, "the move strains the term: {want_e}");
    assert!((e - want_e).abs() < 1e-4 * want_e.max(1.0), "E {e} vs {want_e}");
    for c in 0..3 {
        let g = f64::from(grad[3 * rbf + c]);
        assert!((g - want_g[c]).abs() < 1e-3 * want_g[c].abs().max(1.0), "dE/dμ[{c}] {g} vs {}", want_g[c]);
    }
}

#[test]
fn side_chain_frame_energy_is_harmonic_with_the_analytic_gradient() {
    let model = CoarseModel::from_structure(&rbf_model::builtin::helix_bundle(1, 9, 0.0)).unwrap();
    let device = cpu().autodiff();
    let k = 1.5;
    // The bounds off, so that the side-chain term is the frame term alone.
    let config = PriorConfig::new().with_side_chain_strength(0.0).with_side_chain_frame_strength(k);
    let priors = Priors::new(&model, config.clone(), &device);
    let at_reference = priors.side_chain_energy(rbf_model::density::centers_tensor(&model.centers, &device).unsqueeze_dim(0));
    assert!(value(at_reference).abs() < 1e-6, "no strain at the reference");

    // Move the side chain of the middle residue.
    let moved_rbf = model.side_chain_bounds[model.side_chain_bounds.len() / 2].side_chain;
    let mut moved = model.centers.clone();
    moved[moved_rbf] = [moved[moved_rbf][0] + 0.7, moved[moved_rbf][1] - 0.4, moved[moved_rbf][2] + 0.2];
    check_harmonic_term(&priors, Priors::side_chain_energy, &rbf_model::priors::frame_pairs(&model, &model.centers), &moved, moved_rbf, k);
    // Off by default (the paper's model): the same move costs nothing with the bounds off.
    let off = Priors::new(&model, PriorConfig::new().with_side_chain_strength(0.0), &cpu());
    assert_eq!(value(off.side_chain_energy(rbf_model::density::centers_tensor(&moved, &cpu()).unsqueeze_dim(0))), 0.0);
    // Distances from another geometry: that geometry is the unstrained one.
    let from_moved = Priors::with_frame_geometry(&model, config, &moved, &cpu());
    assert!(value(from_moved.side_chain_energy(rbf_model::density::centers_tensor(&moved, &cpu()).unsqueeze_dim(0))).abs() < 1e-6);
}

#[test]
fn backbone_frame_pairs_join_ca_two_to_four_residues_apart() {
    // Two chains of 9 residues: no pair may cross from one chain to the other.
    let model = CoarseModel::from_structure(&rbf_model::builtin::helix_bundle(2, 9, 10.0)).unwrap();
    let pairs = rbf_model::priors::backbone_frame_pairs(&model, &model.centers);
    let chain = |rbf: usize| model.residues[model.residue_of[rbf]].chain.clone();
    let mut gaps = Vec::new();
    for &(a, b, d) in &pairs {
        assert_eq!((model.kinds[a], model.kinds[b]), (RbfKind::Backbone, RbfKind::Backbone));
        assert_eq!(chain(a), chain(b), "pair {a}–{b} crosses chains");
        gaps.push(model.residue_of[b] - model.residue_of[a]);
        assert!((d - rbf_model::coarse::distance(model.centers[a], model.centers[b])).abs() < 1e-12);
    }
    assert!(gaps.iter().all(|g| (2..=4).contains(g)), "gaps {gaps:?}");
    // Per chain of 9: 7 pairs two apart, 6 three apart, 5 four apart.
    assert_eq!(pairs.len(), 2 * (7 + 6 + 5));
}

#[test]
fn backbone_frame_energy_is_harmonic_with_the_analytic_gradient_and_logged_with_the_bonds() {
    let model = CoarseModel::from_structure(&rbf_model::builtin::helix_bundle(1, 9, 0.0)).unwrap();
    let device = cpu().autodiff();
    let k = 2.5;
    // The bonds off, so that the bond term is the backbone frame term alone.
    let config = PriorConfig::new().with_bond_strength(0.0).with_backbone_frame_strength(k);
    let priors = Priors::new(&model, config.clone(), &device);
    assert!(value(priors.bond_energy(rbf_model::density::centers_tensor(&model.centers, &device).unsqueeze_dim(0))).abs() < 1e-6);

    let moved_rbf = model.backbone[4];
    let mut moved = model.centers.clone();
    moved[moved_rbf] = [moved[moved_rbf][0] - 0.6, moved[moved_rbf][1] + 0.5, moved[moved_rbf][2] + 0.3];
    check_harmonic_term(&priors, Priors::bond_energy, &rbf_model::priors::backbone_frame_pairs(&model, &model.centers), &moved, moved_rbf, k);
    // Off by default (the paper's model), and unstrained at its own geometry.
    let off = Priors::new(&model, PriorConfig::new().with_bond_strength(0.0), &cpu());
    assert_eq!(value(off.bond_energy(rbf_model::density::centers_tensor(&moved, &cpu()).unsqueeze_dim(0))), 0.0);
    let from_moved = Priors::with_frame_geometry(&model, config, &moved, &cpu());
    assert!(value(from_moved.bond_energy(rbf_model::density::centers_tensor(&moved, &cpu()).unsqueeze_dim(0))).abs() < 1e-6);
}
