package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.Tensor;

/// Layer normalization over the last dim (Ba et al. 2016): y = (x − mean) / √(var + ε) · γ + β, the
/// biased variance as PyTorch. x [..., d]; γ, β [d] (ones and zeros at start). See [Functional#layerNorm].
public class LayerNorm extends Module {
    private final int dim;
    private final double eps;

    public LayerNorm(int dim, double eps, DType dtype) {
        this.dim = dim;
        this.eps = eps;
        registerParameter("weight", Tensor.ones(dtype, dim));
        registerParameter("bias", Tensor.zeros(dtype, dim));
    }

    public LayerNorm(int dim) {
        this(dim, 1e-5, DType.F32);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() == 0 || x.size(-1) != dim) {
            throw new IllegalArgumentException("layerNorm: last dim of " + java.util.Arrays.toString(x.shape()) + " is not " + dim);
        }
        return Functional.layerNorm(x, parameter("weight"), parameter("bias"), eps);
    }
}
