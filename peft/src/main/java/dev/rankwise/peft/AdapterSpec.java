package dev.rankwise.peft;

import java.util.EnumSet;
import java.util.Set;

/// The settings of one adapter on one layer that are not tensors.
///
/// @param kind    LORA (additive, optionally with a gate or core), DORA or SORA
/// @param r       rank (SoRA: r_max)
/// @param alpha   `lora_alpha`; the scale is s = α/r, or α/√r with `rsLora` (arXiv 2312.03732)
/// @param dropout dropout on the adapter's input while training (Linear layers only, as in PEFT)
/// @param method  the method that made the adapter (a label for summaries and files)
/// @param frozen  the parts held as buffers rather than trained
public record AdapterSpec(LoraConfig.AdapterKind kind, int r, double alpha, boolean rsLora, double dropout, Method method,
                          Set<Part> frozen) {
    public AdapterSpec {
        if (r < 1) throw new IllegalArgumentException("adapter: r must be >= 1, got " + r);
        if (dropout < 0 || dropout >= 1) throw new IllegalArgumentException("adapter: dropout must be in [0, 1), got " + dropout);
        frozen = frozen.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(frozen));
    }

    /// The spec of a freshly attached adapter from a [LoraConfig].
    public static AdapterSpec of(LoraConfig cfg) {
        Method m = switch (cfg.kind()) {
            case LORA -> Method.LORA;
            case DORA -> Method.DORA;
            case SORA -> Method.SORA;
        };
        return new AdapterSpec(cfg.kind(), cfg.r(), cfg.alpha(), cfg.rsLora(), cfg.dropout(), m, Set.of());
    }

    /// A plain-scale spec (α = s·r) for an initializer's factors.
    public static AdapterSpec withScale(Method method, int r, double scale, Set<Part> frozen) {
        return new AdapterSpec(method.kind(), r, scale * r, false, 0, method, frozen);
    }

    /// s = α/r, or α/√r with rsLoRA.
    public double scale() {
        return rsLora ? alpha / Math.sqrt(r) : alpha / r;
    }

    public AdapterSpec withFrozen(Set<Part> parts) {
        return new AdapterSpec(kind, r, alpha, rsLora, dropout, method, parts);
    }
}
