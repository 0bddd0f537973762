package dev.rankwise.peft;

/// The tensors an adapter on one layer may have. The update is ΔW = s·B·C·A [d_out, d_in] with
/// A [r, d_in], B [d_out, r] and C the identity, diag(g) ([#GATE], r numbers) or a full r×r [#CORE];
/// DoRA adds a [#MAGNITUDE] per output row. Each part is either trainable (a parameter of the layer)
/// or frozen (a buffer: in the state dict, not in the parameters).
public enum Part {
    /// A [r, d_in], the down-projection.
    A,
    /// B [d_out, r], the up-projection.
    B,
    /// g [r]: SoRA's gate, LoLDU's diagonal z, SVFit's singular values σ'.
    GATE,
    /// R [r, r]: LoRA-SB's and LaMDA's trainable core.
    CORE,
    /// m [d_out]: DoRA's magnitude.
    MAGNITUDE
}
