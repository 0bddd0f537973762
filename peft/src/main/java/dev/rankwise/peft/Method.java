package dev.rankwise.peft;

import dev.rankwise.peft.LoraConfig.AdapterKind;

import java.util.Arrays;
import java.util.Set;

/// The methods that make adapters, with their paper and which parts stay frozen after initialization
/// (the rest train). The id is the name on the command line and in adapter files.
public enum Method {
    LORA("lora", "arXiv 2106.09685", AdapterKind.LORA, Set.of(), false),
    DORA("dora", "arXiv 2402.09353", AdapterKind.DORA, Set.of(), false),
    SORA("sora", "arXiv 2311.11696", AdapterKind.SORA, Set.of(), false),
    PISSA("pissa", "arXiv 2404.02948", AdapterKind.LORA, Set.of(), true),
    MILORA("milora", "arXiv 2406.09044", AdapterKind.LORA, Set.of(), true),
    OLORA("olora", "arXiv 2406.01775", AdapterKind.LORA, Set.of(), true),
    /// Only σ' (the gate) trains.
    SVFIT("svfit", "arXiv 2409.05926", AdapterKind.LORA, Set.of(Part.A, Part.B), true),
    /// Not an additive adapter: [SaltLinear] reparameterizes the whole weight (W' = W at the start).
    SALT("salt", "arXiv 2503.16055", AdapterKind.LORA, Set.of(), false),
    /// Only the r×r core R trains; W₀ is kept and the model starts one step in.
    LORA_SB("lora-sb", "arXiv 2411.19557", AdapterKind.LORA, Set.of(Part.A, Part.B), false),
    LORA_GA("lora-ga", "arXiv 2407.05000", AdapterKind.LORA, Set.of(), true),
    /// A frozen; the core and B train, B's columns freezing progressively.
    LAMDA("lamda", "arXiv 2406.12832", AdapterKind.LORA, Set.of(Part.A), true),
    /// Only z (the gate) trains.
    LOLDU("loldu", "arXiv 2410.13618", AdapterKind.LORA, Set.of(Part.A, Part.B), true),
    /// The base weight becomes the compressed Ŵ.
    EORA("eora", "arXiv 2410.21271", AdapterKind.LORA, Set.of(), true),
    /// Clients train B only.
    FEDSVD("fedsvd", "arXiv 2505.12805", AdapterKind.LORA, Set.of(Part.A), false),
    /// The base weight becomes the quantized Q.
    LQ_LORA("lq-lora", "arXiv 2311.12023", AdapterKind.LORA, Set.of(), true);

    private final String id, paper;
    private final AdapterKind kind;
    private final Set<Part> frozen;
    private final boolean replacesBase;

    Method(String id, String paper, AdapterKind kind, Set<Part> frozen, boolean replacesBase) {
        this.id = id;
        this.paper = paper;
        this.kind = kind;
        this.frozen = frozen;
        this.replacesBase = replacesBase;
    }

    /// True when the method replaces the frozen base weight (by a residual, a compressed or a
    /// quantized weight), so an adapter file needs `base_weight.safetensors` beside it.
    public boolean replacesBase() {
        return replacesBase;
    }

    public String id() {
        return id;
    }

    public String paper() {
        return paper;
    }

    public AdapterKind kind() {
        return kind;
    }

    /// The parts frozen right after initialization.
    public Set<Part> frozen() {
        return frozen;
    }

    /// The method with this id; an unknown id is an error listing the known ones.
    public static Method fromId(String id) {
        for (Method m : values()) if (m.id.equals(id)) return m;
        throw new IllegalArgumentException("unknown method '" + id + "'; known: "
                + Arrays.stream(values()).map(Method::id).toList());
    }
}
