package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/// Applies a [RotationLog] to vectors stored as the columns of a column-major F64 matrix (vector j is
/// `x[j·ld .. j·ld + len)`). The component range is cut into slices small enough that every vector's
/// slice stays in cache while the whole log is applied to it; slices are independent, so they also
/// run in parallel. Hand-written; `RotationsF32` is generated from this file.
final class RotationsF64 {
    private RotationsF64() {}

    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    /// Slice width in elements (a multiple of every vector length).
    private static final int SLICE = 64;

    static void apply(RotationLog log, double[] x, int ld, int len) {
        int slices = (len + SLICE - 1) / SLICE;
        Parallel.forRange(slices, 1, (s0, s1) -> {
            for (int sl = s0; sl < s1; sl++) {
                int c0 = sl * SLICE, w = Math.min(SLICE, len - c0);
                applySlice(log, x, ld, c0, w);
            }
        });
    }

    private static void applySlice(RotationLog log, double[] x, int ld, int c0, int w) {
        int lanes = S.length();
        int full = w / lanes * lanes;
        int[] idx = log.index;
        /*keep*/double[] cs = log.c, sn = log.s;
        for (int r = 0; r < log.size; r++) {
            int p = idx[r] * ld + c0, q = p + ld;
            double c = (double) cs[r], s = (double) sn[r];
            DoubleVector cv = DoubleVector.broadcast(S, c), sv = DoubleVector.broadcast(S, s);
            int i = 0;
            for (; i < full; i += lanes) {
                DoubleVector xp = DoubleVector.fromArray(S, x, p + i), xq = DoubleVector.fromArray(S, x, q + i);
                xp.mul(cv).add(xq.mul(sv)).intoArray(x, p + i);
                xq.mul(cv).sub(xp.mul(sv)).intoArray(x, q + i);
            }
            for (; i < w; i++) {
                double xp = x[p + i], xq = x[q + i];
                x[p + i] = c * xp + s * xq;
                x[q + i] = c * xq - s * xp;
            }
        }
    }
}
