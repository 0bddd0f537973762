package dev.rankwise.spi;

import dev.rankwise.Tensor;

/// Dense decompositions a backend provides on 2-D F32/F64 matrices. Inputs are never modified; results
/// are new contiguous tensors of the input's dtype and device. Inputs have been validated by `Linalg`
/// (finite, right shape, symmetric where required). The user-facing API, with validation,
/// randomized SVD and the solvers built on these, is `dev.rankwise.linalg.Linalg`.
public interface LinalgKernels {
    /// Thin SVD of an m×n matrix, k = min(m, n): `{U [m,k], S [k] descending, Vh [k,n]}`; with
    /// `computeUV` false, `{null, S, null}`.
    Tensor[] svd(Tensor a, boolean computeUV);

    /// Householder QR: reduced `{Q [m,k], R [k,n]}` or complete `{Q [m,m], R [m,n]}` (any signs; `Linalg`
    /// makes R's diagonal non-negative).
    Tensor[] qr(Tensor a, boolean complete);

    /// Symmetric eigendecomposition of an n×n matrix: `{values [n] ascending, vectors [n,n] as columns}`.
    Tensor[] eigh(Tensor a);

    /// LU with partial pivoting of an m×n matrix: `{perm (I32 [m]), L [m,k] unit lower, U [k,n] upper}`
    /// with `A[perm[i], :] = (L U)[i, :]`.
    Tensor[] lu(Tensor a);

    /// Lower Cholesky factor L of a symmetric positive definite matrix, A = L Lᵀ.
    Tensor cholesky(Tensor a);

    /// Solves `A X = B` for triangular A [n,n] and B [n,r].
    Tensor solveTriangular(Tensor a, Tensor b, boolean lower, boolean unitDiagonal);
}
