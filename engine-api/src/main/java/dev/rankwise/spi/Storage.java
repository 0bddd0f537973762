package dev.rankwise.spi;

import dev.rankwise.DType;
import dev.rankwise.Device;

/// A flat buffer of `size()` elements of one dtype, owned by one backend. Tensors are views of it.
public interface Storage {
    Backend backend();

    Device device();

    DType dtype();

    long size();
}
