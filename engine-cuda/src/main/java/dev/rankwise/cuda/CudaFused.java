package dev.rankwise.cuda;

import dev.rankwise.Tensor;
import dev.rankwise.spi.FusedKernels;

/// The CUDA backend's fused kernels: row softmax in one kernel (one block per row, three passes over
/// the row) and the low-rank linear with its low-rank branch fused, forward and backward
/// ([CudaLowRank]). Cases a kernel does not cover fall back to the composed defaults.
final class CudaFused implements FusedKernels {
    private final CudaBackend be;

    CudaFused(CudaBackend be) {
        this.be = be;
    }

    @Override
    public Tensor softmax(Tensor x, int dim) {
        Tensor y = rows(x, dim, false);
        return y != null ? y : FusedKernels.super.softmax(x, dim);
    }

    @Override
    public Tensor logSoftmax(Tensor x, int dim) {
        Tensor y = rows(x, dim, true);
        return y != null ? y : FusedKernels.super.logSoftmax(x, dim);
    }

    /// Softmax along the last dim of a contiguous tensor, or null for other layouts.
    private Tensor rows(Tensor x, int dim, boolean log) {
        if (dim != x.rank() - 1 || !x.isContiguous() || x.numel() == 0) return null;
        CudaDevice d = CudaBackend.on(log ? "logSoftmax" : "softmax", x);
        int cols = x.shapeRef()[dim];
        long rows = x.numel() / cols;
        Tensor y = be.empty(d, x.dtype(), x.shape());
        d.launch("softmax_rows_" + CudaBackend.suffix(x), rows, new KernelArgs().ptr(y).ptr(x).i32(cols).i32(log ? 1 : 0));
        return y;
    }

    /// The fused forward where [CudaLowRank#supports] holds; it computes h = x·Aᵀ anyway, so `hOut`
    /// (when given) receives it for the backward.
    @Override
    public Tensor loraForward(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s, Tensor hOut) {
        CudaLowRank.Forward f = CudaLowRank.forward(x, w, bias, a, b, g, s);
        if (f == null) return FusedKernels.super.loraForward(x, w, bias, a, b, g, s, hOut);
        if (hOut != null) be.copy(f.h().reshape(hOut.shape()), hOut);
        return f.y();
    }

    /// The fused backward ([CudaLowRank#backward], with the forward's h, or h = x·Aᵀ recomputed on
    /// cuBLAS when none was saved) where [CudaLowRank#supportsBackward] holds (F32, x contiguous,
    /// r ≤ 64, N > 0), the composed default otherwise; only what a need flag asks for is computed.
    @Override
    public LoraGrads loraBackward(Tensor dy, Tensor x, Tensor w, Tensor a, Tensor b, Tensor g, double s, Tensor h,
                                  boolean needX, boolean needA, boolean needB, boolean needG) {
        if (!(needX || needA || needB || needG && g != null)) return new LoraGrads(null, null, null, null);
        if (!CudaLowRank.supportsBackward(dy, x, w, a, b, g)) {
            return FusedKernels.super.loraBackward(dy, x, w, a, b, g, s, h, needX, needA, needB, needG);
        }
        Tensor h2 = h == null || !h.isContiguous() ? null : h.reshape(-1, a.size(0));
        CudaLowRank.Grads d = CudaLowRank.backward(x, dy, w, a, b, g, s, h2, needX, needA, needB, needG);
        return new LoraGrads(d.dx(), d.dA(), d.dB(), d.dg());
    }
}
