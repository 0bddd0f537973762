package dev.rankwise.peft;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Functional;
import dev.rankwise.nn.Init;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.random.Generator;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/// A frozen [Linear] with named low-rank adapters beside it, laid out as PEFT's `LoraLayer` so that
/// parameter names match PEFT's: `base_layer.weight`, `lora_A.<name>.weight` [r, d_in],
/// `lora_B.<name>.weight` [d_out, r], DoRA's `lora_magnitude_vector.<name>.weight` [d_out], and SoRA's
/// gate `sora_gate.<name>.weight` [r].
///
/// Forward with the active adapter (x [..., d_in] → y [..., d_out]):
/// - LoRA:  y = x W₀ᵀ + b + s·(drop(x) Aᵀ) Bᵀ                             (arXiv 2106.09685, eq. 3)
/// - SoRA:  y = x W₀ᵀ + b + s·((drop(x) Aᵀ) ⊙ g) Bᵀ                       (arXiv 2311.11696, eq. 3)
/// - DoRA:  y = b + (m / ‖W₀ + sBA‖_row) ⊙ (x W₀ᵀ + s·(drop(x) Aᵀ) Bᵀ), the norm detached
///          (arXiv 2402.09353, eq. 5 and §4.3; PEFT's formulation)
public final class LoraLinear extends Module {
    /// Per-adapter settings that are not tensors.
    public record Spec(LoraConfig.AdapterKind kind, int r, double scale, double dropout) {}

    private final Linear base;
    private final Dict loraA = new Dict(), loraB = new Dict(), magnitude = new Dict(), gate = new Dict();
    private final Map<String, Spec> specs = new LinkedHashMap<>();
    private final Map<String, Tensor> mergedNorms = new LinkedHashMap<>();
    private final Set<String> merged = new java.util.LinkedHashSet<>();
    private Generator dropoutGen;
    private String active;
    private boolean disabled;

    public LoraLinear(Linear base) {
        this.base = registerModule("base_layer", base);
        registerModule("lora_A", loraA);
        registerModule("lora_B", loraB);
        registerModule("lora_magnitude_vector", magnitude);
        registerModule("sora_gate", gate);
        base.freeze();
    }

    /// Adds an adapter initialized as `cfg` says and makes it active.
    public void addAdapter(String name, LoraConfig cfg, Generator gen) {
        int r = cfg.r(), in = base.inFeatures(), out = base.outFeatures();
        DType dt = base.weight().dtype();
        Tensor a = cfg.init() == LoraConfig.Init.GAUSSIAN
                ? Tensor.normal(gen, 0, 1.0 / r, dt, r, in)
                : Init.kaimingUniform(gen, Math.sqrt(5), dt, r, in);
        Tensor b = Tensor.zeros(dt, out, r);
        Tensor g = cfg.kind() == LoraConfig.AdapterKind.SORA ? Tensor.randn(gen, dt, r) : null;
        addAdapter(name, new Spec(cfg.kind(), r, cfg.scale(), cfg.dropout()), a, b, g);
        if (dropoutGen == null) dropoutGen = gen.derive("dropout");
    }

    /// Adds an adapter with given factors (an initializer's output): A [r, d_in], B [d_out, r], gate [r]
    /// for SoRA (else null). DoRA's magnitude starts at the row norms of W₀ + s·B·A.
    public void addAdapter(String name, Spec spec, Tensor a, Tensor b, Tensor g) {
        if (specs.containsKey(name)) throw new IllegalArgumentException("addAdapter: adapter '" + name + "' exists already");
        int in = base.inFeatures(), out = base.outFeatures();
        if (a.rank() != 2 || a.size(0) != spec.r() || a.size(1) != in || b.rank() != 2 || b.size(0) != out || b.size(1) != spec.r()) {
            throw new IllegalArgumentException("addAdapter: for W [" + out + ", " + in + "] and r = " + spec.r()
                    + " expected A [" + spec.r() + ", " + in + "] and B [" + out + ", " + spec.r() + "], got A "
                    + Shape.str(a.shape()) + " and B " + Shape.str(b.shape()));
        }
        if ((spec.kind() == LoraConfig.AdapterKind.SORA) != (g != null)) {
            throw new IllegalArgumentException("addAdapter: a gate is given exactly for SoRA adapters");
        }
        specs.put(name, spec);
        // Factors live where the base layer does, whatever device an initializer produced them on.
        Device at = base.weight().device();
        loraA.put(name, a.detach().to(at).contiguous());
        loraB.put(name, b.detach().to(at).contiguous());
        if (g != null) gate.put(name, g.detach().to(at).contiguous());
        if (spec.kind() == LoraConfig.AdapterKind.DORA) {
            try (var ignored = GradMode.noGrad()) {
                magnitude.put(name, rowNorm(combined(name)));
            }
        }
        active = name;
    }

    /// Removes an adapter (unmerging it first if merged).
    public void deleteAdapter(String name) {
        spec(name);
        if (merged.contains(name)) unmerge(name);
        specs.remove(name);
        loraA.remove(name);
        loraB.remove(name);
        magnitude.remove(name);
        gate.remove(name);
        if (name.equals(active)) active = specs.isEmpty() ? null : specs.keySet().iterator().next();
    }

    public void setActiveAdapter(String name) {
        spec(name);
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

    public Linear base() {
        return base;
    }

    public Spec spec(String name) {
        Spec s = specs.get(name);
        if (s == null) throw new IllegalArgumentException("no adapter named '" + name + "' (have " + specs.keySet() + ")");
        return s;
    }

    public Set<String> adapterNames() {
        return java.util.Collections.unmodifiableSet(specs.keySet());
    }

    /// A [r, d_in].
    public Tensor loraA(String name) {
        return loraA.get(name);
    }

    /// B [d_out, r].
    public Tensor loraB(String name) {
        return loraB.get(name);
    }

    /// SoRA's gate [r], or null.
    public Tensor gate(String name) {
        return gate.get(name);
    }

    /// DoRA's magnitude [d_out], or null.
    public Tensor magnitude(String name) {
        return magnitude.get(name);
    }

    // ---------------------------------------------------------------- forward

    @Override
    public Tensor forward(Tensor x) {
        Tensor w = base.weight(), bias = base.bias();
        if (disabled || active == null || merged.contains(active)) return base.forward(x);
        Spec s = specs.get(active);
        Tensor a = loraA.get(active), b = loraB.get(active);
        Tensor xa = s.dropout() > 0 && isTraining() ? dropout(x, s.dropout()) : x;
        return switch (s.kind()) {
            case LORA, SORA -> {
                Tensor g = gate.get(active);
                if (xa == x) yield Functional.lowRankLinear(x, w, bias, a, b, g, s.scale());
                Tensor h = xa.matmul(a.t());                     // dropout on the adapter input only
                if (g != null) h = h.mul(g);
                yield base.forward(x).add(h.matmul(b.t()).mul(s.scale()));
            }
            case DORA -> {
                Tensor norm;
                try (var ignored = GradMode.noGrad()) {
                    norm = rowNorm(combined(active));
                }
                Tensor factor = magnitude.get(active).div(norm);
                Tensor y = x.matmul(w.t()).add(xa.matmul(a.t()).matmul(b.t()).mul(s.scale())).mul(factor);
                yield bias == null ? y : y.add(bias);
            }
        };
    }

    private Tensor dropout(Tensor x, double p) {
        Tensor keep = Tensor.rand(dropoutGen, x.dtype(), x.shape()).to(x.device()).gt(p);
        return x.mul(keep).div(1 - p);
    }

    /// ΔW = s·B·diag(g)·A [d_out, d_in] of an adapter (LoRA and SoRA; DoRA's low-rank part).
    public Tensor deltaWeight(String name) {
        Spec s = spec(name);
        Tensor b = loraB.get(name);
        Tensor g = gate.get(name);
        if (g != null) b = b.mul(g);
        return b.matmul(loraA.get(name)).mul(s.scale());
    }

    private Tensor combined(String name) {
        return base.weight().add(deltaWeight(name));
    }

    /// ‖row‖₂ over the input dim: [d_out, d_in] → [d_out].
    private static Tensor rowNorm(Tensor w) {
        return w.square().sum(1, false).sqrt();
    }

    // ---------------------------------------------------------------- merging

    /// Folds the adapter into the base weight (W ← W + ΔW, or DoRA's m ⊙ (W + ΔW)/‖W + ΔW‖_row),
    /// computed in at least F32. With `safe`, a result with NaN/Inf is refused and nothing changes.
    public void merge(String name, boolean safe) {
        Spec s = spec(name);
        if (merged.contains(name)) throw new IllegalStateException("merge: adapter '" + name + "' is already merged");
        if (!merged.isEmpty()) throw new IllegalStateException("merge: adapter " + merged + " is merged; unmerge it first");
        try (var ignored = GradMode.noGrad()) {
            Tensor w = base.weight();
            Tensor candidate = w.add(deltaWeight(name));
            if (s.kind() == LoraConfig.AdapterKind.DORA) {
                Tensor norm = rowNorm(candidate);
                mergedNorms.put(name, norm);
                candidate = candidate.mul(magnitude.get(name).div(norm).unsqueeze(1));
            }
            if (safe && !candidate.allFinite()) {
                mergedNorms.remove(name);
                throw new ArithmeticException("merge: merging adapter '" + name + "' gives NaN/Inf; the weights were left unchanged");
            }
            w.copyFrom(candidate);
        }
        merged.add(name);
        active = name;
    }

    /// Restores the base weight from before [#merge].
    public void unmerge(String name) {
        Spec s = spec(name);
        if (!merged.remove(name)) throw new IllegalStateException("unmerge: adapter '" + name + "' is not merged");
        try (var ignored = GradMode.noGrad()) {
            Tensor w = base.weight();
            Tensor restored = w;
            if (s.kind() == LoraConfig.AdapterKind.DORA) {
                restored = w.mul(mergedNorms.remove(name).div(magnitude.get(name)).unsqueeze(1));
            }
            w.copyFrom(restored.sub(deltaWeight(name)));
        }
    }

    public boolean isMerged() {
        return !merged.isEmpty();
    }

    /// Merges the active adapter and returns the plain base layer.
    public Linear mergeAndUnload() {
        if (active != null && !merged.contains(active) && !disabled) merge(active, true);
        return base;
    }

    /// Replaces an adapter's factors in place, keeping their trainable flags (used by pruning).
    void replaceFactors(String name, Spec spec, Tensor a, Tensor b, Tensor g) {
        specs.put(name, spec);
        Device at = base.weight().device();
        loraA.put(name, a.detach().to(at).contiguous());
        loraB.put(name, b.detach().to(at).contiguous());
        if (g == null) gate.remove(name);
        else gate.put(name, g.detach().to(at).contiguous());
    }

    /// PEFT's ModuleDict of per-adapter tensors, each exposed as `<adapter>.weight`.
    static final class Dict extends Module {
        private final Map<String, Tensor> byName = new LinkedHashMap<>();

        void put(String name, Tensor t) {
            remove(name);
            Holder h = new Holder(t);
            registerModule(name, h);
            byName.put(name, h.parameter("weight"));
        }

        Tensor get(String name) {
            return byName.get(name);
        }

        void remove(String name) {
            if (byName.remove(name) != null) unregisterModule(name);
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("a parameter container has no forward");
        }
    }

    private static final class Holder extends Module {
        Holder(Tensor t) {
            registerParameter("weight", t);
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("a parameter holder has no forward");
        }
    }
}
