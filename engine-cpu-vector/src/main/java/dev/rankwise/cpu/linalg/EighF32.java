package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;

/// Symmetric eigendecomposition of a row-major F32 matrix: blocked Householder tridiagonalization
/// ([TridiagonalF32]), divide and conquer on the tridiagonal matrix ([TridiagonalDcF32]), and the
/// reflectors applied to its eigenvectors as GEMMs — LAPACK's dsyevd path. The matrix is
/// symmetrized as (A + Aᵀ)/2 and scaled by a power of two into [0.5, 1) first.
/// GENERATED from `EighF64.java` by `GenerateF32Linalg` (tests); do not edit.
final class EighF32 {
    private EighF32() {}

    private static final /*keep*/double EPS = Math.ulp((float) 1) / 2;

    /// A [n, n] → {values [n] ascending, vectors [n, n] row-major with the eigenvectors as columns}.
    /// On several threads the decomposition runs on this thread with the pool loops and GEMM splits
    /// inside inline, and only large independent pieces on the spinning team: the divide and conquer's
    /// halves, its top merges' secular loops and products, the back-transformation's column bands, the
    /// reduction's SYMVs from n = 512. Measured F32, 2 threads: the pool's splits (a parked worker's
    /// wake-up each) and the GEMMs' own splits of the skinny products here cost more than they gained
    /// at n = 256 and 512, and gained less than the team at 1024 (reduction 47 against 42 ms, divide
    /// and conquer 24 against 20).
    static float[][] eigh(float[] a, int n) {
        if (Parallel.threads() > 1 && !Parallel.nested()) return Parallel.onTeam(() -> decompose(a, n));
        return decompose(a, n);
    }

    private static float[][] decompose(float[] a, int n) {
        // w = (A + Aᵀ)/2: its lower triangle, column-major, is what the reduction reads.
        float[] w = new float[n * n];
        BlasF32.transpose(n, n, a, 0, n, w, 0, n);
        for (int i = 0; i < w.length; i++) w[i] = (float) (((/*keep*/double) w[i] + a[i]) / 2);
        int exp = Scalars.scaleExponent(BlasF32.maxAbs(w));
        BlasF32.scale(w, exp);
        TridiagonalF32.Result t = TridiagonalF32.sytrd(n, w, n);
        // T = Z·Λ·Zᵀ by divide and conquer, then A's vectors Q·Z with Q = diag(1, Q') applied as
        // blocked reflectors (LAPACK's dormtr) to rows 1… of Z.
        /*keep*/double[] d = t.d();
        /*keep*/double[] e = java.util.Arrays.copyOf(t.e(), Math.max(1, n - 1));
        float[] z = TridiagonalDcF32.solve(d, e, n);
        if (n > 1) HouseholderF32.applyQ(n - 1, n, n - 1, w, 1, n, t.tau(), 0, z, 1, n, false);
        float[] values = new float[n];
        for (int c = 0; c < n; c++) values[c] = (float) Math.scalb(d[c], -exp);
        float[] permuted = z;
        float[] vectors = new float[n * n];
        BlasF32.transpose(n, n, permuted, 0, n, vectors, 0, n);
        return new float[][] {values, vectors};
    }
}
