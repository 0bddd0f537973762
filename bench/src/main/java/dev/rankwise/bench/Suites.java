package dev.rankwise.bench;

import dev.rankwise.bench.BenchMain.Options;
import dev.rankwise.bench.BenchMain.Row;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/// How each benchmark is run and how its Rankwise rows pair with the peers.
final class Suites {
    private Suites() {}

    /// Square products (powers of two, and 1000³ and 2000³, whose edge tiles and row strides the powers of
    /// two never exercise) and the shapes of a LoRA layer (N = 4096, d = 1024): x·Wᵀ, x·Aᵀ (n = r) and
    /// h·Bᵀ (k = r), r = 4…64, as "m x k x n"; then the transposed skinny products of its backward
    /// (hᵀ·dy, m = r) and of a randomized SVD (Qᵀ·A, 4096², q = 16), as "m x k x n:TN".
    static final String[] GEMM_FULL = {"256x256x256", "512x512x512", "1000x1000x1000", "1024x1024x1024", "2000x2000x2000",
            "2048x2048x2048", "4096x4096x4096",
            "4096x1024x1024", "4096x1024x4", "4096x1024x16", "4096x1024x64", "4096x4x1024", "4096x16x1024", "4096x64x1024",
            "16x4096x1024:TN", "16x4096x4096:TN", "4096x4096x16"};
    static final String[] GEMM_QUICK = {"256x256x256", "512x512x512", "4096x1024x16", "4096x16x1024"};
    static final String[] GEMM_SMOKE = {"33x20x47", "33x20x47:TN"};
    /// EJML (single-threaded, about 3 GFLOP/s here) only up to this many flops, or a run takes hours.
    static final double EJML_MAX_FLOPS = 4e9;

    /// An OpenBLAS peer with its kernels pinned by OPENBLAS_CORETYPE, and its row label.
    record PinnedOpenBlas(String coreType, String label) {}
    static final List<PinnedOpenBlas> OPENBLAS_PINNED = List.of(
            new PinnedOpenBlas("SkylakeX", "OpenBLAS (SkylakeX kernels)"),
            new PinnedOpenBlas("Haswell", "OpenBLAS (Haswell kernels, AVX2)"));

    static List<Row> gemm(Options o) throws Exception {
        String[] shapes = o.shapes() != null ? o.shapes() : o.smoke() ? GEMM_SMOKE : o.quick() ? GEMM_QUICK : GEMM_FULL;
        String[] threads = BenchMain.strings(o.threads()), dtypes = {"F32", "F64"};
        Map<String, String[]> params = Map.of("shape", shapes, "dtype", dtypes, "threads", threads);
        if (o.openblasOnly()) {
            Map<String, Double> t = BenchMain.jmh(GemmBenchmark.class, params, o, "openblas");
            List<Row> rows = new ArrayList<>();
            t.forEach((k, ns) -> {
                Map<String, String> p = parse(k);
                double gf = GemmBenchmark.flops(p.get("shape")) / ns;
                rows.add(new Row(p.get("dtype") + " " + p.get("shape"), Integer.parseInt(p.get("threads")), 0, gf, "", 0, "GFLOP/s"));
            });
            return rows;
        }
        // OpenBLAS picks its kernels by CPU detection when the library loads; child JVMs pin them with
        // OPENBLAS_CORETYPE. The goals name two: the AVX-512 kernels (SkylakeX) and the AVX2
        // kernels (Haswell) that default detection picked on the CPU where the goals were set. On our
        // Sapphire Rapids VM default detection picks AVX-512, so the Haswell child is what measures
        // "1.5x OpenBLAS default detection" as the issue meant it.
        // Case by case (shape, then threads), Rankwise and every peer of a case run back to back, so
        // that the machine's drift over a long run stays out of the ratios (see BenchMain#jmhEachCase).
        Map<String, Double> t = new java.util.HashMap<>();
        Map<PinnedOpenBlas, Map<String, Double>> pinned = new java.util.LinkedHashMap<>();
        if (!o.smoke()) for (PinnedOpenBlas pin : OPENBLAS_PINNED) pinned.put(pin, new java.util.HashMap<>());
        for (String shape : shapes) {
            for (String th : threads) {
                t.putAll(BenchMain.jmhEachCase(GemmBenchmark.class,
                        Map.of("shape", new String[] {shape}, "dtype", dtypes, "threads", new String[] {th}), o, "(rankwise|openblas)"));
                if (th.equals(threads[0]) && GemmBenchmark.flops(shape) <= EJML_MAX_FLOPS) {
                    t.putAll(BenchMain.jmh(GemmBenchmark.class, Map.of("shape", new String[] {shape}, "dtype", dtypes, "threads", new String[] {"1"}), o, "ejml"));
                }
                List<String> childArgs = new ArrayList<>(List.of("gemm", "--openblas-only", "--threads", th, "--shapes", shape));
                if (o.quick()) childArgs.add("--quick");
                for (var pin : pinned.entrySet()) {
                    try {
                        for (Row r : BenchMain.child(Map.of("OPENBLAS_CORETYPE", pin.getKey().coreType()), childArgs.toArray(new String[0]))) {
                            pin.getValue().put(r.caseName() + "|" + r.threads(), r.peer());
                        }
                    } catch (Exception e) {
                        System.err.println("rankwise bench: the OpenBLAS " + pin.getKey().coreType() + " run for " + shape
                                + " failed (" + e.getMessage() + "); leaving it out");
                    }
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        for (var e : new java.util.TreeMap<>(t).entrySet()) {
            if (!e.getKey().startsWith("rankwise|")) continue;
            Map<String, String> p = parse(e.getKey());
            String shape = p.get("shape"), cs = p.get("dtype") + " " + shape;
            int th = Integer.parseInt(p.get("threads"));
            double flops = GemmBenchmark.flops(shape), mine = flops / e.getValue();
            String suffix = e.getKey().substring("rankwise".length());
            for (var pin : pinned.entrySet()) {
                Double peer = pin.getValue().get(cs + "|" + th);
                if (peer != null) rows.add(new Row(cs, th, mine, peer, pin.getKey().label(), mine / peer, "GFLOP/s"));
            }
            double ob = flops / t.get("openblas" + suffix);
            rows.add(new Row(cs, th, mine, ob, "OpenBLAS (default detection)", mine / ob, "GFLOP/s"));
            Double ej = t.get(BenchMain.key("ejml", Map.of("dtype", p.get("dtype"), "shape", shape, "threads", "1")));
            if (ej != null) rows.add(new Row(cs, th, mine, flops / ej, "EJML (1 thread)", mine / (flops / ej), "GFLOP/s"));
        }
        return rows;
    }

    static List<Row> lowrank(Options o) throws Exception {
        String shape = o.smoke() ? "64x32x4" : o.quick() ? "512x256x16" : "4096x1024x16";
        Map<String, Double> t = BenchMain.jmhEachCase(LowRankBenchmark.class,
                Map.of("shape", new String[] {shape}, "method", new String[] {"lora", "sora"}, "threads", BenchMain.strings(o.threads())),
                o, "(rankwise|dense)");
        List<Row> rows = new ArrayList<>();
        for (var e : new java.util.TreeMap<>(t).entrySet()) {
            if (!e.getKey().startsWith("rankwise|")) continue;
            Map<String, String> p = parse(e.getKey());
            int th = Integer.parseInt(p.get("threads"));
            String cs = p.get("method") + " step " + shape;
            double step = e.getValue() / 1e6, dense = t.get("dense" + e.getKey().substring("rankwise".length())) / 1e6;
            rows.add(new Row(cs, th, step, dense, "dense forward GEMM (Rankwise)", dense / step, "ms"));
            if (o.smoke()) continue;                        // no Python in the smoke run
            Double torch = BenchMain.torch("lowrank-" + p.get("method"), th, o.quick());
            rows.add(new Row(cs, th, step, torch == null ? Double.NaN : torch,
                    torch == null ? "PyTorch (not installed)" : "PyTorch eager (CPU)", torch == null ? Double.NaN : torch / step, "ms"));
        }
        return rows;
    }

    /// GB/s of necessary traffic for each op, through the tensor API (new output) and the kernel alone
    /// (preallocated output), against a parallel array copy measured in the same run on the same
    /// threads. Full runs add a size whose arrays (128 MiB each) do not fit the last-level cache.
    static List<Row> elementwise(Options o) throws Exception {
        // `--shapes` picks the sizes (element counts), `-Drankwise.bench.ops=sum,sum_cols` the ops.
        String[] sizes = o.shapes() != null ? o.shapes()
                : o.smoke() ? new String[] {"4096"} : o.quick() ? new String[] {"1048576"} : new String[] {"1048576", "33554432"};
        String[] ops = System.getProperty("rankwise.bench.ops", String.join(",", ElementwiseBenchmark.OPS)).split(",");
        String[] threads = BenchMain.strings(o.threads());
        Map<String, Double> t = new java.util.LinkedHashMap<>(), copy = new java.util.HashMap<>();
        for (String size : sizes) {                         // each size and thread count next to its copy peer
            for (String th : threads) {
                t.putAll(BenchMain.jmh(ElementwiseBenchmark.class,
                        Map.of("op", ops, "size", new String[] {size}, "threads", new String[] {th}), o, "(rankwise|kernel)"));
                copy.putAll(BenchMain.jmh(ElementwiseBenchmark.class,
                        Map.of("op", new String[] {ElementwiseBenchmark.OPS[0]}, "size", new String[] {size}, "threads", new String[] {th}), o, "copy"));
            }
        }
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
                o, "rankwise");
        boolean torch = !o.smoke() && TorchPeer.ensureInstalled();       // no Python in the smoke run
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

    static List<Row> linalg(Options o) throws Exception {
        return LinalgBenchmark.suite(o);
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
