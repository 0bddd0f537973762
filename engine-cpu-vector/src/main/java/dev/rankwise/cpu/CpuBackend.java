package dev.rankwise.cpu;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.cpu.gemm.Gemm;
import dev.rankwise.ops.BinaryOp;
import dev.rankwise.ops.ReduceOp;
import dev.rankwise.ops.UnaryOp;
import dev.rankwise.random.Philox;
import dev.rankwise.spi.Backend;
import dev.rankwise.spi.Distribution;
import dev.rankwise.spi.Storage;

/// The default backend: host arrays, Vector API kernels ([KernelsF32], [KernelsF64]) and the packed
/// GEMM, parallel over [Parallel]'s pool.
public final class CpuBackend implements Backend {
    @Override
    public String name() {
        return "cpu-vector";
    }

    @Override
    public Device.Kind kind() {
        return Device.Kind.CPU;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public String description() {
        return "cpu-vector: jdk.incubator.vector " + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize()
                + "-bit vectors, " + Parallel.threads() + " threads";
    }

    @Override
    public Storage allocate(Device device, DType dtype, long size) {
        return new CpuStorage(this, dtype, CpuStorage.newArray(dtype, size));
    }

    @Override
    public Storage upload(Device device, DType dtype, Object data) {
        boolean ok = switch (dtype) {
            case F32 -> data instanceof float[];
            case F64 -> data instanceof double[];
            case I32 -> data instanceof int[];
            default -> false;
        };
        if (!ok) throw new IllegalArgumentException("cpu upload: " + data.getClass().getSimpleName() + " does not hold " + dtype);
        return new CpuStorage(this, dtype, data);
    }

    @Override
    public Object download(Tensor src) {
        Tensor dst = new Tensor(allocate(Device.CPU, src.dtype(), src.numel()), src.shape(), Shape.contiguousStrides(src.shapeRef()), 0);
        if (src.numel() > 0) copy(src, dst);
        return ((CpuStorage) dst.storage()).array();
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.dtype() == dst.dtype()) {
            switch (src.dtype()) {
                case F32 -> KernelsF32.copy(src, dst);
                case F64 -> KernelsF64.copy(src, dst);
                default -> copyConverting(src, dst);
            }
        } else {
            copyConverting(src, dst);
        }
    }

    /// Copy with dtype conversion. F64 → F32 rounds to nearest, F32 → F64 and I32 → floating are exact,
    /// floating → I32 truncates toward zero (NaN → 0).
    private static void copyConverting(Tensor src, Tensor dst) {
        CpuStorage s = (CpuStorage) src.storage(), d = (CpuStorage) dst.storage();
        Strided p = new Strided(dst.shapeRef(), src, dst);
        int s0 = p.innerStride[0], s1 = p.innerStride[1];
        if (s.f32 != null && d.f64 != null) {
            float[] from = s.f32;
            double[] to = d.f64;
            p.forEach((off, len) -> {
                for (int i = 0; i < len; i++) to[off[1] + i * s1] = from[off[0] + i * s0];
            });
        } else if (s.f64 != null && d.f32 != null) {
            double[] from = s.f64;
            float[] to = d.f32;
            p.forEach((off, len) -> {
                for (int i = 0; i < len; i++) to[off[1] + i * s1] = (float) from[off[0] + i * s0];
            });
        } else {
            p.forEach((off, len) -> {
                for (int i = 0; i < len; i++) set(d, off[1] + i * s1, get(s, off[0] + i * s0));
            });
        }
    }

    static double get(CpuStorage s, int i) {
        return s.f32 != null ? s.f32[i] : s.f64 != null ? s.f64[i] : s.i32[i];
    }

    static void set(CpuStorage s, int i, double v) {
        if (s.f32 != null) s.f32[i] = (float) v;
        else if (s.f64 != null) s.f64[i] = v;
        else s.i32[i] = (int) v;
    }

    static boolean isNonZero(CpuStorage s, int i) {
        return get(s, i) != 0;
    }

    @Override
    public void fill(Tensor dst, double value) {
        switch (dst.dtype()) {
            case F32 -> KernelsF32.fill(dst, value);
            case F64 -> KernelsF64.fill(dst, value);
            default -> {
                CpuStorage d = (CpuStorage) dst.storage();
                Strided p = new Strided(dst.shapeRef(), dst);
                int sd = p.innerStride[0];
                p.forEachSequential((off, len) -> {
                    for (int i = 0; i < len; i++) set(d, off[0] + i * sd, value);
                });
            }
        }
    }

    @Override
    public void random(Tensor dst, Distribution dist, long seed, long counterOffset) {
        CpuStorage d = (CpuStorage) dst.storage();
        int n = (int) dst.numel();
        Philox.Kind kind = dist.kind() == Distribution.Kind.UNIFORM ? Philox.Kind.UNIFORM : Philox.Kind.NORMAL;
        double scale = dist.kind() == Distribution.Kind.UNIFORM ? dist.b() - dist.a() : dist.b();
        double shift = dist.a();
        int base = dst.offset();
        // Ranges start at multiples of 4 so each Philox block is computed once; values do not depend on the split.
        int blocks = (n + 3) / 4;
        Parallel.forRange(blocks, 1 << 12, (s, e) -> {
            int from = s * 4, to = Math.min(n, e * 4);
            double[] buf = new double[to - from];
            Philox.fill(buf, to - from, from, kind, seed, counterOffset);
            for (int i = from; i < to; i++) set(d, base + i, shift + scale * buf[i - from]);
        });
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        if (x.dtype() == DType.F32) KernelsF32.unary(op, x, out);
        else KernelsF64.unary(op, x, out);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        if (out.dtype() == DType.F32) KernelsF32.binary(op, a, b, out);
        else KernelsF64.binary(op, a, b, out);
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        if (out.dtype() == DType.F32) KernelsF32.where(cond, a, b, out);
        else KernelsF64.where(cond, a, b, out);
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        boolean f32 = x.dtype() == DType.F32;
        if (op.isArg()) {
            if (f32) KernelsF32.argReduce(op, x, dims[0], out);
            else KernelsF64.argReduce(op, x, dims[0], out);
        } else if (f32) {
            KernelsF32.reduce(op, x, dims, out);
        } else {
            KernelsF64.reduce(op, x, dims, out);
        }
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor out) {
        int r = out.rank();
        int m = out.shapeRef()[r - 2], n = out.shapeRef()[r - 1], k = a.shapeRef()[r - 1];
        Tensor ma = matrixOperand(a), mb = matrixOperand(b);
        boolean ta = isTransposed(ma), tb = isTransposed(mb);
        int lda = leading(ma, ta), ldb = leading(mb, tb);
        // The innermost batch dim goes to the strided-batched GEMM (stride 0 where an operand is
        // broadcast); any outer batch dims are walked here.
        int nb = r - 2, inner = nb == 0 ? 1 : out.shapeRef()[r - 3];
        int strideA = nb == 0 ? 0 : ma.stridesRef()[r - 3], strideB = nb == 0 ? 0 : mb.stridesRef()[r - 3];
        int outer = (int) (out.numel() / Math.max(1L, (long) m * n * inner));
        int[] idx = new int[Math.max(0, nb - 1)];
        for (int bi = 0; bi < outer; bi++) {
            int oa = ma.offset(), ob = mb.offset();
            for (int d = 0; d < idx.length; d++) {
                oa += idx[d] * ma.stridesRef()[d];
                ob += idx[d] * mb.stridesRef()[d];
            }
            int oc = bi * inner * m * n;
            if (out.dtype() == DType.F32) {
                Gemm.sgemmBatched(inner, ta, tb, m, n, k, 1f, f32(ma), oa, lda, strideA, f32(mb), ob, ldb, strideB, 0f, f32(out), oc, n, m * n);
            } else {
                Gemm.dgemmBatched(inner, ta, tb, m, n, k, 1.0, f64(ma), oa, lda, strideA, f64(mb), ob, ldb, strideB, 0.0, f64(out), oc, n, m * n);
            }
            for (int d = idx.length - 1; d >= 0; d--) {
                if (++idx[d] < out.shapeRef()[d]) break;
                idx[d] = 0;
            }
        }
    }

    /// The operand itself when its matrix dims are row- or column-contiguous, else a contiguous copy.
    private Tensor matrixOperand(Tensor t) {
        int r = t.rank();
        int rows = t.shapeRef()[r - 2], cols = t.shapeRef()[r - 1];
        int sr = t.stridesRef()[r - 2], sc = t.stridesRef()[r - 1];
        boolean rowMajor = (sc == 1 || cols == 1) && sr >= Math.max(1, cols);
        boolean colMajor = (sr == 1 || rows == 1) && sc >= Math.max(1, rows);
        if (rowMajor || colMajor) return t;
        Tensor c = new Tensor(allocate(Device.CPU, t.dtype(), t.numel()), t.shape(), Shape.contiguousStrides(t.shapeRef()), 0);
        copy(t, c);
        return c;
    }

    private static boolean isTransposed(Tensor t) {
        int r = t.rank();
        int cols = t.shapeRef()[r - 1];
        int sc = t.stridesRef()[r - 1];
        return !((sc == 1 || cols == 1) && t.stridesRef()[r - 2] >= Math.max(1, cols));
    }

    private static int leading(Tensor t, boolean transposed) {
        int r = t.rank();
        return transposed ? Math.max(t.stridesRef()[r - 1], Math.max(1, t.shapeRef()[r - 2]))
                : Math.max(t.stridesRef()[r - 2], Math.max(1, t.shapeRef()[r - 1]));
    }

    private static float[] f32(Tensor t) {
        return ((CpuStorage) t.storage()).f32;
    }

    private static double[] f64(Tensor t) {
        return ((CpuStorage) t.storage()).f64;
    }

    private final dev.rankwise.cpu.linalg.CpuLinalg linalg = new dev.rankwise.cpu.linalg.CpuLinalg();
    private final CpuFused fused = new CpuFused(this);

    /// The fused low-rank linear forward and backward; the other fused ops compose from primitives.
    @Override
    public dev.rankwise.spi.FusedKernels fused() {
        return fused;
    }

    @Override
    public dev.rankwise.spi.LinalgKernels linalg() {
        return linalg;
    }

    @Override
    public void gather(Tensor x, int dim, Tensor index, Tensor out) {
        switch (x.dtype()) {
            case F32 -> KernelsF32.gather(x, dim, index, out);
            case F64 -> KernelsF64.gather(x, dim, index, out);
            default -> gatherAnyType(x, dim, index, out);
        }
    }

    /// Gather for I32 data (labels selected by a batch index): the same walk as the kernels, through get/set.
    private static void gatherAnyType(Tensor x, int d, Tensor index, Tensor out) {
        CpuStorage xs = (CpuStorage) x.storage(), os = (CpuStorage) out.storage();
        int[] is = ((CpuStorage) index.storage()).i32;
        int[] xst = x.strides();
        int step = xst[d];
        xst[d] = 0;
        Tensor xv = new Tensor(x.storage(), out.shapeRef(), xst, x.offset());
        Strided p = new Strided(out.shapeRef(), index, xv, out);
        int si = p.innerStride[0], sx = p.innerStride[1], so = p.innerStride[2];
        p.forEach((off, len) -> {
            for (int i = 0; i < len; i++) set(os, off[2] + i * so, get(xs, off[1] + i * sx + is[off[0] + i * si] * step));
        });
    }

    @Override
    public void scatterAdd(Tensor target, int dim, Tensor index, Tensor src) {
        if (target.dtype() == DType.F32) KernelsF32.scatterAdd(target, dim, index, src);
        else KernelsF64.scatterAdd(target, dim, index, src);
    }
}
