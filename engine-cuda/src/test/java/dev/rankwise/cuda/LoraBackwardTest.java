package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.kernels.KernelCatalog;
import dev.rankwise.nn.Functional;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.optim.SGD;
import dev.rankwise.random.Generator;
import dev.rankwise.spi.FusedKernels;
import dev.rankwise.spi.FusedKernels.LoraGrads;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.rankwise.cuda.Gpu.close;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The CUDA override of `FusedKernels.loraBackward` (`CudaFused`: [CudaLowRank]'s fused backward with
/// h = x·Aᵀ recomputed on cuBLAS), which autograd calls for `Functional.lowRankLinear`, against two
/// references on the same F32 inputs: the composed default run on the GPU, and the CPU backend's own
/// override. LoRA and SoRA (gated), with and without dx, need flags asking for subsets, the cases
/// that fall back to the composed default; then autograd reaching the override, and a whole training
/// step of a two-layer block on the GPU against the same step on the CPU.
///
/// Tolerances as in [FusedKernelsTest]: an F32 result whose reductions have length K is held to
/// 1e-5·√K of its largest element (two F32 summation orders differ by about √K·2⁻²⁴ of the scale for
/// random data; the bound leaves a factor of about 170). Where reductions chain (a gradient through
/// another layer's dx), K is the product of their lengths.
class LoraBackwardTest {
    static final Device GPU = Gpu.DEVICE;
    static final FusedKernels CPU = Tensor.zeros(1).backend().fused();

    @BeforeEach
    void gpu() {
        Gpu.assume();
    }

    private static Tensor rnd(long seed, double scale, int... shape) {
        return Tensor.randn(new Generator(seed), DType.F32, shape).mul(scale);
    }

    private static Tensor on(Tensor t, Device d) {
        return t == null ? null : t.to(d);
    }

    /// needX, needA, needB, needG: everything, all but dx (the first layer's case), and subsets.
    private static final boolean[][] FLAGS = {
            {true, true, true, true}, {false, true, true, true}, {true, false, false, false},
            {false, true, false, false}, {false, false, true, true}};

    private static LoraGrads run(FusedKernels k, Device d, Tensor dy, Tensor x, Tensor w, Tensor a, Tensor b, Tensor g, double s, boolean[] f) {
        return k.loraBackward(on(dy, d), on(x, d), on(w, d), on(a, d), on(b, d), on(g, d), s, null, f[0], f[1], f[2], f[3]);
    }

    /// Each gradient asked for is on the GPU and close to the reference's; each not asked for is null.
    private static void same(LoraGrads want, LoraGrads got, boolean[] f, boolean gated, int n, int dout, int r, String what) {
        Tensor[] w = {want.dx(), want.da(), want.db(), want.dg()}, g = {got.dx(), got.da(), got.db(), got.dg()};
        String[] names = {"dx", "dA", "dB", "dg"};
        int[] k = {dout + r, n, n, n * dout};                       // reduction lengths (dg chains dy·B and Σ_rows)
        for (int i = 0; i < 4; i++) {
            boolean asked = f[i] && (i < 3 || gated);
            if (!asked) {
                assertNull(g[i], what + ": " + names[i] + " not asked for");
                continue;
            }
            assertNotNull(g[i], what + ": " + names[i]);
            assertEquals(GPU, g[i].device(), what + ": " + names[i] + " on the GPU");
            close(w[i], g[i], 1e-5 * Math.sqrt(k[i]), what + ": " + names[i]);
        }
    }

    @Test
    void overrideMatchesTheComposedDefaultAndTheCpu() {
        int n = 70, din = 96, dout = 80;                            // 70 rows: two tiles of 32 and a partial one
        double s = 1.7;
        FusedKernels cuda = Tensor.zeros(1).to(GPU).backend().fused();
        for (int r : new int[] {1, 16, 64}) {
            for (boolean gated : new boolean[] {false, true}) {
                Tensor x = rnd(1, 1, 2, n / 2, din), w = rnd(2, 0.1, dout, din), a = rnd(3, 0.1, r, din), b = rnd(4, 0.1, dout, r);
                Tensor g = gated ? rnd(5, 1, r) : null, dy = rnd(6, 1, 2, n / 2, dout);
                assertTrue(CudaLowRank.supportsBackward(dy.to(GPU), x.to(GPU), w.to(GPU), a.to(GPU), b.to(GPU), on(g, GPU)), "fused path taken");
                for (boolean[] f : FLAGS) {
                    String what = (gated ? "sora" : "lora") + " r=" + r + " need " + java.util.Arrays.toString(f);
                    LoraGrads got = run(cuda, GPU, dy, x, w, a, b, g, s, f);
                    same(run(FusedKernels.COMPOSED, GPU, dy, x, w, a, b, g, s, f), got, f, gated, n, dout, r, what + " vs composed");
                    same(run(CPU, Device.cpu(), dy, x, w, a, b, g, s, f), got, f, gated, n, dout, r, what + " vs CPU");
                }
            }
        }
    }

    @Test
    void casesOutsideTheKernelFallBackAndAgree() {
        int n = 40, din = 48, dout = 36, r = 8;
        double s = 0.8;
        FusedKernels cuda = Tensor.zeros(1).to(GPU).backend().fused();
        boolean[] all = FLAGS[0];
        Tensor x = rnd(11, 1, n, din), w = rnd(12, 0.1, dout, din), a = rnd(13, 0.1, r, din), b = rnd(14, 0.1, dout, r);
        Tensor g = rnd(15, 1, r), dy = rnd(16, 1, n, dout);
        // Rank above the kernel's limit: the composed default.
        int big = KernelCatalog.LOWRANK_MAX_RANK + 1;
        Tensor aBig = rnd(17, 0.1, big, din), bBig = rnd(18, 0.1, dout, big), gBig = rnd(19, 1, big);
        assertFalse(CudaLowRank.supportsBackward(dy.to(GPU), x.to(GPU), w.to(GPU), aBig.to(GPU), bBig.to(GPU), gBig.to(GPU)));
        same(run(CPU, Device.cpu(), dy, x, w, aBig, bBig, gBig, s, all), run(cuda, GPU, dy, x, w, aBig, bBig, gBig, s, all),
                all, true, n, dout, big, "r=" + big);
        // A transposed (non-contiguous) x: the composed default.
        Tensor xT = rnd(20, 1, din, n).to(GPU).t();
        assertFalse(CudaLowRank.supportsBackward(dy.to(GPU), xT, w.to(GPU), a.to(GPU), b.to(GPU), g.to(GPU)));
        same(run(CPU, Device.cpu(), dy, xT.to(Device.cpu()), w, a, b, g, s, all), run(cuda, GPU, dy, xT, w, a, b, g, s, all),
                all, true, n, dout, r, "transposed x");
        // A broadcast dy (stride 0, as a mean's gradient arrives): copied once, then the fused path.
        Tensor dyB = rnd(21, 1, 1, dout).to(GPU).expand(n, dout);
        assertTrue(CudaLowRank.supportsBackward(dyB, x.to(GPU), w.to(GPU), a.to(GPU), b.to(GPU), g.to(GPU)));
        same(run(CPU, Device.cpu(), dyB.to(Device.cpu()), x, w, a, b, g, s, all), run(cuda, GPU, dyB, x, w, a, b, g, s, all),
                all, true, n, dout, r, "broadcast dy");
        // F64: the composed default, against the CPU's F64 kernel.
        LoraGrads want = run(CPU, Device.cpu(), dy.to(DType.F64), x.to(DType.F64), w.to(DType.F64), a.to(DType.F64), b.to(DType.F64), g.to(DType.F64), s, all);
        LoraGrads got = run(cuda, GPU, dy.to(DType.F64), x.to(DType.F64), w.to(DType.F64), a.to(DType.F64), b.to(DType.F64), g.to(DType.F64), s, all);
        assertEquals(DType.F64, got.da().dtype());
        for (Tensor[] p : new Tensor[][] {{want.dx(), got.dx()}, {want.da(), got.da()}, {want.db(), got.db()}, {want.dg(), got.dg()}}) {
            close(p[0], p[1], 1e-12, "F64");
        }
        // Nothing asked for: nothing computed.
        LoraGrads none = cuda.loraBackward(dy.to(GPU), x.to(GPU), w.to(GPU), a.to(GPU), b.to(GPU), null, s, null, false, false, false, true);
        assertNull(none.dx());
        assertNull(none.da());
        assertNull(none.db());
        assertNull(none.dg());
    }

    @Test
    void autogradCallsTheOverride() {
        int n = 50, din = 64, dout = 40, r = 16;
        double s = 2.0;
        FusedKernels cuda = Tensor.zeros(1).to(GPU).backend().fused();
        for (boolean gated : new boolean[] {false, true}) {
            Tensor x = rnd(31, 1, n, din).to(GPU).requiresGrad(true), w = rnd(32, 0.1, dout, din).to(GPU), bias = rnd(33, 1, dout).to(GPU);
            Tensor a = rnd(34, 0.1, r, din).to(GPU).requiresGrad(true), b = rnd(35, 0.1, dout, r).to(GPU).requiresGrad(true);
            Tensor g = gated ? rnd(36, 1, r).to(GPU).requiresGrad(true) : null, dy = rnd(37, 1, n, dout).to(GPU);
            Functional.lowRankLinear(x, w, bias, a, b, g, s).backward(dy);
            // The same call made directly: autograd must have made exactly it (cuBLAS and our kernels are
            // deterministic on one device and stream), so the gradients agree bit for bit.
            // The forward saved h = x·Aᵀ for the backward; the direct call gets it the same way.
            Tensor h = Tensor.zeros(DType.F32, n, r).to(GPU);
            cuda.loraForward(x.detach(), w, bias, a.detach(), b.detach(), g == null ? null : g.detach(), s, h);
            LoraGrads want = cuda.loraBackward(dy, x.detach(), w, a.detach(), b.detach(), g == null ? null : g.detach(), s, h, true, true, true, true);
            String tag = gated ? "sora" : "lora";
            assertArrayEquals(want.dx().toFloatArray(), x.grad().toFloatArray(), tag + " dx");
            assertArrayEquals(want.da().toFloatArray(), a.grad().toFloatArray(), tag + " dA");
            assertArrayEquals(want.db().toFloatArray(), b.grad().toFloatArray(), tag + " dB");
            if (gated) assertArrayEquals(want.dg().toFloatArray(), g.grad().toFloatArray(), tag + " dg");
        }
    }

    @Test
    void aTrainingStepOnTheGpuEqualsTheCpuStep() {
        int n = 48, d = 64, hidden = 96, r = 8, steps = 2;
        double s = 2.0, lr = 0.05;
        for (boolean gated : new boolean[] {false, true}) {
            String tag = gated ? "sora" : "lora";
            // Two adapted layers, d → hidden → d, W and bias frozen; layer 2 needs dx, layer 1 does not.
            Tensor x = rnd(41, 1, n, d), target = rnd(42, 1, n, d);
            Tensor[] frozen = {rnd(43, 0.1, hidden, d), rnd(44, 0.1, hidden), rnd(45, 0.1, d, hidden), rnd(46, 0.1, d)};
            Tensor[] init = {rnd(47, 0.1, r, d), rnd(48, 0.1, hidden, r), rnd(49, 1, r), rnd(50, 0.1, r, hidden), rnd(51, 0.1, d, r), rnd(52, 1, r)};
            Step cpu = new Step(Device.cpu(), x, target, frozen, init, gated, s, lr), gpu = new Step(GPU, x, target, frozen, init, gated, s, lr);
            for (int step = 1; step <= steps; step++) {
                double lossCpu = cpu.run(), lossGpu = gpu.run();
                assertEquals(lossCpu, lossGpu, 1e-5 * Math.sqrt(hidden) * Math.abs(lossCpu), tag + " loss at step " + step);
                for (int i = 0; i < cpu.params.size(); i++) {
                    String what = tag + " step " + step + " parameter " + i;
                    assertEquals(GPU, gpu.params.get(i).device(), what);
                    close(cpu.grads.get(i), gpu.grads.get(i), 1e-5 * Math.sqrt((double) n * hidden), what + " gradient");
                    close(cpu.updates.get(i), gpu.updates.get(i), 1e-5 * Math.sqrt((double) n * hidden), what + " update");
                }
            }
        }
    }

    /// One model on one device: forward through `Functional.lowRankLinear` twice (GELU between),
    /// mean squared error, backward, an SGD step with momentum.
    private static final class Step {
        final Tensor x, target, w1, bias1, w2, bias2;
        final List<Tensor> params = new ArrayList<>(), grads = new ArrayList<>(), updates = new ArrayList<>();
        final boolean gated;
        final double s;
        final SGD opt;

        Step(Device dev, Tensor x, Tensor target, Tensor[] frozen, Tensor[] init, boolean gated, double s, double lr) {
            this.x = x.to(dev);
            this.target = target.to(dev);
            w1 = frozen[0].to(dev);
            bias1 = frozen[1].to(dev);
            w2 = frozen[2].to(dev);
            bias2 = frozen[3].to(dev);
            for (int i = 0; i < init.length; i++) {
                if (gated || i % 3 != 2) params.add(init[i].copy().to(dev).requiresGrad(true));
            }
            this.gated = gated;
            this.s = s;
            opt = new SGD(List.of(new ParamGroup(params, lr)), 0.9, 0, false);
        }

        /// One step; returns the loss before it and keeps the gradients in [#grads], each parameter's
        /// change in [#updates].
        double run() {
            int k = gated ? 3 : 2;
            Tensor g1 = gated ? params.get(2) : null, g2 = gated ? params.get(5) : null;
            Tensor h = Functional.lowRankLinear(x, w1, bias1, params.get(0), params.get(1), g1, s).gelu();
            Tensor y = Functional.lowRankLinear(h, w2, bias2, params.get(k), params.get(k + 1), g2, s);
            Tensor loss = y.sub(target).square().mean();
            for (Tensor p : params) p.zeroGrad();
            loss.backward();
            grads.clear();
            updates.clear();
            for (Tensor p : params) {
                grads.add(p.grad().copy());
                updates.add(p.detach().copy());
            }
            opt.step();
            for (int i = 0; i < params.size(); i++) updates.set(i, params.get(i).detach().sub(updates.get(i)));
            return loss.item();
        }
    }
}
