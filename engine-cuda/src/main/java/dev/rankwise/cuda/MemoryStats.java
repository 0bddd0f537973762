package dev.rankwise.cuda;

/// The caching allocator's counters for one device, in bytes (rounded to size classes) and calls.
///
/// - `allocated`: held by live buffers; `cached`: freed buffers kept for reuse; `peak`: the most
///   ever allocated at once.
/// - `driverAllocs` / `driverFrees`: calls that reached `cuMemAlloc` / `cuMemFree`; a steady
///   workload reuses cached blocks, so these stop growing after warm-up.
/// - `liveBuffers`: buffers handed out and not yet released.
public record MemoryStats(long allocated, long cached, long peak, long driverAllocs, long driverFrees, long liveBuffers) {}
