package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;
import dev.rankwise.cpu.gemm.Gemm;

/// Gaussian elimination on row-major F64 matrices, blocked right-looking so that most flops are one
/// GEMM per panel (LAPACK's dgetrf, dpotrf, dtrsm): LU with partial pivoting, Cholesky, triangular
/// solves. Inputs are scaled by a power of two first, so values near the dtype's limits are safe.
/// Hand-written; `EliminationF32` is generated from this file.
final class EliminationF64 {
    private EliminationF64() {}

    static final int NB = 48;

    /// `A[perm[i], :] = (L·U)[i, :]` with L [m, k] unit lower and U [k, n] upper, row-major.
    record Lu(int[] perm, double[] l, double[] u) {}

    static Lu lu(double[] a, int m, int n) {
        int k = Math.min(m, n);
        double[] w = a.clone();
        int exp = Scalars.scaleExponent(BlasF64.maxAbs(w));
        BlasF64.scale(w, exp);
        int[] perm = new int[m];
        for (int i = 0; i < m; i++) perm[i] = i;
        double[] tmp = new double[n];
        for (int j0 = 0; j0 < k; j0 += NB) {
            int je = Math.min(k, j0 + NB);
            for (int j = j0; j < je; j++) {
                int piv = j;
                double best = Math.abs(w[j * n + j]);
                for (int i = j + 1; i < m; i++) {
                    double v = Math.abs(w[i * n + j]);
                    if (v > best) {
                        best = v;
                        piv = i;
                    }
                }
                if (piv != j) {
                    System.arraycopy(w, j * n, tmp, 0, n);
                    System.arraycopy(w, piv * n, w, j * n, n);
                    System.arraycopy(tmp, 0, w, piv * n, n);
                    int t = perm[j];
                    perm[j] = perm[piv];
                    perm[piv] = t;
                }
                double pv = w[j * n + j];
                if (pv == 0) continue; // a zero column: U gets a zero pivot, L a zero column
                for (int i = j + 1; i < m; i++) {
                    double l = w[i * n + j] / pv;
                    w[i * n + j] = l;
                    if (l != 0) BlasF64.axpy(je - j - 1, -l, w, j * n + j + 1, w, i * n + j + 1);
                }
            }
            if (je < n) {
                // U12 = L11⁻¹·A12, then A22 −= L21·U12.
                for (int i = j0 + 1; i < je; i++) {
                    for (int p = j0; p < i; p++) BlasF64.axpy(n - je, -w[i * n + p], w, p * n + je, w, i * n + je);
                }
                if (je < m) Gemm.dgemm(false, false, m - je, n - je, je - j0, -1, w, je * n + j0, n, w, j0 * n + je, n, 1, w, je * n + je, n);
            }
        }
        double[] l = new double[m * k], u = new double[k * n];
        for (int i = 0; i < m; i++) {
            System.arraycopy(w, i * n, l, i * k, Math.min(i, k));
            if (i < k) l[i * k + i] = 1;
        }
        for (int i = 0; i < k; i++) {
            for (int c = i; c < n; c++) u[i * n + c] = Math.scalb(w[i * n + c], -exp);
        }
        return new Lu(perm, l, u);
    }

    /// Lower L with A = L·Lᵀ for symmetric positive definite A [n, n] (only its lower triangle is read).
    static double[] cholesky(double[] a, int n) {
        double[] w = a.clone();
        int exp = Scalars.scaleExponent(BlasF64.maxAbs(w)) & ~1; // even: L scales by 2^(exp/2) exactly
        BlasF64.scale(w, exp);
        for (int j0 = 0; j0 < n; j0 += NB) {
            int je = Math.min(n, j0 + NB), jb = je - j0;
            for (int j = j0; j < je; j++) {
                /*keep*/double dd = w[j * n + j] - BlasF64.dot(j - j0, w, j * n + j0, w, j * n + j0);
                if (!(dd > 0)) {
                    throw new ArithmeticException("cholesky: matrix of shape [" + n + ", " + n + "] is not positive definite (pivot "
                            + j + " is " + Math.scalb(dd, -exp) + ")");
                }
                double ljj = (double) Math.sqrt(dd);
                w[j * n + j] = ljj;
                for (int i = j + 1; i < je; i++) {
                    w[i * n + j] = (w[i * n + j] - BlasF64.dot(j - j0, w, i * n + j0, w, j * n + j0)) / ljj;
                }
            }
            if (je == n) break;
            // L21 = A21·L11⁻ᵀ, row by row.
            int below = n - je, c0 = j0, c1 = je;
            Parallel.forRange(below, 64, (s, e) -> {
                for (int i = c1 + s; i < c1 + e; i++) {
                    for (int p = c0; p < c1; p++) {
                        w[i * n + p] = (w[i * n + p] - BlasF64.dot(p - c0, w, i * n + c0, w, p * n + c0)) / w[p * n + p];
                    }
                }
            });
            // A22 −= L21·L21ᵀ on the lower triangle, by row blocks.
            for (int r0 = je; r0 < n; r0 += 256) {
                int rb = Math.min(256, n - r0);
                Gemm.dgemm(false, true, rb, r0 + rb - je, jb, -1, w, r0 * n + j0, n, w, je * n + j0, n, 1, w, r0 * n + je, n);
            }
        }
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(w, i * n + i + 1, (i + 1) * n, 0);
            for (int j = 0; j <= i; j++) w[i * n + j] = Math.scalb(w[i * n + j], -exp / 2);
        }
        return w;
    }

    /// X with A·X = B for triangular A [n, n] and B [n, r], row-major; a zero on A's diagonal (when
    /// not unit) or a solution beyond the dtype's range is an error.
    static double[] solveTriangular(double[] a, int n, double[] b, int r, boolean lower, boolean unit) {
        if (!unit) {
            for (int i = 0; i < n; i++) {
                if (a[i * n + i] == 0) {
                    throw new ArithmeticException("solveTriangular: A of shape [" + n + ", " + n + "] is singular (zero diagonal entry at " + i + ")");
                }
            }
        }
        double[] x = b.clone();
        int eb = Scalars.scaleExponent(BlasF64.maxAbs(x));
        BlasF64.scale(x, eb);
        for (int blk = 0; blk < n; blk += NB) {
            int i0 = lower ? blk : Math.max(0, n - blk - NB), ie = lower ? Math.min(n, blk + NB) : n - blk;
            // Subtract what the solved rows contribute, then substitute within the block.
            if (lower && i0 > 0) Gemm.dgemm(false, false, ie - i0, r, i0, -1, a, i0 * n, n, x, 0, r, 1, x, i0 * r, r);
            if (!lower && ie < n) Gemm.dgemm(false, false, ie - i0, r, n - ie, -1, a, i0 * n + ie, n, x, ie * r, r, 1, x, i0 * r, r);
            for (int step = 0; step < ie - i0; step++) {
                int i = lower ? i0 + step : ie - 1 - step;
                if (lower) for (int p = i0; p < i; p++) BlasF64.axpy(r, -a[i * n + p], x, p * r, x, i * r);
                else for (int p = i + 1; p < ie; p++) BlasF64.axpy(r, -a[i * n + p], x, p * r, x, i * r);
                if (!unit) {
                    double dii = a[i * n + i];
                    for (int c = 0; c < r; c++) x[i * r + c] /= dii;
                }
            }
        }
        BlasF64.scale(x, -eb);
        for (double v : x) {
            if (!Double.isFinite(v)) {
                throw new ArithmeticException("solveTriangular: the solution for A of shape [" + n + ", " + n
                        + "] overflows the dtype (A is too ill-conditioned)");
            }
        }
        return x;
    }
}
