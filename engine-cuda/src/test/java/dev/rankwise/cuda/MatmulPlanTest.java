package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.cpu.CpuStorage;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The row-major to cuBLAS mapping, executed by a plain column-major strided-batched GEMM written
/// from BLAS's definition on the CPU: for transposed, narrowed and batch-broadcast operands, the
/// planned calls give the CPU's matmul. Runs without a GPU; on the GPU the same calls go to cuBLAS.
class MatmulPlanTest {
    /// `C_i = op(A_i)·op(B_i)`, column-major, as `cublasDgemmStridedBatched` defines it (alpha 1, beta 0).
    static void gemm(MatmulPlan.Call c, double[] a, double[] b, double[] out) {
        for (int t = 0; t < c.batch(); t++) {
            for (int i = 0; i < c.m(); i++) {
                for (int j = 0; j < c.n(); j++) {
                    double s = 0;
                    for (int p = 0; p < c.k(); p++) {
                        double av = a[(int) (c.offA() + t * c.strideA() + (c.transA() ? p + (long) i * c.lda() : i + (long) p * c.lda()))];
                        double bv = b[(int) (c.offB() + t * c.strideB() + (c.transB() ? j + (long) p * c.ldb() : p + (long) j * c.ldb()))];
                        s += av * bv;
                    }
                    out[(int) (c.offC() + t * c.strideC() + i + (long) j * c.ldc())] = s;
                }
            }
        }
    }

    private static void check(Tensor a, Tensor b) {
        Tensor want = a.matmul(b);
        int r = want.rank();
        int[] batch = java.util.Arrays.copyOf(want.shape(), r - 2);
        Tensor av = a.expand(concat(batch, a.size(-2), a.size(-1))), bv = b.expand(concat(batch, b.size(-2), b.size(-1)));
        assertTrue(MatmulPlan.readable(av) && MatmulPlan.readable(bv));
        Tensor out = Tensor.zeros(DType.F64, want.shape());
        double[] o = ((CpuStorage) out.storage()).f64;
        // cuBLAS's A is our b, its B our a.
        for (MatmulPlan.Call c : MatmulPlan.plan(av, bv, out)) gemm(c, ((CpuStorage) bv.storage()).f64, ((CpuStorage) av.storage()).f64, o);
        double[] w = want.toDoubleArray();
        for (int i = 0; i < w.length; i++) assertEquals(w[i], o[i], 1e-12, "element " + i + " of " + java.util.Arrays.toString(want.shape()));
    }

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = java.util.Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }

    private static Tensor rnd(long seed, int... shape) {
        return Tensor.randn(new Generator(seed), DType.F64, shape);
    }

    @Test
    void plannedCallsReproduceTheCpuMatmul() {
        check(rnd(1, 3, 4), rnd(2, 4, 5));                                     // plain
        check(rnd(3, 4, 3).t(), rnd(4, 4, 5));                                 // a transposed
        check(rnd(5, 3, 4), rnd(6, 5, 4).t());                                 // b transposed
        check(rnd(7, 4, 3).t(), rnd(8, 5, 4).t());                             // both
        check(rnd(9, 3, 7).narrow(1, 2, 4), rnd(10, 4, 9).narrow(1, 1, 5));    // row strides > cols
        check(rnd(11, 2, 3, 4), rnd(12, 4, 5));                                // b broadcast over the batch
        check(rnd(13, 2, 1, 3, 4), rnd(14, 3, 4, 2));                          // both broadcast: loop + batch
        check(rnd(15, 2, 4, 3).mT(), rnd(16, 2, 3, 4, 5).select(0, 1).unsqueeze(0).expand(2, 3, 4, 5).select(1, 0)); // batched transposes
        check(rnd(17, 1, 4), rnd(18, 4, 1));                                   // 1×1 result
        check(rnd(19, 6, 1), rnd(20, 1, 6));                                   // k = 1
    }

    @Test
    void batchLoopsOnlyWhereStridesCannotMerge() {
        Tensor a = rnd(21, 2, 3, 4, 5), b = rnd(22, 2, 3, 5, 6), out = Tensor.zeros(DType.F64, 2, 3, 4, 6);
        List<MatmulPlan.Call> calls = MatmulPlan.plan(a, b, out);
        assertEquals(1, calls.size(), "contiguous batch dims merge into one strided batch");
        assertEquals(6, calls.get(0).batch());
        Tensor a2 = rnd(23, 2, 1, 4, 5).expand(2, 3, 4, 5), b2 = rnd(24, 1, 3, 5, 6).expand(2, 3, 5, 6);
        List<MatmulPlan.Call> calls2 = MatmulPlan.plan(a2, b2, out);
        assertEquals(2, calls2.size());
        assertArrayEquals(new long[] {0, 0}, new long[] {calls2.get(0).strideB() == 0 ? 0 : 1, calls2.get(1).strideB() == 0 ? 0 : 1},
                "a is broadcast along the batched dim");
    }

    @Test
    void stridedOperandsThatCublasCannotReadAreDetected() {
        Tensor t = rnd(25, 4, 6).narrow(1, 0, 6).t().contiguous().t();          // column-major: readable
        assertTrue(MatmulPlan.readable(t));
        Tensor everyOther = new Tensor(rnd(26, 4, 8).storage(), new int[] {4, 4}, new int[] {8, 2}, 0); // column stride 2
        assertFalse(MatmulPlan.readable(everyOther));
    }
}
