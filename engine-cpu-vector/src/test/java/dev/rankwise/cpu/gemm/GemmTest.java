package dev.rankwise.cpu.gemm;

import dev.rankwise.cpu.Parallel;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// GEMM against a plain F64 triple loop: shapes with remainders in every dim and across the cache
/// blocks, narrow products (the dot-product path) and short ones (B read in place),
/// all transposes, offsets, padded leading dims, alpha/beta, batches with
/// stride-0 broadcast, and both thread counts. Tolerance: a dot product of length k has error at most
/// about k·ε·Σ|a||b|; we allow 4·(k + 2)·ε times that sum (ε = 2⁻²⁴ for F32, 2⁻⁵³ for F64), the +2
/// covering the alpha/beta scaling.
class GemmTest {
    private static final int[][] SHAPES = {{1, 1, 1}, {1, 17, 5}, {17, 1, 5}, {5, 7, 1}, {13, 45, 33}, {64, 64, 64},
            {70, 129, 31}, {3, 200, 17}, {0, 4, 3}, {4, 0, 3}, {4, 5, 0}, {9, 33, 300}, {200, 40, 7}, {1, 1, 600},
            {50, 5, 70}, {6, 31, 1000}, {12, 100, 40}};

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void matchesReferenceForEveryShapeAndTranspose() {
        Random rnd = new Random(1);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int[] s : SHAPES) {
                for (int t = 0; t < 4; t++) {
                    boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                    check(rnd, new Case(s[0], s[1], s[2], ta, tb, 1.5, 0, 2, 5, 1, 3, 2, 1));
                    check(rnd, new Case(s[0], s[1], s[2], ta, tb, -0.5, 0.75, 0, 0, 0, 0, 0, 0));
                }
            }
        }
    }

    /// Big enough to take the parallel split along rows, along columns, and several K and M blocks.
    @Test
    void largeProductsSplitAcrossThreadsAndBlocks() {
        Random rnd = new Random(2);
        Parallel.setThreads(2);
        check(rnd, new Case(300, 70, 520, false, false, 1, 0, 0, 0, 0, 0, 0, 0));
        check(rnd, new Case(45, 301, 260, true, true, 1, 0.5, 1, 2, 3, 1, 1, 1));
        check(rnd, new Case(390, 33, 100, true, false, 2, 0, 0, 1, 0, 0, 0, 0));
    }

    /// The packed path across its blocks: n wider than one NC block of B and K longer than one packed
    /// K_BLOCKS·KC stretch of it (with remainders), in every transpose, with and without beta, on 1 and 2
    /// threads. (m > FEW_M and k > SHORT_K, so [GemmNarrowF64] does not take these.)
    @Test
    void packedPathAcrossColumnAndKBlocks() {
        Random rnd = new Random(3);
        int n = Math.max(GemmF32.NC, GemmF64.NC) + 37;
        int k = Math.max(GemmF32.K_BLOCKS * GemmF32.KC, GemmF64.K_BLOCKS * GemmF64.KC) + 37;
        assertFalse(GemmNarrowF64.takes(false, false, GemmNarrowF64.FEW_M + 9, n, k));
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            check(rnd, new Case(GemmNarrowF64.FEW_M + 9, n, k, false, false, 1, 0, 0, 0, 0, 0, 0, 0));
            check(rnd, new Case(GemmNarrowF64.FEW_M + 9, n, k, true, true, -0.5, 1, 1, 2, 3, 1, 1, 5));
        }
        check(rnd, new Case(GemmNarrowF64.FEW_M + 9, n, k, true, false, 1, 0.5, 0, 0, 0, 0, 0, 0));
        check(rnd, new Case(GemmNarrowF64.FEW_M + 9, n, k, false, true, 2, 0, 0, 0, 0, 3, 0, 0));
    }

    /// Packing op(A) = A (row-major) through the in-register transpose ([GemmF64#transposeRows]) gives
    /// exactly the element-by-element layout: kc a multiple of L and not, a partial last panel, offsets
    /// and a padded lda, in both types.
    @Test
    void packingATransposesExactly() {
        Random rnd = new Random(7);
        for (int[] s : new int[][] {{3 * GemmF64.MR, 4 * GemmF32.L}, {2 * GemmF64.MR + 5, 3 * GemmF32.L + 7}, {GemmF64.MR, 5}}) {
            int mc = s[0], kc = s[1], lda = kc + 13, i0 = 2, p0 = 3, off = 4;
            double[] a = new double[off + (i0 + mc) * lda];
            float[] af = new float[a.length];
            for (int i = 0; i < a.length; i++) af[i] = (float) (a[i] = rnd.nextGaussian());
            int panels = GemmF64.ceilDiv(mc, GemmF64.MR);
            double[] want = new double[panels * GemmF64.MR * kc], got = new double[want.length];
            float[] gotF = new float[want.length];
            for (int i = 0; i < mc; i++) {
                for (int p = 0; p < kc; p++) {
                    want[i / GemmF64.MR * GemmF64.MR * kc + p * GemmF64.MR + i % GemmF64.MR] = a[off + (i0 + i) * lda + p0 + p];
                }
            }
            GemmF64.packA(false, a, off, lda, i0, mc, p0, kc, got);
            GemmF32.packA(false, af, off, lda, i0, mc, p0, kc, gotF);
            for (int e = 0; e < want.length; e++) {
                assertEquals(want[e], got[e], 0, "F64 packed element " + e + " of " + mc + "x" + kc);
                assertEquals((float) want[e], gotF[e], 0, "F32 packed element " + e + " of " + mc + "x" + kc);
            }
        }
    }

    /// The skinny paths ([GemmNarrowF64]) across their own blocks: narrow products with K over several
    /// chunks (with a remainder that is not a multiple of the vector length), few-row products with K
    /// over several blocks and n past one packed strip of B, broadcast products (L < n ≤ 64) with one and
    /// several panels and K over several chunks, one-vector broadcast products (n ≤ L) with op(B) read in
    /// place or copied, few-row products with B read in place, short products (k ≤ SHORT_K) with row and
    /// column remainders, K = 1, one row, and the sizes at which each path hands over to the packed
    /// one; every transpose, on 1 and 2 threads.
    @Test
    void skinnyPathsAcrossTheirBlocks() {
        Random rnd = new Random(5);
        int[][] shapes = {{9, 5, 2 * GemmNarrowF32.K_CHUNK + 37}, {9, 12, 2 * GemmNarrowF32.K_CHUNK_SMALL_A + 37}, {6, 2 * GemmF32.NR - 1, 300}, {6, 2 * GemmF64.NR, 300},
                {5, 64, 70}, {70, 64, 4000}, {1, 3, 2100}, {3, 1, 17},
                {1, 40, 130}, {7, 1100, 3 * GemmNarrowF32.KS + 5}, {GemmNarrowF32.FEW_M, 70, 200}, {GemmNarrowF32.FEW_M + 1, 70, 20},
                {16, GemmNarrowF32.WS + 33, 1}, {16, 2 * GemmNarrowF64.WS + 1, 66},
                {100, 70, GemmNarrowF32.SHORT_K}, {GemmNarrowF32.FEW_M + 1, 200, 1}, {300, 1100, 17}, {97, 130, GemmNarrowF32.SHORT_K + 1},
                // the broadcast path: one-vector and two-vector panels, several panels with K in chunks
                {37, GemmF64.L + 1, 700}, {21, 40, GemmNarrowF32.BCAST_KC + 3}, {130, 64, 2 * GemmNarrowF32.BCAST_KC + 17},
                {1, GemmF32.L + 3, 50}, {9, GemmF32.NR + 1, GemmF32.L},
                // the one-vector broadcast path: op(B) read in place (row-major, L columns) or copied
                // (padded, transposed, n < L), rows past a multiple of its tile, one tile
                {37, GemmF32.L, 300}, {37, GemmF64.L, 300}, {GemmNarrowF32.BCAST1_COPY_M + 18, GemmF32.L - 2, 40},
                {GemmNarrowF32.BCAST1_COPY_M + 18, GemmF64.L, 40}, {GemmNarrowF32.MR1, GemmF32.L, 17},
                // few rows with B read in place: a partial last panel, B at the size limit, K = 1
                {16, 1000, 64}, {GemmNarrowF32.FEW_M, 256, GemmNarrowF32.IN_PLACE_B / 256}, {9, 3 * GemmF32.NR, 200}, {13, 70, 1}};
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int[] sh : shapes) {
                for (int t = 0; t < 4; t++) {
                    boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                    check(rnd, new Case(sh[0], sh[1], sh[2], ta, tb, 0.75, 0, 1, 2, 3, 2, 1, 3));
                    check(rnd, new Case(sh[0], sh[1], sh[2], ta, tb, -1.25, 0.5, 0, 0, 0, 0, 0, 0));
                }
            }
        }
    }

    @Property(tries = 80)
    void randomShapesTransposesAndOffsets(@ForAll @IntRange(min = 0, max = 1_000_000) int seed) {
        Random rnd = new Random(seed);
        Parallel.setThreads(1 + rnd.nextInt(2));
        int m = size(rnd), n = size(rnd), k = size(rnd);
        double beta = rnd.nextBoolean() ? 0 : rnd.nextGaussian();
        check(rnd, new Case(m, n, k, rnd.nextBoolean(), rnd.nextBoolean(), rnd.nextGaussian(), beta,
                rnd.nextInt(4), rnd.nextInt(4), rnd.nextInt(4), rnd.nextInt(7), rnd.nextInt(7), rnd.nextInt(7)));
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    /// Mostly small sizes with remainders, sometimes past a block edge.
    private static int size(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> 1 + rnd.nextInt(3);
            case 1, 2, 3 -> 1 + rnd.nextInt(40);
            case 4 -> 1 + rnd.nextInt(300);
            default -> rnd.nextInt(2) == 0 ? 0 : 255 + rnd.nextInt(4);
        };
    }

    @Test
    void batchedWithBroadcastOperands() {
        Random rnd = new Random(4);
        int batch = 5, m = 7, n = 19, k = 11;
        for (boolean big : new boolean[] {false, true}) {
            int mm = big ? 130 : m, nn = big ? 140 : n, kk = big ? 150 : k;
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int lda = (ta ? mm : kk) + 1, ldb = (tb ? kk : nn) + 2, ldc = nn + 3;
                int sizeA = (ta ? kk : mm) * lda, sizeB = (tb ? nn : kk) * ldb, sizeC = mm * ldc;
                int strideA = t == 1 ? 0 : sizeA + 1, strideB = t == 2 ? 0 : sizeB, strideC = sizeC + 2;
                double[] a = random(rnd, 3 + batch * (sizeA + 1)), b = random(rnd, 1 + batch * sizeB), c = random(rnd, 2 + batch * strideC);
                float[] af = toF(a), bf = toF(b), cf = toF(c);
                double[] cd = c.clone();
                Gemm.sgemmBatched(batch, ta, tb, mm, nn, kk, 0.5f, af, 3, lda, strideA, bf, 1, ldb, strideB, 2f, cf, 2, ldc, strideC);
                Gemm.dgemmBatched(batch, ta, tb, mm, nn, kk, 0.5, a, 3, lda, strideA, b, 1, ldb, strideB, 2, cd, 2, ldc, strideC);
                for (int s = 0; s < batch; s++) {
                    Case cs = new Case(mm, nn, kk, ta, tb, 0.5, 2, 3 + s * strideA, 1 + s * strideB, 2 + s * strideC,
                            lda - (ta ? mm : kk), ldb - (tb ? kk : nn), ldc - nn);
                    verify(cs, a, b, c, cf, cd);
                }
            }
        }
    }

    /// One product: sizes, transposes, alpha, beta, offsets and leading-dim padding.
    record Case(int m, int n, int k, boolean ta, boolean tb, double alpha, double beta,
                int offA, int offB, int offC, int padA, int padB, int padC) {
        int lda() { return (ta ? m : k) + padA; }
        int ldb() { return (tb ? k : n) + padB; }
        int ldc() { return n + padC; }
    }

    private static void check(Random rnd, Case cs) {
        int aRows = cs.ta() ? cs.k() : cs.m(), bRows = cs.tb() ? cs.n() : cs.k();
        double[] a = random(rnd, cs.offA() + Math.max(aRows, 1) * cs.lda());
        double[] b = random(rnd, cs.offB() + Math.max(bRows, 1) * cs.ldb());
        double[] c = random(rnd, cs.offC() + Math.max(cs.m(), 1) * cs.ldc());
        float[] af = toF(a), bf = toF(b), cf = toF(c);
        double[] cd = c.clone();
        Gemm.sgemm(cs.ta(), cs.tb(), cs.m(), cs.n(), cs.k(), (float) cs.alpha(), af, cs.offA(), cs.lda(), bf, cs.offB(), cs.ldb(),
                (float) cs.beta(), cf, cs.offC(), cs.ldc());
        Gemm.dgemm(cs.ta(), cs.tb(), cs.m(), cs.n(), cs.k(), cs.alpha(), a, cs.offA(), cs.lda(), b, cs.offB(), cs.ldb(),
                cs.beta(), cd, cs.offC(), cs.ldc());
        verify(cs, a, b, c, cf, cd);
        // Nothing outside the m×n window of C is written: not the padding between rows, not past the end.
        for (int i = 0; i < c.length; i++) {
            int rel = i - cs.offC();
            boolean inside = rel >= 0 && rel / cs.ldc() < cs.m() && rel % cs.ldc() < cs.n();
            if (!inside) {
                assertEquals((float) c[i], cf[i], "sgemm wrote outside C at " + i);
                assertEquals(c[i], cd[i], "dgemm wrote outside C at " + i);
            }
        }
    }

    /// Checks C against the triple loop (F32 inputs rounded first, as sgemm saw them).
    private static void verify(Case cs, double[] a, double[] b, double[] c, float[] cf, double[] cd) {
        for (int i = 0; i < cs.m(); i++) {
            for (int j = 0; j < cs.n(); j++) {
                double refF = 0, refD = 0, abs = 0;
                for (int p = 0; p < cs.k(); p++) {
                    double av = cs.ta() ? a[cs.offA() + p * cs.lda() + i] : a[cs.offA() + i * cs.lda() + p];
                    double bv = cs.tb() ? b[cs.offB() + j * cs.ldb() + p] : b[cs.offB() + p * cs.ldb() + j];
                    refF += (double) (float) av * (float) bv;
                    refD += av * bv;
                    abs += Math.abs(av * bv);
                }
                int at = cs.offC() + i * cs.ldc() + j;
                double cOld = c[at], bound = Math.abs(cs.alpha()) * abs + Math.abs(cs.beta() * cOld);
                double expectF = (float) cs.alpha() * refF + (cs.beta() == 0 ? 0 : (float) cs.beta() * (float) cOld);
                String where = cs + " at " + i + "," + j;
                assertEquals(expectF, cf[at], 4 * (cs.k() + 2) * 0x1p-24 * bound + 1e-30, "sgemm " + where);
                assertEquals(cs.alpha() * refD + (cs.beta() == 0 ? 0 : cs.beta() * cOld), cd[at],
                        4 * (cs.k() + 2) * 0x1p-53 * bound + 1e-300, "dgemm " + where);
            }
        }
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
    void betaZeroDoesNotReadC() {
        float[] c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        Gemm.sgemm(false, false, 2, 2, 1, 1, new float[] {1, 2}, 0, 1, new float[] {3, 4}, 0, 2, 0, c, 0, 2);
        assertEquals(8f, c[3]);
        double[] d = {Double.NaN, Double.NaN};
        Gemm.dgemm(false, false, 1, 2, 0, 1, new double[0], 0, 1, new double[0], 0, 2, 0, d, 0, 2);
        assertEquals(0.0, d[0]);
    }

    @Test
    void rejectsBadArgumentsNamingTheCall() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 4, 4, 4, 1, new float[15], 0, 4, new float[16], 0, 4, 0, new float[16], 0, 4));
        assertTrue(e.getMessage().startsWith("sgemm: A (4x4"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Gemm.dgemm(false, false, -1, 4, 4, 1, new double[16], 0, 4, new double[16], 0, 4, 0, new double[16], 0, 4));
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(true, false, 4, 4, 3, 1, new float[16], 0, 3, new float[16], 0, 4, 0, new float[16], 0, 4));
        assertTrue(e.getMessage().contains("lda=3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gemm.sgemmBatched(2, false, false, 2, 2, 2, 1,
                new float[8], 0, 2, 4, new float[8], 0, 2, 4, 0, new float[8], 0, 2, 3));
        assertTrue(e.getMessage().startsWith("sgemmBatched: C's batch stride 3 overlaps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gemm.dgemmBatched(3, false, false, 2, 2, 2, 1,
                new double[8], 0, 2, 4, new double[8], 0, 2, 0, 0, new double[12], 0, 2, 4));
        assertTrue(e.getMessage().startsWith("dgemmBatched: A"), e.getMessage());
    }
}
