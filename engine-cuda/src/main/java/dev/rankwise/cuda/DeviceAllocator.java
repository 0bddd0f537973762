package dev.rankwise.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/// A caching allocator of device memory, so ops do not call `cuMemAlloc` each time.
///
/// Requests are rounded up to a size class (512 bytes at least, then four classes per power of two,
/// so at most 25% is wasted) and served from that class's free list when it has a block; only a
/// miss reaches the driver. Released blocks go back to their class's list. All of one device's work
/// runs on one stream in order, so a block released by one op and handed to a later op is never
/// used by both at once (PyTorch's per-stream pools rest on the same argument).
///
/// When the driver is out of memory, the cache is given back to it and the request retried once;
/// if it still fails, [CudaOutOfMemoryException] names the requested and free bytes, and the
/// allocator's state is unchanged. Thread-safe (a `Cleaner` may release from its own thread).
final class DeviceAllocator {
    /// The driver side: raw allocation (0 when out of memory), free, and the device's free/total bytes.
    interface Raw {
        long alloc(long bytes);

        void free(long address);

        long[] freeAndTotal();
    }

    /// A block handed out: its address and class size.
    record Block(long address, long bytes) {}

    private final String device;
    private final Raw raw;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private long allocated, cached, peak, driverAllocs, driverFrees, live;

    DeviceAllocator(String device, Raw raw) {
        this.device = device;
        this.raw = raw;
    }

    /// The size class of a request: at least 512 bytes, rounded up to a quarter of its power of two.
    static long sizeClass(long bytes) {
        if (bytes <= 512) return 512;
        int top = 63 - Long.numberOfLeadingZeros(bytes);          // 2^top <= bytes
        long step = Math.max(512, 1L << (top - 2));
        return (bytes + step - 1) / step * step;
    }

    synchronized Block allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException(device + ": negative allocation " + bytes);
        long cls = sizeClass(bytes);
        ArrayDeque<Long> list = free.get(cls);
        long address;
        if (list != null && !list.isEmpty()) {
            address = list.pop();
            cached -= cls;
        } else {
            address = raw.alloc(cls);
            if (address == 0) {
                emptyCache();
                address = raw.alloc(cls);
            }
            if (address == 0) {
                long[] ft = raw.freeAndTotal();
                throw new CudaOutOfMemoryException(device, bytes, ft[0], ft[1], stats());
            }
            driverAllocs++;
        }
        allocated += cls;
        live++;
        peak = Math.max(peak, allocated);
        return new Block(address, cls);
    }

    synchronized void release(Block b) {
        allocated -= b.bytes();
        live--;
        cached += b.bytes();
        free.computeIfAbsent(b.bytes(), k -> new ArrayDeque<>()).push(b.address());
    }

    /// Gives every cached block back to the driver.
    synchronized void emptyCache() {
        for (ArrayDeque<Long> list : free.values()) {
            while (!list.isEmpty()) {
                raw.free(list.pop());
                driverFrees++;
            }
        }
        free.clear();
        cached = 0;
    }

    synchronized MemoryStats stats() {
        return new MemoryStats(allocated, cached, peak, driverAllocs, driverFrees, live);
    }

    /// Restarts the peak at the current allocation.
    synchronized void resetPeak() {
        peak = allocated;
    }
}
