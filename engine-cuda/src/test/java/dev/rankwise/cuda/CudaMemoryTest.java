package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Memory;
import dev.rankwise.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// Device memory on a real GPU: the cache serves a steady loop without driver calls, scopes give
/// everything back, a released tensor cannot be used, the Cleaner reclaims dropped tensors, and an
/// out-of-memory request fails with the sizes and leaves the allocator working.
class CudaMemoryTest {
    static final Device GPU = Gpu.DEVICE;

    @BeforeEach
    void gpu() {
        Gpu.assume();
    }

    @Test
    void steadyLoopsReuseCachedBlocksAndScopesReleaseEverything() {
        Tensor w = Tensor.ones(DType.F32, 256, 256).to(GPU);
        Cuda.synchronize(GPU);
        long before = Cuda.memoryStats(GPU).allocated();
        long driverAllocs = -1;
        for (int step = 0; step < 5; step++) {
            Tensor[] made;
            try (var scope = Memory.scope()) {
                Tensor p = w.matmul(w), r = p.relu(), y = r.sum();
                assertEquals(256.0 * 256 * 256, y.item(), 0);
                made = new Tensor[] {p, r, y};
            }
            for (Tensor t : made) assertTrue(CudaStorage.of(t).isReleased(), "the scope released every buffer of step " + step);
            // At most `before`: the Cleaner may meanwhile release garbage that earlier tests left.
            assertTrue(Cuda.memoryStats(GPU).allocated() <= before, "nothing of step " + step + " is still allocated: " + Cuda.memoryStats(GPU));
            if (step == 1) driverAllocs = Cuda.memoryStats(GPU).driverAllocs();
        }
        assertEquals(driverAllocs, Cuda.memoryStats(GPU).driverAllocs(), "after warm-up the cache serves every request");
    }

    @Test
    void aTensorReleasedByItsScopeCannotBeUsed() {
        Tensor leaked;
        try (var scope = Memory.scope()) {
            leaked = Tensor.ones(DType.F32, 4).to(GPU);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, leaked::toFloatArray);
        assertTrue(e.getMessage().contains("released"), e.getMessage());
        Tensor kept;
        try (var scope = Memory.scope()) {
            kept = scope.keep(Tensor.ones(DType.F32, 4).to(GPU).mul(2.0));
        }
        assertEquals(8.0, kept.sum().item(), 0);
    }

    @Test
    void theCleanerReclaimsDroppedTensors() throws InterruptedException {
        long live0 = Cuda.memoryStats(GPU).liveBuffers();
        for (int i = 0; i < 200; i++) Tensor.zeros(GPU, DType.F32, 1024);
        for (int tries = 0; tries < 50 && Cuda.memoryStats(GPU).liveBuffers() > live0 + 50; tries++) {
            System.gc();
            Thread.sleep(100);
        }
        assertTrue(Cuda.memoryStats(GPU).liveBuffers() <= live0 + 50, "live buffers: " + Cuda.memoryStats(GPU));
    }

    @Test
    void outOfMemoryNamesTheSizesAndTheAllocatorKeepsWorking() {
        long tooMuch = 1L << 40;                                             // 1 TiB
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class,
                () -> Tensor.zeros(GPU, DType.F64, 1 << 20, 1 << 17));
        assertEquals(tooMuch, e.requested());
        assertTrue(e.getMessage().contains("requested " + tooMuch + " bytes") && e.getMessage().contains("free"), e.getMessage());
        Tensor ok = Tensor.ones(DType.F32, 1000).to(GPU);
        assertEquals(1000.0, ok.sum().item(), 0);
    }
}
