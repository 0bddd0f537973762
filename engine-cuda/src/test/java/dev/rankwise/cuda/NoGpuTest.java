package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.spi.Backend;
import dev.rankwise.spi.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// On a machine without an NVIDIA driver or GPU (CI), the backend still loads, says why it cannot
/// run, and everything else keeps working. Skipped where a GPU is present.
class NoGpuTest {
    @Test
    void backendLoadsAndReportsWhyItIsNotAvailable() {
        Backend cuda = Backends.all().stream().filter(b -> b.kind() == Device.Kind.CUDA).findFirst().orElseThrow(
                () -> new AssertionError("ServiceLoader did not find the cuda backend"));
        assertEquals("cuda", cuda.name());
        Assumptions.assumeTrue(cuda.unavailableReason() != null, "a GPU is present; the no-GPU path is not exercised here");
        String reason = cuda.unavailableReason();
        assertNotNull(reason);
        assertTrue(reason.contains("libcuda") || reason.contains("cuInit") || reason.contains("no CUDA device"), reason);
        assertTrue(cuda.description().contains("not available"), cuda.description());
        assertFalse(Cuda.isAvailable());
        assertFalse(Backends.isAvailable(Device.cuda(0)));

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tensor.zeros(Device.cuda(0), DType.F32, 2, 2));
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains(reason), e.getMessage());
        Tensor cpu = Tensor.fromArray(new float[] {1, 2, 3}, 3);
        IllegalStateException move = assertThrows(IllegalStateException.class, () -> cpu.to(Device.cuda(0)));
        assertTrue(move.getMessage().contains(reason), move.getMessage());

        // The CPU is untouched by the failed attempts.
        assertEquals(14.0, cpu.mul(cpu).sum().item(), 0);
        assertEquals(Device.cpu(), Tensor.zeros(DType.F64, 3).device());
    }
}
