package dev.rankwise.peft.init;

import dev.rankwise.Tensor;
import dev.rankwise.peft.Method;

/// An initializer's output for one weight W [m, n] (out × in): the adapter's parts A [r, n],
/// B [m, r], a gate [r] or a core [r, r] (or neither), the scale s, the weight that replaces W (null
/// when W is kept), and the method, whose [Method#frozen] parts stay frozen. `residual + s·B·C·A` is
/// what the method promises (W itself for PiSSA, MiLoRA, OLoRA, SVFit, LoLDU, LoRA-GA, LaMDA).
public record Factors(Tensor a, Tensor b, Tensor gate, Tensor core, double scale, Tensor residual, Method method) {
    /// A plain LoRA pair.
    public Factors(Tensor a, Tensor b, double scale, Tensor residual) {
        this(a, b, null, null, scale, residual, Method.LORA);
    }

    public int rank() {
        return a.size(0);
    }

    /// s·B·C·A [m, n].
    public Tensor update() {
        Tensor bc = core != null ? b.matmul(core) : gate != null ? b.mul(gate) : b;
        return bc.matmul(a).mul(scale);
    }

    /// `residual + s·B·C·A`, or `kept + s·B·C·A` when the method keeps the weight (residual null).
    public Tensor effectiveWeight(Tensor kept) {
        return (residual != null ? residual : kept).add(update());
    }
}
