package dev.rankwise.cuda;

/// The device could not provide a buffer even after the allocator gave its cache back. The allocator
/// stays usable: free tensors (close a `Memory` scope) and try again.
public final class CudaOutOfMemoryException extends CudaException {
    private final long requested, free;

    public CudaOutOfMemoryException(String device, long requested, long free, long total, MemoryStats stats) {
        super(device + " out of memory: requested " + requested + " bytes, " + free + " of " + total
                + " bytes free on the device; Rankwise holds " + stats.allocated() + " bytes in tensors ("
                + stats.cached() + " cached, peak " + stats.peak() + ")");
        this.requested = requested;
        this.free = free;
    }

    /// Bytes the failed allocation asked for.
    public long requested() {
        return requested;
    }

    /// Bytes the device reported free when it failed.
    public long free() {
        return free;
    }
}
