package dev.rankwise.cpu;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.ops.BinaryOp;
import dev.rankwise.ops.UnaryOp;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/// The CPU kernels' bit-level promises (see `KernelsF64`): an element's result does not depend on
/// the layout, its position in a row, the tensor's size or the thread count; sums do not depend on the
/// thread count or the strides. Checked bit for bit, for F32 and F64.
class KernelInvariantsTest {
    private final int threadsBefore = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    private static final int ROWS = 301, COLS = 333;   // odd sizes: every vector loop has a tail

    private static Tensor values(long seed, DType dt) {
        // Spread over several decades so exp, tanh and friends take all their branches.
        return Tensor.randn(new Generator(seed), DType.F64, ROWS, COLS).mul(4).to(dt);
    }

    private static void assertSameBits(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            if (Double.doubleToLongBits(e[i]) != Double.doubleToLongBits(a[i])) {
                fail(what + ": element " + i + " differs: " + e[i] + " vs " + a[i]);
            }
        }
    }

    private static final List<Function<Tensor, Tensor>> UNARY = List.of(Tensor::neg, Tensor::abs, Tensor::sqrt, Tensor::rsqrt,
            Tensor::relu, Tensor::sign, Tensor::exp, Tensor::log, Tensor::sigmoid, Tensor::tanh, Tensor::silu, Tensor::gelu,
            Tensor::geluExact, Tensor::erf);

    /// Contiguous (vector body and tail), transposed (gathered through a buffer), one element at a
    /// time (a tensor shorter than a vector), and on one or two threads: the same bits.
    @Test
    void unaryResultsDependOnlyOnTheValue() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Tensor x = values(1, dt), xt = x.t().contiguous().t();          // same values, column-major
            Tensor few = x.narrow(0, 0, 1).narrow(1, 0, 7);                 // 7 elements
            for (int k = 0; k < UNARY.size(); k++) {
                Function<Tensor, Tensor> f = UNARY.get(k);
                Parallel.setThreads(1);
                Tensor one = f.apply(x);
                Parallel.setThreads(2);
                assertSameBits(one, f.apply(x), dt + " op " + k + " on two threads");
                assertSameBits(one, f.apply(xt), dt + " op " + k + " on a transposed layout");
                Tensor small = f.apply(few);
                assertSameBits(one.narrow(0, 0, 1).narrow(1, 0, 7), small, dt + " op " + k + " on 7 elements");
            }
        }
    }

    @Test
    void binaryResultsDependOnlyOnTheValues() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Tensor a = values(2, dt), b = values(3, dt).abs().add(0.5);
            Tensor row = b.narrow(0, 0, 1);                                  // [1, COLS], broadcast over rows
            Tensor at = a.t().contiguous().t(), rowFull = row.expand(ROWS, COLS).contiguous();
            for (BinaryOp op : BinaryOp.values()) {
                Function<Tensor[], Tensor> f = t -> switch (op) {
                    case ADD -> t[0].add(t[1]);
                    case SUB -> t[0].sub(t[1]);
                    case MUL -> t[0].mul(t[1]);
                    case DIV -> t[0].div(t[1]);
                    case POW -> t[1].pow(t[0].narrow(0, 0, ROWS).div(4));
                    case MAX -> t[0].maximum(t[1]);
                    case MIN -> t[0].minimum(t[1]);
                    case GT -> t[0].gt(t[1]);
                    case GE -> t[0].ge(t[1]);
                    case LT -> t[0].lt(t[1]);
                    case LE -> t[0].le(t[1]);
                    case EQ -> t[0].eq(t[1]);
                };
                Parallel.setThreads(1);
                Tensor ref = f.apply(new Tensor[] {a, rowFull});
                Parallel.setThreads(2);
                assertSameBits(ref, f.apply(new Tensor[] {a, rowFull}), dt + " " + op + " on two threads");
                assertSameBits(ref, f.apply(new Tensor[] {a, row}), dt + " " + op + " broadcast");
                assertSameBits(ref, f.apply(new Tensor[] {at, rowFull}), dt + " " + op + " transposed");
                Tensor scalarRef = f.apply(new Tensor[] {a, Tensor.full(1.5, dt, ROWS, COLS)});
                assertSameBits(scalarRef, f.apply(new Tensor[] {a, Tensor.scalar(1.5, dt)}), dt + " " + op + " with a scalar");
            }
        }
    }

    /// Sums over long rows split into blocks that may go to different threads; the block sums are
    /// combined in order, so the thread count never changes a bit. Gathering strided rows first makes
    /// the layout irrelevant too.
    @Test
    void sumsDoNotDependOnThreadsOrStrides() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Tensor big = Tensor.randn(new Generator(4), dt, 4, 250_001);
            Tensor m = values(5, dt), mt = m.t().contiguous().t();
            Tensor tall = Tensor.randn(new Generator(6), dt, 3, 700, 130);   // row blocks: every dim but the last reduced
            Parallel.setThreads(1);
            Tensor all = big.sum(), rows = big.sum(1, false), cols = m.sum(0, false), inner = m.sum(1, true), mx = big.amax(1, false);
            Tensor tallCols = tall.sum(new int[] {0, 1}, false), tallMin = tall.view(2100, 130).amin(0, false);
            Parallel.setThreads(2);
            assertSameBits(tallCols, tall.sum(new int[] {0, 1}, false), dt + " column sums of a tall tensor");
            assertSameBits(tallMin, tall.view(2100, 130).amin(0, false), dt + " column minima of a tall tensor");
            double[] got = tallCols.to(DType.F64).toDoubleArray(), x = tall.to(DType.F64).toDoubleArray();
            double[] gotMin = tallMin.to(DType.F64).toDoubleArray();
            for (int j = 0; j < 130; j++) {
                double want = 0, least = Double.POSITIVE_INFINITY;
                for (int i = 0; i < 2100; i++) {
                    want += x[i * 130 + j];
                    least = Math.min(least, x[i * 130 + j]);
                }
                assertEquals(want, got[j], 1e-9 + (dt == DType.F32 ? 2e-4 : 1e-12) * 2100, dt + " column sum " + j);
                assertEquals(least, gotMin[j], dt + " column minimum " + j);
            }
            assertSameBits(all, big.sum(), dt + " full sum");
            assertSameBits(rows, big.sum(1, false), dt + " row sums");
            assertSameBits(cols, m.sum(0, false), dt + " column sums");
            assertSameBits(mx, big.amax(1, false), dt + " row maxima");
            assertSameBits(inner, mt.sum(1, true), dt + " row sums of a column-major layout");
        }
    }

    /// Block sums of F32 data are added in F64. Here each block of 4096 holds one 1 + 2⁻²⁰ and zeros,
    /// so every block sum is exact, and so is their total 2048 + 2⁻⁹ in F32; a running F32 sum of the
    /// block sums would drop the 2⁻²⁰ parts once it passes 16.
    @Test
    void longF32SumsAddTheirBlocksInF64() {
        int blocks = 2048;
        float[] v = new float[blocks * KernelsF32.BLOCK];
        for (int j = 0; j < blocks; j++) v[j * KernelsF32.BLOCK] = (float) (1 + 0x1p-20);
        assertEquals(blocks + blocks * 0x1p-20, Tensor.fromArray(v, v.length).sum().item());
    }

    /// A full sum split over threads once raced on its single output; exact sums of ones catch a lost update.
    @Test
    void parallelFullSumsAreExact() {
        Parallel.setThreads(2);
        Tensor ones = Tensor.ones(DType.F32, 3 * KernelsF32.BLOCK * 16 + 5);
        for (int i = 0; i < 200; i++) assertEquals(ones.numel(), ones.sum().item());
    }

    @Test
    void scalarDefinitionsMatchTheKernelsForNonVectorOps() {
        // LOG, ERF and GELU_ERF run their F64 definition; F32 rounds it once.
        Tensor x = values(6, DType.F64).abs().add(1e-3);
        float[] x32 = x.to(DType.F32).toFloatArray();
        for (UnaryOp op : new UnaryOp[] {UnaryOp.LOG, UnaryOp.ERF, UnaryOp.GELU_ERF}) {
            Tensor t = x.to(DType.F32);
            float[] got = (op == UnaryOp.LOG ? t.log() : op == UnaryOp.ERF ? t.erf() : t.geluExact()).toFloatArray();
            for (int i = 0; i < got.length; i++) assertEquals((float) op.apply(x32[i]), got[i], op.name());
        }
    }
}
