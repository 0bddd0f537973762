package dev.rankwise.peft.init;

import dev.rankwise.DType;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Embedding;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.peft.AdapterLayer;
import dev.rankwise.peft.LoraEmbedding;
import dev.rankwise.peft.Method;
import dev.rankwise.peft.Peft;
import dev.rankwise.random.Generator;

import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/// Initializers from the gradients of the frozen weights (LoRA-GA, LoRA-SB), and the autograd pass
/// that collects those gradients from a model over a few batches.
public final class GradientInit {
    private GradientInit() {}

    /// Summed gradients of the targeted weights over `batches` batches, each [d_out, d_in] in the
    /// orientation the [Peft.Initializer] sees (an Embedding's table transposed).
    public record Gradients(Map<String, Tensor> sum, int batches) {
        /// The average gradient, Σ/batches.
        public Map<String, Tensor> mean() {
            Map<String, Tensor> out = new LinkedHashMap<>();
            sum.forEach((p, g) -> out.put(p, g.div((double) batches)));
            return out;
        }

        Tensor of(String op, String path, Map<String, Tensor> which) {
            Tensor g = which.get(path);
            if (g == null) throw new IllegalArgumentException(op + ": no gradient for '" + path + "' (have " + which.keySet() + ")");
            return g;
        }
    }

    /// Runs `loss` on each batch and backpropagates, accumulating ∂L/∂W for the weight of every
    /// targeted Linear or Embedding (or adapted layer's base weight). During the pass only those weights
    /// require grad; every trainable flag and gradient of the model is restored afterwards, so the
    /// model is as it was. `loss` computes a scalar from one batch, calling the model.
    public static <T> Gradients accumulate(Module model, List<String> targets, Iterable<T> batches, Function<T, Tensor> loss) {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        Map<String, Boolean> transposed = new LinkedHashMap<>();
        model.namedModules().forEach((p, m) -> {
            if (p.endsWith("base_layer") || !Peft.matches(p, targets)) return;
            Tensor w = switch (m) {
                case AdapterLayer l -> l.baseWeight();
                case Linear l -> l.weight();
                case Embedding e -> e.weight();
                default -> null;
            };
            if (w == null) return;
            weights.put(p, w);
            transposed.put(p, m instanceof Embedding || m instanceof LoraEmbedding);
        });
        if (weights.isEmpty()) throw new IllegalArgumentException("accumulate: target_modules " + targets + " match no Linear or Embedding layer");
        Map<Tensor, Boolean> flags = new IdentityHashMap<>();
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        for (Tensor t : model.parameters()) {
            flags.put(t, t.requiresGrad());
            grads.put(t, t.grad());
            t.setGrad(null);
            t.requiresGrad(false);
        }
        for (Tensor w : weights.values()) {
            flags.putIfAbsent(w, w.requiresGrad());
            grads.putIfAbsent(w, w.grad());
            w.setGrad(null);
            w.requiresGrad(true);
        }
        int n = 0;
        Map<String, Tensor> sum = new LinkedHashMap<>();
        try {
            for (T batch : batches) {
                Tensor l = loss.apply(batch);
                if (l.numel() != 1) throw new IllegalArgumentException("accumulate: the loss must be a scalar, got " + Shape.str(l.shape()));
                l.backward();
                n++;
            }
            if (n == 0) throw new IllegalArgumentException("accumulate: no batches");
            try (var ignored = GradMode.noGrad()) {
                for (var e : weights.entrySet()) {
                    Tensor g = e.getValue().grad();
                    if (g == null) g = Tensor.zeros(e.getValue().dtype(), e.getValue().shape());
                    g = g.copy().detach();
                    sum.put(e.getKey(), transposed.get(e.getKey()) ? g.t().contiguous() : g);
                }
            }
        } finally {
            flags.forEach((t, f) -> {
                t.requiresGrad(f);
                t.setGrad(grads.get(t));
            });
        }
        return new Gradients(sum, n);
    }

    /// LoRA-GA (arXiv 2407.05000, §3.2–3.3): from the average gradient G [m, n] of W, with the SVD
    /// G = U Σ Vᵀ, A = V[:, :r]ᵀ and B = U[:, r:2r]; with `stableGamma` γ (the paper's "stable" scale,
    /// γ = 16) both are multiplied by m^¼/√γ (m = d_out), with null they keep unit scale; W_res = W − s·B·A
    /// so the model starts unchanged. `niter` ≥ 0 takes the randomized SVD of the authors' code
    /// (`svd_lowrank` with q = min(4r, k) and that many power iterations, seeded by `gen`); `niter` < 0
    /// the exact SVD. Needs 2r ≤ k. Checked against Outsider565/LoRA-GA (`peft/src/peft/tuners/lora/layer.py`,
    /// `lora_ga_init`; `LoraGAConfig` defaults direction "ArB2r", scale "stable", stable_gamma 16, the
    /// gradient averaged over the batches in `estimate_gradient`).
    public static Factors loraGa(Tensor w, Tensor grad, int r, double scale, Double stableGamma, int niter, Generator gen) {
        SvdInit.check("lora-ga", w, r);
        sameShape("lora-ga", w, grad);
        int k = Math.min(w.size(0), w.size(1));
        if (2 * r > k) throw new IllegalArgumentException("lora-ga: needs 2r <= min(m, n) = " + k + ", got r = " + r);
        try (var ignored = GradMode.noGrad()) {
            Tensor g = grad.detach().to(w.dtype());
            Linalg.Svd svd = niter < 0 ? Linalg.svd(g) : Linalg.svdLowRank(g, Math.min(4 * r, k), niter, gen != null ? gen : new Generator(0));
            double f = stableGamma == null ? 1 : Math.pow(w.size(0), 0.25) / Math.sqrt(stableGamma);
            Tensor a = svd.vh().narrow(0, 0, r).mul(f).contiguous();
            Tensor b = svd.u().narrow(1, r, r).mul(f).contiguous();
            Tensor wd = w.detach();
            return new Factors(a, b, null, null, scale, wd.sub(b.matmul(a).mul(scale)), Method.LORA_GA);
        }
    }

    /// LoRA-SB (arXiv 2411.19557, §4): from G, the summed gradient of W₀ over the first samples, the
    /// first step of Adam-like full fine-tuning is ΔŴ = −η·sign(G); its rank-r SVD U Σ Vᵀ gives the
    /// frozen B = U_r and A = V_rᵀ and the trainable core R = Σ_r/s (an r×r matrix, diagonal at the
    /// start). W₀ is kept: the model starts one step in, at W₀ + s·B·R·A, the best rank-r
    /// approximation of that step.
    ///
    /// The authors' code (RaghavSinghal10/lora-sb `utils/gradient_utils.py`,
    /// `estimate_and_process_grads_torch_*`) sums per-sample gradients and returns `−lr·sign(sum)`, with
    /// `lr` = η = the first learning rate of the linear warmup, `lr/(warmup_ratio·total_steps)`
    /// (`train_glue.py`; [#loraSbStepSize]); it sets α = r, so s = 1. [Its factorization file is not
    /// public; the split B = U_r, R = Σ_r/s, A = V_rᵀ is the paper's.]
    public static Factors loraSb(Tensor w, Tensor gradSum, int r, double scale, double eta) {
        SvdInit.check("lora-sb", w, r);
        sameShape("lora-sb", w, gradSum);
        try (var ignored = GradMode.noGrad()) {
            Tensor step = gradSum.detach().to(w.dtype()).sign().mul(-eta);
            Linalg.Svd svd = Linalg.svd(step);
            Tensor b = svd.u().narrow(1, 0, r).contiguous(), a = svd.vh().narrow(0, 0, r).contiguous();
            Tensor core = Tensor.eye(r, w.dtype()).mul(svd.s().narrow(0, 0, r).div(scale).unsqueeze(0)).contiguous();
            return new Factors(a, b, null, core, scale, null, Method.LORA_SB);
        }
    }

    /// LoRA-SB's η as its authors' code sets it: the learning rate of the first step of a linear warmup
    /// from 0 to `lr` over `warmupSteps` steps, lr/warmupSteps (`eff_lr = lr/(warmup_ratio·total_steps)`).
    public static double loraSbStepSize(double lr, double warmupSteps) {
        if (!(lr > 0) || !(warmupSteps >= 1)) throw new IllegalArgumentException("lora-sb: need lr > 0 and warmupSteps >= 1, got " + lr + " and " + warmupSteps);
        return lr / warmupSteps;
    }

    /// Accumulates gradients over `batches` and attaches LoRA-GA adapters (average gradient, stable
    /// scaling with γ = 16, randomized SVD with 4 power iterations) to the targets. Returns the paths.
    public static <T> List<String> attachLoraGa(Module model, String name, List<String> targets, int r, double alpha,
                                                Iterable<T> batches, Function<T, Tensor> loss, Generator gen) {
        Gradients g = accumulate(model, targets, batches, loss);
        Map<String, Tensor> mean = g.mean();
        return Peft.attach(model, name, targets, (p, w) -> loraGa(w, g.of("lora-ga", p, mean), r, alpha / r, 16.0, 4, gen.derive(p)));
    }

    /// Accumulates gradients over `batches` and attaches LoRA-SB adapters (summed gradient, step size
    /// `eta`) to the targets; only the r×r cores train. Returns the paths.
    public static <T> List<String> attachLoraSb(Module model, String name, List<String> targets, int r, double alpha, double eta,
                                                Iterable<T> batches, Function<T, Tensor> loss) {
        Gradients g = accumulate(model, targets, batches, loss);
        return Peft.attach(model, name, targets, (p, w) -> loraSb(w, g.of("lora-sb", p, g.sum()), r, alpha / r, eta));
    }

    private static void sameShape(String op, Tensor w, Tensor g) {
        if (!java.util.Arrays.equals(w.shape(), g.shape())) {
            throw new IllegalArgumentException(op + ": gradient shape " + Shape.str(g.shape()) + " differs from weight " + Shape.str(w.shape()));
        }
        if (g.dtype() != DType.F32 && g.dtype() != DType.F64) throw new IllegalArgumentException(op + ": gradient must be F32 or F64, got " + g.dtype());
    }
}
