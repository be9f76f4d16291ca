//! A small dense symmetric eigen-solver for the lowest few eigenpairs, as the elastic-network
//! initialization needs them (a `3N×3N` Hessian, `N` up to about a thousand residues).
//!
//! The matrix is reduced once to tridiagonal form by Householder reflections (`4n³/3` flops);
//! each wanted eigenvalue is then found by bisection on the Sturm sequence of the tridiagonal
//! matrix, and its eigenvector by inverse iteration (with Gram–Schmidt against the eigenvectors
//! already found, so that degenerate eigenvalues get orthogonal vectors), mapped back through the
//! reflections. The cost after the reduction is `O(n)` per eigenvalue and `O(n²)` per eigenvector.
//!
//! ```
//! use rbf_model::linalg::Tridiagonalized;
//! // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
//! let lowest = Tridiagonalized::new(vec![2.0, 1.0, 1.0, 2.0], 2).lowest(1);
//! assert!((lowest.values[0] - 1.0).abs() < 1e-12);
//! ```

/// Eigenvalues in ascending order and their unit eigenvectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Eigenpairs {
    /// The eigenvalues, ascending, `[count]`.
    pub values: Vec<f64>,
    /// The unit eigenvectors, `[count][n]`, mutually orthogonal, each with its largest
    /// component positive.
    pub vectors: Vec<Vec<f64>>,
}

/// A symmetric matrix `A = Q·T·Qᵀ` reduced to a tridiagonal `T` by Householder reflections
/// `Q = H₀·H₁·…·H_{n−3}`.
#[derive(Debug, Clone)]
pub struct Tridiagonalized {
    /// The diagonal of `T`, `[n]`.
    diagonal: Vec<f64>,
    /// The off-diagonal of `T`, `[n − 1]` (`T[i][i+1] = T[i+1][i] = off_diagonal[i]`).
    off_diagonal: Vec<f64>,
    /// Reflection `k` is `I − β·v·vᵀ` acting on indices `k+1..n`: `(v, β)`, `v` of length `n−k−1`.
    reflectors: Vec<(Vec<f64>, f64)>,
    /// Gershgorin bound on the spectral radius of `T` (and of `A`).
    norm: f64,
}

impl Tridiagonalized {
    /// Reduce the symmetric `n×n` matrix `matrix` (row-major; only its symmetric part is
    /// meaningful, the lower triangle is read) to tridiagonal form.
    ///
    /// # Shapes
    /// `matrix`: `[n·n]`, row-major.
    ///
    /// # Panics
    /// If `matrix.len() != n·n` (a programming error, not user input).
    pub fn new(mut matrix: Vec<f64>, n: usize) -> Self {
        assert_eq!(matrix.len(), n * n, "matrix of {} values is not {n}×{n}", matrix.len());
        let mut diagonal = vec![0.0; n];
        let mut off_diagonal = vec![0.0; n.saturating_sub(1)];
        let mut reflectors = Vec::with_capacity(n.saturating_sub(2));
        // Only the lower triangle is read and updated. Each step streams the trailing block
        // once: the update of step k is fused with the product `A₂₂·v` of step k+1.
        let mut carried: Option<(Reflector, Vec<f64>)> = None;
        for k in 0..n.saturating_sub(2) {
            diagonal[k] = matrix[k * n + k];
            let m = n - k - 1;
            let (reflector, p) = match carried.take() {
                Some(next) => next,
                None => {
                    let reflector = Reflector::new((k + 1..n).map(|i| matrix[i * n + k]).collect());
                    let p = lower_product(&matrix, n, k + 1, &reflector.v, reflector.beta);
                    (reflector, p)
                }
            };
            off_diagonal[k] = reflector.off_diagonal;
            let (v, beta) = (&reflector.v, reflector.beta);
            if beta == 0.0 {
                reflectors.push((reflector.v, 0.0));
                continue;
            }
            // A₂₂ ← H·A₂₂·H = A₂₂ − v·wᵀ − w·vᵀ with p = β·A₂₂·v, w = p − (β/2)(pᵀv)·v.
            let half_k = 0.5 * beta * p.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
            let w: Vec<f64> = p.iter().zip(v).map(|(pi, vi)| pi - half_k * vi).collect();
            // The next reflector comes from the updated column k+1 below the diagonal.
            let mut next = (k + 1 < n - 2).then(|| {
                let x = (1..m).map(|i| matrix[(k + 1 + i) * n + k + 1] - v[i] * w[0] - w[i] * v[0]).collect();
                (Reflector::new(x), vec![0.0; m - 1])
            });
            for i in 0..m {
                let row = &mut matrix[(k + 1 + i) * n + k + 1..=(k + 1 + i) * n + k + 1 + i];
                let (vi, wi) = (v[i], w[i]);
                row[0] -= vi * w[0] + wi * v[0];
                match next.as_mut() {
                    Some((next_reflector, next_p)) if i >= 1 && next_reflector.beta != 0.0 => {
                        let v2i = next_reflector.v[i - 1];
                        // Columns 1..i: update, and accumulate both halves of the symmetric
                        // product (four partial sums, so that the additions can overlap).
                        let (row_j, w_j, v_j) = (&mut row[1..i], &w[1..i], &v[1..i]);
                        let (v2_j, p_j) = (&next_reflector.v[..i - 1], &mut next_p[..i - 1]);
                        let mut sums = [0.0f64; 4];
                        for t in 0..i - 1 {
                            let value = row_j[t] - vi * w_j[t] - wi * v_j[t];
                            row_j[t] = value;
                            sums[t % 4] += value * v2_j[t];
                            p_j[t] += value * v2i;
                        }
                        let value = row[i] - vi * w[i] - wi * v[i];
                        row[i] = value;
                        next_p[i - 1] += sums.iter().sum::<f64>() + value * v2i;
                    }
                    _ => {
                        for j in 1..=i {
                            row[j] -= vi * w[j] + wi * v[j];
                        }
                    }
                }
            }
            if let Some((next_reflector, next_p)) = next.as_mut() {
                next_p.iter_mut().for_each(|x| *x *= next_reflector.beta);
            }
            carried = next;
            reflectors.push((reflector.v, beta));
        }
        if n >= 2 {
            diagonal[n - 2] = matrix[(n - 2) * n + n - 2];
            off_diagonal[n - 2] = matrix[(n - 1) * n + n - 2];
        }
        if n >= 1 {
            diagonal[n - 1] = matrix[n * n - 1];
        }
        let norm = (0..n)
            .map(|i| {
                let left = if i > 0 { off_diagonal[i - 1].abs() } else { 0.0 };
                let right = if i + 1 < n { off_diagonal[i].abs() } else { 0.0 };
                diagonal[i].abs() + left + right
            })
            .fold(0.0, f64::max);
        Tridiagonalized { diagonal, off_diagonal, reflectors, norm }
    }

    /// The size `n` of the matrix.
    pub fn size(&self) -> usize {
        self.diagonal.len()
    }

    /// An upper bound on the largest absolute eigenvalue (Gershgorin).
    pub fn norm_bound(&self) -> f64 {
        self.norm
    }

    /// Number of eigenvalues strictly below `x` (Sturm count of `T − x·I`).
    fn count_below(&self, x: f64) -> usize {
        let tiny = f64::MIN_POSITIVE.sqrt() * self.norm.max(1.0);
        let mut count = 0;
        let mut q = 1.0;
        for i in 0..self.size() {
            let e2 = if i > 0 { self.off_diagonal[i - 1].powi(2) } else { 0.0 };
            q = self.diagonal[i] - x - if i > 0 { e2 / q } else { 0.0 };
            if q == 0.0 {
                q = -tiny;
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    }

    /// The `index`-th smallest eigenvalue (0-based), by bisection to machine precision; NaN if
    /// the matrix has a non-finite entry.
    ///
    /// # Panics
    /// If `index >= n`.
    pub fn eigenvalue(&self, index: usize) -> f64 {
        assert!(index < self.size(), "eigenvalue {index} of a {0}×{0} matrix", self.size());
        if !self.norm.is_finite() {
            return f64::NAN;
        }
        let pad = self.norm.max(f64::MIN_POSITIVE) * 1e-12;
        let (mut lo, mut hi) = (-self.norm - pad, self.norm + pad);
        // Invariant: count_below(lo) ≤ index < count_below(hi). Each step halves the interval, so
        // the floating-point midpoint stops moving within about 2100 steps at the very most.
        loop {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi || hi - lo <= 2.0 * f64::EPSILON * (lo.abs().max(hi.abs()) + self.norm * 1e-3) {
                return mid;
            }
            if self.count_below(mid) > index {
                hi = mid;
            } else {
                lo = mid;
            }
        }
    }

    /// The `count` smallest eigenvalues and their unit eigenvectors (eigenvectors of the
    /// original matrix, orthonormal also within degenerate eigenvalues).
    pub fn lowest(&self, count: usize) -> Eigenpairs {
        let count = count.min(self.size());
        let values: Vec<f64> = (0..count).map(|i| self.eigenvalue(i)).collect();
        let mut tridiagonal_vectors: Vec<Vec<f64>> = Vec::with_capacity(count);
        for (i, &lambda) in values.iter().enumerate() {
            let y = self.inverse_iteration(lambda, i as u64, &tridiagonal_vectors);
            tridiagonal_vectors.push(y);
        }
        let vectors = tridiagonal_vectors
            .into_iter()
            .map(|y| {
                // A fixed sign: the largest component (the first, in a tie) is positive.
                let mut x = self.back_transform(y);
                let largest = x.iter().fold(0.0f64, |m, &v| if v.abs() > m.abs() { v } else { m });
                if largest < 0.0 {
                    x.iter_mut().for_each(|v| *v = -*v);
                }
                x
            })
            .collect();
        Eigenpairs { values, vectors }
    }

    /// An eigenvector of `T` for the eigenvalue `lambda`, orthogonal to `previous`.
    fn inverse_iteration(&self, lambda: f64, seed: u64, previous: &[Vec<f64>]) -> Vec<f64> {
        let n = self.size();
        let lu = TridiagonalLu::new(&self.diagonal, &self.off_diagonal, lambda, self.norm);
        // A deterministic, generic start vector (xorshift), different for every eigenvalue.
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
        let mut x: Vec<f64> = (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect();
        orthonormalize(&mut x, previous);
        for _ in 0..6 {
            lu.solve(&mut x);
            orthonormalize(&mut x, previous);
        }
        x
    }

    /// `Q·y`: from an eigenvector of `T` to one of the original matrix.
    fn back_transform(&self, mut y: Vec<f64>) -> Vec<f64> {
        for (k, (v, beta)) in self.reflectors.iter().enumerate().rev() {
            if *beta == 0.0 {
                continue;
            }
            let tail = &mut y[k + 1..];
            let dot: f64 = tail.iter().zip(v).map(|(a, b)| a * b).sum();
            for (a, b) in tail.iter_mut().zip(v) {
                *a -= beta * dot * b;
            }
        }
        y
    }
}

/// A Householder reflection `I − β·v·vᵀ` that maps `x` to `off_diagonal·e₁`.
struct Reflector {
    v: Vec<f64>,
    beta: f64,
    off_diagonal: f64,
}

impl Reflector {
    fn new(x: Vec<f64>) -> Self {
        let tail = x[1..].iter().map(|v| v * v).sum::<f64>();
        if tail == 0.0 {
            // Already tridiagonal in this column: no reflection (β = 0).
            let off_diagonal = x[0];
            return Reflector { v: x, beta: 0.0, off_diagonal };
        }
        let norm_x = (x[0] * x[0] + tail).sqrt();
        let alpha = if x[0] >= 0.0 { -norm_x } else { norm_x };
        let mut v = x;
        v[0] -= alpha;
        let beta = 2.0 / v.iter().map(|a| a * a).sum::<f64>();
        Reflector { v, beta, off_diagonal: alpha }
    }
}

/// `β·A₂₂·v` for the trailing block `A₂₂ = A[start.., start..]`, from its lower triangle.
fn lower_product(matrix: &[f64], n: usize, start: usize, v: &[f64], beta: f64) -> Vec<f64> {
    let mut p = vec![0.0; v.len()];
    if beta == 0.0 {
        return p;
    }
    for i in 0..v.len() {
        let row = &matrix[(start + i) * n + start..=(start + i) * n + start + i];
        let vi = v[i];
        let mut sum = 0.0;
        for j in 0..i {
            sum += row[j] * v[j];
            p[j] += row[j] * vi;
        }
        p[i] += sum + row[i] * vi;
    }
    p.iter_mut().for_each(|x| *x *= beta);
    p
}

/// Remove from `x` its components along the (orthonormal) `basis`, then scale it to unit length.
/// A vector that vanishes is replaced by a unit coordinate vector orthogonal to the basis.
fn orthonormalize(x: &mut [f64], basis: &[Vec<f64>]) {
    for _ in 0..2 {
        for b in basis {
            let dot: f64 = x.iter().zip(b).map(|(p, q)| p * q).sum();
            x.iter_mut().zip(b).for_each(|(p, q)| *p -= dot * q);
        }
    }
    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        x.iter_mut().for_each(|v| *v /= norm);
    } else {
        // Cannot happen for a basis smaller than n; kept finite all the same.
        x.iter_mut().for_each(|v| *v = 0.0);
    }
}

/// `T − λ·I = P·L·U` by Gaussian elimination with partial pivoting (`U` has two
/// super-diagonals), for inverse iteration.
struct TridiagonalLu {
    /// Rows of `U`: entries at columns `i`, `i+1`, `i+2`.
    upper: Vec<[f64; 3]>,
    /// Elimination multipliers.
    multipliers: Vec<f64>,
    /// Whether rows `i` and `i+1` were swapped at step `i`.
    swapped: Vec<bool>,
}

impl TridiagonalLu {
    fn new(diagonal: &[f64], off: &[f64], lambda: f64, norm: f64) -> Self {
        let n = diagonal.len();
        let tiny = f64::EPSILON * norm.max(f64::MIN_POSITIVE);
        let mut upper = vec![[0.0; 3]; n];
        let mut multipliers = vec![0.0; n.saturating_sub(1)];
        let mut swapped = vec![false; n.saturating_sub(1)];
        if n == 0 {
            return TridiagonalLu { upper, multipliers, swapped };
        }
        // The current (partly eliminated) row i: entries at columns i and i+1.
        let mut current = [diagonal[0] - lambda, off.first().copied().unwrap_or(0.0)];
        for i in 0..n - 1 {
            let below = off[i];
            let next = [diagonal[i + 1] - lambda, off.get(i + 1).copied().unwrap_or(0.0)];
            if below.abs() > current[0].abs() {
                upper[i] = [below, next[0], next[1]];
                let l = current[0] / below;
                multipliers[i] = l;
                swapped[i] = true;
                current = [current[1] - l * next[0], -l * next[1]];
            } else {
                if current[0] == 0.0 {
                    current[0] = tiny;
                }
                upper[i] = [current[0], current[1], 0.0];
                let l = below / current[0];
                multipliers[i] = l;
                current = [next[0] - l * current[1], next[1]];
            }
        }
        upper[n - 1] = [if current[0] == 0.0 { tiny } else { current[0] }, 0.0, 0.0];
        TridiagonalLu { upper, multipliers, swapped }
    }

    /// Overwrite `x` with `(T − λ·I)⁻¹·x`.
    fn solve(&self, x: &mut [f64]) {
        let n = x.len();
        for i in 0..n.saturating_sub(1) {
            if self.swapped[i] {
                x.swap(i, i + 1);
            }
            x[i + 1] -= self.multipliers[i] * x[i];
        }
        for i in (0..n).rev() {
            let mut s = x[i];
            if i + 1 < n {
                s -= self.upper[i][1] * x[i + 1];
            }
            if i + 2 < n {
                s -= self.upper[i][2] * x[i + 2];
            }
            x[i] = s / self.upper[i][0];
        }
        // Keep the iterate representable: near an exact eigenvalue the growth is ~1/ε per solve.
        let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if scale > 0.0 && scale.is_finite() {
            x.iter_mut().for_each(|v| *v /= scale);
        }
    }
}
