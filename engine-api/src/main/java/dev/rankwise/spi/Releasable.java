package dev.rankwise.spi;

/// Storage whose memory can be given back before the garbage collector finds it unreachable (device
/// memory). [dev.rankwise.Memory] scopes release what was allocated inside them.
public interface Releasable {
    /// Gives the memory back; idempotent. Using the storage afterwards is an error.
    void release();
}
