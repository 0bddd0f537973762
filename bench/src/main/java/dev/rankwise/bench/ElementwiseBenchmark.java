package dev.rankwise.bench;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.cpu.Parallel;
import dev.rankwise.random.Generator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/// Memory-bound kernels in GB/s of traffic against a plain array copy of the same bytes (the peer: the
/// machine's practical bandwidth from the JVM). add reads 2 and writes 1 array, relu and exp read 1
/// and write 1, sum reads 1.
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ElementwiseBenchmark {
    @Param({"add", "relu", "exp", "sum"})
    public String op;

    @Param({"4194304"})
    public int size;

    @Param({"1", "2"})
    public int threads;

    Tensor a, b;
    float[] src, dst;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        Generator g = new Generator(1);
        a = Tensor.randn(g, DType.F32, size);
        b = Tensor.randn(g, DType.F32, size);
        src = a.toFloatArray();
        dst = new float[size];
    }

    @Benchmark
    public Object rankwise() {
        return switch (op) {
            case "add" -> a.add(b);
            case "relu" -> a.relu();
            case "exp" -> a.exp();
            default -> a.sum();
        };
    }

    /// A copy moving the same number of bytes as the op (reads + writes), split over the same threads.
    @Benchmark
    public Object copy() {
        int passes = traffic(op) / 2;
        for (int p = 0; p < Math.max(1, passes); p++) {
            Parallel.forRange(size, 1 << 16, (s, e) -> System.arraycopy(src, s, dst, s, e - s));
        }
        return dst;
    }

    /// Arrays touched per element: reads plus writes.
    static int traffic(String op) {
        return switch (op) {
            case "add" -> 3;
            case "sum" -> 1;
            default -> 2;
        };
    }
}
