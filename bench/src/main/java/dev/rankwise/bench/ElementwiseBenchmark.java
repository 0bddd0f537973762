package dev.rankwise.bench;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.cpu.Parallel;
import dev.rankwise.ops.BinaryOp;
import dev.rankwise.ops.ReduceOp;
import dev.rankwise.ops.UnaryOp;
import dev.rankwise.random.Generator;
import dev.rankwise.spi.Backend;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/// Memory-bound F32 kernels in GB/s of necessary traffic (each input read once, the output written
/// once), against a plain array copy of the same size on the same threads: the machine's practical
/// bandwidth as the JVM sees it.
///
/// Two figures per op: `rankwise`, the tensor API as user code calls it (a new output array each time,
/// which the JVM zeroes first: one more write pass), and `kernel`, the backend kernel into a
/// preallocated output. Ops: `add` (a + b), `exp`, `gelu` (tanh form), `sum` (all elements) and
/// `sum_cols` (sum over dim 0 of [size/1024, 1024], the kept-inner reduction).
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ElementwiseBenchmark {
    static final String[] OPS = {"add", "exp", "gelu", "sum", "sum_cols"};

    @Param({"add", "exp", "gelu", "sum", "sum_cols"})
    public String op;

    @Param({"1048576"})
    public int size;

    @Param({"1", "2"})
    public int threads;

    Tensor a, b, matrix, out, total, columns;
    Backend backend;
    float[] src, dst;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        Generator g = new Generator(1);
        a = Tensor.randn(g, DType.F32, size);
        b = Tensor.randn(g, DType.F32, size);
        matrix = a.view(size / 1024, 1024);
        out = Tensor.zeros(DType.F32, size);
        total = Tensor.zeros(DType.F32, 1);
        columns = Tensor.zeros(DType.F32, 1, 1024);
        backend = a.backend();
        src = a.toFloatArray();
        dst = new float[size];
    }

    @Benchmark
    public Object rankwise() {
        return switch (op) {
            case "add" -> a.add(b);
            case "exp" -> a.exp();
            case "gelu" -> a.gelu();
            case "sum" -> a.sum();
            default -> matrix.sum(0, false);
        };
    }

    @Benchmark
    public Object kernel() {
        switch (op) {
            case "add" -> backend.binary(BinaryOp.ADD, a, b, out);
            case "exp" -> backend.unary(UnaryOp.EXP, a, out);
            case "gelu" -> backend.unary(UnaryOp.GELU_TANH, a, out);
            case "sum" -> backend.reduce(ReduceOp.SUM, a, new int[] {0}, total);
            default -> backend.reduce(ReduceOp.SUM, matrix, new int[] {0}, columns);
        }
        return out;
    }

    /// `size` floats copied (read once, written once), split over the same threads in contiguous ranges.
    @Benchmark
    public Object copy() {
        Parallel.forRange(size, 1 << 16, (s, e) -> System.arraycopy(src, s, dst, s, e - s));
        return dst;
    }

    /// Bytes an op must move: inputs read once, output written once (a reduction's output is negligible).
    static double bytes(String op, int size) {
        return 4.0 * size * switch (op) {
            case "add" -> 3;
            case "sum", "sum_cols" -> 1;
            default -> 2;
        };
    }

    /// Bytes a copy of `size` floats moves.
    static double copyBytes(int size) {
        return 8.0 * size;
    }
}
