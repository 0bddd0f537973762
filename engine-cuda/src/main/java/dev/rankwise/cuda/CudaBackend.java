package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.kernels.OpCodes;
import dev.rankwise.ops.BinaryOp;
import dev.rankwise.ops.ReduceOp;
import dev.rankwise.ops.UnaryOp;
import dev.rankwise.spi.Backend;
import dev.rankwise.spi.Distribution;
import dev.rankwise.spi.FusedKernels;
import dev.rankwise.spi.LinalgKernels;
import dev.rankwise.spi.Storage;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

import java.util.List;

/// The GPU backend: storage in device memory from a caching allocator, elementwise, reduction,
/// indexing and random kernels from Rankwise's PTX (module `kernels`), matmul through cuBLAS,
/// decompositions through cuSOLVER ([CudaLinalg]), fused softmax and low-rank linear ([CudaFused]).
///
/// Found by `ServiceLoader`. Without an NVIDIA driver or GPU it loads anyway and reports why it is
/// unavailable ([#unavailableReason]), so the CPU keeps working. All work of one device runs on
/// one stream in issue order; host copies wait for it.
public final class CudaBackend implements Backend {
    private record State(String reason, int driverVersion, CudaDevice[] devices) {}

    private static volatile State state;

    private static State state() {
        State s = state;
        if (s == null) {
            synchronized (CudaBackend.class) {
                if (state == null) state = probe();
                s = state;
            }
        }
        return s;
    }

    /// Loads the driver binding and counts devices; any failure becomes the reason, never a crash.
    private static State probe() {
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int rc = JCudaDriver.cuInit(0);
            if (rc != 0) {
                return new State("cuInit failed: " + jcuda.driver.CUresult.stringFor(rc)
                        + (rc == jcuda.driver.CUresult.CUDA_ERROR_NO_DEVICE ? " (the NVIDIA driver found no GPU)" : ""), 0, new CudaDevice[0]);
            }
            int[] count = new int[1], version = new int[1];
            Cu.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
            Cu.check(JCudaDriver.cuDriverGetVersion(version), "cuDriverGetVersion");
            if (count[0] == 0) return new State("the NVIDIA driver reports no CUDA device", version[0], new CudaDevice[0]);
            return new State(null, version[0], new CudaDevice[count[0]]);
        } catch (LinkageError e) {
            // UnsatisfiedLinkError (no libcuda.so.1 / unsupported platform), NoClassDefFoundError, ...
            return new State("the NVIDIA driver library (libcuda.so.1) could not be loaded through JCuda " + jcuda.JCudaVersion.get()
                    + ": " + loaderMessage(e), 0, new CudaDevice[0]);
        } catch (RuntimeException e) {
            return new State("CUDA initialization failed: " + firstLine(e), 0, new CudaDevice[0]);
        }
    }

    /// The dynamic loader's own words (e.g. "libcuda.so.1: cannot open shared object file") from
    /// JCuda's long multi-attempt message, else its first line.
    private static String loaderMessage(Throwable e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        for (String line : m.split("\n")) {
            if (line.contains("cannot open shared object file") || line.contains("undefined symbol")) {
                int so = line.indexOf(".so: ");
                return (so >= 0 ? line.substring(so + 5) : line).trim();
            }
        }
        return firstLine(e);
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /// The device object for `device`, created on first use.
    CudaDevice dev(Device device) {
        State s = state();
        if (s.reason() != null) throw new IllegalStateException("cuda is not available: " + s.reason());
        if (device.kind() != Device.Kind.CUDA) throw new IllegalArgumentException("cuda backend asked for " + device);
        if (device.index() >= s.devices().length) {
            throw new IllegalArgumentException(device + " does not exist: this machine has " + s.devices().length + " CUDA device(s)");
        }
        synchronized (s.devices()) {
            CudaDevice d = s.devices()[device.index()];
            if (d == null) {
                d = new CudaDevice(device.index());
                s.devices()[device.index()] = d;
            }
            return d;
        }
    }

    /// The device every tensor lives on; an error naming the op when they differ.
    static CudaDevice on(String op, Tensor first, Tensor... rest) {
        CudaDevice d = CudaStorage.of(first).device;
        for (Tensor t : rest) {
            CudaDevice e = CudaStorage.of(t).device;
            if (e != d) {
                throw new IllegalArgumentException(op + ": tensors are on different devices (cuda:" + d.index + " and cuda:" + e.index
                        + "); move one with to(device)");
            }
        }
        return d;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Device.Kind kind() {
        return Device.Kind.CUDA;
    }

    @Override
    public String unavailableReason() {
        return state().reason();
    }

    @Override
    public String description() {
        State s = state();
        if (s.reason() != null) return "cuda: not available (" + s.reason() + ")";
        CudaDevice d0 = dev(Device.cuda(0));
        int v = s.driverVersion();
        return "cuda: driver " + (v / 1000) + "." + (v % 1000 / 10) + ", " + s.devices().length + " device(s), cuda:0 = " + d0.name()
                + "; kernels: PTX ISA 8.0 for sm_80 (JIT by the driver); " + d0.denseDescription();
    }

    // ---------------------------------------------------------------- memory

    @Override
    public Storage allocate(Device device, DType dtype, long size) {
        return dev(device).allocate(this, dtype, size, true);
    }

    @Override
    public Storage upload(Device device, DType dtype, Object data) {
        long n = switch (data) {
            case float[] f when dtype == DType.F32 -> f.length;
            case double[] d when dtype == DType.F64 -> d.length;
            case int[] i when dtype == DType.I32 -> i.length;
            default -> throw new IllegalArgumentException("cuda upload: " + data.getClass().getSimpleName() + " does not hold " + dtype);
        };
        CudaDevice d = dev(device);
        CudaStorage s = d.allocate(this, dtype, n, false);
        if (n > 0) {
            Cu.check(JCudaDriver.cuMemcpyHtoD(Cu.ptr(s.address(0)), hostPointer(data), s.bytes()),
                    "cuMemcpyHtoD(" + s.bytes() + " bytes to " + d.name() + ")");
        }
        return s;
    }

    private static Pointer hostPointer(Object data) {
        return switch (data) {
            case float[] f -> Pointer.to(f);
            case double[] d -> Pointer.to(d);
            case int[] i -> Pointer.to(i);
            default -> throw new IllegalArgumentException("host array of " + data.getClass().getSimpleName());
        };
    }

    @Override
    public Object download(Tensor src) {
        CudaDevice d = on("download", src);
        long n = src.numel();
        if (n >= Integer.MAX_VALUE - 8) throw new IllegalArgumentException("download: " + n + " elements exceed a Java array");
        Object host = switch (src.dtype()) {
            case F32 -> new float[(int) n];
            case F64 -> new double[(int) n];
            case I32 -> new int[(int) n];
            default -> throw new IllegalArgumentException("download: " + src.dtype() + " has no host array type; convert to F32 first");
        };
        if (n == 0) return host;
        Tensor c = src.isContiguous() ? src : contiguousCopy(src);
        d.sync();
        long bytes = n * src.dtype().bytes();
        Cu.check(JCudaDriver.cuMemcpyDtoH(hostPointer(host), Cu.ptr(CudaStorage.of(c).address(c.offset())), bytes),
                "cuMemcpyDtoH(" + bytes + " bytes from " + d.name() + ")");
        return host;
    }

    /// A fresh contiguous copy on the same device.
    Tensor contiguousCopy(Tensor t) {
        CudaDevice d = CudaStorage.of(t).device;
        Tensor c = new Tensor(d.allocate(this, t.dtype(), t.numel(), false), t.shape(), Shape.contiguousStrides(t.shapeRef()), 0);
        copy(t, c);
        return c;
    }

    /// An uninitialized contiguous tensor on `d` (every element is written before it is read).
    Tensor empty(CudaDevice d, DType dtype, int... shape) {
        return new Tensor(d.allocate(this, dtype, Shape.numel(shape), false), shape, Shape.contiguousStrides(shape), 0);
    }

    /// A stride-0 view of one scalar `value` with `shape`.
    Tensor constant(CudaDevice d, DType dtype, double value, int[] shape) {
        Tensor c = empty(d, dtype);
        fill(c, value);
        return new Tensor(c.storage(), shape.clone(), new int[shape.length], 0);
    }

    /// A zero-filled contiguous tensor on `d`.
    Tensor emptyZero(CudaDevice d, DType dtype, int... shape) {
        return new Tensor(d.allocate(this, dtype, Shape.numel(shape), true), shape, Shape.contiguousStrides(shape), 0);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CudaDevice d = on("copy", dst, src);
        if (dst.numel() == 0) return;
        if (src.dtype() == dst.dtype() && src.isContiguous() && dst.isContiguous()) {
            long bytes = dst.numel() * dst.dtype().bytes();
            d.enter();
            Cu.check(JCudaDriver.cuMemcpyDtoDAsync(Cu.ptr(CudaStorage.of(dst).address(dst.offset())),
                    Cu.ptr(CudaStorage.of(src).address(src.offset())), bytes, d.stream), "cuMemcpyDtoDAsync(" + bytes + " bytes)");
            return;
        }
        d.launch("ew_copy", dst.numel(), new KernelArgs().ptr(dst).i32(typeCode(dst.dtype())).ptr(src).i32(typeCode(src.dtype()))
                .struct(Layouts.elementwise("copy", dst, src)));
    }

    @Override
    public void fill(Tensor dst, double value) {
        CudaDevice d = on("fill", dst);
        if (dst.numel() == 0) return;
        d.launch("ew_fill", dst.numel(), new KernelArgs().ptr(dst).i32(typeCode(dst.dtype())).struct(Layouts.elementwise("fill", dst)).f64(value));
    }

    @Override
    public void random(Tensor dst, Distribution dist, long seed, long counterOffset) {
        CudaDevice d = on("random", dst);
        long n = dst.numel();
        if (n == 0) return;
        if (!dst.isContiguous() || !dst.dtype().isCompute()) throw new IllegalArgumentException("random: needs a contiguous F32/F64 tensor");
        if (n >= Integer.MAX_VALUE) throw new IllegalArgumentException("random: " + n + " elements; the kernel takes fewer than 2^31");
        boolean normal = dist.kind() == Distribution.Kind.NORMAL;
        // Exactly the CPU backend's affine map, evaluated in F64 without fused multiply-add.
        double scale = normal ? dist.b() : dist.b() - dist.a(), shift = dist.a();
        d.launch("philox_fill", (n + 3) / 4, new KernelArgs().ptr(dst).i32(typeCode(dst.dtype())).i32((int) n).u64(seed).u64(counterOffset)
                .i32(normal ? 1 : 0).f64(shift).f64(scale));
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        CudaDevice d = on(op.opName(), out, x);
        if (out.numel() == 0) return;
        d.launch("ew_unary_" + suffix(out), out.numel(), new KernelArgs().ptr(out).ptr(x).struct(Layouts.elementwise(op.opName(), out, x)).i32(code(op)));
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        CudaDevice d = on(op.opName(), out, a, b);
        if (out.numel() == 0) return;
        d.launch("ew_binary_" + suffix(out), out.numel(), new KernelArgs().ptr(out).ptr(a).ptr(b)
                .struct(Layouts.elementwise(op.opName(), out, a, b)).i32(code(op)));
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        CudaDevice d = on("where", out, cond, a, b);
        if (out.numel() == 0) return;
        d.launch("ew_where_" + suffix(out), out.numel(), new KernelArgs().ptr(out).ptr(cond).i32(typeCode(cond.dtype())).ptr(a).ptr(b)
                .struct(Layouts.elementwise("where", out, cond, a, b)));
    }

    // ---------------------------------------------------------------- reductions

    @Override
    public void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        CudaDevice d = on(op.opName(), out, x);
        int[] words = Layouts.reduce(op.opName(), x, dims);
        int outer = words[2], inner = words[3];
        if (outer == 0) return;
        // A block per output for long reductions (or few outputs); a thread per output otherwise.
        boolean perBlock = inner >= 64 || outer <= 1024;
        String kernel = (perBlock ? "reduce_block_" : "reduce_thread_") + suffix(x);
        d.launch(kernel, outer, new KernelArgs().ptr(out).ptr(x).struct(words).i32(code(op)));
    }

    // ---------------------------------------------------------------- matmul

    @Override
    public void matmul(Tensor a, Tensor b, Tensor out) {
        gemm(a, b, out, 1.0, 0.0);
    }

    /// `out = alpha·a·b + beta·out` (batched, as [#matmul]); out contiguous.
    void gemm(Tensor a, Tensor b, Tensor out, double alpha, double beta) {
        CudaDevice d = on("matmul", out, a, b);
        int r = out.rank();
        int k = a.shapeRef()[r - 1];
        if (k == 0) {
            if (beta == 0) fill(out, 0);
            else if (beta != 1) binary(BinaryOp.MUL, out, constant(d, out.dtype(), beta, out.shapeRef()), out);
            return;
        }
        Tensor ma = MatmulPlan.readable(a) ? a : contiguousCopy(a), mb = MatmulPlan.readable(b) ? b : contiguousCopy(b);
        boolean f64 = out.dtype() == DType.F64;
        DenseLibrary lib = d.dense();
        long baseA = CudaStorage.of(mb).address(0), baseB = CudaStorage.of(ma).address(0), baseC = CudaStorage.of(out).address(0);
        int bytes = out.dtype().bytes();
        synchronized (d) {
            d.enter();
            for (MatmulPlan.Call c : MatmulPlan.plan(ma, mb, out)) {
                lib.gemmStridedBatched(f64, c.transA(), c.transB(), c.m(), c.n(), c.k(), alpha,
                        baseA + c.offA() * bytes, c.lda(), c.strideA(), baseB + c.offB() * bytes, c.ldb(), c.strideB(), beta,
                        baseC + c.offC() * bytes, c.ldc(), c.strideC(), c.batch());
            }
        }
        java.lang.ref.Reference.reachabilityFence(ma);
        java.lang.ref.Reference.reachabilityFence(mb);
        if (CudaDevice.SYNC_EACH_LAUNCH) d.sync();
    }

    // ---------------------------------------------------------------- indexing

    @Override
    public void gather(Tensor x, int dim, Tensor index, Tensor out) {
        CudaDevice d = on("gather", out, x, index);
        if (out.numel() == 0) return;
        int[] xs = x.strides();
        int step = xs[dim];
        xs[dim] = 0;
        Tensor xv = new Tensor(x.storage(), out.shapeRef(), xs, x.offset());
        String kernel = x.dtype().bytes() == 8 ? "gather_b64" : "gather_b32";
        d.launch(kernel, out.numel(), new KernelArgs().ptr(out).ptr(index).ptr(xv).struct(Layouts.elementwise("gather", out, index, xv)).i32(step));
    }

    @Override
    public void scatterAdd(Tensor target, int dim, Tensor index, Tensor src) {
        CudaDevice d = on("scatterAdd", target, index, src);
        if (src.numel() == 0) return;
        int[] ts = target.strides();
        int step = ts[dim];
        ts[dim] = 0;
        Tensor tv = new Tensor(target.storage(), index.shapeRef(), ts, target.offset());
        d.launch("scatter_add_" + suffix(target), src.numel(), new KernelArgs().ptr(tv).ptr(index).ptr(src)
                .struct(Layouts.elementwise("scatterAdd", tv, index, src)).i32(step));
    }

    // ---------------------------------------------------------------- optional parts

    private final CudaFused fused = new CudaFused(this);
    private final CudaLinalg linalg = new CudaLinalg(this);

    @Override
    public FusedKernels fused() {
        return fused;
    }

    @Override
    public LinalgKernels linalg() {
        return linalg;
    }

    // ---------------------------------------------------------------- codes

    static String suffix(Tensor t) {
        return switch (t.dtype()) {
            case F32 -> "f32";
            case F64 -> "f64";
            default -> throw new IllegalArgumentException("cuda: kernels compute in F32 or F64, got " + t.dtype());
        };
    }

    static int typeCode(DType t) {
        return switch (t) {
            case F32 -> OpCodes.T_F32;
            case F64 -> OpCodes.T_F64;
            case I32 -> OpCodes.T_I32;
            case F16 -> OpCodes.T_F16;
            case BF16 -> OpCodes.T_BF16;
        };
    }

    static int code(UnaryOp op) {
        return switch (op) {
            case NEG -> OpCodes.U_NEG;
            case EXP -> OpCodes.U_EXP;
            case LOG -> OpCodes.U_LOG;
            case SQRT -> OpCodes.U_SQRT;
            case RSQRT -> OpCodes.U_RSQRT;
            case ABS -> OpCodes.U_ABS;
            case SIGN -> OpCodes.U_SIGN;
            case RELU -> OpCodes.U_RELU;
            case SIGMOID -> OpCodes.U_SIGMOID;
            case TANH -> OpCodes.U_TANH;
            case GELU_TANH -> OpCodes.U_GELU_TANH;
            case GELU_ERF -> OpCodes.U_GELU_ERF;
            case SILU -> OpCodes.U_SILU;
            case ERF -> OpCodes.U_ERF;
        };
    }

    static int code(BinaryOp op) {
        return switch (op) {
            case ADD -> OpCodes.B_ADD;
            case SUB -> OpCodes.B_SUB;
            case MUL -> OpCodes.B_MUL;
            case DIV -> OpCodes.B_DIV;
            case POW -> OpCodes.B_POW;
            case MAX -> OpCodes.B_MAX;
            case MIN -> OpCodes.B_MIN;
            case GT -> OpCodes.B_GT;
            case GE -> OpCodes.B_GE;
            case LT -> OpCodes.B_LT;
            case LE -> OpCodes.B_LE;
            case EQ -> OpCodes.B_EQ;
        };
    }

    static int code(ReduceOp op) {
        return switch (op) {
            case SUM -> OpCodes.R_SUM;
            case MAX -> OpCodes.R_MAX;
            case MIN -> OpCodes.R_MIN;
            case ARGMAX -> OpCodes.R_ARGMAX;
            case ARGMIN -> OpCodes.R_ARGMIN;
        };
    }

    /// The devices created so far (for statistics and tests).
    static List<CudaDevice> openDevices() {
        State s = state;
        if (s == null) return List.of();
        synchronized (s.devices()) {
            return java.util.Arrays.stream(s.devices()).filter(java.util.Objects::nonNull).toList();
        }
    }
}
