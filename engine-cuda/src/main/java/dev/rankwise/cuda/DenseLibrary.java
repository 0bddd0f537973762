package dev.rankwise.cuda;

/// The cuBLAS and cuSOLVER entry points Rankwise uses, behind one small interface with two
/// bindings: [JCudaDense] (JCublas 12.6 / JCusolver, for CUDA 12 libraries) and [ForeignDense]
/// (`java.lang.foreign` on the same C functions, for CUDA 13 libraries). Arguments are exactly the
/// C API's, column-major, with device pointers as raw addresses; `f64` picks the D over the S
/// routine. Scalars (alpha, beta) are host values. Every call runs on the device's stream; every
/// status is checked and a failure names the routine.
interface DenseLibrary extends AutoCloseable {
    /// Binding and library versions, e.g. `jcuda: JCublas2 12.6.0 on libcublas.so.12 (12.6.4), ...`.
    String description();

    /// TF32 tensor-core math for F32 GEMMs (`CUBLAS_TF32_TENSOR_OP_MATH`) or plain F32 (default).
    void setTf32(boolean on);

    /// `C_i = alpha·op(A_i)·op(B_i) + beta·C_i` for i < batch, `X_i = X + i·strideX`.
    void gemmStridedBatched(boolean f64, boolean transA, boolean transB, int m, int n, int k, double alpha,
                            long a, int lda, long strideA, long b, int ldb, long strideB, double beta, long c, int ldc, long strideC, int batch);

    /// Solves `op(A)·X = alpha·B` (left) or `X·op(A) = alpha·B` (right) for triangular A, in place in B (m×n).
    void trsm(boolean f64, boolean right, boolean upper, boolean transA, boolean unitDiag, int m, int n, double alpha, long a, int lda, long b, int ldb);

    /// Jacobi SVD (`gesvdj`, economy size, default tolerance and sweeps): A (m×n) = U·diag(S)·Vᵀ with
    /// U m×k, V n×k (V, not Vᵀ), k = min(m, n). A is overwritten. Returns `info` (0: converged).
    int gesvdj(boolean f64, boolean vectors, int m, int n, long a, int lda, long s, long u, int ldu, long v, int ldv, Workspace ws);

    /// QR-iteration SVD (`gesvd`, m >= n): jobu/jobvt 'S' (k columns) or 'N'. Returns `info`.
    int gesvd(boolean f64, char jobu, char jobvt, int m, int n, long a, int lda, long s, long u, int ldu, long vt, int ldvt, Workspace ws);

    /// Symmetric eigendecomposition (`syevd`, lower triangle): eigenvalues ascending in w, vectors
    /// in A's columns when `vectors`. Returns `info`.
    int syevd(boolean f64, boolean vectors, int n, long a, int lda, long w, Workspace ws);

    /// Householder QR (`geqrf`): R in A's upper triangle, reflectors below with scalars in tau.
    int geqrf(boolean f64, int m, int n, long a, int lda, long tau, Workspace ws);

    /// The first n columns of Q from k reflectors (`orgqr`), in place in A (m×n).
    int orgqr(boolean f64, int m, int n, int k, long a, int lda, long tau, Workspace ws);

    /// LU with partial pivoting (`getrf`): L and U in A, 1-based pivots in ipiv (I32, min(m, n)).
    int getrf(boolean f64, int m, int n, long a, int lda, long ipiv, Workspace ws);

    /// Cholesky (`potrf`) of the `upper` or lower triangle, in place. `info` > 0: not positive definite.
    int potrf(boolean f64, boolean upper, int n, long a, int lda, Workspace ws);

    @Override
    void close();

    /// Device scratch the solver routines need: a workspace of the size the routine asks for and
    /// the `devInfo` word, both from the caching allocator, and reading `info` back.
    interface Workspace {
        /// A device buffer of at least `elements` elements of the routine's type (F32 or F64).
        long work(long elements);

        /// The device address of the `info` word.
        long info();

        /// Waits for the stream and returns the `info` word.
        int readInfo();
    }
}
