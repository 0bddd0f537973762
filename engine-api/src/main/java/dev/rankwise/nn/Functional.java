package dev.rankwise.nn;

import dev.rankwise.Tensor;

/// Stateless building blocks shared by modules.
public final class Functional {
    private Functional() {}

    /// The low-rank linear of LoRA and SoRA: `y = x Wᵀ + bias + s·((x Aᵀ) ⊙ g) Bᵀ`.
    ///
    /// x [..., d_in]; W [d_out, d_in] (usually frozen); bias [d_out] or null; A [r, d_in]; B [d_out, r];
    /// g [r] or null (plain LoRA; SoRA's gate otherwise, arXiv 2311.11696 eq. 3); s the scale (α/r).
    /// Returns y [..., d_out]. Composed from primitives here; this is the one place a fused kernel
    /// (forward and backward for A, B, g and x) plugs in.
    public static Tensor lowRankLinear(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s) {
        Tensor y = x.matmul(w.t());
        if (bias != null) y = y.add(bias);
        Tensor h = x.matmul(a.t());
        if (g != null) h = h.mul(g);
        return y.add(h.matmul(b.t()).mul(s));
    }
}
