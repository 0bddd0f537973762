package dev.rankwise.cpu.linalg;

/// Symmetric eigendecomposition of a row-major F32 matrix: blocked Householder tridiagonalization
/// ([TridiagonalF32]), the explicit Q, then the implicit QL iteration ([TridiagonalQl]) with its
/// rotations applied to Q in cache-sized batches ([RotationsF32]) — LAPACK's dsyev path. The matrix is
/// symmetrized as (A + Aᵀ)/2 and scaled by a power of two into [0.5, 1) first.
/// GENERATED from `EighF64.java` by `GenerateF32Linalg` (tests); do not edit.
final class EighF32 {
    private EighF32() {}

    private static final /*keep*/double EPS = Math.ulp((float) 1) / 2;

    /// A [n, n] → {values [n] ascending, vectors [n, n] row-major with the eigenvectors as columns}.
    static float[][] eigh(float[] a, int n) {
        float[] w = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                float v = (float) (((/*keep*/double) a[i * n + j] + a[j * n + i]) / 2);
                w[j * n + i] = v;
                w[i * n + j] = v;
            }
        }
        int exp = Scalars.scaleExponent(BlasF32.maxAbs(w));
        BlasF32.scale(w, exp);
        TridiagonalF32.Result t = TridiagonalF32.sytrd(n, w, n);
        // Z = Q = diag(1, Q') with Q' from the reflectors stored below the subdiagonal.
        float[] z = new float[n * n];
        z[0] = 1;
        if (n > 1) {
            float[] q = HouseholderF32.formQ(n - 1, n - 1, n - 1, w, 1, n, t.tau(), 0);
            for (int j = 0; j < n - 1; j++) System.arraycopy(q, j * (n - 1), z, (j + 1) * n + 1, n - 1);
        }
        RotationLog log = new RotationLog(Scalars.logCapacity(n), l -> RotationsF32.apply(l, z, n, n, n));
        /*keep*/double[] d = t.d();
        TridiagonalQl.iterate(d, t.e(), n, EPS, log);
        log.flush();
        int[] order = Scalars.ascending(d);
        float[] values = new float[n];
        float[] permuted = new float[n * n];
        for (int c = 0; c < n; c++) {
            values[c] = (float) Math.scalb(d[order[c]], -exp);
            System.arraycopy(z, order[c] * n, permuted, c * n, n);
        }
        float[] vectors = new float[n * n];
        BlasF32.transpose(n, n, permuted, 0, n, vectors, 0, n);
        return new float[][] {values, vectors};
    }
}
