package dev.rankwise.peft;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Module;

import java.util.LinkedHashMap;
import java.util.Map;

/// SoRA's schedule and pruning (arXiv 2311.11696, §3.2–3.3 and Algorithm 1).
public final class Sora {
    private Sora() {}

    /// How the sparsifying scheduler spaces its thresholds between ξ₀ and ξ_max (the authors' code).
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

    /// Number of non-zero gates of adapter `name` per adapted layer: the effective rank |S|.
    public static Map<String, Integer> effectiveRanks(Module model, String name) {
        Map<String, Integer> out = new LinkedHashMap<>();
        Peft.gates(model, name).forEach((path, g) -> {
            int nz = 0;
            for (double v : g.toDoubleArray()) if (v != 0) nz++;
            out.put(path, nz);
        });
        return out;
    }

    /// Parameters the adapter keeps after pruning: Σ |S|·(d_in + d_out) over its layers.
    public static long prunedParameterCount(Module model, String name) {
        long n = 0;
        for (var e : Peft.layers(model).entrySet()) {
            LoraLinear l = e.getValue();
            Tensor g = l.gate(name);
            if (g == null) continue;
            int nz = effectiveRanks(model, name).get(e.getKey());
            n += (long) nz * (l.base().inFeatures() + l.base().outFeatures());
        }
        return n;
    }

    /// Non-zero parameters while training with gates: Σ |S|·(d_in + d_out + 1).
    public static long activeParameterCount(Module model, String name) {
        long n = prunedParameterCount(model, name);
        for (int r : effectiveRanks(model, name).values()) n += r;
        return n;
    }

    /// Turns each SoRA adapter `name` into a plain LoRA of rank |S|: with S = {i : g_i ≠ 0},
    /// A' = A[S, :], B' = s·B[:, S]·diag(g_S), scale 1. The layer's output is unchanged. A layer whose
    /// gates are all zero keeps a rank-1 zero adapter (ΔW = 0) so that it stays a valid LoRA layer.
    public static void prune(Module model, String name) {
        try (var ignored = GradMode.noGrad()) {
            for (LoraLinear l : Peft.layers(model).values()) {
                Tensor g = l.gate(name);
                if (g == null) continue;
                LoraLinear.Spec s = l.spec(name);
                double[] gv = g.toDoubleArray();
                int[] keep = java.util.stream.IntStream.range(0, gv.length).filter(i -> gv[i] != 0).toArray();
                Tensor a, b;
                if (keep.length == 0) {
                    a = Tensor.zeros(g.dtype(), 1, l.base().inFeatures());
                    b = Tensor.zeros(g.dtype(), l.base().outFeatures(), 1);
                } else {
                    Tensor idx = Tensor.fromArray(keep, keep.length);
                    a = l.loraA(name).indexSelect(0, idx);
                    b = l.loraB(name).indexSelect(1, idx).mul(g.indexSelect(0, idx)).mul(s.scale());
                }
                int r = Math.max(1, keep.length);
                l.replaceFactors(name, new LoraLinear.Spec(LoraConfig.AdapterKind.LORA, r, 1.0, s.dropout()), a, b, null);
            }
        }
        Peft.freezeBase(model);
    }
}
