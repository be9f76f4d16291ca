//! Weights of the states of a motion, and drawing a state per particle.
use std::path::Path;

use rand::Rng;

use crate::config::Distribution;
use crate::error::SimError;

/// Normalised weights (summing to 1) of `states` states.
///
/// # Errors
/// [`SimError::WeightsFile`] naming the file and line for a weights file that cannot be read,
/// has an unparsable, negative or non-finite value, the wrong number of values, or only zeros.
pub fn state_weights(distribution: &Distribution, states: usize) -> Result<Vec<f64>, SimError> {
    let x = |k: usize| if states > 1 { k as f64 / (states - 1) as f64 } else { 0.0 };
    let barrier = |height: f64, center: f64| -> Vec<f64> {
        (0..states).map(|k| (-height * (-(x(k) - center).powi(2) / (2.0 * 0.1 * 0.1)).exp()).exp()).collect()
    };
    let raw = match distribution {
        Distribution::Uniform => vec![1.0; states],
        Distribution::Barrier => barrier(10f64.ln(), 0.5),
        Distribution::Barrier2 => barrier(4f64.ln(), 0.35),
        Distribution::TwoClusters => {
            let end = ((0.2 * states as f64).round() as usize).max(1);
            (0..states).map(|k| if k < end || k + end >= states { 1.0 } else { 0.0 }).collect()
        }
        Distribution::Weights(path) => read_weights(path, states)?,
    };
    let total: f64 = raw.iter().sum();
    Ok(raw.iter().map(|w| w / total).collect())
}

fn read_weights(path: &Path, states: usize) -> Result<Vec<f64>, SimError> {
    let bad = |line: usize, reason: String| SimError::WeightsFile { path: path.to_path_buf(), line, reason };
    let text = std::fs::read_to_string(path).map_err(|e| bad(0, e.to_string()))?;
    let mut weights = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_text = line.trim();
        if line_text.is_empty() || line_text.starts_with('#') {
            continue;
        }
        let w: f64 = line_text.parse().map_err(|_| bad(i + 1, format!("{line_text:?} is not a number")))?;
        if !(w.is_finite() && w >= 0.0) {
            return Err(bad(i + 1, format!("weight {w} is not a non-negative number")));
        }
        weights.push(w);
    }
    if weights.len() != states {
        return Err(bad(0, format!("{} weights for {states} states", weights.len())));
    }
    if weights.iter().sum::<f64>() <= 0.0 {
        return Err(bad(0, "all weights are zero".into()));
    }
    Ok(weights)
}

/// Draws state indices from normalised weights by inverting the cumulative distribution.
#[derive(Debug, Clone)]
pub struct StateSampler {
    cumulative: Vec<f64>,
}

impl StateSampler {
    /// A sampler over `weights` (normalised, as [`state_weights`] returns them).
    pub fn new(weights: &[f64]) -> Self {
        let mut acc = 0.0;
        StateSampler { cumulative: weights.iter().map(|w| { acc += w; acc }).collect() }
    }

    /// One state index.
    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        let u: f64 = rng.random::<f64>() * self.cumulative.last().copied().unwrap_or(1.0);
        // The first state whose cumulative weight exceeds u; states of weight 0 are never drawn.
        let k = self.cumulative.partition_point(|&c| c <= u);
        k.min(self.cumulative.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn counts(d: &Distribution, states: usize, n: usize) -> Vec<usize> {
        let sampler = StateSampler::new(&state_weights(d, states).expect("valid"));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut c = vec![0; states];
        for _ in 0..n {
            c[sampler.sample(&mut rng)] += 1;
        }
        c
    }

    #[test]
    fn weights_sum_to_one() {
        for d in [Distribution::Uniform, Distribution::Barrier, Distribution::Barrier2, Distribution::TwoClusters] {
            for states in [2, 7, 50] {
                let w = state_weights(&d, states).expect("valid");
                assert_eq!(w.len(), states);
                assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{d} with {states} states");
                assert!(w.iter().all(|&x| x >= 0.0));
            }
        }
        let w = state_weights(&Distribution::TwoClusters, 50).expect("valid");
        assert!(w[10..40].iter().all(|&x| x == 0.0) && w[..10].iter().chain(&w[40..]).all(|&x| (x - 0.05).abs() < 1e-12), "{w:?}");
    }

    #[test]
    fn uniform_counts_are_about_n_over_states() {
        let (states, n) = (10, 20_000);
        for c in counts(&Distribution::Uniform, states, n) {
            // Binomial(n, 0.1): standard deviation 42; allow 4 of them.
            assert!((c as f64 - 2000.0).abs() < 170.0, "{c}");
        }
    }

    #[test]
    fn two_clusters_leave_the_middle_empty() {
        let states = 50;
        let c = counts(&Distribution::TwoClusters, states, 10_000);
        assert!(c[10..40].iter().all(|&k| k == 0), "{c:?}");
        assert!(c[..10].iter().all(|&k| k > 0) && c[40..].iter().all(|&k| k > 0), "{c:?}");
    }

    #[test]
    fn barrier_middle_has_a_tenth_of_the_peak() {
        let w = state_weights(&Distribution::Barrier, 51).expect("valid");
        assert!((w[25] / w[0] - 0.1).abs() < 1e-3);
        let w2 = state_weights(&Distribution::Barrier2, 51).expect("valid");
        let (k_min, _) = w2.iter().enumerate().fold((0, f64::MAX), |m, (k, &v)| if v < m.1 { (k, v) } else { m });
        assert!((k_min as f64 / 50.0 - 0.35).abs() < 0.03 && w2[k_min] / w2[50] > 0.2);
    }

    #[test]
    fn weights_file_is_followed_and_errors_name_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("w.txt");
        std::fs::write(&good, "# states 0..3\n1\n0\n3\n0\n").expect("write");
        let c = counts(&Distribution::Weights(good.clone()), 4, 8000);
        assert_eq!((c[1], c[3]), (0, 0));
        assert!((c[2] as f64 / c[0] as f64 - 3.0).abs() < 0.3, "{c:?}");

        let cases = [("1\n-2\n1\n", 2, "non-negative"), ("1\n1\nabc\n", 3, "not a number"), ("1\n1\n", 0, "2 weights for 3 states")];
        for (text, line, reason) in cases {
            let path = dir.path().join("bad.txt");
            std::fs::write(&path, text).expect("write");
            let err = state_weights(&Distribution::Weights(path.clone()), 3).expect_err("bad file").to_string();
            let place = if line == 0 { !err.contains("line") } else { err.contains(&format!("line {line}")) };
            assert!(err.contains("bad.txt") && place && err.contains(reason), "{err}");
        }
    }
}
