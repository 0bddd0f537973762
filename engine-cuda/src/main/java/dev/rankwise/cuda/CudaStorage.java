package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.spi.Backend;
import dev.rankwise.spi.Releasable;
import dev.rankwise.spi.Storage;

import java.lang.ref.Cleaner;

/// A device buffer of `size` elements of one dtype, from the device's caching allocator. Released
/// by a `Memory` scope, explicitly, or — as a safety net — by a `Cleaner` once unreachable.
final class CudaStorage implements Storage, Releasable {
    private static final Cleaner CLEANER = Cleaner.create();

    /// What the cleaning action needs, and nothing that refers back to the storage.
    private static final class Handle implements Runnable {
        final DeviceAllocator allocator;
        final DeviceAllocator.Block block;
        volatile boolean released;

        Handle(DeviceAllocator allocator, DeviceAllocator.Block block) {
            this.allocator = allocator;
            this.block = block;
        }

        @Override
        public void run() {
            released = true;
            allocator.release(block);
        }
    }

    private final CudaBackend backend;
    final CudaDevice device;
    private final DType dtype;
    private final long size;
    private final Handle handle;
    private final Cleaner.Cleanable cleanable;

    CudaStorage(CudaBackend backend, CudaDevice device, DType dtype, long size, DeviceAllocator.Block block) {
        this.backend = backend;
        this.device = device;
        this.dtype = dtype;
        this.size = size;
        this.handle = new Handle(device.allocator, block);
        this.cleanable = CLEANER.register(this, handle);
    }

    /// The CUDA storage of a tensor, or an error naming where it lives instead.
    static CudaStorage of(Tensor t) {
        if (t.storage() instanceof CudaStorage s) return s;
        throw new IllegalArgumentException("cuda: expected a tensor on a CUDA device, got one on " + t.device() + " (shape "
                + java.util.Arrays.toString(t.shapeRef()) + "); move it with to(device)");
    }

    /// Device address of element `elementOffset`.
    long address(long elementOffset) {
        if (handle.released) {
            throw new IllegalStateException(device.name() + ": a buffer of " + size + " " + dtype
                    + " elements was used after a Memory scope released it; keep tensors that outlive their scope (scope.keep)");
        }
        return handle.block.address() + elementOffset * dtype.bytes();
    }

    long bytes() {
        return size * dtype.bytes();
    }

    @Override
    public void release() {
        cleanable.clean();
    }

    boolean isReleased() {
        return handle.released;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public Device device() {
        return device.device();
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long size() {
        return size;
    }
}
