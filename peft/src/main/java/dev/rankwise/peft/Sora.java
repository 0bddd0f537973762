package dev.rankwise.peft;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Module;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// SoRA's schedule and pruning (arXiv 2311.11696, §3.2–3.3 and Algorithm 1).
public final class Sora {
    private Sora() {}

    /// How the sparsifying scheduler spaces its thresholds between ξ₀ and ξ_max (TsinghuaC3I/SoRA
    /// `SparseAdamW._build_lambda_list`: `np.linspace`, `log(linspace(exp))`, `exp(linspace(log))`).
    public enum Spacing {
        /// ξ_k evenly spaced.
        LINEAR,
        /// log of evenly spaced exp(ξ): log(linspace(e^ξ₀, e^ξ_max)).
        LOG_LINEAR,
        /// exp of evenly spaced log ξ: geometric spacing (needs ξ₀ > 0).
        EXP_LINEAR
    }

    /// The K thresholds of the sparsifying scheduler, from `from` to `to` inclusive.
    public static double[] thresholds(Spacing spacing, double from, double to, int k) {
        if (k < 1) throw new IllegalArgumentException("thresholds: k must be >= 1");
        double[] out = new double[k];
        for (int i = 0; i < k; i++) {
            double t = k == 1 ? 0 : (double) i / (k - 1);
            out[i] = switch (spacing) {
                case LINEAR -> from + t * (to - from);
                case LOG_LINEAR -> Math.log(Math.exp(from) + t * (Math.exp(to) - Math.exp(from)));
                case EXP_LINEAR -> {
                    if (from <= 0 || to <= 0) throw new IllegalArgumentException("thresholds: exp-linear spacing needs positive ends");
                    yield Math.exp(Math.log(from) + t * (Math.log(to) - Math.log(from)));
                }
            };
        }
        return out;
    }

    /// One stage of the sparsifying scheduler: the threshold ξ, the non-zero gates per layer after the
    /// stage, and the parameters the adapter keeps after pruning.
    public record Stage(double xi, Map<String, Integer> ranks, long parameters) {}

    /// The sparsifying scheduler (§3.3): for each ξ of `thresholds` in turn, sets the gate optimizer's
    /// threshold to ξ, runs `trainStage` (the caller's training steps), and logs the stage. The log
    /// traces the memorization/generalization trade-off as ξ grows.
    public static List<Stage> schedule(Module model, String name, SoraGateOptimizer gates, double[] thresholds, Runnable trainStage) {
        List<Stage> log = new ArrayList<>();
        for (double xi : thresholds) {
            gates.setThreshold(xi);
            trainStage.run();
            log.add(new Stage(xi, effectiveRanks(model, name), prunedParameterCount(model, name)));
        }
        return log;
    }

    /// Number of non-zero gates of SoRA adapter `name` per adapted layer: the effective rank |S|.
    public static Map<String, Integer> effectiveRanks(Module model, String name) {
        Map<String, Integer> out = new LinkedHashMap<>();
        Peft.adapterLayers(model).forEach((path, l) -> {
            if (!l.adapterNames().contains(name) || l.spec(name).kind() != LoraConfig.AdapterKind.SORA) return;
            int nz = 0;
            for (double v : l.gate(name).toDoubleArray()) if (v != 0) nz++;
            out.put(path, nz);
        });
        return out;
    }

    /// Parameters the adapter keeps after pruning: Σ |S|·(d_in + d_out) over its layers.
    public static long prunedParameterCount(Module model, String name) {
        long n = 0;
        Map<String, Integer> ranks = effectiveRanks(model, name);
        for (var e : Peft.adapterLayers(model).entrySet()) {
            AdapterLayer l = e.getValue();
            if (ranks.containsKey(e.getKey())) n += (long) ranks.get(e.getKey()) * (l.inDim() + l.outDim());
        }
        return n;
    }

    /// Non-zero parameters while training with gates: Σ |S|·(d_in + d_out + 1).
    public static long activeParameterCount(Module model, String name) {
        long n = prunedParameterCount(model, name);
        for (int r : effectiveRanks(model, name).values()) n += r;
        return n;
    }

    /// Turns each SoRA adapter `name` into a plain LoRA of rank |S| ([#pruneParts]); the layer's
    /// output is unchanged.
    public static void prune(Module model, String name) {
        try (var ignored = GradMode.noGrad()) {
            for (AdapterLayer l : Peft.adapterLayers(model).values()) {
                if (!l.adapterNames().contains(name) || l.spec(name).kind() != LoraConfig.AdapterKind.SORA) continue;
                AdapterSpec s = l.spec(name);
                Tensor[] ab = pruneParts(l.loraA(name), l.effectiveB(name), l.gate(name), s.scale());
                int r = ab[0].size(0);
                // α = r gives scale 1; the method label stays "sora" (a pruned SoRA adapter).
                l.replaceParts(name, new AdapterSpec(LoraConfig.AdapterKind.LORA, r, r, false, s.dropout(), Method.SORA, java.util.Set.of()),
                        ab[0], ab[1], null, null);
            }
        }
        Peft.freezeBase(model);
    }

    /// SoRA's pruning of one adapter, A [r, d_in], B [d_out, r], gate g [r], scale s: with
    /// S = {i : g_i ≠ 0}, returns {A' = A[S, :], B' = s·B[:, S]·diag(g_S)}, a plain LoRA of rank |S| and
    /// scale 1 with B'·A' = s·B·diag(g)·A. All gates zero gives a rank-1 zero pair (ΔW = 0), so the result
    /// stays a valid LoRA adapter. Each pruned rank saves d_in + d_out parameters.
    public static Tensor[] pruneParts(Tensor a, Tensor b, Tensor g, double scale) {
        try (var ignored = GradMode.noGrad()) {
            double[] gv = g.toDoubleArray();
            int[] keep = java.util.stream.IntStream.range(0, gv.length).filter(i -> gv[i] != 0).toArray();
            if (keep.length == 0) return new Tensor[] {Tensor.zeros(a.dtype(), 1, a.size(1)), Tensor.zeros(b.dtype(), b.size(0), 1)};
            Tensor idx = Tensor.fromArray(keep, keep.length).to(a.device());
            return new Tensor[] {a.indexSelect(0, idx).contiguous(), b.indexSelect(1, idx).mul(g.indexSelect(0, idx)).mul(scale).contiguous()};
        }
    }
}
