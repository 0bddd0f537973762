package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;

/// Weight initializations, each drawn from an explicit generator.
public final class Init {
    private Init() {}

    /// Kaiming (He) uniform for a weight whose fan-in is the last dim: U(−b, b) with
    /// b = gain·√(3 / fan_in), gain = √(2 / (1 + a²)). With a = √5 this is PyTorch's `nn.Linear` default
    /// and LoRA's A init (b = 1/√fan_in).
    public static Tensor kaimingUniform(Generator gen, double a, DType dtype, int... shape) {
        int fanIn = fanIn(shape);
        double gain = Math.sqrt(2.0 / (1 + a * a));
        double bound = gain * Math.sqrt(3.0 / fanIn);
        return Tensor.uniform(gen, -bound, bound, dtype, shape);
    }

    /// Xavier (Glorot) uniform: U(−b, b), b = √(6 / (fan_in + fan_out)).
    public static Tensor xavierUniform(Generator gen, DType dtype, int... shape) {
        double bound = Math.sqrt(6.0 / (fanIn(shape) + fanOut(shape)));
        return Tensor.uniform(gen, -bound, bound, dtype, shape);
    }

    /// Xavier normal: N(0, 2 / (fan_in + fan_out)).
    public static Tensor xavierNormal(Generator gen, DType dtype, int... shape) {
        return Tensor.normal(gen, 0, Math.sqrt(2.0 / (fanIn(shape) + fanOut(shape))), dtype, shape);
    }

    /// Fan-in of a weight laid out [out, in, ...]: the product of all dims but the first.
    public static int fanIn(int[] shape) {
        if (shape.length < 2) return Math.max(1, shape.length == 1 ? shape[0] : 1);
        int f = 1;
        for (int i = 1; i < shape.length; i++) f *= shape[i];
        return Math.max(f, 1);
    }

    public static int fanOut(int[] shape) {
        if (shape.length < 2) return Math.max(1, shape.length == 1 ? shape[0] : 1);
        int f = shape[0];
        for (int i = 2; i < shape.length; i++) f *= shape[i];
        return Math.max(f, 1);
    }
}
