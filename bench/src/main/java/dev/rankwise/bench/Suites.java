package dev.rankwise.bench;

import dev.rankwise.bench.BenchMain.Options;
import dev.rankwise.bench.BenchMain.Row;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/// How each benchmark is run and how its Rankwise rows pair with the peers.
final class Suites {
    private Suites() {}

    static List<Row> gemm(Options o) throws Exception {
        String[] shapes = o.quick() ? new String[] {"256x256x256", "512x512x512", "1024x256x16"}
                : new String[] {"256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048", "4096x1024x1024",
                "4096x1024x4", "4096x1024x16", "4096x1024x64", "4096x16x1024", "4096x64x1024"};
        String[] threads = BenchMain.strings(o.threads());
        Map<String, String[]> params = Map.of("shape", shapes, "dtype", new String[] {"F32", "F64"}, "threads", threads);
        if (o.openblasOnly()) {
            Map<String, Double> t = BenchMain.jmh(GemmBenchmark.class, params, o.quick(), "openblas");
            List<Row> rows = new ArrayList<>();
            t.forEach((k, ns) -> {
                Map<String, String> p = parse(k);
                double gf = GemmBenchmark.flops(p.get("shape")) / ns;
                rows.add(new Row(p.get("dtype") + " " + p.get("shape"), Integer.parseInt(p.get("threads")), 0, gf, "", 0, "GFLOP/s"));
            });
            return rows;
        }
        Map<String, Double> t = BenchMain.jmh(GemmBenchmark.class, params, o.quick(), "(rankwise|openblas|ejml)");
        // OpenBLAS picks AVX2 kernels on this CPU unless told otherwise; its AVX-512 kernels run in a
        // child JVM started with OPENBLAS_CORETYPE=SkylakeX (read once, when the library loads).
        List<String> childArgs = new ArrayList<>(List.of("gemm", "--openblas-only"));
        if (o.quick()) childArgs.add("--quick");
        if (o.threads().length == 1) childArgs.addAll(List.of("--threads", Integer.toString(o.threads()[0])));
        Map<String, Double> avx512 = new java.util.HashMap<>();
        try {
            for (Row r : BenchMain.child(Map.of("OPENBLAS_CORETYPE", "SkylakeX"), childArgs.toArray(new String[0]))) {
                avx512.put(r.caseName() + "|" + r.threads(), r.peer());
            }
        } catch (Exception e) {
            System.err.println("rankwise bench: the OpenBLAS AVX-512 run failed (" + e.getMessage() + "); reporting default detection only");
        }
        List<Row> rows = new ArrayList<>();
        for (var e : t.entrySet()) {
            if (!e.getKey().startsWith("rankwise|")) continue;
            Map<String, String> p = parse(e.getKey());
            String shape = p.get("shape"), cs = p.get("dtype") + " " + shape;
            int th = Integer.parseInt(p.get("threads"));
            double flops = GemmBenchmark.flops(shape), mine = flops / e.getValue();
            String suffix = e.getKey().substring("rankwise".length());
            double ob = flops / t.get("openblas" + suffix), ej = flops / t.get("ejml" + suffix);
            rows.add(new Row(cs, th, mine, ob, "OpenBLAS (default detection)", mine / ob, "GFLOP/s"));
            Double sk = avx512.get(cs + "|" + th);
            if (sk != null) rows.add(new Row(cs, th, mine, sk, "OpenBLAS (SkylakeX kernels)", mine / sk, "GFLOP/s"));
            rows.add(new Row(cs, th, mine, ej, "EJML", mine / ej, "GFLOP/s"));
        }
        return rows;
    }

    static List<Row> lowrank(Options o) throws Exception {
        String shape = o.quick() ? "512x256x16" : "4096x1024x16";
        Map<String, Double> t = BenchMain.jmh(LowRankBenchmark.class,
                Map.of("shape", new String[] {shape}, "method", new String[] {"lora", "sora"}, "threads", BenchMain.strings(o.threads())),
                o.quick(), "(rankwise|dense)");
        List<Row> rows = new ArrayList<>();
        for (var e : t.entrySet()) {
            if (!e.getKey().startsWith("rankwise|")) continue;
            Map<String, String> p = parse(e.getKey());
            int th = Integer.parseInt(p.get("threads"));
            String cs = p.get("method") + " step " + shape;
            double step = e.getValue() / 1e6, dense = t.get("dense" + e.getKey().substring("rankwise".length())) / 1e6;
            rows.add(new Row(cs, th, step, dense, "dense forward GEMM (Rankwise)", dense / step, "ms"));
            Double torch = BenchMain.torch("lowrank-" + p.get("method"), th, o.quick());
            if (torch != null) rows.add(new Row(cs, th, step, torch, "PyTorch eager (CPU)", torch / step, "ms"));
        }
        return rows;
    }

    /// GB/s of necessary traffic for each op, through the tensor API (new output) and the kernel alone
    /// (preallocated output), against a parallel array copy measured in the same run on the same
    /// threads. Full runs add a size whose arrays (128 MiB each) do not fit the last-level cache.
    static List<Row> elementwise(Options o) throws Exception {
        String[] sizes = o.quick() ? new String[] {"1048576"} : new String[] {"1048576", "33554432"};
        String[] threads = BenchMain.strings(o.threads());
        Map<String, Double> t = BenchMain.jmh(ElementwiseBenchmark.class,
                Map.of("op", ElementwiseBenchmark.OPS, "size", sizes, "threads", threads), o.quick(), "(rankwise|kernel)");
        Map<String, Double> copy = BenchMain.jmh(ElementwiseBenchmark.class,
                Map.of("op", new String[] {ElementwiseBenchmark.OPS[0]}, "size", sizes, "threads", threads), o.quick(), "copy");
        List<Row> rows = new ArrayList<>();
        for (String method : new String[] {"rankwise", "kernel"}) {
            for (var e : t.entrySet()) {
                if (!e.getKey().startsWith(method + "|")) continue;
                Map<String, String> p = parse(e.getKey());
                int size = Integer.parseInt(p.get("size")), th = Integer.parseInt(p.get("threads"));
                double mine = ElementwiseBenchmark.bytes(p.get("op"), size) / e.getValue();
                String copyKey = BenchMain.key("copy", Map.of("op", ElementwiseBenchmark.OPS[0], "size", p.get("size"), "threads", p.get("threads")));
                double peer = ElementwiseBenchmark.copyBytes(size) / copy.get(copyKey);
                String how = method.equals("rankwise") ? "tensor API" : "kernel";
                rows.add(new Row(p.get("op") + " F32 " + size + " " + how, th, mine, peer, "array copy", mine / peer, "GB/s"));
            }
        }
        return rows;
    }

    /// Nanoseconds per op of a chain of tiny-tensor ops, recorded (and back-propagated), against
    /// PyTorch's eager CPU autograd timing the same chain; the ratio is PyTorch's time over ours.
    static List<Row> autograd(Options o) throws Exception {
        Map<String, Double> t = BenchMain.jmh(AutogradBenchmark.class, Map.of("mode", new String[] {"forward", "forward+backward"}),
                o.quick(), "rankwise");
        boolean torch = TorchPeer.ensureInstalled();
        List<Row> rows = new ArrayList<>();
        for (var e : t.entrySet()) {
            Map<String, String> p = parse(e.getKey());
            double perOp = e.getValue() / AutogradBenchmark.OPS;
            Double peer = torch ? BenchMain.torch("autograd-" + p.get("mode"), 1, o.quick()) : null;
            rows.add(new Row("tiny-tensor op, " + p.get("mode"), 1, perOp, peer == null ? Double.NaN : peer,
                    peer == null ? "PyTorch (not installed)" : "PyTorch eager (CPU)", peer == null ? Double.NaN : peer / perOp, "ns/op"));
        }
        return rows;
    }

    /// "method|k=v|…" → {k: v}.
    static Map<String, String> parse(String key) {
        Map<String, String> m = new java.util.TreeMap<>();
        String[] parts = key.split("\\|");
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            m.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
        }
        return m;
    }
}
