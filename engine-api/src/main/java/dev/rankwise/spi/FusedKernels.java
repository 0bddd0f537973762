package dev.rankwise.spi;

import dev.rankwise.Tensor;

/// Fused kernels a backend may override for speed. Each default composes the op from
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

    /// The low-rank linear forward `y = x Wᵀ (+ bias) + s·((x Aᵀ) ⊙ g) Bᵀ` (LoRA, arXiv 2106.09685
    /// eq. 3; SoRA's gated form, arXiv 2311.11696 eq. 3).
    ///
    /// x [..., d_in], W [d_out, d_in], bias [d_out] or null, A [r, d_in], B [d_out, r], g [r] or null
    /// (plain LoRA), s the scale. Returns y [..., d_out]; no argument is modified.
    default Tensor loraForward(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s) {
        return loraForward(x, w, bias, a, b, g, s, null);
    }

    /// [#loraForward] that also writes h = x Aᵀ into `hOut` ([..., r], modified) when it is not null,
    /// so the backward can reuse it instead of making another pass over x.
    default Tensor loraForward(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s, Tensor hOut) {
        Tensor y = x.matmul(w.t());
        if (bias != null) y = y.add(bias);
        Tensor h = x.matmul(a.t());
        if (hOut != null) hOut.copyFrom(h);
        if (g != null) h = h.mul(g);
        return y.add(h.matmul(b.t()).mul(s));
    }

    /// Gradients of [#loraForward] with W (and the bias) frozen; an entry is null where not asked for.
    /// dx [..., d_in], dA [r, d_in], dB [d_out, r], dg [r].
    record LoraGrads(Tensor dx, Tensor da, Tensor db, Tensor dg) {}

    /// The low-rank linear backward, given dy [..., d_out] (the other arguments as in [#loraForward]).
    /// With h = x Aᵀ, u = h ⊙ g and du = s·dy B (all [N, r], N the product of the leading dims):
    ///
    /// - dB = s·dyᵀ u
    /// - dg = Σ_rows du ⊙ h
    /// - dA = (du ⊙ g)ᵀ x
    /// - dx = dy W + (du ⊙ g) A
    ///
    /// `h` is x Aᵀ [..., r] as the forward saved it, or null to recompute it. The default composes these
    /// from primitives; a backend's override should read x and dy as few times as it can.
    default LoraGrads loraBackward(Tensor dy, Tensor x, Tensor w, Tensor a, Tensor b, Tensor g, double s, Tensor h,
                                   boolean needX, boolean needA, boolean needB, boolean needG) {
        int dIn = x.size(-1), dOut = dy.size(-1);
        Tensor x2 = x.reshape(-1, dIn), dy2 = dy.reshape(-1, dOut);
        h = h == null ? x2.matmul(a.t()) : h.reshape(-1, a.size(0));  // [N, r]
        Tensor du = dy2.matmul(b).mul(s);                             // [N, r]
        Tensor dh = g == null ? du : du.mul(g);                       // [N, r]
        Tensor db = needB ? dy2.t().matmul(g == null ? h : h.mul(g)).mul(s) : null;
        Tensor dg = needG && g != null ? du.mul(h).sum(new int[] {0}, false) : null;
        Tensor da = needA ? dh.t().matmul(x2) : null;
        Tensor dx = needX ? dy2.matmul(w).add(dh.matmul(a)).reshape(x.shape()) : null;
        return new LoraGrads(dx, da, db, dg);
    }
}
