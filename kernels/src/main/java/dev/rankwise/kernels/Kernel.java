package dev.rankwise.kernels;

import java.util.List;

/// A kernel in the catalog: the PTX module (resource `NAME.ptx`) that holds it, its `extern "C"`
/// entry name, its parameters in order, its launch rule, and the dynamic shared memory it needs per
/// thread of a block (0 for none).
public record Kernel(String module, String name, List<Param> params, Geometry geometry, int sharedBytesPerThread, String doc) {
    public Kernel {
        params = List.copyOf(params);
    }

    /// Dynamic shared memory, in bytes, for a block of `threads` threads.
    public int sharedBytes(int threads) {
        return sharedBytesPerThread * threads;
    }

    @Override
    public String toString() {
        return module + "." + name + params;
    }
}
