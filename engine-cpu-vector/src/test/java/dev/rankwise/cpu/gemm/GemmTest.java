package dev.rankwise.cpu.gemm;

import dev.rankwise.cpu.Parallel;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/// GEMM against a plain F64 triple loop, over shapes with remainders in every dim, all transposes,
/// offsets, padded leading dims, alpha/beta, and both thread counts. Tolerance for F32: the result's
/// error is bounded by ~k·ε·Σ|a||b| (ε = 2⁻²⁴); we allow 4·k·ε times that sum. F64: the same with 2⁻⁵³.
class GemmTest {
    private static final int[][] SHAPES = {{1, 1, 1}, {1, 17, 5}, {17, 1, 5}, {5, 7, 1}, {13, 45, 33}, {64, 64, 64},
            {70, 129, 31}, {3, 200, 17}, {0, 4, 3}, {4, 0, 3}, {4, 5, 0}};

    @Test
    void matchesReferenceForEveryShapeAndTranspose() {
        Random rnd = new Random(1);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int[] s : SHAPES) {
                for (int t = 0; t < 4; t++) {
                    boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                    check(rnd, s[0], s[1], s[2], ta, tb, 1.5, 0);
                    check(rnd, s[0], s[1], s[2], ta, tb, -0.5, 0.75);
                }
            }
        }
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    private static void check(Random rnd, int m, int n, int k, boolean ta, boolean tb, double alpha, double beta) {
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
        int offA = 2, offB = 5, offC = 1;
        int aRows = ta ? k : m, bRows = tb ? n : k;
        double[] a = random(rnd, offA + Math.max(aRows, 1) * lda), b = random(rnd, offB + Math.max(bRows, 1) * ldb), c = random(rnd, offC + Math.max(m, 1) * ldc);
        float[] af = toF(a), bf = toF(b), cf = toF(c);
        double[] cd = c.clone();
        Gemm.sgemm(ta, tb, m, n, k, (float) alpha, af, offA, lda, bf, offB, ldb, (float) beta, cf, offC, ldc);
        Gemm.dgemm(ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, cd, offC, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double ref = 0, abs = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[offA + p * lda + i] : a[offA + i * lda + p];
                    double bv = tb ? b[offB + j * ldb + p] : b[offB + p * ldb + j];
                    ref += (double) (float) av * (float) bv;
                    abs += Math.abs(av * bv);
                }
                double cOld = c[offC + i * ldc + j];
                double expectF = alpha * ref + (beta == 0 ? 0 : beta * (float) cOld);
                assertEquals(expectF, cf[offC + i * ldc + j], 4 * (k + 2) * 0x1p-24 * (Math.abs(alpha) * abs + Math.abs(beta * cOld)) + 1e-30,
                        "sgemm " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " at " + i + "," + j);
                double refD = 0;
                for (int p = 0; p < k; p++) refD += (ta ? a[offA + p * lda + i] : a[offA + i * lda + p]) * (tb ? b[offB + j * ldb + p] : b[offB + p * ldb + j]);
                assertEquals(alpha * refD + (beta == 0 ? 0 : beta * cOld), cd[offC + i * ldc + j],
                        4 * (k + 2) * 0x1p-53 * (Math.abs(alpha) * abs + Math.abs(beta * cOld)) + 1e-300);
            }
        }
        // Padding between rows of C is never written.
        for (int i = 0; i < m; i++) assertEquals((float) c[offC + i * ldc + n], cf[offC + i * ldc + n]);
    }

    private static double[] random(Random rnd, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = rnd.nextGaussian();
        return x;
    }

    private static float[] toF(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) f[i] = (float) x[i];
        return f;
    }

    @Test
    void rejectsArraysTooShortForTheirSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 4, 4, 4, 1, new float[15], 0, 4, new float[16], 0, 4, 0, new float[16], 0, 4));
        assertEquals(true, e.getMessage().startsWith("sgemm"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Gemm.dgemm(false, false, -1, 4, 4, 1, new double[16], 0, 4, new double[16], 0, 4, 0, new double[16], 0, 4));
    }
}
