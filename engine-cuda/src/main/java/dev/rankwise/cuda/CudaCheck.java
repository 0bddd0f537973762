package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Functional;
import dev.rankwise.random.Generator;

/// `java -cp … dev.rankwise.cuda.CudaCheck`: what the CUDA backend finds on this machine and one
/// smoke step per layer, each on its own line, so a first look at a GPU machine says which layer
/// fails before any test runs: the driver and device, a Philox fill (our PTX, JIT-compiled by the
/// driver), an elementwise op and a reduction, a cuBLAS GEMM, a cuSOLVER SVD, and the fused low-rank
/// linear forward and backward reached through autograd. Each result is compared with the CPU. Exit status 0 when every step passed, 1 when one failed, 3 without a GPU.
public final class CudaCheck {
    private CudaCheck() {}

    public static void main(String[] args) {
        System.out.println("cuda: " + Cuda.description());
        if (!Cuda.isAvailable()) System.exit(3);
        Device gpu = Device.cuda(0);
        boolean ok = step("philox fill (PTX module random)", () -> {
            Tensor g = Tensor.randn(new Generator(1), DType.F32, gpu, 1000), c = Tensor.randn(new Generator(1), DType.F32, 1000);
            return g.to(Device.cpu()).sub(c).abs().max().item();
        }, 0);
        Tensor a = Tensor.randn(new Generator(2), DType.F64, 96, 64), b = Tensor.randn(new Generator(3), DType.F64, 64, 80);
        ok &= step("elementwise and reduction (PTX modules elementwise, reduce)", () ->
                a.to(gpu).exp().sum().item() / a.exp().sum().item() - 1, 1e-12);
        ok &= step("cuBLAS DGEMM", () -> a.to(gpu).matmul(b.to(gpu)).to(Device.cpu()).sub(a.matmul(b)).abs().max().item(), 1e-12);
        ok &= step("cuSOLVER SVD (gesvdj)", () ->
                Linalg.svdvals(a.to(gpu)).to(Device.cpu()).sub(Linalg.svdvals(a)).abs().max().item(), 1e-10);
        ok &= step("low-rank linear via autograd (PTX module lowrank, fused backward)", () -> lowRankDeviation(gpu), 1e-4);
        System.out.println("memory: " + Cuda.memoryStats(gpu));
        System.exit(ok ? 0 : 1);
    }

    /// One F32 `Functional.lowRankLinear` (SoRA's gated form) forward and backward on `gpu` and on
    /// the CPU: the largest deviation of dA and dg, relative to the gradient's scale (both are sums of
    /// at most 64·48 F32 terms, so about 1e-6 is expected).
    private static double lowRankDeviation(Device gpu) {
        Generator gen = new Generator(4);
        Tensor x = Tensor.randn(gen, DType.F32, 64, 96), w = Tensor.randn(gen, DType.F32, 48, 96).mul(0.1);
        Tensor a = Tensor.randn(gen, DType.F32, 8, 96).mul(0.1), b = Tensor.randn(gen, DType.F32, 48, 8).mul(0.1), g = Tensor.randn(gen, DType.F32, 8);
        Tensor[][] grads = new Tensor[2][];
        for (int i = 0; i < 2; i++) {
            Device dev = i == 0 ? Device.cpu() : gpu;
            Tensor ai = a.to(dev).requiresGrad(true), gi = g.to(dev).requiresGrad(true);
            Functional.lowRankLinear(x.to(dev), w.to(dev), null, ai, b.to(dev), gi, 2.0).square().sum().backward();
            grads[i] = new Tensor[] {ai.grad().to(Device.cpu()), gi.grad().to(Device.cpu())};
        }
        double dev = 0;
        for (int j = 0; j < 2; j++) dev = Math.max(dev, grads[1][j].sub(grads[0][j]).abs().max().item() / grads[0][j].abs().max().item());
        return dev;
    }

    /// Runs one smoke step: its deviation from the CPU must be within `tol`.
    private static boolean step(String what, java.util.function.DoubleSupplier deviation, double tol) {
        long t0 = System.nanoTime();
        try {
            double dev = Math.abs(deviation.getAsDouble());
            boolean pass = dev <= tol;
            System.out.printf("%-62s %s (deviation from the CPU %.3g, %.0f ms)%n", what, pass ? "ok" : "WRONG", dev, (System.nanoTime() - t0) / 1e6);
            return pass;
        } catch (RuntimeException | LinkageError e) {
            System.out.println(what + " FAILED: " + e);
            return false;
        }
    }
}
