package dev.rankwise.cpu.gemm;

import dev.rankwise.cpu.Parallel;

/// Row-major GEMM, `C = alpha·op(A)·op(B) + beta·C`, with op(A) m×k and op(B) k×n, single or batched.
///
/// Element (i, p) of op(A) is `a[offA + i·lda + p]`, or `a[offA + p·lda + i]` when transposed; the same
/// for B with ldb; C(i, j) is `c[offC + i·ldc + j]`. `beta == 0` means C is not read (as in BLAS: NaNs
/// in C do not survive). C must not overlap A or B. Arguments are checked here, with errors naming the
/// call and the offending sizes; the work is done by [GemmF32]/[GemmF64] (packed panels, register-blocked
/// micro-kernel, cache blocking, split over [Parallel]'s pool).
public final class Gemm {
    /// Batched products smaller than this many flops each run one per task, in parallel over the batch.
    private static final long BATCH_PARALLEL_FLOPS = 1L << 24;

    private Gemm() {}

    /// F32 `C = alpha·op(A)·op(B) + beta·C`; C (m×n at offC, leading dim ldc) is modified.
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int offA, int lda, float[] b, int offB, int ldb,
                             float beta, float[] c, int offC, int ldc) {
        check("sgemm", 1, transA, transB, m, n, k, a.length, offA, lda, 0, b.length, offB, ldb, 0, c.length, offC, ldc, 0);
        one(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
    }

    /// F64 `C = alpha·op(A)·op(B) + beta·C`; C (m×n at offC, leading dim ldc) is modified.
    public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                             double[] a, int offA, int lda, double[] b, int offB, int ldb,
                             double beta, double[] c, int offC, int ldc) {
        check("dgemm", 1, transA, transB, m, n, k, a.length, offA, lda, 0, b.length, offB, ldb, 0, c.length, offC, ldc, 0);
        one(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
    }

    /// Strided-batched F32 GEMM (cuBLAS' `gemmStridedBatched`): for t in [0, batch), the product at
    /// offsets `offA + t·strideA`, `offB + t·strideB`, `offC + t·strideC`. A stride of 0 broadcasts that
    /// operand over the batch (A and B only; C's matrices must not overlap).
    public static void sgemmBatched(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                    float[] a, int offA, int lda, int strideA, float[] b, int offB, int ldb, int strideB,
                                    float beta, float[] c, int offC, int ldc, int strideC) {
        check("sgemmBatched", batch, transA, transB, m, n, k, a.length, offA, lda, strideA, b.length, offB, ldb, strideB, c.length, offC, ldc, strideC);
        overBatch(batch, m, n, k, t -> one(transA, transB, m, n, k, alpha, a, offA + t * strideA, lda,
                b, offB + t * strideB, ldb, beta, c, offC + t * strideC, ldc));
    }

    /// Strided-batched F64 GEMM; see [#sgemmBatched].
    public static void dgemmBatched(int batch, boolean transA, boolean transB, int m, int n, int k, double alpha,
                                    double[] a, int offA, int lda, int strideA, double[] b, int offB, int ldb, int strideB,
                                    double beta, double[] c, int offC, int ldc, int strideC) {
        check("dgemmBatched", batch, transA, transB, m, n, k, a.length, offA, lda, strideA, b.length, offB, ldb, strideB, c.length, offC, ldc, strideC);
        overBatch(batch, m, n, k, t -> one(transA, transB, m, n, k, alpha, a, offA + t * strideA, lda,
                b, offB + t * strideB, ldb, beta, c, offC + t * strideC, ldc));
    }

    private static void one(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                            float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0) GemmF32.scale(m, n, beta, c, offC, ldc);
        else GemmF32.gemm(ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
    }

    private static void one(boolean ta, boolean tb, int m, int n, int k, double alpha, double[] a, int offA, int lda,
                            double[] b, int offB, int ldb, double beta, double[] c, int offC, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0) GemmF64.scale(m, n, beta, c, offC, ldc);
        else GemmF64.gemm(ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
    }

    private static void overBatch(int batch, int m, int n, int k, java.util.function.IntConsumer product) {
        if (batch > 1 && 2L * m * n * k < BATCH_PARALLEL_FLOPS) {
            Parallel.forRange(batch, 1, (s, e) -> {
                for (int t = s; t < e; t++) product.accept(t);   // nested: each product runs on this worker
            });
        } else {
            for (int t = 0; t < batch; t++) product.accept(t);
        }
    }

    private static void check(String op, int batch, boolean ta, boolean tb, int m, int n, int k,
                              int alen, int offA, int lda, int strideA, int blen, int offB, int ldb, int strideB,
                              int clen, int offC, int ldc, int strideC) {
        if (m < 0 || n < 0 || k < 0 || batch < 0) {
            throw new IllegalArgumentException(op + ": negative size m=" + m + " n=" + n + " k=" + k + (batch != 1 ? " batch=" + batch : ""));
        }
        if (strideA < 0 || strideB < 0 || strideC < 0) {
            throw new IllegalArgumentException(op + ": negative batch stride (A " + strideA + ", B " + strideB + ", C " + strideC + ")");
        }
        if (m == 0 || n == 0 || batch == 0) return;
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        if (aCols > 0 && lda < aCols || bCols > 0 && ldb < bCols || ldc < n) {
            throw new IllegalArgumentException(op + ": leading dims lda=" + lda + " ldb=" + ldb + " ldc=" + ldc
                    + " too small for m=" + m + " n=" + n + " k=" + k + " (transA=" + ta + ", transB=" + tb + ")");
        }
        long extentC = (long) (m - 1) * ldc + n;
        if (batch > 1 && strideC < extentC) {
            throw new IllegalArgumentException(op + ": C's batch stride " + strideC + " overlaps its " + m + "x" + n
                    + " matrices (ldc " + ldc + ")");
        }
        long last = batch - 1L;
        if (k > 0) {
            inBounds(op, "A", aRows, aCols, lda, offA + last * strideA, offA, alen);
            inBounds(op, "B", bRows, bCols, ldb, offB + last * strideB, offB, blen);
        }
        inBounds(op, "C", m, n, ldc, offC + last * strideC, offC, clen);
    }

    private static void inBounds(String op, String name, int rows, int cols, int ld, long lastOffset, int offset, int length) {
        if (offset < 0 || lastOffset + (long) (rows - 1) * ld + cols > length) {
            throw new IllegalArgumentException(op + ": " + name + " (" + rows + "x" + cols + ", ld " + ld + ", offset " + offset
                    + ") overruns its array of " + length);
        }
    }
}
