package dev.rankwise.bench;

import dev.rankwise.cpu.Parallel;
import dev.rankwise.cpu.gemm.Gemm;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.ejml.data.DMatrixRMaj;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.CommonOps_FDRM;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.Random;

/// C = op(A)·op(B) for row-major op(A) [m, k], op(B) [k, n], in F32 and F64: Rankwise's GEMM, OpenBLAS
/// (cblas on off-heap buffers, so no copies are timed) and EJML, with the same thread count for Rankwise
/// and OpenBLAS (EJML's row-major mult is single-threaded). A shape "m x k x n:TN" stores A as [k, m]
/// (op(A) = Aᵀ); ":NT" stores B as [n, k]; plain "m x k x n" is A·B.
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBenchmark {
    /// "m x k x n", optionally ":TN", ":NT" or ":TT".
    @Param({"256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048", "4096x1024x1024", "4096x1024x16", "16x1024x4096"})
    public String shape;

    @Param({"F32", "F64"})
    public String dtype;

    @Param({"1", "2"})
    public int threads;

    int m, k, n, lda, ldb;
    boolean ta, tb;
    float[] af, bf, cf;
    double[] ad, bd, cd;
    FloatPointer pa, pb, pc;
    DoublePointer qa, qb, qc;
    FMatrixRMaj ea, eb, ec;
    DMatrixRMaj da, db, dc;

    @Setup(Level.Trial)
    public void setup() {
        String[] p = shape.split(":")[0].split("x");
        m = Integer.parseInt(p[0]);
        k = Integer.parseInt(p[1]);
        n = Integer.parseInt(p[2]);
        String ops = shape.contains(":") ? shape.substring(shape.indexOf(':') + 1) : "NN";
        ta = ops.charAt(0) == 'T';
        tb = ops.charAt(1) == 'T';
        lda = ta ? m : k;
        ldb = tb ? k : n;
        Parallel.setThreads(threads);
        openblas_nolapack.blas_set_num_threads(threads);
        Random r = new Random(1);
        if (dtype.equals("F32")) {
            af = fill(r, m * k);
            bf = fill(r, k * n);
            cf = new float[m * n];
            pa = new FloatPointer(af);
            pb = new FloatPointer(bf);
            pc = new FloatPointer(cf);
            ea = ta ? new FMatrixRMaj(k, m, true, af) : new FMatrixRMaj(m, k, true, af);
            eb = tb ? new FMatrixRMaj(n, k, true, bf) : new FMatrixRMaj(k, n, true, bf);
            ec = new FMatrixRMaj(m, n);
        } else {
            ad = new double[m * k];
            bd = new double[k * n];
            for (int i = 0; i < ad.length; i++) ad[i] = r.nextGaussian();
            for (int i = 0; i < bd.length; i++) bd[i] = r.nextGaussian();
            cd = new double[m * n];
            qa = new DoublePointer(ad);
            qb = new DoublePointer(bd);
            qc = new DoublePointer(cd);
            da = ta ? new DMatrixRMaj(k, m, true, ad) : new DMatrixRMaj(m, k, true, ad);
            db = tb ? new DMatrixRMaj(n, k, true, bd) : new DMatrixRMaj(k, n, true, bd);
            dc = new DMatrixRMaj(m, n);
        }
    }

    private static float[] fill(Random r, int len) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (var ptr : new org.bytedeco.javacpp.Pointer[] {pa, pb, pc, qa, qb, qc}) if (ptr != null) ptr.close();
    }

    @Benchmark
    public Object rankwise() {
        if (af != null) Gemm.sgemm(ta, tb, m, n, k, 1f, af, 0, lda, bf, 0, ldb, 0f, cf, 0, n);
        else Gemm.dgemm(ta, tb, m, n, k, 1.0, ad, 0, lda, bd, 0, ldb, 0.0, cd, 0, n);
        return af != null ? cf : cd;
    }

    @Benchmark
    public Object openblas() {
        int opA = ta ? openblas.CblasTrans : openblas.CblasNoTrans, opB = tb ? openblas.CblasTrans : openblas.CblasNoTrans;
        if (af != null) {
            openblas.cblas_sgemm(openblas.CblasRowMajor, opA, opB, m, n, k, 1f, pa, lda, pb, ldb, 0f, pc, n);
            return pc;
        }
        openblas.cblas_dgemm(openblas.CblasRowMajor, opA, opB, m, n, k, 1.0, qa, lda, qb, ldb, 0.0, qc, n);
        return qc;
    }

    @Benchmark
    public Object ejml() {
        if (af != null) {
            if (ta && tb) CommonOps_FDRM.multTransAB(ea, eb, ec);
            else if (ta) CommonOps_FDRM.multTransA(ea, eb, ec);
            else if (tb) CommonOps_FDRM.multTransB(ea, eb, ec);
            else CommonOps_FDRM.mult(ea, eb, ec);
            return ec;
        }
        if (ta && tb) CommonOps_DDRM.multTransAB(da, db, dc);
        else if (ta) CommonOps_DDRM.multTransA(da, db, dc);
        else if (tb) CommonOps_DDRM.multTransB(da, db, dc);
        else CommonOps_DDRM.mult(da, db, dc);
        return dc;
    }

    /// Floating-point operations of one call, for GFLOP/s.
    static double flops(String shape) {
        String[] p = shape.split(":")[0].split("x");
        return 2.0 * Double.parseDouble(p[0]) * Double.parseDouble(p[1]) * Double.parseDouble(p[2]);
    }
}
