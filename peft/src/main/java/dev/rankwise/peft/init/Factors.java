package dev.rankwise.peft.init;

import dev.rankwise.Tensor;

/// An initializer's output for one weight W [m, n]: the adapter factors A [r, n] and B [m, r], the scale
/// s, and the weight that replaces W (null when W is kept), such that `residual + s·B·A` is what the
/// method promises (W itself for PiSSA, MiLoRA, OLoRA, LoLDU, LoRA-GA).
public record Factors(Tensor a, Tensor b, double scale, Tensor residual) {
    public int rank() {
        return a.size(0);
    }

    /// `residual + s·B·A` (or `W + s·B·A` given the kept weight when residual is null).
    public Tensor effectiveWeight(Tensor kept) {
        Tensor base = residual != null ? residual : kept;
        return base.add(b.matmul(a).mul(scale));
    }
}
