package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;

/// Linear layers `fc1, fc2, …` with an activation between them (none after the last).
/// `sizes` = {d_in, h1, …, d_out}.
public class MLP extends Module {
    private final int layers;
    private final Activation activation;

    public MLP(int[] sizes, Activation activation, Generator gen, DType dtype) {
        if (sizes.length < 2) throw new IllegalArgumentException("mlp: needs at least input and output sizes");
        this.layers = sizes.length - 1;
        this.activation = activation;
        for (int i = 0; i < layers; i++) registerModule("fc" + (i + 1), new Linear(sizes[i], sizes[i + 1], true, gen, dtype));
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = x;
        for (int i = 1; i <= layers; i++) {
            h = module("fc" + i).forward(h);
            if (i < layers) h = activation.apply(h);
        }
        return h;
    }
}
