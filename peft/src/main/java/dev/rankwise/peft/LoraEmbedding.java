package dev.rankwise.peft;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.nn.Embedding;
import dev.rankwise.random.Generator;

import java.util.Map;

/// A frozen [Embedding] (table W [V, d]) with named low-rank adapters, laid out as PEFT's
/// `lora.Embedding`: `lora_embedding_A.<name>` [r, V] and `lora_embedding_B.<name>` [d, r]
/// (ParameterDict names, no `.weight`); a gate is `lora_embedding_gate.<name>` [r], a core
/// `lora_embedding_core.<name>` [r, r].
///
/// Forward for ids I32 [...]: y = W[ids] + s·(Aᵀ[ids] Cᵀ) Bᵀ → [..., d], so the table's update is
/// ΔW = s·(B·C·A)ᵀ [V, d]. Initialization follows PEFT for embeddings: A = 0 and B ~ N(0, 1) (the
/// reverse of Linear's), so the adapter starts as a no-op. PEFT applies no dropout to embeddings;
/// neither does this layer. Checked against PEFT (`src/peft/tuners/lora/layer.py`, `Embedding`:
/// ParameterDicts, `reset_lora_parameters`, `get_delta_weight` = (B·A)ᵀ·s; `utils/save_and_load.py`
/// strips the adapter name, so the file keys have no `.weight`). Recent PEFT also has DoRA on
/// embeddings (`DoraEmbeddingVariant`); this layer does not, and [Peft#attach] refuses it by name.
public final class LoraEmbedding extends AdapterLayer {
    private final Embedding base;

    public LoraEmbedding(Embedding base) {
        super(base, Map.of(Part.A, "lora_embedding_A", Part.B, "lora_embedding_B", Part.GATE, "lora_embedding_gate",
                Part.CORE, "lora_embedding_core"), "lora_embedding_B_frozen", true);
        this.base = base;
    }

    public Embedding base() {
        return base;
    }

    @Override
    public Tensor baseWeight() {
        return base.weight();
    }

    /// V, the number of ids.
    @Override
    public int inDim() {
        return base.vocab();
    }

    /// d, the embedding dimension.
    @Override
    public int outDim() {
        return base.weight().size(1);
    }

    @Override
    Tensor toBaseLayout(Tensor deltaOutIn) {
        return deltaOutIn.t();
    }

    @Override
    Tensor[] freshFactors(LoraConfig cfg, Generator gen) {
        DType dt = base.weight().dtype();
        return new Tensor[] {Tensor.zeros(dt, cfg.r(), inDim()), Tensor.randn(gen, dt, outDim(), cfg.r())};
    }

    @Override
    public Tensor forward(Tensor ids) {
        Tensor y = base.forward(ids);
        String name = forwardAdapter();
        if (name == null) return y;
        AdapterSpec s = spec(name);
        int[] shape = ids.shape();
        int[] hShape = java.util.Arrays.copyOf(shape, shape.length + 1);
        hShape[shape.length] = s.r();
        Tensor h = loraA(name).t().indexSelect(0, ids.reshape(-1)).reshape(hShape);
        Tensor g = gate(name);
        if (g != null) h = h.mul(g);
        return y.add(h.matmul(bTimesCore(name).t()).mul(s.scale()));
    }
}
