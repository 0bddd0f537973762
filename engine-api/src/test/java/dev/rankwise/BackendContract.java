package dev.rankwise;

import dev.rankwise.autograd.Anomaly;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/// The contract every backend honours, run by each backend's tests with its device (the CPU's here; a
/// GPU backend's suite subclasses this and skips without a device).
///
/// Gradients: every op against F64 central differences ([GradCheck]), on shapes with broadcasting,
/// size-1 and empty dims, and non-contiguous views. Forward values: F32 against the F64 path with a
/// tolerance of a few F32 ulps scaled by the op's condition (stated per check).
public abstract class BackendContract {
    /// The device under test.
    protected abstract Device device();

    protected Tensor on(Tensor t) {
        return t.to(device());
    }

    private Tensor rnd(long seed, int... shape) {
        return on(Tensor.randn(new Generator(seed), DType.F64, shape));
    }

    /// Positive values in [0.5, 2.5), for log, sqrt, pow, div.
    private Tensor pos(long seed, int... shape) {
        return on(Tensor.rand(new Generator(seed), DType.F64, shape).mul(2).add(0.5));
    }

    private void grad(Function<List<Tensor>, Tensor> f, Tensor... in) {
        GradCheck.check(f, in);
    }

    @Test
    void elementwiseUnaryGradients() {
        Tensor x = rnd(1, 3, 4), p = pos(2, 3, 4);
        grad(a -> a.get(0).neg(), x);
        grad(a -> a.get(0).exp(), x);
        grad(a -> a.get(0).log(), p);
        grad(a -> a.get(0).sqrt(), p);
        grad(a -> a.get(0).rsqrt(), p);
        grad(a -> a.get(0).abs(), p.sub(1.5).add(0.01));
        grad(a -> a.get(0).sign().add(a.get(0)), x);
        grad(a -> a.get(0).relu(), p.sub(1.5).add(0.013));
        grad(a -> a.get(0).sigmoid(), x);
        grad(a -> a.get(0).tanh(), x);
        grad(a -> a.get(0).gelu(), x);
        grad(a -> a.get(0).geluExact(), x);
        grad(a -> a.get(0).silu(), x);
        grad(a -> a.get(0).erf(), x);
        grad(a -> a.get(0).clamp(-0.5, 0.7), x.add(0.0123));
        grad(a -> a.get(0).pow(2.5), p);
        grad(a -> a.get(0).square(), x);
    }

    @Test
    void elementwiseBinaryGradientsWithBroadcasting() {
        Tensor a = rnd(3, 2, 3, 4), b = rnd(4, 3, 1), c = pos(5, 4), d = pos(6, 2, 1, 4);
        grad(t -> t.get(0).add(t.get(1)), a, b);
        grad(t -> t.get(0).sub(t.get(1)), a, c);
        grad(t -> t.get(0).mul(t.get(1)), a, b);
        grad(t -> t.get(0).div(t.get(1)), a, d);
        grad(t -> t.get(0).pow(t.get(1)), d, rnd(7, 3, 1));
        grad(t -> t.get(0).maximum(t.get(1)), a, b.add(0.001));
        grad(t -> t.get(0).minimum(t.get(1)), a, c);
        Tensor cond = rnd(8, 3, 4).gt(0.0);
        grad(t -> Tensor.where(cond, t.get(0), t.get(1)), a, c);
        grad(t -> t.get(0).mul(2.0).add(1.0).sub(0.5).div(3.0).rsub(1.0), a);
    }

    @Test
    void reductionGradients() {
        Tensor x = rnd(9, 3, 4, 5);
        for (int[] dims : new int[][] {{0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}}) {
            grad(t -> t.get(0).sum(dims, true), x);
            grad(t -> t.get(0).sum(dims, false), x);
            grad(t -> t.get(0).mean(dims, false), x);
            grad(t -> t.get(0).var(dims, true, false), x);
            grad(t -> t.get(0).norm(2, dims, true), x);
        }
        grad(t -> t.get(0).sum(), x);
        grad(t -> t.get(0).mean(), x);
        grad(t -> t.get(0).amax(1, false), x);
        grad(t -> t.get(0).amin(2, true), x);
        grad(t -> t.get(0).max(0, false).values(), x);
        grad(t -> t.get(0).min(2, true).values(), x);
        grad(t -> t.get(0).max(), x);
        grad(t -> t.get(0).norm(1, new int[] {1}, false), x);
    }

    @Test
    void matmulGradientsIncludingBatchAndTransposes() {
        grad(t -> t.get(0).matmul(t.get(1)), rnd(10, 3, 4), rnd(11, 4, 5));
        grad(t -> t.get(0).matmul(t.get(1)), rnd(12, 2, 3, 4), rnd(13, 4, 5));          // batch broadcast
        grad(t -> t.get(0).matmul(t.get(1)), rnd(14, 2, 1, 3, 4), rnd(15, 3, 4, 2));    // both broadcast
        grad(t -> t.get(0).t().matmul(t.get(1).t()), rnd(16, 4, 3), rnd(17, 5, 4));    // transposed views
        grad(t -> t.get(0).matmul(t.get(1)), rnd(18, 4), rnd(19, 4, 3));              // 1-D left
        grad(t -> t.get(0).matmul(t.get(1)), rnd(20, 3, 4), rnd(21, 4));              // 1-D right
        grad(t -> t.get(0).matmul(t.get(1)), rnd(22, 4), rnd(23, 4));                 // dot
        grad(t -> t.get(0).narrow(1, 1, 3).matmul(t.get(1)), rnd(24, 3, 5), rnd(25, 3, 2)); // strided
    }

    @Test
    void softmaxAndIndexingGradients() {
        Tensor x = rnd(26, 3, 5);
        grad(t -> t.get(0).softmax(1), x);
        grad(t -> t.get(0).softmax(0), x);
        grad(t -> t.get(0).logSoftmax(1), x);
        Tensor idx = on(Tensor.fromArray(new int[] {0, 4, 2, 2, 1, 0}, 3, 2));
        grad(t -> t.get(0).gather(1, idx), x);
        Tensor sel = on(Tensor.fromArray(new int[] {2, 0, 2}, 3));
        grad(t -> t.get(0).indexSelect(1, sel), x);
        grad(t -> t.get(0).indexSelect(0, sel), x);
        grad(t -> t.get(0).scatterAdd(1, idx, t.get(1)), x, rnd(27, 3, 2));
    }

    @Test
    void shapeAndViewGradients() {
        Tensor x = rnd(28, 2, 3, 4);
        grad(t -> t.get(0).reshape(6, 4), x);
        grad(t -> t.get(0).reshape(-1), x);
        grad(t -> t.get(0).permute(2, 0, 1).contiguous(), x);
        grad(t -> t.get(0).transpose(0, 2).reshape(4, 6), x);
        grad(t -> t.get(0).narrow(2, 1, 2), x);
        grad(t -> t.get(0).select(1, 2), x);
        grad(t -> t.get(0).narrow(1, 0, 1).squeeze(1).unsqueeze(0), x);
        grad(t -> t.get(0).expand(5, 2, 3, 4), x);
        grad(t -> t.get(0).narrow(0, 0, 1).expand(3, 3, 4), x);
        grad(t -> Tensor.concat(List.of(t.get(0), t.get(1)), 1), x, rnd(29, 2, 2, 4));
        grad(t -> Tensor.stack(List.of(t.get(0), t.get(1)), 0), rnd(30, 3, 4), rnd(31, 3, 4));
        grad(t -> t.get(0).split(new int[] {1, 3}, 2).get(1), x);
        grad(t -> t.get(0).copy().mul(t.get(0)), x);
    }

    @Test
    void dtypeConversionPassesTheGradientBack() {
        Tensor x = rnd(38, 2, 3).requiresGrad(true);
        x.to(DType.F32).mul(2.0).sum().backward();
        assertEquals(DType.F64, x.grad().dtype());
        assertArrayEquals(new double[] {2, 2, 2, 2, 2, 2}, x.grad().toDoubleArray());
    }

    @Test
    void emptyAndSizeOneShapes() {
        grad(t -> t.get(0).add(t.get(1)).exp(), rnd(32, 1, 3), rnd(33, 4, 1));
        Tensor empty = on(Tensor.zeros(DType.F64, 0, 3)).requiresGrad(true);
        Tensor s = empty.exp().sum();
        assertEquals(0.0, s.item());
        s.backward();
        assertArrayEquals(new int[] {0, 3}, empty.grad().shape());
        assertEquals(0, on(Tensor.zeros(DType.F64, 2, 0)).matmul(on(Tensor.zeros(DType.F64, 0, 3))).abs().max().item());
        assertArrayEquals(new int[] {0, 4}, on(Tensor.zeros(DType.F64, 0, 3)).matmul(on(Tensor.zeros(DType.F64, 3, 4))).shape());
    }

    /// F32 against F64 on the same inputs: elementwise within 4 F32 ulps of the value (1e-6 relative
    /// for transcendental ops, whose vector versions are within a few ulps), matmul within k·2⁻²³·Σ|ab|.
    @Test
    void f32MatchesF64() {
        Tensor x = rnd(34, 67, 129), y = rnd(35, 129, 33);
        Tensor x32 = x.to(DType.F32), y32 = y.to(DType.F32);
        List<Function<Tensor, Tensor>> unary = List.of(Tensor::exp, Tensor::tanh, Tensor::sigmoid, Tensor::relu, Tensor::gelu,
                Tensor::silu, Tensor::neg, Tensor::abs, t -> t.softmax(1), t -> t.logSoftmax(0), t -> t.sum(1, false), t -> t.amax(0, true));
        for (Function<Tensor, Tensor> f : unary) {
            Tensor ref = f.apply(x.to(DType.F32).to(DType.F64)), got = f.apply(x32).to(DType.F64);
            double scale = ref.abs().max().item() + 1;
            assertTrue(ref.sub(got).abs().max().item() <= 1e-5 * scale, "f32 vs f64");
        }
        Tensor ref = x32.to(DType.F64).matmul(y32.to(DType.F64)), got = x32.matmul(y32).to(DType.F64);
        Tensor bound = x32.to(DType.F64).abs().matmul(y32.to(DType.F64).abs()).mul(129 * 0x1p-23);
        assertTrue(ref.sub(got).abs().sub(bound).max().item() <= 0, "matmul within k·ε·Σ|ab|");
    }

    /// Large tensors exercise the parallel and vector paths; small strided ones the scalar path. Both
    /// dtypes, every layout, against the F64 scalar definition.
    @Test
    void kernelPathsAgree() {
        Tensor big = rnd(36, 300, 400);
        Tensor bigT = big.t();                         // strided
        Tensor row = rnd(37, 400);                     // broadcast along rows
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Tensor b = big.to(dt), bt = bigT.to(dt).t(), r = row.to(dt);
            assertEquals(0, b.add(r).sub(bt.add(r)).abs().max().item(), 1e-6);
            assertEquals(0, b.mul(2.0).sub(b.add(b)).abs().max().item(), 1e-6);
            assertEquals(0, b.exp().sub(bt.exp()).abs().max().item(), 1e-4);
            Tensor sum0 = b.sum(0, false), sum0t = bt.contiguous().sum(0, false);
            assertEquals(0, sum0.sub(sum0t).abs().max().item(), 1e-3);
            Tensor sum1 = b.sum(1, false).to(DType.F64), ref = big.sum(1, false);
            assertEquals(0, sum1.sub(ref).abs().max().item(), dt == DType.F32 ? 1e-3 : 1e-10);
        }
        int[] am = on(Tensor.fromArray(new double[] {1, 3, 3, 0, Double.NaN, 2}, 2, 3)).argmax(1, false).toIntArray();
        assertArrayEquals(new int[] {1, 1}, am, "first maximum; NaN wins");
    }

    @Test
    void autogradSemantics() {
        Tensor w = on(Tensor.fromArray(new double[] {1, 2, 3}, 3)).requiresGrad(true);
        w.mul(w).sum().backward();
        w.mul(w).sum().backward();
        assertArrayEquals(new double[] {4, 8, 12}, w.grad().toDoubleArray(), "accumulates over backward calls");
        w.zeroGrad();
        assertNull(w.grad());
        Tensor y = w.mul(w);
        Tensor loss = y.sum();
        loss.backward(on(Tensor.scalar(1, DType.F64)), true);
        loss.backward(on(Tensor.scalar(1, DType.F64)), false);
        assertArrayEquals(new double[] {4, 8, 12}, w.grad().toDoubleArray(), "retain graph allows a second backward");
        IllegalStateException freed = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(freed.getMessage().contains("retainGraph"), freed.getMessage());
        IllegalStateException nonScalar = assertThrows(IllegalStateException.class, () -> w.mul(2.0).backward());
        assertTrue(nonScalar.getMessage().contains("[3]"), nonScalar.getMessage());
        w.zeroGrad();
        Tensor mid = w.mul(3.0).retainGrad();
        mid.sum().backward();
        assertArrayEquals(new double[] {1, 1, 1}, mid.grad().toDoubleArray());
        try (var ignored = GradMode.noGrad()) {
            assertFalse(w.mul(2.0).requiresGrad());
            try (var inner = GradMode.enableGrad()) {
                assertTrue(w.mul(2.0).requiresGrad());
            }
            assertFalse(w.mul(2.0).requiresGrad());
        }
        assertFalse(w.detach().requiresGrad());
        // A long chain: iterative backward does not overflow the stack.
        Tensor z = on(Tensor.scalar(1, DType.F64)).requiresGrad(true);
        Tensor acc = z;
        for (int i = 0; i < 100_000; i++) acc = acc.add(z);
        acc.backward();
        assertEquals(100_001, z.grad().item());
    }

    @Test
    void anomalyModeNamesTheOp() {
        Tensor x = on(Tensor.fromArray(new double[] {-1, 2}, 2)).requiresGrad(true);
        try (var ignored = Anomaly.detect()) {
            Anomaly.AnomalyException fwd = assertThrows(Anomaly.AnomalyException.class, () -> x.log());
            assertEquals("log", fwd.op());
            Tensor zero = on(Tensor.fromArray(new double[] {0, 1}, 2)).requiresGrad(true);
            Tensor s = zero.sqrt().sum();
            Anomaly.AnomalyException bwd = assertThrows(Anomaly.AnomalyException.class, s::backward);
            assertEquals("sqrt", bwd.op());
        }
        assertTrue(Double.isNaN(x.log().toDoubleArray()[0]), "outside anomaly mode NaN just flows");
    }

    @Test
    void badInputsNameTheOpAndShapes() {
        Tensor a = rnd(40, 2, 3), b = rnd(41, 4, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertTrue(e.getMessage().startsWith("add") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.matmul(b));
        assertTrue(e.getMessage().startsWith("matmul") && e.getMessage().contains("not aligned"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> on(Tensor.fromArray(new int[] {1}, 1)).exp());
        assertTrue(e.getMessage().contains("I32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.sum(2, false));
        assertThrows(IndexOutOfBoundsException.class, () -> a.narrow(1, 2, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> a.gather(1, on(Tensor.fromArray(new int[] {0, 3}, 2, 1))));
        assertThrows(IllegalArgumentException.class, () -> a.reshape(4, 2));
        assertThrows(IllegalArgumentException.class, () -> a.permute(0, 0));
        Tensor p = rnd(42, 2).requiresGrad(true);
        IllegalStateException inPlace = assertThrows(IllegalStateException.class, () -> p.addInPlace(rnd(43, 2)));
        assertTrue(inPlace.getMessage().contains("noGrad"), inPlace.getMessage());
    }

    @Test
    void randomFillsAreReproducibleAndWellDistributed() {
        Tensor u = Tensor.rand(new Generator(5), DType.F64, 100_000);
        Tensor u2 = Tensor.rand(new Generator(5), DType.F64, 100_000);
        assertArrayEquals(u.toDoubleArray(), u2.toDoubleArray());
        assertEquals(0.5, u.mean().item(), 0.005);                   // σ/√n ≈ 0.0009
        assertEquals(1.0 / 12, u.var(new int[] {0}, true, false).item(), 0.002);
        Tensor n = Tensor.randn(new Generator(6), DType.F32, 100_000).to(DType.F64);
        assertEquals(0, n.mean().item(), 0.01);
        assertEquals(1, n.var(new int[] {0}, true, false).item(), 0.02);
        Generator g = new Generator(7);
        Tensor first = Tensor.rand(g, DType.F32, 5), second = Tensor.rand(g, DType.F32, 5);
        assertNotEquals(first.toDoubleArray()[0], second.toDoubleArray()[0], "successive fills differ");
        float[] f32 = Tensor.rand(new Generator(8), DType.F32, 9).toFloatArray();
        double[] f64 = Tensor.rand(new Generator(8), DType.F64, 9).toDoubleArray();
        for (int i = 0; i < 9; i++) assertEquals(f32[i], (float) f64[i], "F32 and F64 fills share values");
    }
}
