package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/// The GPU tests' precondition: skip, saying why, where this machine has no usable GPU; and the
/// comparison the fused-kernel tests share.
final class Gpu {
    private Gpu() {}

    static final Device DEVICE = Device.cuda(0);

    static void assume() {
        String reason = Cuda.unavailableReason();
        Assumptions.assumeTrue(reason == null, "no usable GPU, CUDA tests skipped: " + reason);
    }

    /// `got` has `want`'s shape and every element within `rel` times the largest |want| of it (a
    /// norm-wise bound: F32 sums of different orders differ by a fraction of the sum's scale).
    static void close(Tensor want, Tensor got, double rel, String what) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        double[] w = want.to(Device.cpu()).to(DType.F64).toDoubleArray(), g = got.to(Device.cpu()).to(DType.F64).toDoubleArray();
        double scale = 1e-30;
        for (double v : w) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < w.length; i++) assertEquals(w[i], g[i], rel * scale, what + " element " + i);
    }
}
