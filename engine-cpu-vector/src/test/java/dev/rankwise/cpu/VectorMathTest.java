package dev.rankwise.cpu;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.ops.UnaryOp;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/// The lane-wise exp and the activations built on it against `StrictMath` (fdlibm, within 1 ulp of
/// the true value), in ulps of the result's own type. Inputs: uniform over the useful range plus
/// log-uniform magnitudes from 1e-30 up, which probe the small-argument paths.
class VectorMathTest {
    private static final int N = 40_000;

    /// Inputs in [lo, hi]: half uniform, half ±10^u with u uniform, clamped into the range.
    private static double[] inputs(long seed, double lo, double hi) {
        Random r = new Random(seed);
        double[] x = new double[N];
        for (int i = 0; i < N; i++) {
            double v = i % 2 == 0 ? lo + (hi - lo) * r.nextDouble() : Math.pow(10, -30 + 33 * r.nextDouble()) * (r.nextBoolean() ? 1 : -1);
            x[i] = Math.max(lo, Math.min(hi, v));
        }
        return x;
    }

    /// Largest error in ulps of F64 results; results below the normal range are skipped (there the
    /// last bits of a subnormal are noise in any implementation).
    private static double maxUlpsF64(double[] x, double[] got, DoubleUnaryOperator ref) {
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double e = ref.applyAsDouble(x[i]);
            if (!Double.isFinite(e)) {
                assertEquals(e, got[i], "at " + x[i]);
                continue;
            }
            if (Math.abs(e) < Double.MIN_NORMAL) continue;
            worst = Math.max(worst, Math.abs(got[i] - e) / Math.ulp(e));
        }
        return worst;
    }

    /// Largest error in ulps of F32 results against the F64 reference of the same (F32) input.
    private static double maxUlpsF32(float[] x, float[] got, DoubleUnaryOperator ref) {
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double e = ref.applyAsDouble(x[i]);
            float ef = (float) e;
            if (!Float.isFinite(ef)) {
                assertEquals(ef, got[i], "at " + x[i]);
                continue;
            }
            if (Math.abs(ef) < Float.MIN_NORMAL) continue;
            worst = Math.max(worst, Math.abs(got[i] - e) / Math.ulp(ef));
        }
        return worst;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    @Test
    void expIsWithinOneUlp() {
        double[] x = inputs(1, -745, 709.7);
        double[] y = new double[N];
        VectorMath.exp(x, 0, y, 0, N);
        assertTrue(maxUlpsF64(x, y, StrictMath::exp) <= 1.0);
        float[] xf = toFloat(inputs(2, -103, 88.7));
        float[] yf = new float[N];
        VectorMath.exp(xf, 0, yf, 0, N);
        assertTrue(maxUlpsF32(xf, yf, StrictMath::exp) <= 1.0);
    }

    /// exp takes a short path (one 2ᵏ) for a vector whose lanes all lie where 2ᵏ is a normal number,
    /// and the clamped two-half path when any lane does not. Both must give the same bits: each vector
    /// of in-range inputs is computed once alone and once with its lane 0 pushed out of range.
    @Test
    void expShortAndWidePathsGiveTheSameBits() {
        Random rnd = new Random(7);
        int ld = DoubleVector.SPECIES_PREFERRED.length(), lf = FloatVector.SPECIES_PREFERRED.length();
        double[] xd = new double[N], xdWide = new double[N], yd = new double[N], ydWide = new double[N];
        float[] xf = new float[N], xfWide = new float[N], yf = new float[N], yfWide = new float[N];
        for (int i = 0; i < N; i++) {
            xd[i] = i % 97 == 0 ? (i % 2 == 0 ? 708.0 : -708.0) : (2 * rnd.nextDouble() - 1) * 708;
            xf[i] = i % 97 == 0 ? (i % 2 == 0 ? 87f : -87f) : (float) ((2 * rnd.nextDouble() - 1) * 87);
        }
        System.arraycopy(xd, 0, xdWide, 0, N);
        System.arraycopy(xf, 0, xfWide, 0, N);
        for (int i = 0; i < N; i += ld) xdWide[i] = 800;
        for (int i = 0; i < N; i += lf) xfWide[i] = 100f;
        VectorMath.exp(xd, 0, yd, 0, N);
        VectorMath.exp(xdWide, 0, ydWide, 0, N);
        VectorMath.exp(xf, 0, yf, 0, N);
        VectorMath.exp(xfWide, 0, yfWide, 0, N);
        for (int i = 0; i < N; i++) {
            if (i % ld != 0) assertEquals(Double.doubleToRawLongBits(yd[i]), Double.doubleToRawLongBits(ydWide[i]), "F64 exp(" + xd[i] + ")");
            if (i % lf != 0) assertEquals(Float.floatToRawIntBits(yf[i]), Float.floatToRawIntBits(yfWide[i]), "F32 exp(" + xf[i] + ")");
        }
        assertEquals(Double.POSITIVE_INFINITY, ydWide[0]);
        assertEquals(Float.POSITIVE_INFINITY, yfWide[0]);
    }

    @Test
    void expm1IsAccurateNearZero() {
        double[] x = inputs(3, -60, 0);
        double[] y = new double[N];
        VectorMath.expm1NonPositive(x, 0, y, 0, N);
        assertTrue(maxUlpsF64(x, y, StrictMath::expm1) <= 2.0);
        float[] xf = toFloat(inputs(4, -30, 0));
        float[] yf = new float[N];
        VectorMath.expm1NonPositive(xf, 0, yf, 0, N);
        assertTrue(maxUlpsF32(xf, yf, StrictMath::expm1) <= 2.0);
    }

    @Test
    void expEdgeCases() {
        int l = FloatVector.SPECIES_PREFERRED.length();
        float[] in = new float[l], out = new float[l];
        float[][] cases = {{Float.NaN, Float.NaN}, {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY}, {Float.NEGATIVE_INFINITY, 0},
                {0, 1}, {-0f, 1}, {89f, Float.POSITIVE_INFINITY}, {-104f, 0}, {-103f, (float) Math.exp(-103)}};
        for (float[] c : cases) {
            java.util.Arrays.fill(in, c[0]);
            VectorMath.exp(in, 0, out, 0, l);
            assertEquals(c[1], out[0], "exp(" + c[0] + ")");
        }
    }

    private static double ref(UnaryOp op, double x) {
        double sig = x >= 0 ? 1 / (1 + StrictMath.exp(-x)) : StrictMath.exp(x) / (1 + StrictMath.exp(x));
        return switch (op) {
            case SIGMOID -> sig;
            case SILU -> x * sig;
            case TANH -> StrictMath.tanh(x);
            default -> throw new IllegalArgumentException(op.name());
        };
    }

    /// Through the tensor kernels, F64 and F32: sigmoid within 3 ulps, tanh within 4, SiLU within 4
    /// on [−30, 30] (below, x·sigmoid(x) is under 1e-12 and its error follows exp's argument error).
    /// GELU-tanh is checked against its F64 definition with the error scaled by its condition number
    /// |x·f'(x)/f(x)|, which grows like x³ on the negative side.
    @Test
    void activationsThroughTheKernels() {
        double[] x = inputs(5, -30, 30);
        Tensor t64 = Tensor.fromArray(x, N);
        Tensor t32 = t64.to(DType.F32);
        float[] x32 = t32.toFloatArray();
        for (UnaryOp op : new UnaryOp[] {UnaryOp.SIGMOID, UnaryOp.TANH, UnaryOp.SILU}) {
            double bound = op == UnaryOp.SIGMOID ? 3 : 4;
            Tensor y64 = op == UnaryOp.SIGMOID ? t64.sigmoid() : op == UnaryOp.TANH ? t64.tanh() : t64.silu();
            Tensor y32 = op == UnaryOp.SIGMOID ? t32.sigmoid() : op == UnaryOp.TANH ? t32.tanh() : t32.silu();
            assertTrue(maxUlpsF64(x, y64.toDoubleArray(), v -> ref(op, v)) <= bound, op.name() + " F64");
            assertTrue(maxUlpsF32(x32, y32.toFloatArray(), v -> ref(op, v)) <= bound, op.name() + " F32");
        }
        double[] g64 = t64.gelu().toDoubleArray();
        float[] g32 = t32.gelu().toFloatArray();
        for (int i = 0; i < N; i++) {
            double xi = x[i], e = UnaryOp.GELU_TANH.apply(xi);
            if (Math.abs(e) < 1e-290) continue;
            double cond = 2 + Math.abs(xi) * (1.6 + 0.22 * xi * xi);          // ≥ |x·f'/f| for the sigmoid form
            assertEquals(e, g64[i], 4 * cond * Math.ulp(e), "gelu F64 at " + xi);
            double e32 = UnaryOp.GELU_TANH.apply(x32[i]);
            if (Math.abs(e32) < 1e-35) continue;
            assertEquals(e32, g32[i], 4 * cond * Math.ulp((float) e32), "gelu F32 at " + x32[i]);
        }
    }

    @Test
    void activationEdgeCases() {
        Tensor x = Tensor.fromArray(new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.0}, 5);
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Tensor t = x.to(dt);
            assertArrayEquals(new double[] {Double.NaN, 1, -1, -0.0, 0.0}, t.tanh().toDoubleArray(), dt + " tanh");
            assertArrayEquals(new double[] {Double.NaN, 1, 0, 0.5, 0.5}, t.sigmoid().toDoubleArray(), dt + " sigmoid");
            assertArrayEquals(new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NaN, -0.0, 0.0}, t.silu().toDoubleArray(), dt + " silu");
            assertArrayEquals(new double[] {Double.NaN, Double.POSITIVE_INFINITY, 0, 1, 1}, t.exp().toDoubleArray(), dt + " exp");
            assertArrayEquals(new double[] {Double.NaN, Double.POSITIVE_INFINITY, 0, 0, 0}, t.relu().toDoubleArray(), dt + " relu");
        }
    }
}
