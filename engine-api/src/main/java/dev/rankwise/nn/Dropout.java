package dev.rankwise.nn;

import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;

/// Zeroes each element with probability p during training and scales the rest by 1/(1 − p); the
/// identity in eval mode. The mask comes from its own seeded generator.
public class Dropout extends Module {
    private final double p;
    private final Generator gen;

    public Dropout(double p, Generator gen) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        this.p = p;
        this.gen = gen;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) return x;
        Tensor keep = Tensor.rand(gen, x.dtype(), x.shape()).to(x.device()).gt(p);
        return x.mul(keep).div(1 - p);
    }
}
