package dev.rankwise.cuda;

import dev.rankwise.Device;
import org.junit.jupiter.api.Assumptions;

/// The GPU tests' precondition: skip, saying why, where this machine has no usable GPU.
final class Gpu {
    private Gpu() {}

    static final Device DEVICE = Device.cuda(0);

    static void assume() {
        String reason = Cuda.unavailableReason();
        Assumptions.assumeTrue(reason == null, "no usable GPU, CUDA tests skipped: " + reason);
    }
}
