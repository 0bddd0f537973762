package dev.rankwise.nn;

import dev.rankwise.Tensor;

/// Stateless building blocks shared by modules.
public final class Functional {
    private Functional() {}

    /// The low-rank linear of LoRA and SoRA: `y = x Wᵀ + bias + s·((x Aᵀ) ⊙ g) Bᵀ`.
    ///
    /// x [..., d_in]; W [d_out, d_in] (usually frozen); bias [d_out] or null; A [r, d_in]; B [d_out, r];
    /// g [r] or null (plain LoRA, arXiv 2106.09685 eq. 3; SoRA's gate otherwise, arXiv 2311.11696 eq. 3);
    /// s the scale (α/r). Returns y [..., d_out]; no argument is modified.
    ///
    /// One op of the catalog: the backend's fused forward (`FusedKernels.loraForward`) and, when W and
    /// the bias are frozen, its fused backward for x, A, B and g (`loraBackward`). When W or the bias
    /// require grad, the op is composed from primitives instead, so they get gradients too.
    public static Tensor lowRankLinear(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s) {
        return x.lowRankLinear(w, bias, a, b, g, s);
    }
}
