package dev.rankwise.cli;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.io.Npy;
import dev.rankwise.io.SafeTensors;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Linear;
import dev.rankwise.peft.Method;
import dev.rankwise.peft.PeftFormat;
import dev.rankwise.peft.PeftFormat.LayerKind;
import dev.rankwise.peft.PeftFormat.ModuleAdapter;
import dev.rankwise.peft.SaltLinear;
import dev.rankwise.peft.Sora;
import dev.rankwise.random.Generator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/// `rankwise adapter inspect|merge|convert`: look into, merge and convert PEFT LoRA adapter directories.
@Command(name = "adapter", mixinStandardHelpOptions = true, description = "Inspect, merge and convert PEFT LoRA adapters.",
        subcommands = {AdapterCommand.Inspect.class, AdapterCommand.Merge.class, AdapterCommand.Convert.class})
final class AdapterCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "inspect", description = "Modules, ranks, parameter counts, per-rank norms and singular values of s·B·A.")
    static final class Inspect implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR")
        Path dir;

        @Override
        public Integer call() throws Exception {
            PeftFormat.Adapter ad = PeftFormat.read(dir);
            var c = ad.config();
            System.out.printf("%s: %d module(s); r %d, lora_alpha %s, use_rslora %s, use_dora %s%s%n", dir, ad.modules().size(), c.r(),
                    fmt(c.alpha()), c.rsLora(), c.dora(), ad.baseWeights().isEmpty() ? "" : "; base weights for " + ad.baseWeights().keySet());
            long trainable = 0, stored = 0;
            for (var e : ad.modules().entrySet()) {
                ModuleAdapter m = e.getValue();
                long all = 0;
                for (Tensor t : m.tensors().values()) all += t.numel();
                trainable += m.trainableCount();
                stored += all;
                System.out.printf("  %s (%s, %s): in %d, out %d, rank %d, scale %s; %d trainable of %d stored numbers%s%n", e.getKey(),
                        m.layer().name().toLowerCase(), m.method().id(), m.a().size(1), m.b().size(0), m.rank(), fmt(m.scale()),
                        m.trainableCount(), all, m.frozen().isEmpty() ? "" : "; frozen " + m.frozen());
                Tensor a = m.a().to(DType.F64), b = m.peftB().to(DType.F64);
                double[] norms = a.square().sum(1, false).sqrt().mul(b.square().sum(0, false).sqrt()).mul(Math.abs(m.scale())).toDoubleArray();
                System.out.printf("    per-rank ‖s·b_i‖·‖a_i‖: %s%n", fmt(norms));
                System.out.printf("    singular values of s·B·A: %s%n", fmt(Linalg.svdvals(b.matmul(a).mul(m.scale())).narrow(0, 0,
                        Math.min(m.rank(), Math.min(a.size(1), b.size(0)))).toDoubleArray()));
                if (m.gate() != null) System.out.printf("    gate: %s%n", fmt(m.gate().toDoubleArray()));
                if (m.method() == Method.SALT) {
                    double[] s = m.salt().get("salt_S").toDoubleArray();
                    System.out.printf("    SALT: top %d singular values scaled and shifted, tail LoRA rank %d; σ₁ = %s%n", m.rank(),
                            m.salt().containsKey("salt_X") ? m.salt().get("salt_X").size(1) : 0, fmt(s[0]));
                }
            }
            System.out.printf("total: %d trainable of %d stored adapter numbers%n", trainable, stored);
            return 0;
        }
    }

    @Command(name = "merge", description = {"Write the merged weight of one module: W + s·B·A (DoRA: m ⊙ (W + s·B·A)/‖W + s·B·A‖_row;",
            "SALT: U·ReLU(Σ')·Vᵀ). W comes from --weight, or from the directory's base_weight.safetensors."})
    static final class Merge implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR")
        Path dir;

        @Option(names = "--weight", paramLabel = "W", description = "The base weight (.npy, or a .safetensors with one tensor or the module's key).")
        Path weight;

        @Option(names = "--module", paramLabel = "NAME", description = "Module to merge (default: the only one).")
        String module;

        @Option(names = "--out", required = true, paramLabel = "OUT.npy")
        Path out;

        @Override
        public Integer call() throws Exception {
            PeftFormat.Adapter ad = PeftFormat.read(dir);
            String name = module != null ? module : ad.modules().size() == 1 ? ad.modules().keySet().iterator().next() : null;
            if (name == null) throw new Main.UsageError("adapter merge: " + dir + " has modules " + ad.modules().keySet() + "; pick one with --module");
            ModuleAdapter m = ad.modules().get(name);
            if (m == null) throw new Main.UsageError("adapter merge: no module '" + name + "' in " + dir + " (have " + ad.modules().keySet() + ")");
            Tensor merged;
            if (m.method() == Method.SALT) {
                Linear lin = new Linear(m.a().size(1), m.b().size(0), false, new Generator(0), m.a().dtype());
                merged = new SaltLinear(lin, m.salt()).toLinear().weight();
            } else {
                Tensor w = baseWeight(ad, name);
                boolean emb = m.layer() == LayerKind.EMBEDDING;
                int[] want = emb ? new int[] {m.a().size(1), m.b().size(0)} : new int[] {m.b().size(0), m.a().size(1)};
                if (!Arrays.equals(w.shape(), want)) {
                    throw new Main.UsageError("adapter merge: weight " + Arrays.toString(w.shape()) + " does not match the adapter's " + Arrays.toString(want));
                }
                Tensor delta = m.update().to(DType.F64);
                Tensor sum = w.to(DType.F64).add(emb ? delta.t() : delta);
                if (m.magnitude() != null) sum = sum.mul(m.magnitude().to(DType.F64).div(sum.square().sum(1, false).sqrt()).unsqueeze(1));
                merged = sum.to(w.dtype());
            }
            if (!merged.allFinite()) throw new ArithmeticException("adapter merge: the merged weight has NaN/Inf; nothing written");
            Npy.write(out, merged);
            System.out.println("merged " + name + " -> " + out);
            return 0;
        }

        private Tensor baseWeight(PeftFormat.Adapter ad, String name) throws Exception {
            if (weight == null) {
                Tensor w = ad.baseWeights().get(name);
                if (w == null) throw new Main.UsageError("adapter merge: " + dir + " has no base weight for '" + name + "'; give --weight W");
                return w;
            }
            if (!weight.toString().endsWith(".safetensors")) return Npy.read(weight);
            Map<String, Tensor> t = SafeTensors.read(weight);
            Tensor w = t.get(PeftFormat.PREFIX + name + ".weight");
            if (w == null && t.size() == 1) w = t.values().iterator().next();
            if (w == null) throw new Main.UsageError("adapter merge: " + weight + " has no tensor '" + PeftFormat.PREFIX + name + ".weight'");
            return w;
        }
    }

    @Command(name = "convert", description = {"Convert an adapter to a plain LoRA that PEFT applies to the original weight:",
            "with --initial, a residual-changing adapter (PiSSA, OLoRA, LoRA-GA, …) becomes rank 2r: A' = [A1; A0], B' = [B1, −B0];",
            "without, SoRA modules are pruned to rank |S| (zero gates dropped, the gate folded into B)."})
    static final class Convert implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "The trained adapter (A1, B1).")
        Path dir;

        @Option(names = "--initial", paramLabel = "DIR0", description = "The adapter as initialized (A0, B0), e.g. from `rankwise init`.")
        Path initial;

        @Option(names = "--out", required = true, paramLabel = "DIR2")
        Path out;

        @Override
        public Integer call() throws Exception {
            PeftFormat.Adapter trained = PeftFormat.read(dir);
            Map<String, ModuleAdapter> converted = initial != null ? toDoubleRank(trained, PeftFormat.read(initial)) : pruned(trained);
            PeftFormat.write(out, converted, Map.of(), trained.config().dropout());
            System.out.println("converted " + converted.size() + " module(s) -> " + out + " (ranks "
                    + converted.values().stream().map(ModuleAdapter::rank).toList() + ")");
            return 0;
        }

        /// W + s(B1A1 − B0A0) = W_res + s·B1A1 when W_res = W − s·B0A0. Equal scales are kept (α' = s·2r);
        /// otherwise each scale is folded into its B and the result has scale 1. PEFT's own conversion
        /// (`LoraModel.subtract_mutated_init`) concatenates the same way: A' = [A; A₀], B' = [B, −B₀].
        private Map<String, ModuleAdapter> toDoubleRank(PeftFormat.Adapter trained, PeftFormat.Adapter init) {
            Map<String, ModuleAdapter> out = new LinkedHashMap<>();
            for (var e : trained.modules().entrySet()) {
                String p = e.getKey();
                ModuleAdapter t = e.getValue(), i0 = init.modules().get(p);
                if (i0 == null) throw new Main.UsageError("adapter convert: module '" + p + "' is missing from " + initial);
                if (t.layer() != i0.layer() || t.a().size(1) != i0.a().size(1) || t.b().size(0) != i0.b().size(0)
                        || t.magnitude() != null || i0.magnitude() != null || t.method() == Method.SALT || i0.method() == Method.SALT) {
                    throw new Main.UsageError("adapter convert: module '" + p + "' of " + dir + " and " + initial + " are not two states of one LoRA adapter");
                }
                Tensor wt = trained.baseWeights().get(p), w0 = init.baseWeights().get(p);
                if (wt != null && w0 != null && wt.to(DType.F64).sub(w0.to(DType.F64)).abs().max().item() != 0) {
                    throw new Main.UsageError("adapter convert: the base weights of '" + p + "' differ between " + dir + " and " + initial);
                }
                boolean same = t.scale() == i0.scale();
                Tensor b1 = same ? t.peftB() : t.peftB().mul(t.scale()), b0 = same ? i0.peftB() : i0.peftB().mul(i0.scale());
                Tensor a = Tensor.concat(List.of(t.a(), i0.a()), 0).contiguous();
                Tensor b = Tensor.concat(List.of(b1, b0.neg()), 1).contiguous();
                int r2 = a.size(0);
                out.put(p, new ModuleAdapter(t.layer(), Method.LORA, r2, (same ? t.scale() : 1.0) * r2, false, a, b, null, null, null, Set.of(), 0, Map.of()));
            }
            return out;
        }

        private Map<String, ModuleAdapter> pruned(PeftFormat.Adapter ad) {
            Map<String, ModuleAdapter> out = new LinkedHashMap<>();
            boolean any = false;
            for (var e : ad.modules().entrySet()) {
                ModuleAdapter m = e.getValue();
                if (m.method() != Method.SORA || m.gate() == null) {
                    out.put(e.getKey(), m);
                    continue;
                }
                any = true;
                Tensor[] ab = Sora.pruneParts(m.a(), m.b(), m.gate(), m.scale());
                int r = ab[0].size(0);
                out.put(e.getKey(), new ModuleAdapter(m.layer(), Method.SORA, r, r, false, ab[0], ab[1], null, null, null, Set.of(), 0, Map.of()));
            }
            if (!any) throw new Main.UsageError("adapter convert: " + dir + " has no SoRA gates to prune; a residual adapter needs --initial DIR0");
            return out;
        }
    }

    private static String fmt(double v) {
        return String.format("%.4g", v);
    }

    private static String fmt(double[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(fmt(v[i]));
        return sb.append(']').toString();
    }
}
