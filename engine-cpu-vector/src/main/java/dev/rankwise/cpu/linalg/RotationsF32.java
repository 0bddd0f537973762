package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/// Applies a [RotationLog] to vectors stored as the columns of a column-major F32 matrix (vector j is
/// `x[j·ld .. j·ld + len)`). The component range is cut into slices small enough that every vector's
/// slice stays in cache while the whole log is applied to it; slices are independent, so they also
/// run in parallel. GENERATED from `RotationsF64.java` by `GenerateF32Linalg` (tests); do not edit.
final class RotationsF32 {
    private RotationsF32() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /// Slice width in elements (a multiple of every vector length).
    private static final int SLICE = 64;

    static void apply(RotationLog log, float[] x, int ld, int len) {
        int slices = (len + SLICE - 1) / SLICE;
        Parallel.forRange(slices, 1, (s0, s1) -> {
            for (int sl = s0; sl < s1; sl++) {
                int c0 = sl * SLICE, w = Math.min(SLICE, len - c0);
                applySlice(log, x, ld, c0, w);
            }
        });
    }

    private static void applySlice(RotationLog log, float[] x, int ld, int c0, int w) {
        int lanes = S.length();
        int full = w / lanes * lanes;
        int[] idx = log.index;
        /*keep*/double[] cs = log.c, sn = log.s;
        for (int r = 0; r < log.size; r++) {
            int p = idx[r] * ld + c0, q = p + ld;
            float c = (float) cs[r], s = (float) sn[r];
            FloatVector cv = FloatVector.broadcast(S, c), sv = FloatVector.broadcast(S, s);
            int i = 0;
            for (; i < full; i += lanes) {
                FloatVector xp = FloatVector.fromArray(S, x, p + i), xq = FloatVector.fromArray(S, x, q + i);
                xp.mul(cv).add(xq.mul(sv)).intoArray(x, p + i);
                xq.mul(cv).sub(xp.mul(sv)).intoArray(x, q + i);
            }
            for (; i < w; i++) {
                float xp = x[p + i], xq = x[q + i];
                x[p + i] = c * xp + s * xq;
                x[q + i] = c * xq - s * xp;
            }
        }
    }
}
