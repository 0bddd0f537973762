package dev.rankwise.bench;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.cpu.Parallel;
import dev.rankwise.nn.Functional;
import dev.rankwise.random.Generator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/// One LoRA (or SoRA, with the gate) training step of a linear layer — forward, then backward for A,
/// B (and g) with W frozen — against the dense forward GEMM x·Wᵀ alone, the floor the step is measured
/// against. x [N, d], W [d, d], A [r, d], B [d, r], upstream gradient dy [N, d].
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LowRankBenchmark {
    /// "N x d x r".
    @Param({"4096x1024x16"})
    public String shape;

    @Param({"lora", "sora"})
    public String method;

    @Param({"1", "2"})
    public int threads;

    Tensor x, w, a, b, g, dy;

    @Setup(Level.Trial)
    public void setup() {
        String[] p = shape.split("x");
        int n = Integer.parseInt(p[0]), d = Integer.parseInt(p[1]), r = Integer.parseInt(p[2]);
        Parallel.setThreads(threads);
        Generator gen = new Generator(3);
        x = Tensor.randn(gen, DType.F32, n, d);
        w = Tensor.randn(gen, DType.F32, d, d).mul(0.03);
        a = Tensor.randn(gen, DType.F32, r, d).mul(0.03).requiresGrad(true);
        b = Tensor.randn(gen, DType.F32, d, r).mul(0.03).requiresGrad(true);
        g = method.equals("sora") ? Tensor.randn(gen, DType.F32, r).requiresGrad(true) : null;
        dy = Tensor.randn(gen, DType.F32, n, d);
    }

    @Benchmark
    public Object rankwise() {
        a.zeroGrad();
        b.zeroGrad();
        if (g != null) g.zeroGrad();
        Tensor y = Functional.lowRankLinear(x, w, null, a, b, g, 2.0);
        y.backward(dy);
        return b.grad();
    }

    @Benchmark
    public Object dense() {
        return x.matmul(w.t());
    }
}
