package dev.rankwise.cuda;

import dev.rankwise.Device;
import dev.rankwise.spi.Backend;
import dev.rankwise.spi.Backends;

/// Controls of the CUDA backend that the device-neutral API does not have: availability, the
/// allocator's statistics and cache, stream synchronization (for timing), and TF32 matmuls.
public final class Cuda {
    private Cuda() {}

    private static CudaBackend backend() {
        for (Backend b : Backends.all()) if (b instanceof CudaBackend c) return c;
        throw new IllegalStateException("cuda: the engine-cuda backend is not on the class path");
    }

    /// True when a driver and at least one GPU are present.
    public static boolean isAvailable() {
        return unavailableReason() == null;
    }

    /// Why the backend cannot run here (no driver, no GPU, ...), or null when it can.
    public static String unavailableReason() {
        return backend().unavailableReason();
    }

    /// Driver, devices, kernels and the cuBLAS/cuSOLVER binding in use.
    public static String description() {
        return backend().description();
    }

    /// The caching allocator's counters for `device`.
    public static MemoryStats memoryStats(Device device) {
        return backend().dev(device).allocator.stats();
    }

    /// Gives `device`'s cached (free) blocks back to the driver.
    public static void emptyCache(Device device) {
        CudaDevice d = backend().dev(device);
        d.sync();
        d.allocator.emptyCache();
    }

    /// Restarts the peak statistic at the current allocation.
    public static void resetPeak(Device device) {
        backend().dev(device).allocator.resetPeak();
    }

    /// Waits until every op queued on `device` has finished (for timing; results are synchronized anyway).
    public static void synchronize(Device device) {
        backend().dev(device).sync();
    }

    /// F32 matmuls on `device` with TF32 tensor cores (about 10 mantissa bits per product) when `on`;
    /// off by default, so F32 results keep F32 accuracy.
    public static void setTf32(Device device, boolean on) {
        backend().dev(device).dense().setTf32(on);
    }
}
