package dev.rankwise.cpu;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.cpu.gemm.LowRankF32;
import dev.rankwise.cpu.gemm.LowRankF64;
import dev.rankwise.spi.FusedKernels;

/// The CPU backend's fused kernels: the low-rank linear forward and backward ([LowRankF32],
/// [LowRankF64]); everything else is the composed default. Operands of mixed dtypes fall back to the
/// default too; views are copied to dense row-major arrays first.
final class CpuFused implements FusedKernels {
    private final CpuBackend backend;

    CpuFused(CpuBackend backend) {
        this.backend = backend;
    }

    @Override
    public Tensor loraForward(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s, Tensor hOut) {
        boolean denseH = hOut == null || hOut.isContiguous() && hOut.offset() == 0 && hOut.dtype() == x.dtype();
        if (!sameFloatType(x, w, bias, a, b, g) || !denseH) return FusedKernels.super.loraForward(x, w, bias, a, b, g, s, hOut);
        int dIn = x.size(-1), dOut = w.size(0), r = a.size(0), n = (int) (x.numel() / Math.max(1, dIn));
        int[] shape = x.shape();
        shape[shape.length - 1] = dOut;
        Tensor y = empty(x.dtype(), shape);
        if (y.numel() == 0) return y;
        if (x.dtype() == DType.F32) {
            LowRankF32.forward(n, dIn, dOut, r, f32(x), f32(w), f32(bias), f32(a), f32(b), f32(g), (float) s, f32(y), f32(hOut));
        } else {
            LowRankF64.forward(n, dIn, dOut, r, f64(x), f64(w), f64(bias), f64(a), f64(b), f64(g), s, f64(y), f64(hOut));
        }
        return y;
    }

    @Override
    public LoraGrads loraBackward(Tensor dy, Tensor x, Tensor w, Tensor a, Tensor b, Tensor g, double s, Tensor h,
                                  boolean needX, boolean needA, boolean needB, boolean needG) {
        if (!sameFloatType(x, w, dy, a, b, g, h)) return FusedKernels.super.loraBackward(dy, x, w, a, b, g, s, h, needX, needA, needB, needG);
        int dIn = x.size(-1), dOut = w.size(0), r = a.size(0), n = (int) (x.numel() / Math.max(1, dIn));
        DType dt = x.dtype();
        Tensor dx = needX ? empty(dt, x.shape()) : null, da = needA ? empty(dt, a.shape()) : null;
        Tensor db = needB ? empty(dt, b.shape()) : null, dg = needG && g != null ? empty(dt, g.shape()) : null;
        if (dt == DType.F32) {
            LowRankF32.backward(n, dIn, dOut, r, f32(dy), f32(x), f32(w), f32(a), f32(b), f32(g), (float) s, f32(h),
                    f32(dx), f32(da), f32(db), f32(dg));
        } else {
            LowRankF64.backward(n, dIn, dOut, r, f64(dy), f64(x), f64(w), f64(a), f64(b), f64(g), s, f64(h),
                    f64(dx), f64(da), f64(db), f64(dg));
        }
        return new LoraGrads(dx, da, db, dg);
    }

    private static boolean sameFloatType(Tensor first, Tensor... rest) {
        DType dt = first.dtype();
        if (dt != DType.F32 && dt != DType.F64) return false;
        for (Tensor t : rest) if (t != null && t.dtype() != dt) return false;
        return true;
    }

    private Tensor empty(DType dt, int[] shape) {
        return new Tensor(backend.allocate(Device.CPU, dt, Shape.numel(shape)), shape, Shape.contiguousStrides(shape), 0);
    }

    /// The tensor's elements as a dense row-major array (its own storage when it already is one).
    private Tensor dense(Tensor t) {
        if (t.isContiguous() && t.offset() == 0) return t;
        Tensor c = empty(t.dtype(), t.shape());
        if (c.numel() > 0) backend.copy(t, c);
        return c;
    }

    private float[] f32(Tensor t) {
        return t == null ? null : ((CpuStorage) dense(t).storage()).f32;
    }

    private double[] f64(Tensor t) {
        return t == null ? null : ((CpuStorage) dense(t).storage()).f64;
    }
}
