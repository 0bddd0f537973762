package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.kernels.KernelCatalog;

import java.util.Arrays;

/// The LoRA/SoRA low-rank linear on the GPU with its low-rank branch fused (kernels/lowrank.cu):
///
/// `y = x·Wᵀ + bias + s·((x·Aᵀ) ⊙ g)·Bᵀ` (LoRA arXiv 2106.09685 eq. 3, SoRA arXiv 2311.11696 eq. 3)
///
/// x [..., d_in], W [d_out, d_in] (frozen), bias [d_out] or null, A [r, d_in], B [d_out, r],
/// g [r] or null (plain LoRA), s the scale. The dense product runs on cuBLAS; one kernel adds bias
/// and the whole low-rank branch. The backward reads dy once in a fused kernel (du, dh, dg) and
/// leaves the three long reductions (dB, dA, dx) to cuBLAS. F32, r ≤ 64; [#supports] says when the
/// fused path applies (the composed ops serve every other case).
public final class CudaLowRank {
    private CudaLowRank() {}

    /// The forward's output and what its backward needs: h = x·Aᵀ [N, r].
    public record Forward(Tensor y, Tensor h) {}

    /// Gradients: dx [..., d_in] (null unless asked), dA [r, d_in], dB [d_out, r], dg [r] (null for LoRA).
    public record Grads(Tensor dx, Tensor dA, Tensor dB, Tensor dg) {}

    private static CudaBackend backend(Tensor t) {
        return (CudaBackend) t.backend();
    }

    /// True when the fused kernels take these operands: all F32 on one CUDA device, x contiguous,
    /// A, B, g, bias contiguous, r ≤ 64.
    public static boolean supports(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g) {
        for (Tensor t : new Tensor[] {x, w, bias, a, b, g}) {
            if (t == null) continue;
            if (!(t.storage() instanceof CudaStorage) || t.dtype() != DType.F32 || t.device() != null && !t.device().equals(x.device())) return false;
        }
        int r = a.size(0);
        return x.isContiguous() && a.isContiguous() && b.isContiguous() && (g == null || g.isContiguous()) && (bias == null || bias.isContiguous())
                && r >= 1 && r <= KernelCatalog.LOWRANK_MAX_RANK && x.numel() / Math.max(1, x.size(-1)) < Integer.MAX_VALUE;
    }

    /// The forward, or null when [#supports] says no. Shapes are checked here with the op's name.
    public static Forward forward(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s) {
        if (!supports(x, w, bias, a, b, g)) return null;
        int din = x.size(-1), dout = w.size(0), r = a.size(0);
        check(w, dout, din, a, b, g, bias);
        CudaBackend be = backend(x);
        CudaDevice d = CudaBackend.on("lowRankLinear", x, w, a, b);
        int n = (int) (x.numel() / din);
        Tensor x2 = x.reshape(n, din);
        Tensor y = be.empty(d, DType.F32, n, dout);
        be.gemm(x2, w.t(), y, 1.0, 0.0);                          // dense part on cuBLAS
        Tensor h = be.empty(d, DType.F32, n, r);
        if (n > 0) {
            d.launch("lowrank_fwd_f32", n, new KernelArgs().ptr(y).ptr(x2).ptr(a).ptr(b).ptrOrNull(g).ptrOrNull(bias).ptr(h)
                    .f32((float) s).i32(n).i32(din).i32(dout).i32(r));
        }
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = dout;
        return new Forward(y.reshape(outShape), h);
    }

    /// Adds `bias + s·((x·Aᵀ) ⊙ g)·Bᵀ` into y [N, d_out] (F32, contiguous) from x [N, d_in] stored in
    /// BF16 (a buffer from [#toBf16]): the BF16-input option, for callers whose activations are BF16.
    public static void addLowRankBf16(Tensor y, Tensor xBf16, Tensor a, Tensor b, Tensor g, Tensor bias, double s) {
        if (xBf16.dtype() != DType.BF16 || !xBf16.isContiguous()) throw new IllegalArgumentException("addLowRankBf16: x must be a contiguous BF16 tensor");
        int din = xBf16.size(-1), n = (int) (xBf16.numel() / din), dout = y.size(-1), r = a.size(0);
        if (y.numel() != (long) n * dout || !y.isContiguous() || y.dtype() != DType.F32) {
            throw new IllegalArgumentException("addLowRankBf16: y must be contiguous F32 [" + n + ", " + dout + "], got " + Shape.str(y.shapeRef()));
        }
        if (r > KernelCatalog.LOWRANK_MAX_RANK) throw new IllegalArgumentException("addLowRankBf16: rank " + r + " > " + KernelCatalog.LOWRANK_MAX_RANK);
        check(null, dout, din, a, b, g, bias);
        CudaDevice d = CudaBackend.on("addLowRankBf16", y, xBf16, a, b);
        if (n > 0) {
            d.launch("lowrank_fwd_bf16x", n, new KernelArgs().ptr(y).ptr(xBf16).ptr(a).ptr(b).ptrOrNull(g).ptrOrNull(bias).ptr(0L)
                    .f32((float) s).i32(n).i32(din).i32(dout).i32(r));
        }
    }

    /// A BF16 copy (round to nearest even) of a CUDA tensor, for [#addLowRankBf16]. BF16 tensors are
    /// storage only: the engine's ops refuse them.
    public static Tensor toBf16(Tensor x) {
        CudaBackend be = backend(x);
        CudaDevice d = CudaBackend.on("toBf16", x);
        Tensor out = be.empty(d, DType.BF16, x.shape());
        be.copy(x, out);
        return out;
    }

    /// The backward of [#forward] for upstream gradient dy [..., d_out], given its `h`: dA, dB, dg
    /// (for LoRA null) and dx when `needDx`.
    public static Grads backward(Tensor x, Tensor dy, Tensor w, Tensor a, Tensor b, Tensor g, double s, Tensor h, boolean needDx) {
        if (h == null) throw new IllegalArgumentException("lowRankLinear backward: h is null");
        return backward(x, dy, w, a, b, g, s, h, needDx, true, true, true);
    }

    /// True when [#backward] takes these operands: [#supports] holds, dy is F32 on x's device, and N > 0.
    public static boolean supportsBackward(Tensor dy, Tensor x, Tensor w, Tensor a, Tensor b, Tensor g) {
        return supports(x, w, null, a, b, g) && dy.storage() instanceof CudaStorage && dy.dtype() == DType.F32
                && x.device().equals(dy.device()) && x.numel() > 0;
    }

    /// The backward of [#forward] for upstream gradient dy [..., d_out] (any layout: a strided dy is
    /// copied once). `h` = x·Aᵀ [N, r] as [Forward] saved it, or null to recompute it on cuBLAS, as
    /// autograd does (`FusedKernels.loraBackward`): one pass over x, which dA reads anyway. The
    /// fused kernel reads dy once for u = s·h⊙g, dh = s·(dy·B)⊙g and dg's per-tile partials; cuBLAS
    /// then does only the long reductions asked for. Returns dx [..., d_in], dA [r, d_in],
    /// dB [d_out, r], dg [r], each null where not asked (dg also for LoRA).
    public static Grads backward(Tensor x, Tensor dy, Tensor w, Tensor a, Tensor b, Tensor g, double s, Tensor h,
                                 boolean needX, boolean needA, boolean needB, boolean needG) {
        if (!supportsBackward(dy, x, w, a, b, g)) {
            throw new IllegalArgumentException("lowRankLinear backward: needs the fused path's operands (F32 on one device, x contiguous, 1 <= r <= "
                    + KernelCatalog.LOWRANK_MAX_RANK + ", N > 0)");
        }
        int din = x.size(-1), dout = w.size(0), r = a.size(0);
        check(w, dout, din, a, b, g, null);
        CudaBackend be = backend(x);
        CudaDevice d = CudaBackend.on("lowRankLinear backward", x, dy, w, a, b);
        int n = (int) (x.numel() / din);
        if (dy.numel() != (long) n * dout) {
            throw new IllegalArgumentException("lowRankLinear backward: dy has shape " + Shape.str(dy.shapeRef()) + " for x " + Shape.str(x.shapeRef()) + ", d_out " + dout);
        }
        Tensor x2 = x.reshape(n, din), dy2 = (dy.isContiguous() ? dy : be.contiguousCopy(dy)).reshape(n, dout);
        if (h == null) {
            h = be.empty(d, DType.F32, n, r);
            be.gemm(x2, a.t(), h, 1.0, 0.0);                         // h = x·Aᵀ, recomputed
        } else if (!Arrays.equals(h.shapeRef(), new int[] {n, r}) || !h.isContiguous() || h.dtype() != DType.F32) {
            throw new IllegalArgumentException("lowRankLinear backward: h is " + h.dtype() + " " + Shape.str(h.shapeRef()) + ", expected contiguous F32 [" + n + ", " + r + "]");
        } else {
            CudaBackend.on("lowRankLinear backward", x, h);
        }
        boolean dgAsked = needG && g != null;
        int tiles = (n + KernelCatalog.TILE_ROWS - 1) / KernelCatalog.TILE_ROWS;
        Tensor u = be.empty(d, DType.F32, n, r), dh = be.empty(d, DType.F32, n, r);
        Tensor dgPartial = dgAsked ? be.emptyZero(d, DType.F32, tiles, r) : null;
        d.launch("lowrank_bwd_f32", n, new KernelArgs().ptr(u).ptr(dh).ptrOrNull(dgPartial).ptr(dy2).ptr(b).ptrOrNull(g).ptr(h)
                .f32((float) s).i32(n).i32(dout).i32(r));
        Tensor dg = dgAsked ? dgPartial.sum(0, false) : null;        // deterministic: a fixed-order reduction
        Tensor dB = null, dA = null, dx = null;
        if (needB) {
            dB = be.empty(d, DType.F32, dout, r);
            be.gemm(dy2.t(), u, dB, 1.0, 0.0);                       // dB = dyᵀ·u
        }
        if (needA) {
            dA = be.empty(d, DType.F32, r, din);
            be.gemm(dh.t(), x2, dA, 1.0, 0.0);                       // dA = dhᵀ·x
        }
        if (needX) {
            Tensor dx2 = be.empty(d, DType.F32, n, din);
            be.gemm(dy2, w, dx2, 1.0, 0.0);                          // dense: dy·W
            be.gemm(dh, a, dx2, 1.0, 1.0);                           // low rank, accumulated: + dh·A
            dx = dx2.reshape(x.shape());
        }
        return new Grads(dx, dA, dB, dg);
    }

    private static void check(Tensor w, int dout, int din, Tensor a, Tensor b, Tensor g, Tensor bias) {
        int r = a.size(0);
        boolean ok = (w == null || Arrays.equals(w.shapeRef(), new int[] {dout, din})) && Arrays.equals(a.shapeRef(), new int[] {r, din})
                && Arrays.equals(b.shapeRef(), new int[] {dout, r}) && (g == null || Arrays.equals(g.shapeRef(), new int[] {r}))
                && (bias == null || Arrays.equals(bias.shapeRef(), new int[] {dout}));
        if (!ok) {
            throw new IllegalArgumentException("lowRankLinear: shapes do not fit: W " + (w == null ? "-" : Shape.str(w.shapeRef())) + ", A "
                    + Shape.str(a.shapeRef()) + ", B " + Shape.str(b.shapeRef()) + ", g " + (g == null ? "-" : Shape.str(g.shapeRef()))
                    + ", bias " + (bias == null ? "-" : Shape.str(bias.shapeRef())) + " for d_in " + din + ", d_out " + dout);
        }
    }
}
