package dev.rankwise.cpu.gemm;

import dev.rankwise.DType;
import dev.rankwise.GradCheck;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.cpu.Parallel;
import dev.rankwise.nn.Functional;
import dev.rankwise.random.Generator;
import dev.rankwise.spi.FusedKernels;
import dev.rankwise.spi.FusedKernels.LoraGrads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The CPU's fused low-rank linear against the composed default of engine-api (forward and backward,
/// F32 and F64, with and without gate and bias, batched x, strided dy, one and two threads, sizes that
/// cross the backward's row blocks) and against F64 finite differences through the op catalog.
///
/// Tolerance: every output is a sum of at most K products (K = the longest contraction plus r), so
/// its rounding error is at most about K·ε times the same sum taken over absolute values, which the
/// composed default computes exactly enough in F64 from |inputs|. We allow 4·K·ε times that bound.
class LowRankTest {
    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void overrideMatchesComposedDefault() {
        // r = 16 (F32) and 8 (F64): dy·B through the one-vector broadcast path with B in place, and with
        // N ≥ 512 x·Aᵀ through it too (Aᵀ copied)
        int[][] cases = {{37, 20, 33, 5}, {1, 16, 16, 1}, {600, 300, 200, 7}, {130, 64, 96, 16}, {70, 600, 40, 16}, {9, 1, 3, 1},
                {530, 24, 20, 16}, {530, 40, 30, 8}};
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int[] c : cases) {
                for (DType dt : new DType[] {DType.F32, DType.F64}) {
                    compare(dt, new int[] {c[0], c[1]}, c[2], c[3], true, false);
                    compare(dt, new int[] {c[0], c[1]}, c[2], c[3], false, true);
                }
            }
            compare(DType.F32, new int[] {2, 70, 40}, 50, 16, true, true);   // batched x [2, 70, d_in]
        }
    }

    private static void compare(DType dt, int[] xShape, int dOut, int r, boolean gate, boolean bias) {
        Generator gen = new Generator(xShape[0] * 31L + dOut + r + (gate ? 1 : 0));
        int dIn = xShape[xShape.length - 1];
        Tensor x = Tensor.randn(gen, dt, xShape), w = Tensor.randn(gen, dt, dOut, dIn), a = Tensor.randn(gen, dt, r, dIn);
        Tensor b = Tensor.randn(gen, dt, dOut, r), g = gate ? Tensor.randn(gen, dt, r) : null, bi = bias ? Tensor.randn(gen, dt, dOut) : null;
        int[] yShape = xShape.clone();
        yShape[yShape.length - 1] = dOut;
        // dy as a transposed view, so the override sees a non-contiguous gradient.
        int[] flipped = yShape.clone();
        flipped[flipped.length - 1] = yShape[yShape.length - 2];
        flipped[flipped.length - 2] = dOut;
        Tensor dy = Tensor.randn(gen, dt, flipped).transpose(-1, -2);
        double s = 0.7;
        FusedKernels cpu = x.backend().fused(), ref = FusedKernels.COMPOSED;
        assertNotEquals(ref.getClass(), cpu.getClass(), "the CPU backend overrides the fused kernels");
        int n = (int) (x.numel() / dIn);
        double eps = dt == DType.F32 ? 0x1p-24 : 0x1p-53;
        try (var ignored = GradMode.noGrad()) {
            int[] hShape = xShape.clone();
            hShape[hShape.length - 1] = r;
            Tensor h = Tensor.zeros(dt, hShape);
            Tensor y = cpu.loraForward(x, w, bi, a, b, g, s, h);
            Tensor[] in64 = f64(x, w, bi, a, b, g, dy);
            Tensor yRef = ref.loraForward(in64[0], in64[1], in64[2], in64[3], in64[4], in64[5], s);
            Tensor[] abs = abs(in64);
            Tensor yBound = ref.loraForward(abs[0], abs[1], abs[2], abs[3], abs[4], abs[5], s);
            close("y", y, yRef, yBound, 4 * (dIn + r + 2) * eps);
            close("saved h", h, in64[0].matmul(in64[3].t()), abs[0].matmul(abs[3].t()), 4 * (dIn + 2) * eps);

            // With the saved h, and (below) recomputing it.
            LoraGrads got = cpu.loraBackward(dy, x, w, a, b, g, s, h, true, true, true, true);
            LoraGrads want = ref.loraBackward(in64[6], in64[0], in64[1], in64[3], in64[4], in64[5], s, null, true, true, true, true);
            LoraGrads bound = ref.loraBackward(abs[6], abs[0], abs[1], abs[3], abs[4], abs[5], s, null, true, true, true, true);
            double k = 4 * (Math.max(n, Math.max(dIn, dOut)) + r + 2) * eps;
            close("dx", got.dx(), want.dx(), bound.dx(), k);
            close("dA", got.da(), want.da(), bound.da(), k);
            close("dB", got.db(), want.db(), bound.db(), k);
            if (gate) close("dg", got.dg(), want.dg(), bound.dg(), k);
            else assertNull(got.dg());
            LoraGrads some = cpu.loraBackward(dy, x, w, a, b, g, s, null, false, true, true, gate);
            assertNull(some.dx());
            close("dA, h recomputed", some.da(), want.da(), bound.da(), k);
            close("dB, h recomputed", some.db(), want.db(), bound.db(), k);
            if (gate) close("dg, h recomputed", some.dg(), want.dg(), bound.dg(), k);
        }
    }

    private static Tensor[] f64(Tensor... ts) {
        Tensor[] out = new Tensor[ts.length];
        for (int i = 0; i < ts.length; i++) out[i] = ts[i] == null ? null : ts[i].to(DType.F64);
        return out;
    }

    private static Tensor[] abs(Tensor... ts) {
        Tensor[] out = new Tensor[ts.length];
        for (int i = 0; i < ts.length; i++) out[i] = ts[i] == null ? null : ts[i].abs();
        return out;
    }

    private static void close(String what, Tensor got, Tensor want, Tensor bound, double rel) {
        assertEquals(java.util.Arrays.toString(want.shape()), java.util.Arrays.toString(got.shape()), what + " shape");
        double[] g = got.toDoubleArray(), w = want.toDoubleArray(), b = bound.toDoubleArray();
        for (int i = 0; i < g.length; i++) {
            assertEquals(w[i], g[i], rel * b[i] + 1e-300, what + " at " + i + " (" + got.dtype() + ", shape " + java.util.Arrays.toString(got.shape()) + ")");
        }
    }

    /// Through the op catalog: with W frozen the fused backward gives x, A, B and g their gradients.
    @Test
    void gradientsThroughTheCatalogMatchFiniteDifferences() {
        Generator gen = new Generator(5);
        Tensor x = Tensor.randn(gen, DType.F64, 2, 3, 6), w = Tensor.randn(gen, DType.F64, 5, 6), bias = Tensor.randn(gen, DType.F64, 5);
        Tensor a = Tensor.randn(gen, DType.F64, 3, 6), b = Tensor.randn(gen, DType.F64, 5, 3), g = Tensor.randn(gen, DType.F64, 3);
        GradCheck.check(in -> Functional.lowRankLinear(in.get(0), w, bias, in.get(1), in.get(2), in.get(3), 1.3), x, a, b, g);
        GradCheck.check(in -> Functional.lowRankLinear(in.get(0), w, null, in.get(1), in.get(2), null, 0.5), x, a, b);
        // Only the adapter trains (the usual LoRA case): x needs no gradient.
        GradCheck.check(in -> Functional.lowRankLinear(x, w, null, in.get(0), in.get(1), in.get(2), 2.0), a, b, g);
    }

    /// One fused node whether or not W trains, and recording never changes the forward's values.
    @Test
    void recordsOneFusedNodeAndTheSameValuesWhenTheBaseTrains() {
        Generator gen = new Generator(6);
        Tensor x = Tensor.randn(gen, DType.F32, 4, 6), w = Tensor.randn(gen, DType.F32, 5, 6);
        Tensor a = Tensor.randn(gen, DType.F32, 2, 6).requiresGrad(true), b = Tensor.randn(gen, DType.F32, 5, 2).requiresGrad(true);
        Tensor frozen = Functional.lowRankLinear(x, w, null, a, b, null, 1);
        assertEquals("lowRankLinear", frozen.gradFn().op());
        w.requiresGrad(true);
        Tensor trained = Functional.lowRankLinear(x, w, null, a, b, null, 1);
        assertEquals("lowRankLinear", trained.gradFn().op());
        assertArrayEquals(frozen.toDoubleArray(), trained.toDoubleArray());
    }

    /// Full fine-tuning through the same op: W and the bias get dW = dyᵀ x and dbias = Σ dy.
    @Test
    void trainableBaseGetsItsGradientThroughTheFusedOp() {
        Generator gen = new Generator(7);
        Tensor x = Tensor.randn(gen, DType.F64, 2, 3, 6), w = Tensor.randn(gen, DType.F64, 5, 6), bias = Tensor.randn(gen, DType.F64, 5);
        Tensor a = Tensor.randn(gen, DType.F64, 3, 6), b = Tensor.randn(gen, DType.F64, 5, 3), g = Tensor.randn(gen, DType.F64, 3);
        GradCheck.check(in -> Functional.lowRankLinear(in.get(0), in.get(1), in.get(2), in.get(3), in.get(4), in.get(5), 0.7), x, w, bias, a, b, g);
        GradCheck.check(in -> Functional.lowRankLinear(x, in.get(0), null, a, b, null, 1.5), w);
    }

    @Test
    void badShapesNameTheOp() {
        Tensor x = Tensor.zeros(DType.F32, 4, 6), w = Tensor.zeros(DType.F32, 5, 6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Functional.lowRankLinear(x, w, null, Tensor.zeros(DType.F32, 2, 7), Tensor.zeros(DType.F32, 5, 2), null, 1));
        assertTrue(e.getMessage().startsWith("lowRankLinear: expects"), e.getMessage());
        assertTrue(e.getMessage().contains("A [2, 7]"), e.getMessage());
    }
}
