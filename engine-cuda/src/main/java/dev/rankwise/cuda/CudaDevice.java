package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Memory;
import dev.rankwise.kernels.Geometry;
import dev.rankwise.kernels.Kernel;
import dev.rankwise.kernels.KernelCatalog;
import dev.rankwise.kernels.Ptx;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.HashMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/// One GPU: its primary context (shared with cuBLAS and cuSOLVER, which use the runtime), one
/// stream that every op of this device runs on in order, the caching allocator, the loaded PTX
/// modules, and the dense-library binding.
final class CudaDevice {
    /// Set `-Drankwise.cuda.sync=true` (or RANKWISE_CUDA_SYNC=1) to wait after every launch, so an
    /// error in a kernel is reported with that kernel's name (slow; for debugging).
    static final boolean SYNC_EACH_LAUNCH = Boolean.getBoolean("rankwise.cuda.sync")
            || "1".equals(System.getenv("RANKWISE_CUDA_SYNC"));

    private static final ThreadLocal<CudaDevice> CURRENT = new ThreadLocal<>();

    final int index;
    private final CUdevice dev = new CUdevice();
    private final CUcontext ctx = new CUcontext();
    final Cu.Stream stream = new Cu.Stream();
    final DeviceAllocator allocator;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final String name;
    final int ccMajor, ccMinor, multiprocessors;
    private volatile DenseLibrary dense;
    private String denseFailure;
    private String lastKernel = "(none)";

    CudaDevice(int index) {
        this.index = index;
        Cu.check(JCudaDriver.cuDeviceGet(dev, index), "cuDeviceGet(" + index + ")");
        Cu.check(JCudaDriver.cuDevicePrimaryCtxRetain(ctx, dev), "cuDevicePrimaryCtxRetain(cuda:" + index + ")");
        Cu.check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent(cuda:" + index + ")");
        CURRENT.set(this);
        byte[] nameBytes = new byte[256];
        Cu.check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, dev), "cuDeviceGetName");
        String n = new String(nameBytes, java.nio.charset.StandardCharsets.US_ASCII);
        this.name = n.indexOf(0) >= 0 ? n.substring(0, n.indexOf(0)) : n;
        this.ccMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.ccMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        this.multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        // A blocking stream: the legacy default stream (synchronous copies) orders with it.
        Cu.check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate(cuda:" + index + ")");
        this.allocator = new DeviceAllocator("cuda:" + index, new DeviceAllocator.Raw() {
            @Override
            public long alloc(long bytes) {
                enter();
                Cu.AllocatedPtr p = new Cu.AllocatedPtr();
                int rc = JCudaDriver.cuMemAlloc(p, bytes);
                if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) return 0;
                Cu.check(rc, "cuMemAlloc(" + bytes + " bytes on cuda:" + index + ")");
                return p.address();
            }

            @Override
            public void free(long address) {
                enter();
                Cu.check(JCudaDriver.cuMemFree(Cu.ptr(address)), "cuMemFree(cuda:" + index + ")");
            }

            @Override
            public long[] freeAndTotal() {
                enter();
                long[] free = new long[1], total = new long[1];
                Cu.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo(cuda:" + index + ")");
                return new long[] {free[0], total[0]};
            }
        });
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        Cu.check(JCudaDriver.cuDeviceGetAttribute(v, attr, dev), "cuDeviceGetAttribute(" + attr + ")");
        return v[0];
    }

    Device device() {
        return Device.cuda(index);
    }

    /// `cuda:N (NAME, sm_XY)`.
    String name() {
        return "cuda:" + index + " (" + name + ", sm_" + ccMajor + ccMinor + ")";
    }

    /// Makes this device's context current on the calling thread.
    void enter() {
        if (CURRENT.get() != this) {
            Cu.check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent(cuda:" + index + ")");
            CURRENT.set(this);
        }
    }

    /// A buffer of `n` elements, zero-filled when `zero` (asynchronously, on the stream).
    CudaStorage allocate(CudaBackend be, DType dtype, long n, boolean zero) {
        enter();
        long bytes = n * dtype.bytes();
        DeviceAllocator.Block block = allocator.allocate(bytes);
        CudaStorage s = new CudaStorage(be, this, dtype, n, block);
        Memory.track(s);
        if (zero && bytes > 0) {
            Cu.check(JCudaDriver.cuMemsetD8Async(Cu.ptr(block.address()), (byte) 0, bytes, stream), "cuMemsetD8Async(" + bytes + " bytes)");
        }
        return s;
    }

    /// Waits for this device's stream; errors of earlier asynchronous launches surface here.
    void sync() {
        enter();
        int rc = cuStreamSynchronize(stream);
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new CudaException("cuStreamSynchronize(" + name() + ") failed: " + CUresult.stringFor(rc)
                    + "; the last kernel launched was " + lastKernel + " (set -Drankwise.cuda.sync=true to find the failing launch)");
        }
    }

    private CUfunction function(Kernel k) {
        CUfunction f = functions.get(k.name());
        if (f != null) return f;
        CUmodule m = modules.get(k.module());
        if (m == null) {
            m = new CUmodule();
            int rc = JCudaDriver.cuModuleLoadData(m, Ptx.image(k.module()));
            if (rc != CUresult.CUDA_SUCCESS) {
                throw new CudaException("cuModuleLoadData(" + k.module() + ".ptx, PTX ISA 8.0 for sm_80) on " + name() + " failed: "
                        + CUresult.stringFor(rc) + (rc == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                        ? " — the driver is older than CUDA 12.0; update it" : ""));
            }
            modules.put(k.module(), m);
        }
        f = new CUfunction();
        Cu.check(JCudaDriver.cuModuleGetFunction(f, m, k.name()), "cuModuleGetFunction(" + k.module() + "." + k.name() + ")");
        functions.put(k.name(), f);
        return f;
    }

    /// Launches catalog kernel `kernelName` over `work` items of its geometry rule, on the stream.
    synchronized void launch(String kernelName, long work, KernelArgs args) {
        Kernel k = KernelCatalog.get(kernelName);
        args.check(k);
        // The grid-stride kernels count in 32-bit unsigned indices (RW_FOR_EACH in common.cuh).
        if (k.geometry() == Geometry.ELEMENTS && work >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException(kernelName + ": " + work + " items; the CUDA kernels take fewer than 2^31");
        }
        enter();
        int threads = k.geometry().threads();
        int blocks = k.geometry().blocks(work);
        int rc = cuLaunchKernel(function(k), blocks, 1, 1, threads, 1, 1, k.sharedBytes(threads), stream, args.kernelParams(), null);
        java.lang.ref.Reference.reachabilityFence(args.keepAlive);
        lastKernel = kernelName + " <<<" + blocks + ", " + threads + ">>>";
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new CudaException("cuLaunchKernel(" + lastKernel + ") on " + name() + " failed: " + CUresult.stringFor(rc));
        }
        if (SYNC_EACH_LAUNCH) sync();
    }

    /// cuBLAS and cuSOLVER for this device, loaded on first use.
    DenseLibrary dense() {
        DenseLibrary d = dense;
        if (d != null) return d;
        synchronized (this) {
            if (dense == null) {
                if (denseFailure != null) throw new CudaException(denseFailure);
                enter();
                try {
                    dense = DenseLibraries.open(this);
                } catch (RuntimeException | LinkageError e) {
                    denseFailure = "cuBLAS/cuSOLVER unavailable on " + name() + ": " + e.getMessage();
                    throw new CudaException(denseFailure, e);
                }
            }
            return dense;
        }
    }

    /// The dense binding's description, or why it did not load.
    String denseDescription() {
        try {
            return dense().description();
        } catch (CudaException e) {
            return e.getMessage();
        }
    }
}
