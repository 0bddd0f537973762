package dev.rankwise.cuda;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The caching allocator's logic over a simulated device with a fixed capacity (no GPU needed):
/// size classes, reuse without driver calls, statistics, out of memory with the cache given back,
/// and a usable allocator after an out-of-memory error.
class DeviceAllocatorTest {
    /// A device of `capacity` bytes whose driver hands out increasing addresses.
    static final class FakeDevice implements DeviceAllocator.Raw {
        final long capacity;
        long used, next = 0x1000, allocCalls, freeCalls;
        final Map<Long, Long> live = new HashMap<>();

        FakeDevice(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long alloc(long bytes) {
            if (used + bytes > capacity) return 0;
            long a = next;
            next += bytes;
            used += bytes;
            live.put(a, bytes);
            allocCalls++;
            return a;
        }

        @Override
        public void free(long address) {
            Long b = live.remove(address);
            if (b == null) throw new AssertionError("double or foreign free of " + address);
            used -= b;
            freeCalls++;
        }

        @Override
        public long[] freeAndTotal() {
            return new long[] {capacity - used, capacity};
        }
    }

    @Test
    void sizeClassesWasteAtMostAQuarter() {
        assertEquals(512, DeviceAllocator.sizeClass(0));
        assertEquals(512, DeviceAllocator.sizeClass(512));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        for (long n = 1; n < 1L << 34; n = n * 3 + 7) {
            long c = DeviceAllocator.sizeClass(n);
            assertTrue(c >= n && (n <= 512 || c <= n * 1.25 + 512), n + " -> " + c);
            assertEquals(0, c % 512, "classes are multiples of 512 bytes");
            assertEquals(c, DeviceAllocator.sizeClass(c), "a class is its own class");
        }
    }

    @Test
    void releasedBlocksAreReusedWithoutDriverCalls() {
        FakeDevice dev = new FakeDevice(1 << 30);
        DeviceAllocator a = new DeviceAllocator("fake", dev);
        DeviceAllocator.Block b1 = a.allocate(10_000), b2 = a.allocate(10_000);
        assertNotEquals(b1.address(), b2.address());
        a.release(b1);
        DeviceAllocator.Block b3 = a.allocate(9_000);                  // same class as 10,000
        assertEquals(b1.address(), b3.address());
        assertEquals(2, dev.allocCalls);
        MemoryStats s = a.stats();
        assertEquals(2 * DeviceAllocator.sizeClass(10_000), s.allocated());
        assertEquals(0, s.cached());
        assertEquals(2, s.liveBuffers());
        a.release(b2);
        a.release(b3);
        s = a.stats();
        assertEquals(0, s.allocated());
        assertEquals(2 * DeviceAllocator.sizeClass(10_000), s.cached());
        assertEquals(2 * DeviceAllocator.sizeClass(10_000), s.peak());
        for (int i = 0; i < 100; i++) a.release(a.allocate(10_000));     // a steady loop never reaches the driver
        assertEquals(2, dev.allocCalls);
        a.emptyCache();
        assertEquals(0, a.stats().cached());
        assertEquals(2, dev.freeCalls);
        assertTrue(dev.live.isEmpty());
    }

    @Test
    void outOfMemoryGivesTheCacheBackThenReportsAndTheAllocatorStillWorks() {
        FakeDevice dev = new FakeDevice(1 << 20);                        // 1 MiB
        DeviceAllocator a = new DeviceAllocator("fake:0", dev);
        DeviceAllocator.Block small = a.allocate(300_000);
        a.release(small);                                               // cached, blocking the next request
        DeviceAllocator.Block big = a.allocate(900_000);                // fits only once the cache is freed
        assertEquals(1, dev.freeCalls);
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class, () -> a.allocate(500_000));
        assertEquals(500_000, e.requested());
        assertTrue(e.getMessage().contains("fake:0 out of memory: requested 500000 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains((dev.capacity - dev.used) + " of " + dev.capacity), e.getMessage());
        assertEquals(DeviceAllocator.sizeClass(900_000), a.stats().allocated(), "a failed request changes nothing");
        a.release(big);
        DeviceAllocator.Block again = a.allocate(500_000);              // works after memory is freed
        assertEquals(DeviceAllocator.sizeClass(500_000), a.stats().allocated());
        a.release(again);
    }
}
