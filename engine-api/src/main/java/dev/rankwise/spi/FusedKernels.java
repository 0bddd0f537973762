package dev.rankwise.spi;

import dev.rankwise.Tensor;

/// Fused forward kernels a backend may override for speed. Each default composes the op from
/// primitives; the op catalog calls these under `noGrad` and attaches the backward itself, so an
/// override changes speed, never gradients. Tests check each override against [#COMPOSED].
public interface FusedKernels {
    /// The composed defaults.
    FusedKernels COMPOSED = new FusedKernels() {};

    /// `exp(x − max) / Σ exp(x − max)` along `dim`.
    default Tensor softmax(Tensor x, int dim) {
        Tensor shifted = x.sub(x.amax(dim, true));
        Tensor e = shifted.exp();
        return e.div(e.sum(new int[] {dim}, true));
    }

    /// `x − max − log Σ exp(x − max)` along `dim`.
    default Tensor logSoftmax(Tensor x, int dim) {
        Tensor shifted = x.sub(x.amax(dim, true));
        return shifted.sub(shifted.exp().sum(new int[] {dim}, true).log());
    }

    /// The low-rank linear forward `y = x Wᵀ (+ bias) + s·((x Aᵀ) ⊙ g) Bᵀ`.
    ///
    /// x [..., d_in], W [d_out, d_in], bias [d_out] or null, A [r, d_in], B [d_out, r], g [r] or null
    /// (plain LoRA), s the scale. Returns y [..., d_out].
    default Tensor loraForward(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s) {
        Tensor y = x.matmul(w.t());
        if (bias != null) y = y.add(bias);
        Tensor h = x.matmul(a.t());
        if (g != null) h = h.mul(g);
        return y.add(h.matmul(b.t()).mul(s));
    }
}
