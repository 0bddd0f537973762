package dev.rankwise.cpu.linalg;

/// Symmetric eigendecomposition of a row-major F64 matrix: blocked Householder tridiagonalization
/// ([TridiagonalF64]), the explicit Q, then the implicit QL iteration ([TridiagonalQl]) with its
/// rotations applied to Q in cache-sized batches ([RotationsF64]) — LAPACK's dsyev path. The matrix is
/// symmetrized as (A + Aᵀ)/2 and scaled by a power of two into [0.5, 1) first.
/// Hand-written; `EighF32` is generated from this file.
final class EighF64 {
    private EighF64() {}

    private static final /*keep*/double EPS = Math.ulp((double) 1) / 2;

    /// A [n, n] → {values [n] ascending, vectors [n, n] row-major with the eigenvectors as columns}.
    static double[][] eigh(double[] a, int n) {
        double[] w = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double v = (double) (((/*keep*/double) a[i * n + j] + a[j * n + i]) / 2);
                w[j * n + i] = v;
                w[i * n + j] = v;
            }
        }
        int exp = Scalars.scaleExponent(BlasF64.maxAbs(w));
        BlasF64.scale(w, exp);
        TridiagonalF64.Result t = TridiagonalF64.sytrd(n, w, n);
        // Z = Q = diag(1, Q') with Q' from the reflectors stored below the subdiagonal.
        double[] z = new double[n * n];
        z[0] = 1;
        if (n > 1) {
            double[] q = HouseholderF64.formQ(n - 1, n - 1, n - 1, w, 1, n, t.tau(), 0);
            for (int j = 0; j < n - 1; j++) System.arraycopy(q, j * (n - 1), z, (j + 1) * n + 1, n - 1);
        }
        RotationLog log = new RotationLog(Scalars.logCapacity(n), l -> RotationsF64.apply(l, z, n, n, n));
        /*keep*/double[] d = t.d();
        TridiagonalQl.iterate(d, t.e(), n, EPS, log);
        log.flush();
        int[] order = Scalars.ascending(d);
        double[] values = new double[n];
        double[] permuted = new double[n * n];
        for (int c = 0; c < n; c++) {
            values[c] = (double) Math.scalb(d[order[c]], -exp);
            System.arraycopy(z, order[c] * n, permuted, c * n, n);
        }
        double[] vectors = new double[n * n];
        BlasF64.transpose(n, n, permuted, 0, n, vectors, 0, n);
        return new double[][] {values, vectors};
    }
}
