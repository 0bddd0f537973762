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

    /// Layer normalization over the last dim (Ba et al. 2016, eq. 4): `y = (x − μ) / √(σ² + ε) · γ + β`,
    /// μ and σ² the mean and biased variance of the last dim (as PyTorch). x [..., d]; γ, β [d] or null.
    /// Composed from primitives, so its gradient comes from theirs.
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        int d = x.rank() == 0 ? -1 : x.size(-1);
        for (Tensor p : new Tensor[] {weight, bias}) {
            if (p != null && (p.rank() != 1 || p.size(0) != d)) {
                throw new IllegalArgumentException("layerNorm: weight/bias of shape " + java.util.Arrays.toString(p.shape())
                        + " do not match the last dim of input " + java.util.Arrays.toString(x.shape()));
            }
        }
        if (d < 0) throw new IllegalArgumentException("layerNorm: needs an input of rank >= 1");
        Tensor centered = x.sub(x.mean(-1, true));
        Tensor y = centered.mul(centered.square().mean(-1, true).add(eps).rsqrt());
        if (weight != null) y = y.mul(weight);
        return bias == null ? y : y.add(bias);
    }
}
