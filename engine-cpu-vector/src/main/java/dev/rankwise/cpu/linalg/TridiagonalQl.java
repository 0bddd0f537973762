package dev.rankwise.cpu.linalg;

/// Eigenvalues of a symmetric tridiagonal matrix (diagonal d, subdiagonal e) by the implicit QL
/// iteration with Wilkinson-type shifts (Bowdler, Martin, Reinsch & Wilkinson 1968, EISPACK's tql2).
/// Runs in double for both dtypes (O(n²) work); `eps` is the unit roundoff of the data's dtype, so F32
/// data stops at F32 accuracy. The rotations acting on columns (i, i+1) of the eigenvector matrix are
/// recorded in `z` (may be null). On return d holds the eigenvalues, unsorted.
final class TridiagonalQl {
    private TridiagonalQl() {}

    private static final int MAX_ITER_PER_VALUE = 60;

    /// `e[i]` couples i and i+1 (length ≥ n − 1); e is overwritten.
    static void iterate(double[] d, double[] e, int n, double eps, RotationLog z) {
        if (n <= 1) return;
        double[] sub = new double[n];
        System.arraycopy(e, 0, sub, 0, n - 1);
        double f = 0, tst1 = 0;
        for (int l = 0; l < n; l++) {
            tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(sub[l]));
            int m = l;
            while (m < n - 1 && Math.abs(sub[m]) > eps * tst1) m++;
            if (m > l) {
                int iter = 0;
                do {
                    if (++iter > MAX_ITER_PER_VALUE) {
                        throw new ArithmeticException("eigh: tridiagonal QL did not converge for eigenvalue " + l + " of " + n);
                    }
                    // Shift from the leading 2×2 of the unreduced block.
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * sub[l]);
                    double r = Scalars.hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = sub[l] / (p + r);
                    d[l + 1] = sub[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;
                    // Implicit QL sweep from the bottom of the block up.
                    p = d[m];
                    double c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
                    double el1 = sub[l + 1];
                    for (int i = m - 1; i >= l; i--) {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * sub[i];
                        h = c * p;
                        r = Scalars.hypot(p, sub[i]);
                        sub[i + 1] = s * r;
                        s = sub[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        if (z != null) z.add(i, c, -s);
                    }
                    p = -s * s2 * c3 * el1 * sub[l] / dl1;
                    sub[l] = s * p;
                    d[l] = c * p;
                } while (Math.abs(sub[l]) > eps * tst1);
            }
            d[l] += f;
            sub[l] = 0;
        }
    }
}
