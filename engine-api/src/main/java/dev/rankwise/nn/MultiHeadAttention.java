package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;

/// Multi-head scaled dot-product self-attention (Vaswani et al. 2017) with projections named as in
/// most checkpoints: `q_proj`, `k_proj`, `v_proj`, `out_proj`. x [B, T, d] → [B, T, d];
/// softmax(QKᵀ/√d_h) V per head, with a causal mask on request.
public class MultiHeadAttention extends Module {
    private final int dim, heads;
    private final boolean causal;

    public MultiHeadAttention(int dim, int heads, boolean causal, Generator gen, DType dtype) {
        if (dim % heads != 0) throw new IllegalArgumentException("attention: d = " + dim + " is not divisible by " + heads + " heads");
        this.dim = dim;
        this.heads = heads;
        this.causal = causal;
        for (String n : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) registerModule(n, new Linear(dim, dim, true, gen, dtype));
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 3 || x.size(2) != dim) throw new IllegalArgumentException("attention: expects [B, T, " + dim + "], got " + java.util.Arrays.toString(x.shape()));
        int b = x.size(0), t = x.size(1), dh = dim / heads;
        Tensor q = split(module("q_proj").forward(x), b, t, dh);
        Tensor k = split(module("k_proj").forward(x), b, t, dh);
        Tensor v = split(module("v_proj").forward(x), b, t, dh);
        Tensor scores = q.matmul(k.mT()).mul(1 / Math.sqrt(dh));                 // [B, H, T, T]
        if (causal) {
            double[] mask = new double[t * t];
            for (int i = 0; i < t; i++) for (int j = i + 1; j < t; j++) mask[i * t + j] = Double.NEGATIVE_INFINITY;
            scores = scores.add(Tensor.fromArray(mask, t, t).to(x.dtype()).to(x.device()));
        }
        Tensor out = scores.softmax(-1).matmul(v);                                 // [B, H, T, dh]
        return module("out_proj").forward(out.permute(0, 2, 1, 3).reshape(b, t, dim));
    }

    private Tensor split(Tensor y, int b, int t, int dh) {
        return y.reshape(b, t, heads, dh).permute(0, 2, 1, 3);
    }
}
