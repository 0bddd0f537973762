package dev.rankwise.cpu.linalg;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The bidiagonal divide and conquer ([BidiagonalDcF64], [BidiagonalDcF32]) on inputs that exercise its
/// deflations and splits, checked by its identities (B = U·diag(s)·Vᵀ, UᵀU = VᵀV = I) and against the
/// singular values of the bidiagonal QR iteration ([BidiagonalQr], the reference path). All checks are
/// computed in F64 from the results. Tolerances as in [LinalgCheck]: 1e-12 (F64), 1e-5 (F32), for the
/// Frobenius residual relative to ‖B‖_F, the largest entry of UᵀU − I and VᵀV − I, and the difference of
/// the singular values relative to ‖B‖₂ (both methods are normwise backward stable, so they agree to
/// a small multiple of n·u·‖B‖; the deflations perturb B by at most 8·u·‖B‖ each).
class BidiagonalDcTest {
    private static final int LEAF = BidiagonalDcF64.LEAF;

    /// Sizes below, at and above the leaf size, and ones whose halves split unevenly further down.
    private static final int[] SIZES = {1, 2, 3, LEAF - 1, LEAF, LEAF + 1, LEAF + 2, 2 * LEAF + 1, 3 * LEAF + 5, 200, 257};

    @Test
    void randomBidiagonals() {
        Random r = new Random(1);
        for (int n : SIZES) {
            double[] d = new double[n], e = new double[Math.max(0, n - 1)];
            for (int i = 0; i < n; i++) d[i] = r.nextGaussian();
            for (int i = 0; i < e.length; i++) e[i] = r.nextGaussian();
            checkBoth(d, e, "random n=" + n);
        }
    }

    @Test
    void manyEqualSingularValues() {
        for (int n : SIZES) {
            // Identity: every z component but the coupling ones deflates, and all the values coincide.
            double[] d = new double[n], e = new double[Math.max(0, n - 1)];
            checkBoth(d.clone(), e.clone(), "zero n=" + n);
            Arrays.fill(d, 1);
            checkBoth(d, e, "identity n=" + n);
            // Three distinct values repeated, weakly coupled: close-value deflation across the halves.
            for (int i = 0; i < n; i++) d[i] = 1 + i % 3;
            Arrays.fill(e, 1e-9);
            checkBoth(d, e, "repeated n=" + n);
        }
    }

    @Test
    void zerosOnTheDiagonalAndSuperdiagonal() {
        Random r = new Random(2);
        for (int n : SIZES) {
            double[] d = new double[n], e = new double[Math.max(0, n - 1)];
            for (int i = 0; i < n; i++) d[i] = r.nextGaussian();
            for (int i = 0; i < e.length; i++) e[i] = r.nextGaussian();
            // Zeros at the middle row of the first splits and around the leaves' edges.
            for (int i : new int[] {0, n / 2, n / 4, n / 2 + n / 4 + 1, LEAF - 1, LEAF, n - 1}) if (i < n) d[i] = 0;
            checkBoth(d, e, "zero diagonal n=" + n);
            double[] e2 = e.clone();
            for (int i : new int[] {0, n / 2, n / 4, n / 2 - 1, LEAF - 1, n - 2}) if (i >= 0 && i < e2.length) e2[i] = 0;
            checkBoth(d.clone(), e2, "zero diagonal and superdiagonal n=" + n);
            for (int i = 0; i < n; i += 2) d[i] = 0;
            checkBoth(d, e, "every other diagonal zero n=" + n);
        }
    }

    @Test
    void gradedFrom1eMinus30To1() {
        Random r = new Random(3);
        for (int n : SIZES) {
            double[] d = new double[n], e = new double[Math.max(0, n - 1)];
            for (int i = 0; i < n; i++) d[i] = Math.pow(1e-30, (double) i / Math.max(1, n - 1)) * (1 + r.nextDouble());
            for (int i = 0; i < e.length; i++) e[i] = d[i + 1] * r.nextGaussian();
            checkBoth(d, e, "graded down n=" + n);
            double[] dr = new double[n], er = new double[e.length];
            for (int i = 0; i < n; i++) dr[i] = d[n - 1 - i];
            for (int i = 0; i < e.length; i++) er[i] = e[e.length - 1 - i];
            checkBoth(dr, er, "graded up n=" + n);
        }
    }

    /// The full SVD through the divide and conquer against the QR iteration's, on a matrix whose
    /// bidiagonal both see: same singular values, and both sets of vectors satisfy the identities.
    @Test
    void svdAgreesWithTheQrIterationPath() {
        Random r = new Random(4);
        int[][] shapes = {{LEAF + 1, LEAF + 1}, {150, 97}, {97, 150}, {129, 129}};
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1], k = Math.min(m, n);
            double[] a = new double[m * n];
            for (int i = 0; i < a.length; i++) a[i] = r.nextGaussian();
            double[][] dc = SvdF64.svd(a, m, n, true, true), qr = SvdF64.svd(a, m, n, true, false);
            for (int i = 0; i < k; i++) assertEquals(qr[1][i], dc[1][i], 1e-12 * qr[1][0], "svd " + m + "x" + n + " s" + i);
            double res = 0, norm = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double x = 0;
                    for (int l = 0; l < k; l++) x += dc[0][i * k + l] * dc[1][l] * dc[2][l * n + j];
                    res += (x - a[i * n + j]) * (x - a[i * n + j]);
                    norm += a[i * n + j] * a[i * n + j];
                }
            }
            assertTrue(Math.sqrt(res / norm) <= 1e-12, "svd " + m + "x" + n + " residual " + Math.sqrt(res / norm));
        }
    }

    private static void checkBoth(double[] d, double[] e, String what) {
        int n = d.length;
        double[] ref = d.clone();
        BidiagonalQr.iterate(ref, e.clone(), n, 0x1p-53, null, null);
        for (int i = 0; i < n; i++) ref[i] = Math.abs(ref[i]);
        Arrays.sort(ref);

        double[] s64 = d.clone();
        double[][] uv = BidiagonalDcF64.solve(s64, e.clone(), n, 0x1p-53);
        check(d, e, s64, uv[0], uv[1], ref, 1e-12, what + " F64");

        double[] s32 = d.clone();
        float[][] uv32 = BidiagonalDcF32.solve(s32, e.clone(), n, 0x1p-24);
        check(d, e, s32, widen(uv32[0]), widen(uv32[1]), ref, 1e-5, what + " F32");
    }

    private static void check(double[] d, double[] e, double[] s, double[] u, double[] v, double[] ref, double tol, String what) {
        int n = d.length;
        double bnorm = 0, bmax = 0;
        for (int i = 0; i < n; i++) {
            bnorm += d[i] * d[i] + (i < n - 1 ? e[i] * e[i] : 0);
            bmax = Math.max(bmax, Math.abs(d[i]) + (i < n - 1 ? Math.abs(e[i]) : 0));
        }
        for (int i = 0; i < n; i++) {
            assertTrue(s[i] >= 0 && (i == 0 || s[i] >= s[i - 1]), what + ": values not ascending and non-negative at " + i);
            // ‖B‖₂ ≤ max row sum of |B|.
            assertEquals(ref[i], s[i], tol * Math.max(bmax, Double.MIN_NORMAL), what + ": singular value " + i);
        }
        double res = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double x = 0;
                for (int l = 0; l < n; l++) x += u[l * n + i] * s[l] * v[l * n + j];
                double b = j == i ? d[i] : j == i + 1 ? e[i] : 0;
                res += (x - b) * (x - b);
            }
        }
        double rel = bnorm == 0 ? Math.sqrt(res) : Math.sqrt(res / bnorm);
        assertTrue(rel <= tol, what + ": residual " + rel);
        assertTrue(orthogonality(u, n) <= tol, what + ": U orthogonality " + orthogonality(u, n));
        assertTrue(orthogonality(v, n) <= tol, what + ": V orthogonality " + orthogonality(v, n));
    }

    /// max |QᵀQ − I| for Q n×n column-major.
    private static double orthogonality(double[] q, int n) {
        double worst = 0;
        for (int a = 0; a < n; a++) {
            for (int b = 0; b <= a; b++) {
                double x = 0;
                for (int i = 0; i < n; i++) x += q[a * n + i] * q[b * n + i];
                worst = Math.max(worst, Math.abs(x - (a == b ? 1 : 0)));
            }
        }
        return worst;
    }

    private static double[] widen(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i];
        return y;
    }
}
