package dev.rankwise.cpu.linalg;

/// Scalar helpers shared by the F32 and F64 decompositions (always in double).
final class Scalars {
    private Scalars() {}

    private static final double TINY = 0x1p-500, HUGE = 0x1p500;

    /// √(x² + y²) without spurious overflow or underflow; the plain formula when it is safe (the
    /// usual case: Math.hypot is an order of magnitude slower).
    static double hypot(double x, double y) {
        double ax = Math.abs(x), ay = Math.abs(y);
        double big = Math.max(ax, ay);
        if (big < HUGE && big > TINY) return Math.sqrt(ax * ax + ay * ay);
        return Math.hypot(x, y);
    }

    /// A plane rotation with `c·f + s·g = r` and `−s·f + c·g = 0`: returns {c, s, r} (LAPACK's dlartg,
    /// r carrying the sign of f).
    static void rotation(double f, double g, double[] out) {
        if (g == 0) {
            out[0] = 1;
            out[1] = 0;
            out[2] = f;
        } else if (f == 0) {
            out[0] = 0;
            out[1] = Math.signum(g);
            out[2] = Math.abs(g);
        } else {
            double r = Math.copySign(hypot(f, g), f);
            out[0] = f / r;
            out[1] = g / r;
            out[2] = r;
        }
    }

    /// The exponent e such that scaling a matrix whose largest magnitude is `amax` by 2^e brings it
    /// into [0.5, 1); 0 for a zero matrix. Powers of two scale exactly.
    static int scaleExponent(double amax) {
        if (amax == 0 || !Double.isFinite(amax)) return 0;
        return -Math.getExponent(amax) - 1;
    }

    /// Capacity of a rotation log for n vectors: each flush copies the vectors through a buffer once,
    /// so a batch of 64·n rotations makes that copy a few percent of the rotations' work.
    static int logCapacity(int n) {
        return Math.max(4096, Math.min(1 << 20, 64 * n));
    }

    /// Indices that sort x by descending magnitude (stable).
    static int[] descendingAbs(double[] x) {
        return order(x, true);
    }

    /// Indices that sort x ascending (stable).
    static int[] ascending(double[] x) {
        return order(x, false);
    }

    private static int[] order(double[] x, boolean descAbs) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < x.length; i++) idx[i] = i;
        if (descAbs) java.util.Arrays.sort(idx, (p, q) -> Double.compare(Math.abs(x[q]), Math.abs(x[p])));
        else java.util.Arrays.sort(idx, (p, q) -> Double.compare(x[p], x[q]));
        int[] out = new int[x.length];
        for (int i = 0; i < x.length; i++) out[i] = idx[i];
        return out;
    }
}
