package dev.rankwise.cpu.gemm;

import dev.rankwise.cpu.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/// Row-major GEMM, `C = alpha·op(A)·op(B) + beta·C`, with op(A) m×k and op(B) k×n.
///
/// Element (i, p) of op(A) is `a[offA + i·lda + p]`, or `a[offA + p·lda + i]` when transposed; the same
/// for B with ldb; C(i, j) is `c[offC + i·ldc + j]`. `beta == 0` means C is not read.
///
/// Method: op(A) and op(B) are copied once into contiguous row-major buffers (which also resolves the
/// transposes), then a register-blocked micro-kernel computes 4 rows × 2 vectors of C at a time with
/// fused multiply-adds over k, rows split over [Parallel]'s pool. Column tails use masked vectors.
public final class Gemm {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final int MR = 4;

    private Gemm() {}

    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int offA, int lda, float[] b, int offB, int ldb,
                             float beta, float[] c, int offC, int ldc) {
        check("sgemm", transA, transB, m, n, k, a.length, offA, lda, b.length, offB, ldb, c.length, offC, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0) {
            scaleC(m, n, beta, c, offC, ldc);
            return;
        }
        float[] pa = new float[m * k], pb = new float[k * n];
        for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) pa[i * k + p] = transA ? a[offA + p * lda + i] : a[offA + i * lda + p];
        for (int p = 0; p < k; p++) {
            if (transB) for (int j = 0; j < n; j++) pb[p * n + j] = b[offB + j * ldb + p];
            else System.arraycopy(b, offB + p * ldb, pb, p * n, n);
        }
        int blocks = (m + MR - 1) / MR;
        long work = (long) m * n * k;
        int grain = work < (1 << 18) ? blocks : Math.max(1, blocks / (4 * Parallel.threads()));
        Parallel.forRange(blocks, grain, (s, e) -> {
            for (int blk = s; blk < e; blk++) {
                int i0 = blk * MR, rows = Math.min(MR, m - i0);
                kernelF(pa, pb, i0, rows, n, k, alpha, beta, c, offC, ldc);
            }
        });
    }

    private static void kernelF(float[] pa, float[] pb, int i0, int rows, int n, int k, float alpha, float beta,
                                float[] c, int offC, int ldc) {
        int vl = FS.length();
        for (int j = 0; j < n; j += 2 * vl) {
            var m0 = FS.indexInRange(j, n);
            var m1 = FS.indexInRange(j + vl, n);
            FloatVector c00 = FloatVector.zero(FS), c01 = FloatVector.zero(FS), c10 = FloatVector.zero(FS), c11 = FloatVector.zero(FS);
            FloatVector c20 = FloatVector.zero(FS), c21 = FloatVector.zero(FS), c30 = FloatVector.zero(FS), c31 = FloatVector.zero(FS);
            boolean full = j + 2 * vl <= n;
            for (int p = 0; p < k; p++) {
                FloatVector b0, b1;
                if (full) {
                    b0 = FloatVector.fromArray(FS, pb, p * n + j);
                    b1 = FloatVector.fromArray(FS, pb, p * n + j + vl);
                } else {
                    b0 = FloatVector.fromArray(FS, pb, p * n + j, m0);
                    b1 = FloatVector.fromArray(FS, pb, p * n + j + vl, m1);
                }
                int r = i0 * k + p;
                FloatVector a0 = FloatVector.broadcast(FS, pa[r]);
                c00 = a0.fma(b0, c00);
                c01 = a0.fma(b1, c01);
                if (rows > 1) {
                    FloatVector a1 = FloatVector.broadcast(FS, pa[r + k]);
                    c10 = a1.fma(b0, c10);
                    c11 = a1.fma(b1, c11);
                }
                if (rows > 2) {
                    FloatVector a2 = FloatVector.broadcast(FS, pa[r + 2 * k]);
                    c20 = a2.fma(b0, c20);
                    c21 = a2.fma(b1, c21);
                }
                if (rows > 3) {
                    FloatVector a3 = FloatVector.broadcast(FS, pa[r + 3 * k]);
                    c30 = a3.fma(b0, c30);
                    c31 = a3.fma(b1, c31);
                }
            }
            FloatVector[][] acc = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
            for (int r = 0; r < rows; r++) {
                int base = offC + (i0 + r) * ldc + j;
                for (int h = 0; h < 2; h++) {
                    var mask = h == 0 ? m0 : m1;
                    if (!mask.anyTrue()) continue;
                    FloatVector v = acc[r][h].mul(alpha);
                    if (beta != 0) v = v.add(FloatVector.fromArray(FS, c, base + h * vl, mask).mul(beta));
                    v.intoArray(c, base + h * vl, mask);
                }
            }
        }
    }

    public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                             double[] a, int offA, int lda, double[] b, int offB, int ldb,
                             double beta, double[] c, int offC, int ldc) {
        check("dgemm", transA, transB, m, n, k, a.length, offA, lda, b.length, offB, ldb, c.length, offC, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0) {
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[offC + i * ldc + j] = beta == 0 ? 0 : beta * c[offC + i * ldc + j];
            return;
        }
        double[] pa = new double[m * k], pb = new double[k * n];
        for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) pa[i * k + p] = transA ? a[offA + p * lda + i] : a[offA + i * lda + p];
        for (int p = 0; p < k; p++) {
            if (transB) for (int j = 0; j < n; j++) pb[p * n + j] = b[offB + j * ldb + p];
            else System.arraycopy(b, offB + p * ldb, pb, p * n, n);
        }
        int blocks = (m + MR - 1) / MR;
        long work = (long) m * n * k;
        int grain = work < (1 << 17) ? blocks : Math.max(1, blocks / (4 * Parallel.threads()));
        Parallel.forRange(blocks, grain, (s, e) -> {
            for (int blk = s; blk < e; blk++) {
                int i0 = blk * MR, rows = Math.min(MR, m - i0);
                kernelD(pa, pb, i0, rows, n, k, alpha, beta, c, offC, ldc);
            }
        });
    }

    private static void kernelD(double[] pa, double[] pb, int i0, int rows, int n, int k, double alpha, double beta,
                                double[] c, int offC, int ldc) {
        int vl = DS.length();
        for (int j = 0; j < n; j += vl) {
            var mask = DS.indexInRange(j, n);
            boolean full = j + vl <= n;
            DoubleVector c0 = DoubleVector.zero(DS), c1 = DoubleVector.zero(DS), c2 = DoubleVector.zero(DS), c3 = DoubleVector.zero(DS);
            for (int p = 0; p < k; p++) {
                DoubleVector bv = full ? DoubleVector.fromArray(DS, pb, p * n + j) : DoubleVector.fromArray(DS, pb, p * n + j, mask);
                int r = i0 * k + p;
                c0 = DoubleVector.broadcast(DS, pa[r]).fma(bv, c0);
                if (rows > 1) c1 = DoubleVector.broadcast(DS, pa[r + k]).fma(bv, c1);
                if (rows > 2) c2 = DoubleVector.broadcast(DS, pa[r + 2 * k]).fma(bv, c2);
                if (rows > 3) c3 = DoubleVector.broadcast(DS, pa[r + 3 * k]).fma(bv, c3);
            }
            DoubleVector[] acc = {c0, c1, c2, c3};
            for (int r = 0; r < rows; r++) {
                int base = offC + (i0 + r) * ldc + j;
                DoubleVector v = acc[r].mul(alpha);
                if (beta != 0) v = v.add(DoubleVector.fromArray(DS, c, base, mask).mul(beta));
                v.intoArray(c, base, mask);
            }
        }
    }

    private static void scaleC(int m, int n, float beta, float[] c, int offC, int ldc) {
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[offC + i * ldc + j] = beta == 0 ? 0 : beta * c[offC + i * ldc + j];
    }

    private static void check(String op, boolean ta, boolean tb, int m, int n, int k, int alen, int offA, int lda,
                              int blen, int offB, int ldb, int clen, int offC, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException(op + ": negative size m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        if (aCols > 0 && lda < aCols || bCols > 0 && ldb < bCols || ldc < n) {
            throw new IllegalArgumentException(op + ": leading dims lda=" + lda + " ldb=" + ldb + " ldc=" + ldc
                    + " too small for m=" + m + " n=" + n + " k=" + k);
        }
        if (k > 0 && (offA < 0 || (long) offA + (long) (aRows - 1) * lda + aCols > alen)) {
            throw new IllegalArgumentException(op + ": A (" + aRows + "x" + aCols + ", lda " + lda + ", offset " + offA + ") overruns its array of " + alen);
        }
        if (k > 0 && (offB < 0 || (long) offB + (long) (bRows - 1) * ldb + bCols > blen)) {
            throw new IllegalArgumentException(op + ": B (" + bRows + "x" + bCols + ", ldb " + ldb + ", offset " + offB + ") overruns its array of " + blen);
        }
        if (offC < 0 || (long) offC + (long) (m - 1) * ldc + n > clen) {
            throw new IllegalArgumentException(op + ": C (" + m + "x" + n + ", ldc " + ldc + ", offset " + offC + ") overruns its array of " + clen);
        }
    }
}
