package dev.rankwise.peft;

import dev.rankwise.Tensor;
import dev.rankwise.nn.Functional;
import dev.rankwise.nn.Init;
import dev.rankwise.nn.Linear;
import dev.rankwise.random.Generator;

import java.util.Map;

/// A frozen [Linear] with named low-rank adapters, laid out as PEFT's `lora.Linear` so that parameter
/// names match PEFT's: `base_layer.weight`, `lora_A.<name>.weight` [r, d_in], `lora_B.<name>.weight`
/// [d_out, r], DoRA's `lora_magnitude_vector.<name>.weight` [d_out]; a gate is `lora_gate.<name>.weight`
/// [r] and a core `lora_core.<name>.weight` [r, r].
///
/// Forward with the active adapter (x [..., d_in] → y [..., d_out]), C the identity, diag(g) or R:
/// - LoRA, SoRA and the initializers' adapters: y = x W₀ᵀ + b + s·drop(x) Aᵀ Cᵀ Bᵀ
///   (arXiv 2106.09685 eq. 3; SoRA arXiv 2311.11696 eq. 3 with C = diag(g)), through
///   [Functional#lowRankLinear] when there is no dropout.
/// - DoRA (arXiv 2402.09353 eq. 5, PEFT's formulation): with f = m / ‖W₀ + s·B·A‖_row (the norm
///   detached, §4.3), y = x W₀ᵀ + b + (f − 1) ⊙ drop(x) W₀ᵀ + f ⊙ s·drop(x) Aᵀ Bᵀ, which without
///   dropout is f ⊙ (x W₀ᵀ + s·x Aᵀ Bᵀ) + b. Checked against PEFT (`tuners/lora/variants.py`,
///   `DoraLinearVariant.forward`, and `tuners/lora/dora.py`, `DoraLinearLayer`): the base result is
///   reused only without dropout (or in eval), the norm is over dim 1 of W₀ + s·B·A with B·A detached,
///   and the magnitude starts at those row norms.
public final class LoraLinear extends AdapterLayer {
    private final Linear base;

    public LoraLinear(Linear base) {
        super(base, Map.of(Part.A, "lora_A", Part.B, "lora_B", Part.GATE, "lora_gate", Part.CORE, "lora_core",
                Part.MAGNITUDE, "lora_magnitude_vector"), "lora_B_frozen", false);
        this.base = base;
    }

    public Linear base() {
        return base;
    }

    @Override
    public Tensor baseWeight() {
        return base.weight();
    }

    @Override
    public int inDim() {
        return base.inFeatures();
    }

    @Override
    public int outDim() {
        return base.outFeatures();
    }

    @Override
    Tensor toBaseLayout(Tensor deltaOutIn) {
        return deltaOutIn;
    }

    @Override
    boolean supportsDora() {
        return true;
    }

    /// PEFT's `init_lora_weights`: True gives A Kaiming-uniform (a = √5), "gaussian" gives A ~ N(0, σ²)
    /// with σ = 1/r (PEFT's `normal_(std=1/r)`); B = 0 either way.
    @Override
    Tensor[] freshFactors(LoraConfig cfg, Generator gen) {
        int r = cfg.r();
        var dt = base.weight().dtype();
        Tensor a = cfg.init() == LoraConfig.Init.GAUSSIAN
                ? Tensor.normal(gen, 0, 1.0 / r, dt, r, inDim())
                : Init.kaimingUniform(gen, Math.sqrt(5), dt, r, inDim());
        return new Tensor[] {a, Tensor.zeros(dt, outDim(), r)};
    }

    @Override
    public Tensor forward(Tensor x) {
        String name = forwardAdapter();
        if (name == null) return base.forward(x);
        AdapterSpec s = spec(name);
        Tensor w = base.weight(), bias = base.bias(), a = loraA(name);
        Tensor xd = dropout(x, s.dropout());
        if (s.kind() == LoraConfig.AdapterKind.DORA) {
            Tensor norm;
            try (var ignored = dev.rankwise.autograd.GradMode.noGrad()) {
                norm = rowNorm(w.add(lowRankUpdate(name)));
            }
            Tensor f = magnitude(name).div(norm);
            Tensor lora = xd.matmul(a.t()).matmul(loraB(name).t()).mul(s.scale());
            if (xd == x) {
                Tensor y = x.matmul(w.t()).add(lora).mul(f);
                return bias == null ? y : y.add(bias);
            }
            return base.forward(x).add(xd.matmul(w.t()).mul(f.sub(1.0))).add(lora.mul(f));
        }
        Tensor b = bTimesCore(name), g = gate(name);
        if (xd == x) return Functional.lowRankLinear(x, w, bias, a, b, g, s.scale());
        Tensor h = xd.matmul(a.t());
        if (g != null) h = h.mul(g);
        return base.forward(x).add(h.matmul(b.t()).mul(s.scale()));
    }
}
