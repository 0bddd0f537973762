package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;

/// Symmetric eigendecomposition of a row-major F64 matrix: blocked Householder tridiagonalization
/// ([TridiagonalF64]), divide and conquer on the tridiagonal matrix ([TridiagonalDcF64]), and the
/// reflectors applied to its eigenvectors as GEMMs — LAPACK's dsyevd path. The matrix is
/// symmetrized as (A + Aᵀ)/2 and scaled by a power of two into [0.5, 1) first.
/// Hand-written; `EighF32` is generated from this file.
final class EighF64 {
    private EighF64() {}

    private static final /*keep*/double EPS = Math.ulp((double) 1) / 2;

    /// Below this order the whole decomposition runs on one thread. Measured (F32, 2 threads against 1,
    /// per phase): at n = 256 and 512 no phase gained from the second thread (the divide and conquer's
    /// halves side by side took as long, the split back-transformation and rank-2k update 20–50% longer),
    /// at n = 1024 the back-transformation gained 25% and the whole 20%.
    static final int PARALLEL_ORDER = 768;

    /// A [n, n] → {values [n] ascending, vectors [n, n] row-major with the eigenvectors as columns}.
    static double[][] eigh(double[] a, int n) {
        if (n < PARALLEL_ORDER && Parallel.threads() > 1 && !Parallel.nested()) {
            // On this thread with the pool loops inside inline; the spinning team still takes GEMM
            // bands and the large independent pieces (Fork, Team.split).
            return Parallel.onTeam(() -> decompose(a, n));
        }
        return decompose(a, n);
    }

    private static double[][] decompose(double[] a, int n) {
        // w = (A + Aᵀ)/2: its lower triangle, column-major, is what the reduction reads.
        double[] w = new double[n * n];
        BlasF64.transpose(n, n, a, 0, n, w, 0, n);
        for (int i = 0; i < w.length; i++) w[i] = (double) (((/*keep*/double) w[i] + a[i]) / 2);
        int exp = Scalars.scaleExponent(BlasF64.maxAbs(w));
        BlasF64.scale(w, exp);
        TridiagonalF64.Result t = TridiagonalF64.sytrd(n, w, n);
        // T = Z·Λ·Zᵀ by divide and conquer, then A's vectors Q·Z with Q = diag(1, Q') applied as
        // blocked reflectors (LAPACK's dormtr) to rows 1… of Z.
        /*keep*/double[] d = t.d();
        /*keep*/double[] e = java.util.Arrays.copyOf(t.e(), Math.max(1, n - 1));
        double[] z = TridiagonalDcF64.solve(d, e, n);
        if (n > 1) HouseholderF64.applyQ(n - 1, n, n - 1, w, 1, n, t.tau(), 0, z, 1, n, false);
        double[] values = new double[n];
        for (int c = 0; c < n; c++) values[c] = (double) Math.scalb(d[c], -exp);
        double[] permuted = z;
        double[] vectors = new double[n * n];
        BlasF64.transpose(n, n, permuted, 0, n, vectors, 0, n);
        return new double[][] {values, vectors};
    }
}
