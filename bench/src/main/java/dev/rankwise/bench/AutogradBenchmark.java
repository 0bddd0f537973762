package dev.rankwise.bench;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/// Per-op overhead on tiny tensors: `h = a; 5 × (h = h·b + a)` on 4-element F32 tensors that require
/// grad, recorded for autograd ("forward"), or recorded and back-propagated through a final sum
/// ("forward+backward", gradients cleared first). The score divided by [#OPS] is the cost per op; the
/// PyTorch peer (`torch_peer.py`) times the same chain the same way.
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AutogradBenchmark {
    static final int OPS = 10;

    @Param({"forward", "forward+backward"})
    public String mode;

    Tensor a, b;

    @Setup(Level.Trial)
    public void setup() {
        a = Tensor.randn(new Generator(1), DType.F32, 4).requiresGrad(true);
        b = Tensor.randn(new Generator(2), DType.F32, 4).requiresGrad(true);
    }

    @Benchmark
    public Object rankwise() {
        Tensor h = a;
        for (int i = 0; i < OPS / 2; i++) h = h.mul(b).add(a);
        if (mode.equals("forward+backward")) {
            a.zeroGrad();
            b.zeroGrad();
            h.sum().backward();
        }
        return h;
    }
}
