package dev.rankwise;

import dev.rankwise.spi.Backend;
import dev.rankwise.spi.Releasable;
import dev.rankwise.spi.Storage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// Memory scopes with a stand-in for device storage: what is allocated in a scope is released when
/// it closes, kept tensors move to the enclosing scope, untracked allocations survive, and scopes
/// must close innermost first.
class MemoryScopeTest {
    static final class FakeDeviceStorage implements Storage, Releasable {
        int releases;

        FakeDeviceStorage() {
            Memory.track(this);                  // as a device backend does on allocation
        }

        @Override
        public void release() {
            releases++;
        }

        @Override
        public Backend backend() {
            return null;
        }

        @Override
        public Device device() {
            return Device.cuda(0);
        }

        @Override
        public DType dtype() {
            return DType.F32;
        }

        @Override
        public long size() {
            return 1;
        }
    }

    private static Tensor tensor(FakeDeviceStorage s) {
        return new Tensor(s, new int[] {1}, new int[] {1}, 0);
    }

    @Test
    void scopesReleaseWhatTheyAllocatedExceptKeptTensors() {
        FakeDeviceStorage outside = new FakeDeviceStorage();
        FakeDeviceStorage temp, kept, inner, longLived;
        try (var outer = Memory.scope()) {
            temp = new FakeDeviceStorage();
            kept = new FakeDeviceStorage();
            try (var in = Memory.scope()) {
                inner = new FakeDeviceStorage();
                in.keep(tensor(inner));          // moves to the outer scope
                longLived = Memory.untracked(FakeDeviceStorage::new);
                assertEquals(0, in.size());
            }
            assertEquals(0, inner.releases, "kept by the inner scope, owned by the outer one now");
            outer.keep(tensor(kept));
            assertEquals(2, outer.size());
        }
        assertEquals(1, temp.releases);
        assertEquals(1, inner.releases);
        assertEquals(0, kept.releases, "kept at the outermost scope: left to the garbage collector");
        assertEquals(0, longLived.releases);
        assertEquals(0, outside.releases, "allocated outside any scope");
    }

    @Test
    void scopesCloseInnermostFirst() {
        var outer = Memory.scope();
        var inner = Memory.scope();
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("reverse order"), e.getMessage());
        inner.close();
        outer.close();
        FakeDeviceStorage after = new FakeDeviceStorage();
        assertEquals(0, after.releases);
        assertFalse(after.releases > 0);
    }
}
