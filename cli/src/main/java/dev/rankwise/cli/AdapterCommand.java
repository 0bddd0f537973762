package dev.rankwise.cli;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.io.Npy;
import dev.rankwise.io.SafeTensors;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.peft.PeftFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/// `rankwise adapter inspect|merge|convert`: look into, merge and convert PEFT LoRA adapters.
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
            long total = 0;
            System.out.printf("%s: %d modules%s%n", dir, ad.modules().size(), ad.dora() ? " (DoRA)" : "");
            for (var e : ad.modules().entrySet()) {
                PeftFormat.ModuleAdapter m = e.getValue();
                long params = m.a().numel() + m.b().numel() + (m.magnitude() == null ? 0 : m.magnitude().numel());
                total += params;
                Tensor a = m.a().to(DType.F64), b = m.b().to(DType.F64);
                double[] rowNorms = a.square().sum(1, false).sqrt().mul(b.square().sum(0, false).sqrt()).mul(m.scale()).toDoubleArray();
                double[] sv = Linalg.svdvals(b.matmul(a).mul(m.scale())).narrow(0, 0, m.rank()).toDoubleArray();
                System.out.printf("  %-30s in %5d  out %5d  rank %3d  scale %-8.4g params %d%n", e.getKey(), a.size(1), b.size(0), m.rank(), m.scale(), params);
                System.out.printf("    per-rank ‖s·b_i‖·‖a_i‖: %s%n", fmt(rowNorms));
                System.out.printf("    singular values of s·B·A: %s%n", fmt(sv));
            }
            System.out.printf("total adapter parameters: %d%n", total);
            return 0;
        }
    }

    @Command(name = "merge", description = "Write W + s·B·A for one module of the adapter.")
    static final class Merge implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR")
        Path dir;

        @Option(names = "--weight", required = true, paramLabel = "W.npy", description = "The base weight [out, in] (for residual methods: base_weight.safetensors' tensor).")
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
            PeftFormat.ModuleAdapter m = ad.modules().get(name);
            if (m == null) throw new Main.UsageError("adapter merge: no module '" + name + "' in " + dir + " (have " + ad.modules().keySet() + ")");
            if (ad.dora()) throw new Main.UsageError("adapter merge: DoRA adapters need the model to merge (magnitude renormalization)");
            Tensor w = weight.toString().endsWith(".safetensors") ? SafeTensors.read(weight).values().iterator().next() : Npy.read(weight);
            if (w.rank() != 2 || w.size(0) != m.b().size(0) || w.size(1) != m.a().size(1)) {
                throw new Main.UsageError("adapter merge: weight " + java.util.Arrays.toString(w.shape()) + " does not match the adapter ["
                        + m.b().size(0) + ", " + m.a().size(1) + "]");
            }
            Tensor merged = w.to(DType.F64).add(m.b().to(DType.F64).matmul(m.a().to(DType.F64)).mul(m.scale())).to(w.dtype());
            if (!merged.allFinite()) throw new ArithmeticException("adapter merge: the merged weight has NaN/Inf; nothing written");
            Npy.write(out, merged);
            System.out.println("merged " + name + " -> " + out);
            return 0;
        }
    }

    @Command(name = "convert", description = "Convert a trained residual-changing adapter (PiSSA, OLoRA, LoRA-GA, …) into a plain rank-2r LoRA against the original weight: A' = [A1; A0], B' = [B1, −B0].")
    static final class Convert implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "The trained adapter (A1, B1).")
        Path dir;

        @Option(names = "--initial", required = true, paramLabel = "DIR0", description = "The adapter as initialized (A0, B0), e.g. from `rankwise init`.")
        Path initial;

        @Option(names = "--out", required = true, paramLabel = "DIR2")
        Path out;

        @Override
        public Integer call() throws Exception {
            PeftFormat.Adapter trained = PeftFormat.read(dir), init = PeftFormat.read(initial);
            Map<String, PeftFormat.ModuleAdapter> converted = new LinkedHashMap<>();
            for (var e : trained.modules().entrySet()) {
                PeftFormat.ModuleAdapter t = e.getValue(), i0 = init.modules().get(e.getKey());
                if (i0 == null) throw new Main.UsageError("adapter convert: module '" + e.getKey() + "' is missing from " + initial);
                if (t.scale() != i0.scale() || t.rank() != i0.rank()) {
                    throw new Main.UsageError("adapter convert: module '" + e.getKey() + "' has rank/scale " + t.rank() + "/" + t.scale()
                            + " but the initial adapter has " + i0.rank() + "/" + i0.scale());
                }
                // W + s(B1A1 − B0A0) = W_res + s·B1A1 when W_res = W − s·B0A0; keep the scale, so α' = s·2r.
                Tensor a = Tensor.concat(java.util.List.of(t.a(), i0.a()), 0);
                Tensor b = Tensor.concat(java.util.List.of(t.b(), i0.b().neg()), 1);
                converted.put(e.getKey(), new PeftFormat.ModuleAdapter(a, b, t.scale(), null));
            }
            PeftFormat.write(out, converted, false, Map.of());
            System.out.println("converted " + converted.size() + " modules to rank-2r LoRA -> " + out);
            return 0;
        }
    }

    private static String fmt(double[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(String.format("%.4g", v[i]));
        return sb.append(']').toString();
    }
}
