package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;

/// `y = x Wᵀ + b`. x [..., d_in], W [d_out, d_in] (PyTorch's layout), b [d_out] or none.
/// Initialized as PyTorch's `nn.Linear`: W Kaiming-uniform with a = √5, b ~ U(−1/√d_in, 1/√d_in).
public class Linear extends Module {
    private final int inFeatures, outFeatures;

    public Linear(int inFeatures, int outFeatures, boolean bias, Generator gen, DType dtype) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        registerParameter("weight", Init.kaimingUniform(gen, Math.sqrt(5), dtype, outFeatures, inFeatures));
        if (bias) {
            double bound = 1 / Math.sqrt(Math.max(1, inFeatures));
            registerParameter("bias", Tensor.uniform(gen, -bound, bound, dtype, outFeatures));
        }
    }

    public Linear(int inFeatures, int outFeatures, Generator gen) {
        this(inFeatures, outFeatures, true, gen, DType.F32);
    }

    public Tensor weight() {
        return parameter("weight");
    }

    /// The bias, or null.
    public Tensor bias() {
        return parameter("bias");
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.size(-1) != inFeatures) {
            throw new IllegalArgumentException("linear: input of shape " + java.util.Arrays.toString(x.shape())
                    + " does not end in d_in = " + inFeatures);
        }
        Tensor y = x.matmul(weight().t());
        return bias() == null ? y : y.add(bias());
    }
}
