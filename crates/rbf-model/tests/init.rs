//! Training initializations (paper §4.1) and the eigen-solver behind the normal-mode one.
mod common;

use std::time::Instant;

use common::*;
use rand::Rng;
use rbf_model::coarse::{centroid, distance};
use rbf_model::init::{ElasticNetwork, Init, initial_centers, side_chains_in_frames};
use rbf_model::linalg::Tridiagonalized;
use rbf_model::metrics::{rmse, rmse_superposed};
use rbf_model::{ChainSelection, CoarseModel, ModelError, RbfKind, Structure, builtin};

fn bundle() -> CoarseModel {
    CoarseModel::from_structure(&builtin::helix_bundle(4, 40, 9.0)).unwrap()
}

/// Mean |change| of the Cα–Cα bond lengths (Å) from `reference` to `moved`.
fn mean_bond_change(model: &CoarseModel, moved: &[[f64; 3]], reference: &[[f64; 3]]) -> f64 {
    let sum: f64 = model
        .bonds
        .iter()
        .map(|&(i, j)| (distance(moved[i], moved[j]) - distance(reference[i], reference[j])).abs())
        .sum();
    sum / model.bonds.len() as f64
}

/// Mean |change| of the Cα(i)–Cα(i+2) distances (Å), which set the Cα pseudo-angles.
fn mean_angle_change(model: &CoarseModel, moved: &[[f64; 3]], reference: &[[f64; 3]]) -> f64 {
    let (a, b) = (model.ca_positions(moved), model.ca_positions(reference));
    let triples: Vec<usize> = (0..a.len() - 2).filter(|&i| model.residues[i].chain == model.residues[i + 2].chain).collect();
    let sum: f64 = triples.iter().map(|&i| (distance(a[i], a[i + 2]) - distance(b[i], b[i + 2])).abs()).sum();
    sum / triples.len() as f64
}

/// The closest approach (Å) of two Cα at least three residues apart.
fn closest_non_neighbours(model: &CoarseModel, centers: &[[f64; 3]]) -> f64 {
    let ca = model.ca_positions(centers);
    let mut closest = f64::INFINITY;
    for i in 0..ca.len() {
        for j in i + 3..ca.len() {
            closest = closest.min(distance(ca[i], ca[j]));
        }
    }
    closest
}

/// Checks that `approx` at Cα RMSD `r` is a plausible structure and that noise of the same RMSD
/// is not: bond lengths, pseudo-angles and clashes. Returns the mean bond changes (approx, noise).
fn assert_plausible(model: &CoarseModel, approx: &[[f64; 3]], noise: &[[f64; 3]], r: f64) -> (f64, f64) {
    let reference = &model.centers;
    // Compare with noise scaled to exactly the same RMSD.
    let noise_rmsd = ca_rmsd(model, noise, reference);
    let noise: Vec<[f64; 3]> = noise
        .iter()
        .zip(reference)
        .map(|(p, q)| std::array::from_fn(|k| q[k] + (p[k] - q[k]) * r / noise_rmsd))
        .collect();
    let (approx_bonds, noise_bonds) = (mean_bond_change(model, approx, reference), mean_bond_change(model, &noise, reference));
    assert!(approx_bonds < 0.02 * r, "approx:{r}: mean |Δ bond| {approx_bonds}");
    assert!(approx_bonds < 0.05 * noise_bonds, "approx:{r}: |Δ bond| {approx_bonds} vs noise {noise_bonds}");
    let (approx_angles, noise_angles) = (mean_angle_change(model, approx, reference), mean_angle_change(model, &noise, reference));
    assert!(approx_angles < 0.4 * noise_angles, "approx:{r}: |Δ d(i, i+2)| {approx_angles} vs noise {noise_angles}");
    // No clash: no two Cα closer than a Cα–Cα bond (3.8 Å) unless they are sequence neighbours.
    let closest = closest_non_neighbours(model, approx);
    assert!(closest > 3.8, "approx:{r}: a clash, two Cα {closest} Å apart");
    (approx_bonds, noise_bonds)
}

fn ca_rmsd(model: &CoarseModel, a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    rmse(&model.ca_positions(a), &model.ca_positions(b))
}

/// Every RBF at its residue's Cα.
fn assert_side_chains_at_ca(model: &CoarseModel, centers: &[[f64; 3]]) {
    assert_eq!(centers.len(), model.n_rbf());
    for (i, c) in centers.iter().enumerate() {
        assert_eq!(*c, centers[model.backbone[model.residue_of[i]]], "RBF {i} is not at its Cα");
    }
}

#[test]
fn parsing_round_trips() {
    for (text, init) in [
        ("exact", Init::Exact),
        ("noise:6", Init::Noise(6.0)),
        ("approx:5.15", Init::Approx(5.15)),
        ("random:64", Init::Random(64.0)),
        ("noise:0.1", Init::Noise(0.1)),
        ("approx:0", Init::Approx(0.0)),
    ] {
        let parsed: Init = text.parse().unwrap();
        assert_eq!(parsed, init, "{text}");
        assert_eq!(parsed.to_string(), text);
        assert_eq!(parsed.to_string().parse::<Init>().unwrap(), parsed);
    }
    // Case and spaces are forgiven; the display is canonical.
    assert_eq!(" Noise : 6 ".parse::<Init>().unwrap(), Init::Noise(6.0));
    assert_eq!("EXACT".parse::<Init>().unwrap().to_string(), "exact");
    assert_eq!(Init::Random(1e-3).to_string().parse::<Init>().unwrap(), Init::Random(1e-3));
}

#[test]
fn parsing_rejects_bad_text_with_a_message_naming_it() {
    for (text, hint) in [
        ("", "no initialization"),
        ("fold", "unknown initialization"),
        ("noise", "needs a distance"),
        ("approx:", "needs a distance"),
        ("noise:six", "\"six\" is not a number"),
        ("random:-64", "≥ 0"),
        ("approx:inf", "finite"),
        ("noise:NaN", "finite"),
        ("exact:3", "exact takes no distance"),
    ] {
        match text.parse::<Init>() {
            Err(error @ ModelError::InvalidInit { .. }) => {
                let message = error.to_string();
                assert!(message.contains(&format!("{text:?}")), "{message}");
                assert!(message.contains(hint), "{text}: {message}");
                assert!(message.contains("noise:<Å>"), "{message}");
            }
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn exact_is_the_reference_in_its_own_frame() {
    let model = bundle();
    let mut reference = model.centers.clone();
    reference.iter_mut().for_each(|c| c[0] += 100.0);
    let start = initial_centers(&model, &reference, &Init::Exact, 1).unwrap();
    assert_eq!(start, reference);
    // Side chains stay at their centroids, not at the Cα.
    let sc = model.kinds.iter().position(|k| *k == RbfKind::SideChain).unwrap();
    assert!(distance(start[sc], start[model.backbone[model.residue_of[sc]]]) > 1.0);
}

#[test]
fn noise_is_uniform_within_its_bound() {
    let model = bundle();
    let a = 6.0;
    let start = initial_centers(&model, &model.centers, &Init::Noise(a), 3).unwrap();
    assert_side_chains_at_ca(&model, &start);
    let moved = model.ca_positions(&start);
    let reference = model.ca_positions(&model.centers);
    let deltas: Vec<f64> = moved.iter().zip(&reference).flat_map(|(p, q)| (0..3).map(move |k| p[k] - q[k])).collect();
    assert!(deltas.iter().all(|d| d.abs() <= a), "a coordinate moved more than {a} Å");
    // The whole range is used, symmetrically.
    let largest = deltas.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    assert!(largest > 0.97 * a, "largest move {largest}");
    let mean = deltas.iter().sum::<f64>() / deltas.len() as f64;
    assert!(mean.abs() < 0.05 * a, "mean {mean}");
    // Uniform[−a, a] per coordinate: E[d²] = a²/3, three coordinates → RMSD² = a². With 480
    // coordinates the standard error of RMSD²/a² is √(4/45/480) ≈ 0.014.
    let rmsd = rmse(&moved, &reference);
    assert!((rmsd / a).powi(2) > 0.93 && (rmsd / a).powi(2) < 1.07, "RMSD {rmsd} for a = {a}");
    // Mean |d| = a/2 (standard error ≈ a·0.013).
    let mean_abs = deltas.iter().map(|d| d.abs()).sum::<f64>() / deltas.len() as f64;
    assert!((mean_abs / a - 0.5).abs() < 0.05, "mean |d| {mean_abs}");
}

#[test]
fn approx_hits_the_rmsd_and_keeps_the_chain_geometry() {
    let model = bundle();
    for (r, seed) in [(3.0, 1), (5.15, 2), (1.0, 3)] {
        let start = initial_centers(&model, &model.centers, &Init::Approx(r), seed).unwrap();
        assert_side_chains_at_ca(&model, &start);
        let rmsd = ca_rmsd(&model, &start, &model.centers);
        assert!((rmsd - r).abs() < 1e-6, "RMSD {rmsd} for approx:{r}");
        // A deformation, not a rigid motion: superposition removes almost nothing.
        let superposed = rmse_superposed(&model.ca_positions(&start), &model.ca_positions(&model.centers));
        assert!(superposed > 0.9 * r, "superposed RMSD {superposed} for approx:{r}");
        // Physically plausible: bonds, pseudo-angles and contacts barely change, far less than
        // under noise of the same RMSD.
        let noise = initial_centers(&model, &model.centers, &Init::Noise(r), seed).unwrap();
        assert_plausible(&model, &start, &noise, r);
    }
}

#[test]
fn approx_is_smooth_along_the_chain() {
    // Low-frequency modes move neighbours together: the displacements of consecutive Cα are
    // strongly correlated, unlike independent noise.
    let model = bundle();
    let start = initial_centers(&model, &model.centers, &Init::Approx(3.0), 5).unwrap();
    let d: Vec<[f64; 3]> = model
        .ca_positions(&start)
        .iter()
        .zip(model.ca_positions(&model.centers))
        .map(|(p, q)| std::array::from_fn(|k| p[k] - q[k]))
        .collect();
    let (mut dot, mut norm) = (0.0, 0.0);
    for &(i, j) in &model.bonds {
        let (a, b) = (d[model.residue_of[i]], d[model.residue_of[j]]);
        dot += a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        norm += 0.5 * (a.iter().map(|x| x * x).sum::<f64>() + b.iter().map(|x| x * x).sum::<f64>());
    }
    assert!(dot / norm > 0.9, "neighbour correlation {}", dot / norm);
}

#[test]
fn random_fills_the_central_cube() {
    let model = bundle();
    let edge = 64.0;
    let mut reference = model.centers.clone();
    reference.iter_mut().for_each(|c| c[2] -= 40.0);
    let start = initial_centers(&model, &reference, &Init::Random(edge), 9).unwrap();
    assert_side_chains_at_ca(&model, &start);
    let c = centroid(&model.ca_positions(&reference));
    let ca = model.ca_positions(&start);
    let mut extent = [0.0f64; 3];
    for p in &ca {
        for k in 0..3 {
            assert!((p[k] - c[k]).abs() <= edge / 2.0, "{p:?} outside the cube around {c:?}");
            extent[k] = extent[k].max((p[k] - c[k]).abs());
        }
    }
    assert!(extent.iter().all(|&e| e > 0.45 * edge), "extent {extent:?}");
    let mean = centroid(&ca);
    assert!(distance(mean, c) < 0.1 * edge, "mean {mean:?} vs centre {c:?}");
}

#[test]
fn same_seed_same_start_other_seed_other_start() {
    let model = bundle();
    for init in [Init::Noise(6.0), Init::Approx(3.0), Init::Random(64.0)] {
        let a = initial_centers(&model, &model.centers, &init, 42).unwrap();
        let b = initial_centers(&model, &model.centers, &init, 42).unwrap();
        let c = initial_centers(&model, &model.centers, &init, 43).unwrap();
        assert_eq!(a, b, "{init}");
        assert!(ca_rmsd(&model, &a, &c) > 0.5, "{init}: seeds 42 and 43 agree");
    }
}

#[test]
fn bad_arguments_are_errors() {
    let model = bundle();
    assert!(matches!(
        initial_centers(&model, &model.centers[1..], &Init::Exact, 0),
        Err(ModelError::Shape(_))
    ));
    for init in [Init::Noise(-1.0), Init::Approx(f64::NAN), Init::Random(f64::INFINITY)] {
        assert!(matches!(initial_centers(&model, &model.centers, &init, 0), Err(ModelError::InvalidInit { .. })), "{init}");
    }
    let mut broken = model.centers.clone();
    broken[model.backbone[2]][1] = f64::NAN;
    let error = initial_centers(&model, &broken, &Init::Approx(2.0), 0).unwrap_err();
    assert!(error.to_string().contains("non-finite"), "{error}");
    // One residue has no internal mode to deform along; zero distances are fine.
    let single = CoarseModel::from_structure(&builtin::helix_bundle(1, 1, 0.0)).unwrap();
    let error = initial_centers(&single, &single.centers, &Init::Approx(2.0), 0).unwrap_err();
    assert!(error.to_string().contains("normal mode"), "{error}");
    for init in [Init::Noise(0.0), Init::Approx(0.0), Init::Random(0.0)] {
        let start = initial_centers(&model, &model.centers, &init, 0).unwrap();
        assert!(start.iter().all(|c| c.iter().all(|v| v.is_finite())), "{init}");
    }
}

/// A random orthogonal matrix (Gram–Schmidt of a random one), row-major.
fn random_orthogonal(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = rng(seed);
    let mut q: Vec<Vec<f64>> = Vec::new();
    while q.len() < n {
        let mut v: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        for _ in 0..2 {
            for u in &q {
                let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(u).for_each(|(a, b)| *a -= dot * b);
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        v.iter_mut().for_each(|a| *a /= norm);
        q.push(v);
    }
    q
}

fn mat_vec(a: &[f64], v: &[f64]) -> Vec<f64> {
    let n = v.len();
    (0..n).map(|i| (0..n).map(|j| a[i * n + j] * v[j]).sum()).collect()
}

#[test]
fn eigen_solver_on_a_matrix_with_known_spectrum() {
    // A = Σ λ_k q_k q_kᵀ with a triple zero (like rigid-body modes), a double eigenvalue and
    // spread-out others.
    let n = 40;
    let q = random_orthogonal(n, 17);
    let mut spectrum: Vec<f64> = (0..n).map(|k| 0.5 + 0.37 * k as f64).collect();
    spectrum[..3].fill(0.0);
    spectrum[4] = spectrum[3];
    let mut a = vec![0.0; n * n];
    for (k, lambda) in spectrum.iter().enumerate() {
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] += lambda * q[k][i] * q[k][j];
            }
        }
    }
    let mut sorted = spectrum.clone();
    sorted.sort_by(f64::total_cmp);
    let lowest = Tridiagonalized::new(a.clone(), n).lowest(8);
    for (k, (&got, &want)) in lowest.values.iter().zip(&sorted).enumerate() {
        assert!((got - want).abs() < 1e-12, "eigenvalue {k}: {got} vs {want}");
    }
    for (k, v) in lowest.vectors.iter().enumerate() {
        let av = mat_vec(&a, v);
        let residual = av.iter().zip(v).map(|(x, y)| (x - lowest.values[k] * y).powi(2)).sum::<f64>().sqrt();
        assert!(residual < 1e-10, "residual {residual} of eigenvector {k}");
        for (l, w) in lowest.vectors.iter().enumerate() {
            let dot: f64 = v.iter().zip(w).map(|(x, y)| x * y).sum();
            let want = if k == l { 1.0 } else { 0.0 };
            assert!((dot - want).abs() < 1e-10, "⟨v{k}, v{l}⟩ = {dot}");
        }
    }
    // Every eigenvalue, also the largest; only the lower triangle is read.
    for i in 0..n {
        a[i * n + i + 1..(i + 1) * n].fill(f64::NAN);
    }
    let tri = Tridiagonalized::new(a, n);
    for (k, want) in sorted.iter().enumerate() {
        assert!((tri.eigenvalue(k) - want).abs() < 1e-12);
    }
}

#[test]
fn eigen_solver_on_the_path_laplacian() {
    // The (2, −1) second-difference matrix: λ_k = 2 − 2cos(kπ/(n+1)), v_k(i) ∝ sin(ikπ/(n+1)).
    let n = 60;
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        a[i * n + i] = 2.0;
        if i + 1 < n {
            a[i * n + i + 1] = -1.0;
            a[(i + 1) * n + i] = -1.0;
        }
    }
    let lowest = Tridiagonalized::new(a, n).lowest(5);
    for k in 1..=5 {
        let theta = k as f64 * std::f64::consts::PI / (n + 1) as f64;
        assert!((lowest.values[k - 1] - (2.0 - 2.0 * theta.cos())).abs() < 1e-13);
        let exact: Vec<f64> = (1..=n).map(|i| (i as f64 * theta).sin()).collect();
        let norm = exact.iter().map(|x| x * x).sum::<f64>().sqrt();
        let overlap: f64 = exact.iter().zip(&lowest.vectors[k - 1]).map(|(x, y)| x * y).sum::<f64>() / norm;
        assert!((overlap.abs() - 1.0).abs() < 1e-10, "mode {k}: overlap {overlap}");
    }
}

#[test]
fn elastic_network_has_exactly_the_rigid_body_zero_modes() {
    let model = CoarseModel::from_structure(&builtin::helix_bundle(2, 12, 5.0)).unwrap();
    let ca = model.ca_positions(&model.centers);
    let network = ElasticNetwork::default();
    let h = network.hessian(&ca, &[]);
    let dim = 3 * ca.len();
    // Translations and rotations cost no energy.
    let c = centroid(&ca);
    for axis in 0..3 {
        let t: Vec<f64> = (0..dim).map(|i| if i % 3 == axis { 1.0 } else { 0.0 }).collect();
        assert!(mat_vec(&h, &t).iter().all(|x| x.abs() < 1e-12));
        let mut r = vec![0.0; dim];
        for (i, p) in ca.iter().enumerate() {
            let (a, b) = ((axis + 1) % 3, (axis + 2) % 3);
            r[3 * i + a] = -(p[b] - c[b]);
            r[3 * i + b] = p[a] - c[a];
        }
        assert!(mat_vec(&h, &r).iter().all(|x| x.abs() < 1e-10));
    }
    // And nothing else: six zero eigenvalues, then clearly positive ones.
    let values = Tridiagonalized::new(h, dim).lowest(8).values;
    assert!(values[..6].iter().all(|v| v.abs() < 1e-10), "{values:?}");
    assert!(values[6] > 1e-4, "{values:?}");
}

#[test]
fn approx_on_5ni1_chain_a() {
    let Some(path) = rbf_io::testdata::require("structures/5ni1_updated.cif") else { return };
    let structure = Structure::read(&path, &ChainSelection::Chains(vec!["A".into()])).unwrap();
    let model = CoarseModel::from_structure(&structure).unwrap();
    let r = 3.0;
    let timer = Instant::now();
    let start = initial_centers(&model, &model.centers, &Init::Approx(r), 0).unwrap();
    let seconds = timer.elapsed().as_secs_f64();
    assert!((ca_rmsd(&model, &start, &model.centers) - r).abs() < 1e-6);
    let mut summary = Vec::new();
    for seed in 0..4 {
        let start = initial_centers(&model, &model.centers, &Init::Approx(r), seed).unwrap();
        let noise = initial_centers(&model, &model.centers, &Init::Noise(r), seed).unwrap();
        summary.push(assert_plausible(&model, &start, &noise, r));
    }
    println!(
        "5NI1 chain A ({} residues, {} RBFs): approx:{r} in {seconds:.3} s; mean |ΔCα–Cα| (approx, noise at the same RMSD) \
         over seeds 0–3: {summary:.3?} Å",
        model.n_residues(),
        model.n_rbf()
    );
    // Well under a second on any machine; the bound leaves room for a loaded one.
    assert!(seconds < 5.0, "approx took {seconds} s");
}

#[test]
fn side_chains_in_frames_follow_a_rigid_motion_of_the_trace() {
    let model = bundle();
    let mut rng = rng(11);
    let rotation = random_rotation(&mut rng);
    let shift = [3.0, -7.0, 12.5];
    let moved: Vec<[f64; 3]> = model
        .centers
        .iter()
        .map(|p| std::array::from_fn(|r| (0..3).map(|c| rotation[r][c] * p[c]).sum::<f64>() + shift[r]))
        .collect();
    // The moved Cα trace with every side chain at its Cα, as `initial_centers` starts them.
    let at_ca: Vec<[f64; 3]> = model.residue_of.iter().map(|&r| moved[model.backbone[r]]).collect();
    let rebuilt = side_chains_in_frames(&model, &model.centers, &at_ca).unwrap();
    let worst = rebuilt.iter().zip(&moved).map(|(a, b)| distance(*a, *b)).fold(0.0, f64::max);
    assert!(worst < 1e-9, "side chains {worst} Å from the moved reference's");
    // Side chains left where they are would be wrong by their Cα distance.
    assert!(at_ca.iter().zip(&moved).any(|(a, b)| distance(*a, *b) > 1.0));

    // A straight trace has no frame: every side chain stays at its Cα.
    let straight: Vec<[f64; 3]> = model.residue_of.iter().map(|&r| [3.8 * r as f64, 0.0, 0.0]).collect();
    assert_eq!(side_chains_in_frames(&model, &model.centers, &straight).unwrap(), straight);
    // One center too few is refused.
    assert!(matches!(side_chains_in_frames(&model, &model.centers, &straight[1..]), Err(ModelError::Shape(_))));
}
