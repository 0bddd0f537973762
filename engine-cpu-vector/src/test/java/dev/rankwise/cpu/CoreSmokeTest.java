package dev.rankwise.cpu;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.nn.Init;
import dev.rankwise.random.Generator;
import dev.rankwise.spi.Backends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/// Creation, the default backend, and the initializers' distributions.
class CoreSmokeTest {
    @Test
    void theCpuBackendIsFoundByServiceLoader() {
        assertInstanceOf(CpuBackend.class, Backends.forDevice(Device.CPU));
        assertEquals("cpu-vector", Tensor.zeros(2).backend().name());
    }

    @Test
    void creation() {
        assertArrayEquals(new double[] {0, 0, 0, 0, 0, 0}, Tensor.zeros(DType.F64, 2, 3).toDoubleArray());
        assertArrayEquals(new float[] {1, 1}, Tensor.ones(2).toFloatArray());
        assertArrayEquals(new double[] {2.5, 2.5}, Tensor.full(2.5, DType.F64, 2).toDoubleArray());
        assertEquals(0, Tensor.scalar(3, DType.F32).rank());
        assertArrayEquals(new double[] {0, 1, 2, 3, 4}, Tensor.arange(5).toDoubleArray());
        assertArrayEquals(new double[] {5, 3, 1}, Tensor.arange(5, 0, -2, DType.F64).toDoubleArray());
        assertArrayEquals(new double[] {1, 1.25, 1.5, 1.75}, Tensor.arange(1, 2, 0.25, DType.F64).toDoubleArray());
        assertEquals(0, Tensor.arange(3, 1, 1, DType.F64).numel());
        assertArrayEquals(new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, Tensor.eye(3, DType.F64).toDoubleArray());
        assertArrayEquals(new int[] {3, 1, 2}, Tensor.fromArray(new double[] {3.7, 1.2, 2.9}, 3).toIntArray(), "to I32 truncates");
        assertArrayEquals(new double[] {1.5, -2}, Tensor.fromArray(new float[] {1.5f, -2f}, 2).to(DType.F64).toDoubleArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.fromArray(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("fromArray") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
        assertThrows(IllegalArgumentException.class, () -> Tensor.arange(0, 1, 0, DType.F64));
        assertThrows(IllegalStateException.class, () -> Tensor.ones(2).item());
        float[] data = {1, 2};
        Tensor t = Tensor.fromArray(data, 2);
        data[0] = 9;
        assertEquals(1f, t.toFloatArray()[0], "fromArray copies its input");
    }

    /// Kaiming-uniform with a = √5 (PyTorch's Linear) is U(−1/√fan_in, 1/√fan_in); Xavier-uniform is
    /// U(−b, b) with b = √(6/(fan_in + fan_out)); Xavier-normal has variance 2/(fan_in + fan_out). On
    /// 64·256 draws the sample variance is within 4% of b²/3 (its relative standard error is ≈ 0.7%).
    @Test
    void initializersHaveTheirBoundsAndVariances() {
        int out = 64, in = 256;
        double[] k = Init.kaimingUniform(new Generator(1), Math.sqrt(5), DType.F64, out, in).toDoubleArray();
        checkUniform(k, 1 / Math.sqrt(in));
        double[] x = Init.xavierUniform(new Generator(2), DType.F64, out, in).toDoubleArray();
        checkUniform(x, Math.sqrt(6.0 / (in + out)));
        Tensor n = Init.xavierNormal(new Generator(3), DType.F64, out, in);
        assertEquals(2.0 / (in + out), n.var(new int[] {0, 1}, true, false).item(), 0.04 * 2.0 / (in + out));
        assertEquals(0, n.mean().item(), 4 * Math.sqrt(2.0 / (in + out) / (in * out)));
        assertArrayEquals(Init.kaimingUniform(new Generator(1), Math.sqrt(5), DType.F32, out, in).toDoubleArray(),
                Tensor.fromArray(k, out, in).to(DType.F32).toDoubleArray(), "F32 draws are the F64 draws rounded");
    }

    private static void checkUniform(double[] v, double bound) {
        double sum = 0, sq = 0;
        for (double d : v) {
            assertTrue(Math.abs(d) <= bound, d + " outside ±" + bound);
            sum += d;
            sq += d * d;
        }
        double mean = sum / v.length, var = sq / v.length - mean * mean;
        assertEquals(bound * bound / 3, var, 0.04 * bound * bound / 3);
        assertEquals(0, mean, 4 * bound / Math.sqrt(3 * v.length));
    }
}
