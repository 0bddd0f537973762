package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.optim.AdamW;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.peft.SoraGateOptimizer;
import dev.rankwise.random.Generator;
import dev.rankwise.spi.FusedKernels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.rankwise.cuda.Gpu.close;

/// Rankwise's own kernels (kernels/lowrank.cu, svdinit.cu, optim.cu) against their CPU references:
/// the composed low-rank linear and its autograd gradients (in F64), the CPU SVD, AdamW and the SoRA
/// gate optimizer. Tolerances: F32 products with reductions of length K are held to 1e-5·√K relative
/// to the output's scale; BF16 inputs (8 mantissa bits) to 1e-2; optimizer steps to 2 F32 ulps
/// (the kernels round each operation as the CPU does, so they are expected to agree exactly).
class FusedKernelsTest {
    static final Device GPU = Gpu.DEVICE;

    @BeforeEach
    void gpu() {
        Gpu.assume();
    }

    private static Tensor rnd(long seed, double scale, int... shape) {
        return Tensor.randn(new Generator(seed), DType.F32, shape).mul(scale);
    }

    @Test
    void lowRankForwardAndBackwardMatchTheComposedOps() {
        int n = 70, din = 96, dout = 80;
        for (int r : new int[] {1, 16, 64}) {
            for (boolean gated : new boolean[] {false, true}) {
                Tensor x = rnd(1, 1, 2, n / 2, din), w = rnd(2, 0.1, dout, din), a = rnd(3, 0.1, r, din), b = rnd(4, 0.1, dout, r);
                Tensor g = gated ? rnd(5, 1, r) : null, bias = rnd(6, 1, dout), dy = rnd(7, 1, 2, n / 2, dout);
                double s = 2.0;
                String tag = "r=" + r + (gated ? " gated" : "");
                // Reference: the composed linear in F64 on the CPU, gradients by autograd.
                List<Tensor> ref = new ArrayList<>();
                for (Tensor t : new Tensor[] {x, w, a, b, g, bias}) ref.add(t == null ? null : t.to(DType.F64).detach().requiresGrad(true));
                Tensor yRef = FusedKernels.COMPOSED.loraForward(ref.get(0), ref.get(1), ref.get(5), ref.get(2), ref.get(3), ref.get(4), s);
                yRef.mul(dy.to(DType.F64)).sum().backward();
                CudaLowRank.Forward f = CudaLowRank.forward(x.to(GPU), w.to(GPU), bias.to(GPU), a.to(GPU), b.to(GPU), g == null ? null : g.to(GPU), s);
                double tol = 1e-5 * Math.sqrt(din);
                close(yRef, f.y(), tol, "forward " + tag);
                close(x.to(DType.F64).reshape(n, din).matmul(a.to(DType.F64).t()), f.h(), tol, "h " + tag);
                CudaLowRank.Grads gr = CudaLowRank.backward(x.to(GPU), dy.to(GPU), w.to(GPU), a.to(GPU), b.to(GPU), g == null ? null : g.to(GPU), s, f.h(), true);
                close(ref.get(0).grad(), gr.dx(), 1e-5 * Math.sqrt(dout), "dx " + tag);
                close(ref.get(2).grad(), gr.dA(), 1e-5 * Math.sqrt(n), "dA " + tag);
                close(ref.get(3).grad(), gr.dB(), 1e-5 * Math.sqrt(n), "dB " + tag);
                if (gated) close(ref.get(4).grad(), gr.dg(), 1e-5 * Math.sqrt(n * dout), "dg " + tag);
                else assertNull(gr.dg());
                // The backend's fused forward hook gives the same.
                close(yRef, gpuBackend(x).fused().loraForward(x.to(GPU), w.to(GPU), bias.to(GPU), a.to(GPU), b.to(GPU), g == null ? null : g.to(GPU), s), tol, "fused hook " + tag);
            }
        }
    }

    private static dev.rankwise.spi.Backend gpuBackend(Tensor any) {
        return any.to(GPU).backend();
    }

    @Test
    void bf16InputsAgreeWithinBf16Precision() {
        int n = 64, din = 128, dout = 48, r = 16;
        Tensor x = rnd(8, 1, n, din), a = rnd(9, 0.1, r, din), b = rnd(10, 0.1, dout, r), g = rnd(11, 1, r);
        Tensor xRounded = CudaLowRank.toBf16(x.to(GPU));
        Tensor y = Tensor.zeros(GPU, DType.F32, n, dout);
        CudaLowRank.addLowRankBf16(y, xRounded, a.to(GPU), b.to(GPU), g.to(GPU), null, 1.5);
        Tensor ref = x.matmul(a.t()).mul(g).matmul(b.t()).mul(1.5);
        close(ref, y, 1e-2, "BF16 x");
    }

    @Test
    void pissaInitOfABatchRecoversTheTopTriplets() {
        int batch = 3, m = 120, n = 90, r = 8;
        List<Tensor> ws = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            // A decaying spectrum so the range finder has a clear top-r subspace.
            Tensor u = Tensor.randn(new Generator(20 + i), DType.F64, m, 40), v = Tensor.randn(new Generator(30 + i), DType.F64, 40, n);
            double[] decay = new double[40];
            for (int j = 0; j < 40; j++) decay[j] = Math.pow(0.7, j);
            ws.add(u.mul(Tensor.fromArray(decay, 40)).matmul(v).to(DType.F32));
        }
        Tensor w = Tensor.stack(ws, 0);
        double s = 2.0;
        for (int niter : new int[] {4, -1}) {
            CudaSvdInit.Result res = CudaSvdInit.init(w.to(GPU), r, s, niter, 4, new Generator(5), false);
            close(w, res.residual().add(res.b().matmul(res.a()).mul(s)), 1e-5, "W_res + s·B·A = W (niter " + niter + ")");
            for (int i = 0; i < batch; i++) {
                double[] sv = dev.rankwise.linalg.Linalg.svdvals(ws.get(i).to(DType.F64)).toDoubleArray();
                double[] got = dev.rankwise.linalg.Linalg.svdvals(res.b().select(0, i).matmul(res.a().select(0, i)).mul(s).to(Device.cpu()).to(DType.F64)).toDoubleArray();
                for (int j = 0; j < r; j++) assertEquals(sv[j], got[j], 1e-3 * sv[0], "σ" + j + " of matrix " + i + " (niter " + niter + ")");
            }
        }
        CudaSvdInit.Result milora = CudaSvdInit.init(w.to(GPU), r, s, -1, 0, new Generator(5), true);
        close(w, milora.residual().add(milora.b().matmul(milora.a()).mul(s)), 1e-5, "MiLoRA W_res + s·B·A = W");
    }

    @Test
    void choleskyQrOrthonormalizesIllConditionedSketches() {
        Tensor y = rnd(12, 1, 2, 500, 32);
        Tensor cols = Tensor.fromArray(java.util.stream.IntStream.range(0, 32).mapToDouble(j -> Math.pow(10, -j / 4.0)).toArray(), 32).to(DType.F32);
        Tensor yg = y.mul(cols).to(GPU).contiguous();                          // condition number about 1e8
        CudaBackend be = (CudaBackend) yg.backend();
        CudaSvdInit.orthonormalize(be, CudaStorage.of(yg).device, yg);
        Tensor qtq = yg.transpose(1, 2).matmul(yg);
        close(Tensor.stack(List.of(Tensor.eye(32, DType.F32), Tensor.eye(32, DType.F32)), 0), qtq, 1e-5, "QᵀQ = I");
    }

    @Test
    void multiTensorAdamWEqualsTheCpuOptimizer() {
        List<Tensor> cpu = new ArrayList<>(), gpu = new ArrayList<>(), gg = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
        int[] sizes = {1, 7, 2048, 2049, 5000};
        for (int i = 0; i < sizes.length; i++) {
            Tensor p = rnd(40 + i, 1, sizes[i]);
            cpu.add(p.copy().detach().requiresGrad(true));
            gpu.add(p.to(GPU));
            m.add(Tensor.zeros(GPU, DType.F32, sizes[i]));
            v.add(Tensor.zeros(GPU, DType.F32, sizes[i]));
        }
        AdamW opt = new AdamW(List.of(new ParamGroup("all", cpu, 1e-2, 0.1)));
        for (int step = 1; step <= 3; step++) {
            gg.clear();
            for (int i = 0; i < sizes.length; i++) {
                Tensor grad = rnd(100 * step + i, 1, sizes[i]);
                cpu.get(i).setGrad(grad);
                gg.add(grad.to(GPU));
            }
            opt.step();
            CudaOptim.adamW(gpu, gg, m, v, 1e-2, 0.9, 0.999, 1e-8, 0.1, step);
            for (int i = 0; i < sizes.length; i++) close(cpu.get(i).detach(), gpu.get(i), 2 * 0x1p-23, "AdamW step " + step + " tensor " + i);
        }
    }

    @Test
    void soraGateStepsEqualTheCpuOptimizerAndCountNonZeros() {
        for (SoraGateOptimizer.Rule rule : SoraGateOptimizer.Rule.values()) {
            List<Tensor> cpu = new ArrayList<>(), gpu = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Tensor g = rnd(60 + i, 0.05, 8 + i);
                cpu.add(g.copy().detach().requiresGrad(true));
                gpu.add(g.to(GPU));
                m.add(Tensor.zeros(GPU, DType.F32, 8 + i));
                v.add(Tensor.zeros(GPU, DType.F32, 8 + i));
            }
            double lr = 0.1, lambda = 0.02;
            SoraGateOptimizer opt = new SoraGateOptimizer(cpu, lr, lambda, rule);
            for (int step = 1; step <= 3; step++) {
                List<Tensor> grads = new ArrayList<>();
                for (int i = 0; i < cpu.size(); i++) {
                    Tensor grad = rnd(200 * step + i, 0.1, 8 + i);
                    cpu.get(i).setGrad(grad);
                    grads.add(grad.to(GPU));
                }
                opt.step();
                int[] nnz = CudaOptim.soraGate(gpu, grads, m, v, rule == SoraGateOptimizer.Rule.PROXIMAL, lr, lambda, step);
                for (int i = 0; i < cpu.size(); i++) {
                    close(cpu.get(i).detach(), gpu.get(i), 2 * 0x1p-23, rule + " step " + step + " gate " + i);
                    int want = 0;
                    for (float f : cpu.get(i).detach().toFloatArray()) if (f != 0) want++;
                    assertEquals(want, nnz[i], rule + " non-zero count of gate " + i);
                }
            }
            assertTrue(java.util.Arrays.stream(gpu.get(0).toDoubleArray()).anyMatch(f -> f == 0), "the threshold zeroed some gates");
        }
        assertArrayEquals(new int[0], CudaOptim.soraGate(List.of(), List.of(), null, null, true, 0.1, 0.1, 1));
    }
}
