package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;

/// A pre-norm Transformer block: x + attn(ln1(x)), then + mlp(ln2(x)), with submodules `ln1`, `attn`,
/// `ln2`, `mlp` (`mlp.fc1` [4d, d], `mlp.fc2` [d, 4d], GELU). x [B, T, d].
public class TransformerBlock extends Module {
    public TransformerBlock(int dim, int heads, boolean causal, Generator gen, DType dtype) {
        registerModule("ln1", new LayerNorm(dim, 1e-5, dtype));
        registerModule("attn", new MultiHeadAttention(dim, heads, causal, gen, dtype));
        registerModule("ln2", new LayerNorm(dim, 1e-5, dtype));
        registerModule("mlp", new MLP(new int[] {dim, 4 * dim, dim}, Activation.GELU, gen, dtype));
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = x.add(module("attn").forward(module("ln1").forward(x)));
        return h.add(module("mlp").forward(module("ln2").forward(h)));
    }
}
