package dev.rankwise.peft;

import dev.rankwise.DType;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Module;
import dev.rankwise.random.Generator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/// A frozen base layer with named low-rank adapters beside it: PEFT's `LoraLayer`, shared by
/// [LoraLinear] and [LoraEmbedding].
///
/// Each adapter is ΔW = s·B·C·A with A [r, d_in], B [d_out, r] and C = I, diag(g) (a gate) or R [r, r]
/// (a core); DoRA adds a magnitude [d_out] (see [Part]). "d_in"/"d_out" are the sides of the update in
/// y = W x orientation: for an Embedding of V ids and dimension d, d_in = V and d_out = d, and the
/// update of its [V, d] table is ΔWᵀ (PEFT's layout). Trainable parts are parameters of this layer;
/// frozen parts are buffers, so `parameters()` never lists them.
///
/// At most one adapter is merged into the base weight at a time; while it is, the layer computes the
/// base output.
public abstract sealed class AdapterLayer extends Module permits LoraLinear, LoraEmbedding {
    private final Module base;
    private final Map<Part, PartDict> parts = new EnumMap<>(Part.class);
    private final PartDict frozenColumnsOfB;
    private final Map<String, AdapterSpec> specs = new LinkedHashMap<>();
    private final Map<String, Integer> frozenColumnCount = new HashMap<>();
    private Tensor mergedNorm;
    private String merged;
    private String active;
    private boolean disabled;
    private Generator dropoutGen;

    /// `names` gives each part's container name (PEFT's: `lora_A`, …); `parameterDict` chooses PEFT's
    /// ParameterDict naming (`lora_embedding_A.<adapter>`) over ModuleDict naming (`lora_A.<adapter>.weight`).
    AdapterLayer(Module base, Map<Part, String> names, String frozenBName, boolean parameterDict) {
        this.base = registerModule("base_layer", base);
        for (Part p : Part.values()) {
            if (names.containsKey(p)) parts.put(p, registerModule(names.get(p), new PartDict(parameterDict)));
        }
        frozenColumnsOfB = registerModule(frozenBName, new PartDict(parameterDict));
        base.freeze();
    }

    /// The wrapped layer.
    public Module baseLayer() {
        return base;
    }

    /// The base weight in the base layer's own layout (Linear [d_out, d_in], Embedding [V, d]).
    public abstract Tensor baseWeight();

    /// d_in of the update (A's columns).
    public abstract int inDim();

    /// d_out of the update (B's rows).
    public abstract int outDim();

    /// ΔW [d_out, d_in] in the base weight's layout (transposed for embeddings).
    abstract Tensor toBaseLayout(Tensor deltaOutIn);

    /// Fresh factors for a [LoraConfig] adapter: {A [r, d_in], B [d_out, r]}, with B·A = 0.
    abstract Tensor[] freshFactors(LoraConfig cfg, Generator gen);

    // ---------------------------------------------------------------- adding and removing

    /// Adds an adapter initialized as `cfg` says (SoRA's gate ~ N(0, 1), from the authors' code) and
    /// makes it active.
    public void addAdapter(String name, LoraConfig cfg, Generator gen) {
        Tensor[] ab = freshFactors(cfg, gen);
        Tensor g = cfg.kind() == LoraConfig.AdapterKind.SORA ? Tensor.randn(gen, baseWeight().dtype(), cfg.r()) : null;
        if (dropoutGen == null) dropoutGen = gen.derive("dropout");
        addAdapter(name, AdapterSpec.of(cfg), ab[0], ab[1], g, null);
    }

    /// Adds an adapter with given parts (an initializer's output, or a file's) and makes it active:
    /// A [r, d_in], B [d_out, r], gate [r] or null (required for SoRA), core [r, r] or null. The tensors
    /// are copied. DoRA's magnitude starts at the row norms of W₀ + s·B·A.
    public void addAdapter(String name, AdapterSpec spec, Tensor a, Tensor b, Tensor gate, Tensor core) {
        if (specs.containsKey(name)) throw new IllegalArgumentException("addAdapter: adapter '" + name + "' exists already");
        int r = spec.r(), in = inDim(), out = outDim();
        String where = "addAdapter '" + name + "' (" + getClass().getSimpleName() + " d_in " + in + ", d_out " + out + ", r " + r + "): ";
        if (!Arrays.equals(a.shape(), new int[] {r, in}) || !Arrays.equals(b.shape(), new int[] {out, r})) {
            throw new IllegalArgumentException(where + "expected A [" + r + ", " + in + "] and B [" + out + ", " + r + "], got A "
                    + Shape.str(a.shape()) + " and B " + Shape.str(b.shape()));
        }
        if (gate != null && !Arrays.equals(gate.shape(), new int[] {r})) throw new IllegalArgumentException(where + "gate must be [" + r + "], got " + Shape.str(gate.shape()));
        if (core != null && !Arrays.equals(core.shape(), new int[] {r, r})) throw new IllegalArgumentException(where + "core must be [" + r + ", " + r + "], got " + Shape.str(core.shape()));
        if (gate != null && core != null) throw new IllegalArgumentException(where + "an adapter has a gate or a core, not both");
        if ((spec.kind() == LoraConfig.AdapterKind.SORA) && gate == null) throw new IllegalArgumentException(where + "a SoRA adapter needs its gate");
        if (spec.kind() == LoraConfig.AdapterKind.DORA && (gate != null || core != null)) {
            throw new IllegalArgumentException(where + "DoRA adapters have plain A and B");
        }
        if (spec.kind() == LoraConfig.AdapterKind.DORA && !supportsDora()) {
            throw new IllegalArgumentException(where + "DoRA is supported on Linear layers only");
        }
        specs.put(name, spec);
        put(name, Part.A, a);
        put(name, Part.B, b);
        if (gate != null) put(name, Part.GATE, gate);
        if (core != null) put(name, Part.CORE, core);
        if (spec.kind() == LoraConfig.AdapterKind.DORA) {
            try (var ignored = GradMode.noGrad()) {
                put(name, Part.MAGNITUDE, rowNorm(baseWeight().add(deltaWeight(name))));
            }
        }
        active = name;
    }

    boolean supportsDora() {
        return false;
    }

    private void put(String name, Part part, Tensor t) {
        Tensor c;
        try (var ignored = GradMode.noGrad()) {
            c = t.detach().to(baseWeight().dtype()).to(baseWeight().device()).copy().detach();
        }
        parts.get(part).put(name, c, !specs.get(name).frozen().contains(part));
    }

    /// Removes an adapter (unmerging it first if merged).
    public void deleteAdapter(String name) {
        spec(name);
        if (name.equals(merged)) unmerge(name);
        specs.remove(name);
        frozenColumnCount.remove(name);
        for (PartDict d : parts.values()) d.remove(name);
        frozenColumnsOfB.remove(name);
        if (name.equals(active)) active = specs.isEmpty() ? null : specs.keySet().iterator().next();
    }

    /// Replaces an adapter's parts and spec in place (pruning); parts keep the spec's trainable flags.
    void replaceParts(String name, AdapterSpec spec, Tensor a, Tensor b, Tensor gate, Tensor core) {
        spec(name);
        if (name.equals(merged)) throw new IllegalStateException("replaceParts: adapter '" + name + "' is merged");
        for (PartDict d : parts.values()) d.remove(name);
        frozenColumnsOfB.remove(name);
        frozenColumnCount.remove(name);
        specs.remove(name);
        String wasActive = active;
        addAdapter(name, spec, a, b, gate, core);
        active = wasActive;
    }

    // ---------------------------------------------------------------- state

    public void setActiveAdapter(String name) {
        spec(name);
        if (merged != null && !merged.equals(name)) {
            throw new IllegalStateException("setActiveAdapter: adapter '" + merged + "' is merged; unmerge it before switching to '" + name + "'");
        }
        active = name;
    }

    public String activeAdapter() {
        return active;
    }

    /// While disabled, the layer computes the base output only.
    public void setDisabled(boolean off) {
        disabled = off;
    }

    public boolean isDisabled() {
        return disabled;
    }

    /// The generator of dropout masks (one is derived from the first [LoraConfig] adapter's generator).
    public void setDropoutGenerator(Generator gen) {
        dropoutGen = gen;
    }

    public AdapterSpec spec(String name) {
        AdapterSpec s = specs.get(name);
        if (s == null) throw new IllegalArgumentException("no adapter named '" + name + "' (have " + specs.keySet() + ")");
        return s;
    }

    public Set<String> adapterNames() {
        return Collections.unmodifiableSet(specs.keySet());
    }

    /// An adapter's part (trainable or frozen), or null when it has none.
    public Tensor part(String name, Part part) {
        return parts.containsKey(part) ? parts.get(part).get(name) : null;
    }

    /// A [r, d_in].
    public Tensor loraA(String name) {
        return part(name, Part.A);
    }

    /// B [d_out, r] as stored; see [#effectiveB] for LaMDA's frozen columns.
    public Tensor loraB(String name) {
        return part(name, Part.B);
    }

    /// The gate [r], or null.
    public Tensor gate(String name) {
        return part(name, Part.GATE);
    }

    /// The core [r, r], or null.
    public Tensor core(String name) {
        return part(name, Part.CORE);
    }

    /// DoRA's magnitude [d_out], or null.
    public Tensor magnitude(String name) {
        return part(name, Part.MAGNITUDE);
    }

    /// The trainable parts of an adapter (its parameters).
    public List<Tensor> adapterParameters(String name) {
        spec(name);
        List<Tensor> out = new ArrayList<>();
        for (var e : parts.entrySet()) {
            if (e.getValue().isTrainable(name)) out.add(e.getValue().get(name));
        }
        return out;
    }

    /// Every part of an adapter, trainable or not.
    public Map<Part, Tensor> adapterParts(String name) {
        spec(name);
        Map<Part, Tensor> out = new EnumMap<>(Part.class);
        parts.forEach((p, d) -> {
            if (d.get(name) != null) out.put(p, d.get(name));
        });
        return out;
    }

    /// Freezes (a buffer from now on) or unfreezes (a parameter) one part of an adapter; the tensor is
    /// the same object either way.
    public void setFrozen(String name, Part part, boolean frozen) {
        AdapterSpec s = spec(name);
        PartDict d = parts.get(part);
        if (d == null || d.get(name) == null) throw new IllegalArgumentException("setFrozen: adapter '" + name + "' has no " + part);
        d.setTrainable(name, !frozen);
        EnumSet<Part> f = s.frozen().isEmpty() ? EnumSet.noneOf(Part.class) : EnumSet.copyOf(s.frozen());
        if (frozen) f.add(part);
        else f.remove(part);
        specs.put(name, s.withFrozen(f));
    }

    // ---------------------------------------------------------------- LaMDA's progressive freezing of B

    /// Freezes the first `k` columns of B at their current values (LaMDA, arXiv 2406.12832): from now
    /// on the forward pass reads them from a frozen copy, so they receive no gradient and an optimizer
    /// that still holds B cannot move them (its updates to those columns of the parameter are ignored).
    /// `k` only grows; with k = r the whole B becomes frozen.
    public void freezeColumnsOfB(String name, int k) {
        AdapterSpec s = spec(name);
        int now = frozenColumns(name);
        if (k < now || k > s.r()) throw new IllegalArgumentException("freezeColumnsOfB: k must be in [" + now + ", " + s.r() + "], got " + k);
        if (k == now) return;
        Tensor snapshot;
        try (var ignored = GradMode.noGrad()) {
            snapshot = effectiveB(name).copy().detach();
        }
        frozenColumnsOfB.remove(name);
        frozenColumnsOfB.put(name, snapshot, false);
        frozenColumnCount.put(name, k);
        if (k == s.r()) {
            try (var ignored = GradMode.noGrad()) {
                loraB(name).copyFrom(snapshot);
            }
            setFrozen(name, Part.B, true);
        }
    }

    /// How many leading columns of B are frozen by [#freezeColumnsOfB].
    public int frozenColumns(String name) {
        return frozenColumnCount.getOrDefault(name, 0);
    }

    /// B [d_out, r] as the forward pass uses it: the frozen copy's first k columns, then B's.
    public Tensor effectiveB(String name) {
        Tensor b = loraB(name);
        int k = frozenColumns(name), r = spec(name).r();
        if (k == 0 || k == r) return b;
        return Tensor.concat(List.of(frozenColumnsOfB.get(name).narrow(1, 0, k), b.narrow(1, k, r - k)), 1);
    }

    // ---------------------------------------------------------------- the update

    /// B·C [d_out, r]: the effective B times the core, when there is one.
    Tensor bTimesCore(String name) {
        Tensor b = effectiveB(name), c = core(name);
        return c == null ? b : b.matmul(c);
    }

    /// s·B·C·A [d_out, d_in] (for DoRA: its low-rank part).
    public Tensor lowRankUpdate(String name) {
        AdapterSpec s = spec(name);
        Tensor b = bTimesCore(name), g = gate(name);
        if (g != null) b = b.mul(g);
        return b.matmul(loraA(name)).mul(s.scale());
    }

    /// The update in the base weight's layout (the low-rank part; DoRA rescales rows on merge).
    public Tensor deltaWeight(String name) {
        return toBaseLayout(lowRankUpdate(name));
    }

    /// ‖row‖₂ over dim 1: [d_out, d_in] → [d_out].
    static Tensor rowNorm(Tensor w) {
        return w.square().sum(1, false).sqrt();
    }

    /// The active adapter for a forward pass, or null when the base output alone is wanted.
    String forwardAdapter() {
        return disabled || active == null || merged != null ? null : active;
    }

    /// Dropout on the adapter input while training (PEFT's `lora_dropout`).
    Tensor dropout(Tensor x, double p) {
        if (p == 0 || !isTraining()) return x;
        if (dropoutGen == null) dropoutGen = new Generator(0).derive("lora-dropout");
        Tensor keep = Tensor.rand(dropoutGen, x.dtype(), x.shape()).to(x.device()).gt(p);
        return x.mul(keep).div(1 - p);
    }

    // ---------------------------------------------------------------- merging

    /// Folds the adapter into the base weight (W ← W + ΔW, or DoRA's m ⊙ (W + ΔW)/‖W + ΔW‖_row),
    /// computed in at least F32. With `safe`, a result with NaN/Inf is refused and nothing changes.
    public void merge(String name, boolean safe) {
        AdapterSpec s = spec(name);
        if (merged != null) throw new IllegalStateException("merge: adapter '" + merged + "' is merged; unmerge it first");
        try (var ignored = GradMode.noGrad()) {
            Tensor w = baseWeight();
            DType work = w.dtype() == DType.F64 ? DType.F64 : DType.F32;
            Tensor candidate = w.to(work).add(deltaWeight(name).to(work));
            Tensor norm = null;
            if (s.kind() == LoraConfig.AdapterKind.DORA) {
                norm = rowNorm(candidate);
                candidate = candidate.mul(magnitude(name).to(work).div(norm).unsqueeze(1));
            }
            if (safe && !candidate.allFinite()) {
                throw new ArithmeticException("merge: merging adapter '" + name + "' gives NaN/Inf; the weights were left unchanged");
            }
            w.copyFrom(candidate.to(w.dtype()));
            mergedNorm = norm;
        }
        merged = name;
        active = name;
    }

    /// Restores the base weight from before [#merge].
    public void unmerge(String name) {
        AdapterSpec s = spec(name);
        if (!name.equals(merged)) throw new IllegalStateException("unmerge: adapter '" + name + "' is not merged");
        try (var ignored = GradMode.noGrad()) {
            Tensor w = baseWeight();
            Tensor restored = w;
            if (s.kind() == LoraConfig.AdapterKind.DORA) restored = w.mul(mergedNorm.div(magnitude(name)).unsqueeze(1).to(w.dtype()));
            w.copyFrom(restored.sub(deltaWeight(name).to(w.dtype())));
        }
        merged = null;
        mergedNorm = null;
    }

    public boolean isMerged() {
        return merged != null;
    }

    /// Merges the active adapter (a safe merge; nothing when disabled or already merged) and returns
    /// the plain base layer, whose parameters stay frozen.
    public Module mergeAndUnload() {
        if (active != null && merged == null && !disabled) merge(active, true);
        return base;
    }
}
