package dev.rankwise.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rankwise.io.AtomicWrite;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.annotations.Mode;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/// `rankwise bench NAME [--quick | --smoke] [--threads N] [--shapes LIST] [--json FILE]`: runs one JMH benchmark with
/// its peers in the same run and prints one row per case and peer: Rankwise's figure, the peer's, and
/// the ratio (always "higher is better for Rankwise": a throughput ratio, or peer time / Rankwise time).
///
/// `--quick` runs fewer, smaller cases with short iterations; `--smoke` runs each benchmark method once,
/// in this JVM, on a tiny case, so CI can check that every benchmark still runs (its figures mean
/// nothing and nothing is judged on them). `--shapes` replaces the suite's shapes with a comma-separated
/// list: for gemm `MxKxN`, each optionally followed by `:TN`, `:NT` or `:TT` (op(A), op(B)); for
/// elementwise element counts.
public final class BenchMain {
    /// One line of the table and of the JSON output.
    public record Row(String caseName, int threads, double rankwise, double peer, String peerName, double ratio, String unit) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("case", caseName);
            m.put("threads", threads);
            m.put("rankwise", rankwise);
            m.put("peer", peer);
            m.put("peer_name", peerName);
            m.put("ratio", ratio);
            m.put("unit", unit);
            return m;
        }
    }

    /// `shapes` is null for the suite's own.
    record Options(boolean quick, boolean smoke, int[] threads, Path json, boolean openblasOnly, String[] shapes) {}

    /// The benchmarks by name.
    static final Map<String, Suite> SUITES = new LinkedHashMap<>();

    static {
        SUITES.put("gemm", Suites::gemm);
        SUITES.put("lowrank", Suites::lowrank);
        SUITES.put("elementwise", Suites::elementwise);
        SUITES.put("autograd", Suites::autograd);
        SUITES.put("linalg", Suites::linalg);
        SUITES.put("gpu", GpuSuites::gpu);
        SUITES.put("gpu-lowrank", GpuSuites::lowrank);
    }

    @FunctionalInterface
    interface Suite {
        List<Row> run(Options o) throws Exception;
    }

    private BenchMain() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /// Runs the command line; returns the exit code (2 for usage errors).
    public static int run(String[] args) {
        if (args.length == 0 || args[0].startsWith("-")) {
            System.err.println("usage: rankwise bench NAME [--quick | --smoke] [--threads N] [--shapes MxKxN[:TN],...] [--json FILE]; NAME one of " + SUITES.keySet());
            return 2;
        }
        Suite suite = SUITES.get(args[0]);
        if (suite == null) {
            System.err.println("rankwise bench: unknown benchmark '" + args[0] + "'; available: " + String.join(", ", SUITES.keySet()));
            return 2;
        }
        boolean quick = false, smoke = false, openblasOnly = false;
        int[] threads = {1, 2};
        Path json = null;
        String[] shapes = null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--smoke" -> smoke = quick = true;
                case "--openblas-only" -> openblasOnly = true;
                case "--threads" -> {
                    int t = i + 1 < args.length && args[i + 1].matches("[1-9][0-9]*") ? Integer.parseInt(args[++i]) : 0;
                    if (t == 0) {
                        System.err.println("rankwise bench: --threads needs a positive number");
                        return 2;
                    }
                    threads = new int[] {t};
                }
                case "--shapes" -> {
                    String list = i + 1 < args.length ? args[++i] : "";
                    if (args[0].equals("elementwise")) {
                        if (!list.matches("[1-9][0-9]*(,[1-9][0-9]*)*")) {
                            System.err.println("rankwise bench: --shapes for elementwise needs element counts like 1048576,33554432; got '" + list + "'");
                            return 2;
                        }
                    } else if (!list.matches("[1-9][0-9]*x[1-9][0-9]*x[1-9][0-9]*(:[NT][NT])?(,[1-9][0-9]*x[1-9][0-9]*x[1-9][0-9]*(:[NT][NT])?)*")) {
                        System.err.println("rankwise bench: --shapes needs a list like 4096x1024x16,16x4096x1024:TN (MxKxN, op(A) op(B)); got '" + list + "'");
                        return 2;
                    }
                    shapes = list.split(",");
                }
                case "--json" -> {
                    if (i + 1 >= args.length) {
                        System.err.println("rankwise bench: --json needs a file name");
                        return 2;
                    }
                    json = Path.of(args[++i]);
                }
                default -> {
                    System.err.println("rankwise bench: unknown option " + args[i]);
                    return 2;
                }
            }
        }
        if (shapes != null && !args[0].equals("gemm") && !args[0].equals("elementwise")) {
            System.err.println("rankwise bench: --shapes applies to gemm and elementwise only");
            return 2;
        }
        try {
            if (smoke) threads = new int[] {1};
            List<Row> rows = suite.run(new Options(quick, smoke, threads, json, openblasOnly, shapes));
            if (!openblasOnly) System.out.print(table(rows));
            if (json != null) writeJson(json, rows);
            return 0;
        } catch (Exception e) {
            System.err.println("rankwise bench: " + e);
            return 1;
        }
    }

    static void writeJson(Path file, List<Row> rows) throws Exception {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        List<Map<String, Object>> out = rows.stream().map(Row::json).toList();
        AtomicWrite.write(file, o -> m.writeValue(o, out));
    }

    static List<Row> readJson(Path file) throws Exception {
        List<Row> rows = new ArrayList<>();
        for (var n : new ObjectMapper().readTree(file.toFile())) {
            rows.add(new Row(n.get("case").asText(), n.get("threads").asInt(), n.get("rankwise").asDouble(), n.get("peer").asDouble(),
                    n.get("peer_name").asText(), n.get("ratio").asDouble(), n.get("unit").asText()));
        }
        return rows;
    }

    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder(String.format("%-34s %7s %12s %12s  %-32s %7s  %s%n", "case", "threads", "rankwise", "peer", "peer_name", "ratio", "unit"));
        for (Row r : rows) {
            sb.append(String.format("%-34s %7d %12.4g %12.4g  %-32s %7.3f  %s%n", r.caseName(), r.threads(), r.rankwise(), r.peer(), r.peerName(), r.ratio(), r.unit()));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- JMH plumbing

    /// Runs the benchmark methods of `type` with the given parameter values; returns average ns/op by
    /// "method|param=value|…" (params in name order).
    static Map<String, Double> jmh(Class<?> type, Map<String, String[]> params, Options o, String methodRegex) throws Exception {
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include(type.getName() + "\\." + methodRegex + "$")
                .mode(Mode.AverageTime).timeUnit(TimeUnit.NANOSECONDS)
                .shouldFailOnError(true);
        if (o.smoke()) {                                    // once, in this JVM: does it still run?
            b.forks(0).warmupIterations(0).measurementIterations(1).measurementTime(TimeValue.milliseconds(20));
        } else {
            // Three warm-up iterations even in quick mode: the first calls of a Vector API kernel run
            // interpreted (a 512³ GEMM takes about a second) and one short iteration left the JIT's
            // compilations inside the measured ones.
            b.forks(1)
                    .warmupIterations(3).warmupTime(TimeValue.milliseconds(o.quick() ? 300 : 1000))
                    .measurementIterations(o.quick() ? 2 : 5).measurementTime(TimeValue.milliseconds(o.quick() ? 300 : 1000));
        }
        params.forEach(b::param);
        Collection<RunResult> results = new Runner(b.build()).run();
        Map<String, Double> out = new LinkedHashMap<>();
        for (RunResult r : results) {
            var p = r.getParams();
            String method = p.getBenchmark().substring(p.getBenchmark().lastIndexOf('.') + 1);
            TreeMap<String, String> values = new TreeMap<>();
            for (String k : p.getParamsKeys()) values.put(k, p.getParam(k));
            out.put(key(method, values), r.getPrimaryResult().getScore());
        }
        return out;
    }

    /// [#jmh] once per combination of the parameter values, so that the methods of one case (Rankwise
    /// and its peer) run back to back, seconds apart. In one run over all cases JMH takes every case of
    /// one method before the next method, so the two figures of a ratio were minutes apart, and on a
    /// shared machine whose speed drifts by 15–25% within an hour that drift went into the ratio.
    static Map<String, Double> jmhEachCase(Class<?> type, Map<String, String[]> params, Options o, String methodRegex) throws Exception {
        List<Map<String, String[]>> cases = new ArrayList<>(List.of(new TreeMap<>()));
        for (var p : new TreeMap<>(params).entrySet()) {
            List<Map<String, String[]>> next = new ArrayList<>();
            for (Map<String, String[]> c : cases) {
                for (String v : p.getValue()) {
                    Map<String, String[]> one = new TreeMap<>(c);
                    one.put(p.getKey(), new String[] {v});
                    next.add(one);
                }
            }
            cases = next;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map<String, String[]> c : cases) out.putAll(jmh(type, c, o, methodRegex));
        return out;
    }

    static String key(String method, Map<String, String> params) {
        StringBuilder sb = new StringBuilder(method);
        new TreeMap<>(params).forEach((k, v) -> sb.append('|').append(k).append('=').append(v));
        return sb.toString();
    }

    static String[] strings(int[] xs) {
        String[] s = new String[xs.length];
        for (int i = 0; i < xs.length; i++) s[i] = Integer.toString(xs[i]);
        return s;
    }

    /// This JVM again, as a child process with extra environment (e.g. OpenBLAS' core type, which it
    /// reads only when the library loads), running BenchMain with `args`.
    static List<Row> child(Map<String, String> env, String... args) throws Exception {
        Path out = Files.createTempFile("rankwise-bench", ".json");
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), BenchMain.class.getName()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--json", out.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        int code = pb.start().waitFor();
        try {
            if (code != 0) throw new IllegalStateException("child benchmark " + String.join(" ", args) + " exited with " + code);
            return readJson(out);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /// Runs a PyTorch peer script with Debian's python3 (where `import torch` works); null without torch.
    /// `extra` arguments follow the case's usual three (e.g. a file holding the input).
    static Double torch(String caseName, int threads, boolean quick, String... extra) {
        for (String py : new String[] {"/usr/bin/python3", "python3"}) {
            try {
                Path script = Files.createTempFile("torch_peer", ".py");
                try (var in = BenchMain.class.getResourceAsStream("torch_peer.py")) {
                    Files.write(script, in.readAllBytes());
                }
                List<String> cmd = new ArrayList<>(List.of(py, script.toString(), caseName, Integer.toString(threads), quick ? "quick" : "full"));
                cmd.addAll(List.of(extra));
                Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                int code = p.waitFor();
                Files.deleteIfExists(script);
                if (code == 0 && out.startsWith("{")) return new ObjectMapper().readTree(out).get("value").asDouble();
            } catch (Exception ignored) {
                // that interpreter has no torch; try the next
            }
        }
        return null;
    }

    static boolean exists(String path) {
        return new File(path).exists();
    }
}
