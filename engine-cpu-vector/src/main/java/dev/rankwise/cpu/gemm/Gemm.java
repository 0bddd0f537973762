package dev.rankwise.cpu.gemm;

import dev.rankwise.cpu.Parallel;

/// Placeholder GEMM (row-major, C = alpha·op(A)·op(B) + beta·C): a plain row-by-row loop. The packed,
/// register-blocked kernel replaces this file.
public final class Gemm {
    private Gemm() {}

    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int offA, int lda, float[] b, int offB, int ldb,
                             float beta, float[] c, int offC, int ldc) {
        Parallel.forRange(m, 16, (s, e) -> {
            for (int i = s; i < e; i++) {
                for (int j = 0; j < n; j++) {
                    float acc = 0;
                    for (int p = 0; p < k; p++) {
                        float av = transA ? a[offA + p * lda + i] : a[offA + i * lda + p];
                        float bv = transB ? b[offB + j * ldb + p] : b[offB + p * ldb + j];
                        acc += av * bv;
                    }
                    int ci = offC + i * ldc + j;
                    c[ci] = beta == 0 ? alpha * acc : alpha * acc + beta * c[ci];
                }
            }
        });
    }

    public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                             double[] a, int offA, int lda, double[] b, int offB, int ldb,
                             double beta, double[] c, int offC, int ldc) {
        Parallel.forRange(m, 16, (s, e) -> {
            for (int i = s; i < e; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        double av = transA ? a[offA + p * lda + i] : a[offA + i * lda + p];
                        double bv = transB ? b[offB + j * ldb + p] : b[offB + p * ldb + j];
                        acc += av * bv;
                    }
                    int ci = offC + i * ldc + j;
                    c[ci] = beta == 0 ? alpha * acc : alpha * acc + beta * c[ci];
                }
            }
        });
    }
}
