package dev.rankwise.nn;

import dev.rankwise.Tensor;

import java.util.function.UnaryOperator;

/// The activations an [MLP] can use.
public enum Activation {
    RELU(Tensor::relu), GELU(Tensor::gelu), GELU_EXACT(Tensor::geluExact), SILU(Tensor::silu), TANH(Tensor::tanh);

    private final UnaryOperator<Tensor> f;

    Activation(UnaryOperator<Tensor> f) {
        this.f = f;
    }

    public Tensor apply(Tensor x) {
        return f.apply(x);
    }
}
