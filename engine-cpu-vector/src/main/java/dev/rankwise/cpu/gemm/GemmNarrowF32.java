package dev.rankwise.cpu.gemm;

import dev.rankwise.cpu.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/// F32 GEMM for skinny products, where one side of C or the inner dimension is too small for the
/// packed path of [GemmF32] to fill its MR×NR tile. Called by [GemmF32#gemm], arguments validated by [Gemm].
///
/// GENERATED from `GemmNarrowF64.java` by `GenerateGemmF32` (engine-cpu-vector tests). Do not edit.
final class GemmNarrowF32 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private GemmNarrowF32() {}

    /// Per-thread scratch, reused across calls so hot loops allocate nothing.
    private static final class Scratch {
        final float[] lanes = new float[16 * L];
        final float[] dots = new float[16];
        float[] b = new float[0];

        float[] b(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /// Narrow products (n < NR, op(A) row-major), such as `x·Aᵀ` in a LoRA layer: each C(i, j) is a dot
    /// product along K of row i of A, read in place, and column j of op(B), contiguous when B is stored
    /// transposed (else copied so once). No lanes idle on the narrow side and A is read once.
    static void narrow(int tasks, boolean tb, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                       float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        float[] bt = b;
        int offT = offB, ldt = ldb;
        if (!tb) {                                          // op(B)(p, j) = b[p·ldb + j]: gather columns
            bt = SCRATCH.get().b(n * k);
            for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[j * k + p] = b[offB + p * ldb + j];
            offT = 0;
            ldt = k;
        }
        float[] cols = bt;
        int oT = offT, lT = ldt, groups = GemmF32.ceilDiv(m, 4), t = Math.min(tasks, groups);
        Parallel.forRange(groups, Math.max(1, groups / Math.max(1, t)), (s, e) -> {
            Scratch buf = SCRATCH.get();
            float[] out = buf.dots, lanes = buf.lanes;
            for (int g = s; g < e; g++) {
                int i0 = 4 * g, rows = Math.min(4, m - i0);
                for (int j0 = 0; j0 < n; j0 += 4) {
                    int nj = Math.min(4, n - j0);
                    dot4x4(k, a, offA + i0 * lda, lda, rows, cols, oT + j0 * lT, lT, nj, lanes, out);
                    for (int i = 0; i < rows; i++) {
                        int o = offC + (i0 + i) * ldc + j0;
                        for (int j = 0; j < nj; j++) {
                            float v = alpha * out[4 * i + j];
                            c[o + j] = beta == 0 ? v : v + beta * c[o + j];
                        }
                    }
                }
            }
        });
    }

    /// out[4·i + j] = Σ_p a[a0 + i·lda + p]·bt[b0 + j·ldt + p] for i < 4, j < 4; rows past `rows` and
    /// columns past `cols` repeat the last valid one (their sums are computed and ignored). `lanes`
    /// (16·L) is scratch.
    static void dot4x4(int k, float[] a, int a0, int lda, int rows, float[] bt, int b0, int ldt, int cols, float[] lanes, float[] out) {
        int r1 = a0 + Math.min(1, rows - 1) * lda, r2 = a0 + Math.min(2, rows - 1) * lda, r3 = a0 + Math.min(3, rows - 1) * lda;
        int q1 = b0 + Math.min(1, cols - 1) * ldt, q2 = b0 + Math.min(2, cols - 1) * ldt, q3 = b0 + Math.min(3, cols - 1) * ldt;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
        int p = 0;
        for (; p <= k - L; p += L) {
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + p), x1 = FloatVector.fromArray(S, a, r1 + p);
            FloatVector x2 = FloatVector.fromArray(S, a, r2 + p), x3 = FloatVector.fromArray(S, a, r3 + p);
            FloatVector y = FloatVector.fromArray(S, bt, b0 + p);
            s00 = x0.fma(y, s00);
            s10 = x1.fma(y, s10);
            s20 = x2.fma(y, s20);
            s30 = x3.fma(y, s30);
            y = FloatVector.fromArray(S, bt, q1 + p);
            s01 = x0.fma(y, s01);
            s11 = x1.fma(y, s11);
            s21 = x2.fma(y, s21);
            s31 = x3.fma(y, s31);
            y = FloatVector.fromArray(S, bt, q2 + p);
            s02 = x0.fma(y, s02);
            s12 = x1.fma(y, s12);
            s22 = x2.fma(y, s22);
            s32 = x3.fma(y, s32);
            y = FloatVector.fromArray(S, bt, q3 + p);
            s03 = x0.fma(y, s03);
            s13 = x1.fma(y, s13);
            s23 = x2.fma(y, s23);
            s33 = x3.fma(y, s33);
        }
        if (p < k) {                                        // the K tail, masked
            var mk = S.indexInRange(p, k);
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + p, mk), x1 = FloatVector.fromArray(S, a, r1 + p, mk);
            FloatVector x2 = FloatVector.fromArray(S, a, r2 + p, mk), x3 = FloatVector.fromArray(S, a, r3 + p, mk);
            FloatVector y = FloatVector.fromArray(S, bt, b0 + p, mk);
            s00 = x0.fma(y, s00);
            s10 = x1.fma(y, s10);
            s20 = x2.fma(y, s20);
            s30 = x3.fma(y, s30);
            y = FloatVector.fromArray(S, bt, q1 + p, mk);
            s01 = x0.fma(y, s01);
            s11 = x1.fma(y, s11);
            s21 = x2.fma(y, s21);
            s31 = x3.fma(y, s31);
            y = FloatVector.fromArray(S, bt, q2 + p, mk);
            s02 = x0.fma(y, s02);
            s12 = x1.fma(y, s12);
            s22 = x2.fma(y, s22);
            s32 = x3.fma(y, s32);
            y = FloatVector.fromArray(S, bt, q3 + p, mk);
            s03 = x0.fma(y, s03);
            s13 = x1.fma(y, s13);
            s23 = x2.fma(y, s23);
            s33 = x3.fma(y, s33);
        }
        // Lanes are added in a fixed order into out: reduceLanes' order is unspecified and differs
        // between the intrinsic and its fallback, which would make results depend on the JIT.
        s00.intoArray(lanes, 0 * L);
        s01.intoArray(lanes, 1 * L);
        s02.intoArray(lanes, 2 * L);
        s03.intoArray(lanes, 3 * L);
        s10.intoArray(lanes, 4 * L);
        s11.intoArray(lanes, 5 * L);
        s12.intoArray(lanes, 6 * L);
        s13.intoArray(lanes, 7 * L);
        s20.intoArray(lanes, 8 * L);
        s21.intoArray(lanes, 9 * L);
        s22.intoArray(lanes, 10 * L);
        s23.intoArray(lanes, 11 * L);
        s30.intoArray(lanes, 12 * L);
        s31.intoArray(lanes, 13 * L);
        s32.intoArray(lanes, 14 * L);
        s33.intoArray(lanes, 15 * L);
        for (int q = 0; q < 16; q++) {
            float sum = 0;
            for (int l = 0; l < L; l++) sum += lanes[q * L + l];
            out[q] = sum;
        }
    }
}
