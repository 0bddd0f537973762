package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;

/// A lookup table: ids I32 [...] → vectors [..., d]. Weight [V, d] initialized N(0, 1) as PyTorch.
public class Embedding extends Module {
    private final int vocab, dim;

    public Embedding(int vocab, int dim, Generator gen, DType dtype) {
        this.vocab = vocab;
        this.dim = dim;
        registerParameter("weight", Tensor.randn(gen, dtype, vocab, dim));
    }

    public Tensor weight() {
        return parameter("weight");
    }

    @Override
    public Tensor forward(Tensor ids) {
        if (ids.dtype() != DType.I32) throw new IllegalArgumentException("embedding: ids must be I32, got " + ids.dtype());
        int[] shape = ids.shape();
        int[] out = java.util.Arrays.copyOf(shape, shape.length + 1);
        out[shape.length] = dim;
        return weight().indexSelect(0, ids.reshape(-1)).reshape(out);
    }

    public int vocab() {
        return vocab;
    }
}
