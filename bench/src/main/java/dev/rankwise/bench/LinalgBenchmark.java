package dev.rankwise.bench;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.bench.BenchMain.Options;
import dev.rankwise.bench.BenchMain.Row;
import dev.rankwise.cpu.Parallel;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.random.Generator;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_FDRM;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/// Dense decompositions of an F32 matrix through `Linalg` (what a user calls: validation, copies and
/// the returned tensors included) against LAPACK from OpenBLAS (LAPACKE on off-heap buffers, the
/// input copied back before each call since LAPACK overwrites it) and EJML's F32 decompositions:
///
/// - `svd`: thin U, S, Vh; LAPACK `sgesdd` (divide and conquer, jobz 'S').
/// - `eigh`: values and vectors of a symmetric matrix; LAPACK `ssyevd`.
/// - `qr`: reduced explicit Q and R; LAPACK `sgeqrf` + `sorgqr` (the same result), and `sgeqrf`
///   alone (R and Q in reflector form only, half the work) as a second row.
/// - `svdLowRank`: randomized rank-16 SVD with 2 power iterations of a 4096×4096 matrix with a
///   decaying spectrum, against `torch.svd_lowrank` (same q, niter) run by `torch_peer.py` on the
///   same matrix (passed as a raw F32 file), with both errors ‖A − UΣVᵀ‖_F/‖A‖_F in the table.
///
/// Rankwise and OpenBLAS run with the same thread count; EJML is single-threaded and runs once per
/// case. Large cases use few iterations (each iteration is at least one decomposition). A subset runs
/// with `RANKWISE_JAVA_OPTS="-Drankwise.bench.ops=svd,eigh -Drankwise.bench.shapes=1024x1024"`.
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
public class LinalgBenchmark {
    @Param({"svd"})
    public String op;

    /// "m x n".
    @Param({"512x512"})
    public String shape;

    @Param({"1"})
    public int threads;

    int m, n;
    float[] host;
    Tensor a;
    FloatPointer pa, ps, pu, pvt, ptau;
    FMatrixRMaj ea, ework;

    static final int LOW_RANK_Q = 16, LOW_RANK_NITER = 2;

    @Setup(Level.Trial)
    public void setup() {
        String[] p = shape.split("x");
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        Parallel.setThreads(threads);
        openblas_nolapack.blas_set_num_threads(threads);
        host = op.startsWith("svdLowRank") ? lowRankInput(m, n) : input(op, m, n);
        a = Tensor.fromArray(host, m, n);
        int k = Math.min(m, n);
        pa = new FloatPointer(host);
        ps = new FloatPointer((long) Math.max(m, n));
        pu = new FloatPointer((long) m * k);
        pvt = new FloatPointer((long) k * n);
        ptau = new FloatPointer((long) k);
        ea = new FMatrixRMaj(m, n, true, host);
        ework = new FMatrixRMaj(m, n);
    }

    /// Gaussian, or for eigh its symmetric part.
    static float[] input(String op, int m, int n) {
        Random r = new Random(1);
        float[] x = new float[m * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        if (op.equals("eigh")) {
            for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) x[j * n + i] = x[i * n + j];
        }
        return x;
    }

    /// A = X·diag(0.9^i)·Y + 10⁻³·G with X [m, 256], Y [256, n], G [m, n] Gaussian (scaled to unit
    /// column norms): a spectrum that decays geometrically to a noise floor, so a rank-16 approximation
    /// is meaningful and its error differs between methods.
    static float[] lowRankInput(int m, int n) {
        int r = 256;
        Generator g = new Generator(11);
        Tensor x = Tensor.randn(g, DType.F32, m, r).div(Math.sqrt(m));
        Tensor y = Tensor.randn(g, DType.F32, r, n).div(Math.sqrt(n));
        double[] d = new double[r];
        for (int i = 0; i < r; i++) d[i] = Math.pow(0.9, i);
        Tensor a = x.mul(Tensor.fromArray(d, r).to(DType.F32)).matmul(y).add(Tensor.randn(g, DType.F32, m, n).mul(1e-3 / Math.sqrt(m)));
        return a.toFloatArray();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (var ptr : new org.bytedeco.javacpp.Pointer[] {pa, ps, pu, pvt, ptau}) if (ptr != null) ptr.close();
    }

    @Benchmark
    public Object rankwise() {
        return switch (op) {
            case "svd" -> Linalg.svd(a);
            case "eigh" -> Linalg.eigh(a);
            case "qr" -> Linalg.qr(a, false);
            case "svdLowRank" -> Linalg.svdLowRank(a, LOW_RANK_Q, LOW_RANK_NITER, new Generator(7));
            case "svdLowRank+10" -> Linalg.svdLowRank(a, LOW_RANK_Q, LOW_RANK_NITER, 10, new Generator(7));
            default -> throw new IllegalArgumentException(op);
        };
    }

    @Benchmark
    public Object openblas() {
        pa.put(host);
        int k = Math.min(m, n), info;
        // Column-major on the row-major buffer is Aᵀ: its SVD is A's with U and V swapped, at the same
        // cost, and saves LAPACKE a transposed copy. The symmetric matrix is its own transpose.
        switch (op) {
            case "svd" -> info = openblas.LAPACKE_sgesdd(openblas.LAPACK_COL_MAJOR, (byte) 'S', n, m, pa, n, ps, pvt, n, pu, k);
            case "eigh" -> info = openblas.LAPACKE_ssyevd(openblas.LAPACK_COL_MAJOR, (byte) 'V', (byte) 'L', n, pa, n, ps);
            case "qr" -> {
                info = openblas.LAPACKE_sgeqrf(openblas.LAPACK_ROW_MAJOR, m, n, pa, n, ptau);
                if (info == 0) info = openblas.LAPACKE_sorgqr(openblas.LAPACK_ROW_MAJOR, m, k, k, pa, n, ptau);
            }
            default -> throw new IllegalArgumentException(op);
        }
        if (info != 0) throw new IllegalStateException("LAPACK " + op + " info " + info);
        return pa;
    }

    @Benchmark
    public Object openblasGeqrf() {
        pa.put(host);
        int info = openblas.LAPACKE_sgeqrf(openblas.LAPACK_ROW_MAJOR, m, n, pa, n, ptau);
        if (info != 0) throw new IllegalStateException("sgeqrf info " + info);
        return pa;
    }

    @Benchmark
    public Object ejml() {
        ework.setTo(ea);
        boolean ok = switch (op) {
            case "svd" -> DecompositionFactory_FDRM.svd(m, n, true, true, true).decompose(ework);
            case "eigh" -> DecompositionFactory_FDRM.eig(n, true, true).decompose(ework);
            case "qr" -> {
                var qr = DecompositionFactory_FDRM.qr(m, n);
                boolean r = qr.decompose(ework);
                qr.getQ(null, true);
                qr.getR(null, true);
                yield r;
            }
            default -> throw new IllegalArgumentException(op);
        };
        if (!ok) throw new IllegalStateException("EJML " + op + " failed");
        return ework;
    }

    // ---------------------------------------------------------------- the suite

    static final String[] SMOKE = {"32x32", "48x32"};
    static final String[] QUICK = {"256x256", "512x512"};
    static final String[] FULL = {"256x256", "512x512", "1024x1024", "2048x2048", "4096x1024"};

    static List<Row> suite(Options o) throws Exception {
        List<Row> rows = new ArrayList<>();
        String[] shapes = System.getProperty("rankwise.bench.shapes", String.join(",", o.smoke() ? SMOKE : o.quick() ? QUICK : FULL)).split(",");
        List<String> ops = List.of(System.getProperty("rankwise.bench.ops", "svd,eigh,qr,svdLowRank").split(","));
        for (String op : new String[] {"svd", "eigh", "qr"}) {
            if (!ops.contains(op)) continue;
            for (String shape : shapes) {
                String[] mn = shape.split("x");
                if (op.equals("eigh") && !mn[0].equals(mn[1])) continue;
                boolean big = Integer.parseInt(mn[0]) * (long) Integer.parseInt(mn[1]) >= 1024L * 1024;
                Map<String, Double> ejml = run(op, shape, 1, "ejml", o, big);
                for (int th : o.threads()) {
                    Map<String, Double> t = run(op, shape, th, op.equals("qr") ? "(rankwise|openblas|openblasGeqrf)" : "(rankwise|openblas)", o, big);
                    double mine = t.get("rankwise") / 1e6;
                    String cs = op + " F32 " + shape;
                    String lapack = switch (op) {
                        case "svd" -> "OpenBLAS LAPACK sgesdd";
                        case "eigh" -> "OpenBLAS LAPACK ssyevd";
                        default -> "OpenBLAS sgeqrf+sorgqr";
                    };
                    double ob = t.get("openblas") / 1e6;
                    rows.add(new Row(cs, th, mine, ob, lapack, ob / mine, "ms"));
                    if (op.equals("qr")) {
                        double geqrf = t.get("openblasGeqrf") / 1e6;
                        rows.add(new Row(cs, th, mine, geqrf, "OpenBLAS sgeqrf (R only)", geqrf / mine, "ms"));
                    }
                    double ej = ejml.get("ejml") / 1e6;
                    rows.add(new Row(cs, th, mine, ej, "EJML (1 thread)", ej / mine, "ms"));
                }
            }
        }
        if (ops.contains("svdLowRank")) rows.addAll(lowRank(o));
        return rows;
    }

    /// Randomized SVD against torch.svd_lowrank on the same matrix, as torch runs it (no oversampling)
    /// and with 10 extra sketch columns; the error rows compare ‖A − UΣVᵀ‖_F/‖A‖_F averaged over
    /// [#ERROR_SKETCHES] seeds on each side (lower is better, so the ratio is torch's error over ours).
    /// Sketches averaged for the error rows, on both sides: one sketch's error varies by a few percent
    /// with its seed, as much as any difference between two implementations of the same algorithm.
    static final int ERROR_SKETCHES = 10;

    static List<Row> lowRank(Options o) throws Exception {
        List<Row> rows = new ArrayList<>();
        int size = o.smoke() ? 64 : o.quick() ? 1024 : 4096;
        String shape = size + "x" + size, base = "svdLowRank q=16 niter=2 F32 " + shape;
        float[] host = lowRankInput(size, size);
        Path file = Files.createTempFile("rankwise-lowrank", ".f32");
        try {
            writeRaw(file, host);
            Tensor a = Tensor.fromArray(host, size, size);
            boolean torchRuns = !o.smoke() && TorchPeer.ensureInstalled(); // no Python in the smoke run
            Double torchErr = torchRuns ? BenchMain.torch("svd_lowrank-error", 1, o.quick(), file.toString()) : null;
            Map<Integer, Double> torchTime = new LinkedHashMap<>();
            for (int th : o.threads()) torchTime.put(th, torchRuns ? BenchMain.torch("svd_lowrank", th, o.quick(), file.toString()) : null);
            for (int p : new int[] {0, 10}) {
                String op = p == 0 ? "svdLowRank" : "svdLowRank+10", cs = base + (p == 0 ? "" : " p=10");
                for (int th : o.threads()) {
                    double mine = run(op, shape, th, "rankwise", o, true).get("rankwise") / 1e6;
                    Double torch = torchTime.get(th);
                    rows.add(new Row(cs, th, mine, torch == null ? Double.NaN : torch,
                            torch == null ? "PyTorch (not installed)" : "torch.svd_lowrank (CPU)", torch == null ? Double.NaN : torch / mine, "ms"));
                }
                double myErr = 0;
                for (int seed = 0; seed < ERROR_SKETCHES; seed++) {
                    myErr += relError(a, Linalg.svdLowRank(a, LOW_RANK_Q, LOW_RANK_NITER, p, new Generator(seed))) / ERROR_SKETCHES;
                }
                rows.add(new Row(cs + " error (mean of " + ERROR_SKETCHES + " sketches)", 1, myErr, torchErr == null ? Double.NaN : torchErr,
                        torchErr == null ? "PyTorch (not installed)" : "torch.svd_lowrank (CPU)", torchErr == null ? Double.NaN : torchErr / myErr, "rel. error"));
            }
        } finally {
            Files.deleteIfExists(file);
        }
        return rows;
    }

    static double relError(Tensor a, Linalg.Svd s) {
        Tensor a64 = a.to(DType.F64);
        Tensor approx = s.u().to(DType.F64).mul(s.s().to(DType.F64)).matmul(s.vh().to(DType.F64));
        return a64.sub(approx).norm().item() / a64.norm().item();
    }

    private static void writeRaw(Path file, float[] x) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(x);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(buf);
        }
    }

    /// One JMH run of the given methods for one case: ns/op by method name.
    static Map<String, Double> run(String op, String shape, int threads, String methods, Options o, boolean big) throws Exception {
        boolean quick = o.quick();
        var b = new OptionsBuilder()
                .include(LinalgBenchmark.class.getName() + "\\." + methods + "$")
                .mode(Mode.AverageTime).timeUnit(TimeUnit.NANOSECONDS).forks(1)
                .param("op", op).param("shape", shape).param("threads", Integer.toString(threads))
                .shouldFailOnError(true);
        if (o.smoke()) {
            // Once, in this JVM: does it still run?
            b.forks(0).warmupIterations(0).measurementIterations(1).measurementTime(TimeValue.milliseconds(20));
        } else if (big) {
            // Each measured iteration is one call, three of them. Warm-up runs calls for 3×3 s: C2
            // needs tens of calls to finish compiling the decompositions' many loops (with four
            // warm-up calls a 1024×1024 eigh still ran 1.4× its steady time, and a 2048×2048 one was
            // still speeding up after 3×1.5 s), while LAPACK needs none. EJML, 10–30× slower here,
            // gets one call of each.
            boolean ejml = methods.equals("ejml");
            b.warmupIterations(ejml ? 1 : 3).warmupTime(TimeValue.milliseconds(ejml ? 1 : 3000))
                    .measurementIterations(ejml ? 1 : 3).measurementTime(TimeValue.milliseconds(1));
        } else {
            // Two forks: what C2 makes of the decompositions' loops differs from JVM to JVM (a 256×256
            // eigh ran 5.5 ms in one fork and 9.8 ms in another), and the score is the mean of both.
            b.warmupIterations(quick ? 2 : 5).warmupTime(TimeValue.milliseconds(quick ? 300 : 1000))
                    .measurementIterations(quick ? 3 : 5).measurementTime(TimeValue.milliseconds(quick ? 300 : 1000));
            if (!quick && !methods.equals("ejml")) b.forks(2);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (RunResult r : new Runner(b.build()).run()) {
            String bench = r.getParams().getBenchmark();
            out.put(bench.substring(bench.lastIndexOf('.') + 1), r.getPrimaryResult().getScore());
        }
        return out;
    }
}
