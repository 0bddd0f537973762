package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/// Applies a [RotationLog] to vectors stored as the columns of a column-major F64 matrix (vector j is
/// `x[j·ld .. j·ld + len)`): the vector updates of the bidiagonal and tridiagonal QR iterations, which
/// would otherwise stream every vector through memory once per sweep.
///
/// The log is cut into groups of four consecutive runs of one direction (a run is one QR sweep:
/// rotations on (j, j+1), (j+1, j+2), … or downwards) and each group is applied as a wavefront (Van Zee,
/// van de Geijn & Quintana-Ortí, "Restructuring the tridiagonal and bidiagonal QR algorithms for
/// performance", ACM TOMS 40(3), 2014): at step τ, run s rotates rows τ − 2s and τ − 2s + 1, legal
/// because run s−1 has by then finished every rotation touching those rows. The eight rows in flight
/// live in registers, one vector of lanes at a time: per step one row is loaded, one stored, and four
/// independent rotations keep both FMA pipes busy. Lane blocks (one vector wide) are copied into a
/// contiguous buffer first, so rows are adjacent cache lines, and run in parallel.
/// Hand-written; `RotationsF32` is generated from this file.
final class RotationsF64 {
    private RotationsF64() {}

    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /// Runs per wavefront; the kernel below is written out for exactly four.
    private static final int K = 4;
    /// Whether rotations carry c − 1 instead of c (see [Group]): in the narrow dtype only.
    private static final boolean COMPENSATED = Double.BYTES == 4;

    /// A group's schedule: for steps t = t0 … t0 + steps − 1, run s applies (c′, s, −s) at
    /// cs[(t−t0)·3K + 3s], the identity where it is idle. Rows are `dir·t` in the matrix's own numbering.
    ///
    /// In F32, c′ = c − 1 and the rotation is applied as x + ((c−1)·x + s·y). Rounding c itself to F32
    /// costs up to u in c for every rotation near the identity, and a QR iteration's sweeps repeat
    /// nearly the same angles, so those errors add up instead of averaging out: the vectors lose
    /// orthogonality like n·u (3·10⁻⁵ at n = 1024). c − 1 ≈ −s²/2 keeps c exact to u·s², at the price
    /// of a third operation per output (measured: ‖UᵀU − I‖₂ 3.5·10⁻⁶ at n = 1024, as with the rotations
    /// done in F64). In F64 those errors stay far below 10⁻¹², so c′ = c and the plain form is used.
    private record Group(int dir, int t0, int steps, double[] cs) {}

    static void apply(RotationLog log, double[] x, int ld, int count, int len) {
        if (log.size == 0) return;
        Group[] groups = schedule(log);
        int blocks = (len + L - 1) / L;
        // Blocks in chunks of about 1 MiB: each group's schedule is then read once per chunk, not
        // once per block, while the chunk's rows stay in L2 across all groups.
        int chunk = Math.max(1, Math.min(blocks, (1 << 20) / (count * L * Double.BYTES)));
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            double[] buf = new double[Math.min(chunk, b1 - b0) * count * L];
            for (int cb = b0; cb < b1; cb += chunk) {
                int nb = Math.min(chunk, b1 - cb);
                for (int q = 0; q < nb; q++) {
                    int c0 = (cb + q) * L, w = Math.min(L, len - c0), base = q * count * L;
                    for (int j = 0; j < count; j++) System.arraycopy(x, j * ld + c0, buf, base + j * L, w);
                }
                for (Group g : groups) for (int q = 0; q < nb; q++) wavefront(g, buf, q * count * L, count);
                for (int q = 0; q < nb; q++) {
                    int c0 = (cb + q) * L, w = Math.min(L, len - c0), base = q * count * L;
                    for (int j = 0; j < count; j++) System.arraycopy(buf, base + j * L, x, j * ld + c0, w);
                }
            }
        });
    }

    /// Splits the log into runs and the runs into groups of at most K of one direction whose ranges
    /// overlap well (idle slots cost as much as rotations), then writes out each group's schedule.
    static Group[] schedule(RotationLog log) {
        int[] idx = log.index;
        int size = log.size;
        // Runs as {first entry, end entry, direction}.
        int[][] runs = new int[size][];
        int nr = 0;
        for (int r = 0; r < size; ) {
            int e = r + 1;
            int dir = e < size && idx[e] == idx[r] - 1 ? -1 : 1;
            while (e < size && idx[e] == idx[e - 1] + dir) e++;
            runs[nr++] = new int[] {r, e, dir};
            r = e;
        }
        // A run's position in its direction's coordinate: rotation (j, j+1) touches rows dir·p and dir·(p+1),
        // so p = j going up and p = −j − 1 going down.
        java.util.List<Group> groups = new java.util.ArrayList<>();
        for (int g = 0; g < nr; ) {
            int dir = runs[g][2];
            int lo = position(idx[runs[g][0]], dir), hi = lo + runs[g][1] - runs[g][0];
            long useful = hi - lo;
            int end = g + 1;
            while (end < nr && end - g < K && runs[end][2] == dir) {
                int s = end - g, rlo = position(idx[runs[end][0]], dir) + 2 * s, rhi = rlo + runs[end][1] - runs[end][0];
                int nlo = Math.min(lo, rlo), nhi = Math.max(hi, rhi);
                long u = useful + rhi - rlo;
                if (2 * u < (long) (nhi - nlo) * (s + 1)) break; // would be mostly idle
                lo = nlo;
                hi = nhi;
                useful = u;
                end++;
            }
            int steps = hi - lo;
            double[] cs = new double[steps * 3 * K];
            if (!COMPENSATED) for (int i = 0; i < steps * K; i++) cs[3 * i] = 1;
            for (int s = 0; s < end - g; s++) {
                int[] run = runs[g + s];
                int start = position(idx[run[0]], dir) + 2 * s - lo;
                for (int r = run[0]; r < run[1]; r++) {
                    int at = ((start + r - run[0]) * K + s) * 3;
                    /*keep*/double c = log.c[r], sn = log.s[r];
                    cs[at] = (double) (!COMPENSATED ? c : c > 0 ? -sn * sn / (1 + c) : c - 1);
                    cs[at + 1] = (double) (dir * sn);
                    cs[at + 2] = -cs[at + 1];
                }
            }
            groups.add(new Group(dir, lo, steps, cs));
            g = end;
        }
        return groups.toArray(new Group[0]);
    }

    private static int position(int j, int dir) {
        return dir > 0 ? j : -j - 1;
    }

    /// One group on one lane block (rows of L elements, contiguous). Window slot i holds row
    /// dir·(t − 2K + 2 + i); run s rotates slots (2K−2−2s, 2K−1−2s).
    private static void wavefront(Group g, double[] buf, int base, int count) {
        int dir = g.dir(), t0 = g.t0();
        double[] cs = g.cs();
        DoubleVector w0 = load(buf, base, dir * (t0 - 6), count), w1 = load(buf, base, dir * (t0 - 5), count);
        DoubleVector w2 = load(buf, base, dir * (t0 - 4), count), w3 = load(buf, base, dir * (t0 - 3), count);
        DoubleVector w4 = load(buf, base, dir * (t0 - 2), count), w5 = load(buf, base, dir * (t0 - 1), count);
        DoubleVector w6 = load(buf, base, dir * t0, count), w7 = load(buf, base, dir * (t0 + 1), count);
        for (int step = 0; step < g.steps(); step++) {
            int t = t0 + step, o = step * 3 * K;
            DoubleVector n0, n1, n2, n3, n4, n5, n6, n7;
            DoubleVector c = DoubleVector.broadcast(S, cs[o]), p = DoubleVector.broadcast(S, cs[o + 1]), m = DoubleVector.broadcast(S, cs[o + 2]);
            DoubleVector c1 = DoubleVector.broadcast(S, cs[o + 3]), p1 = DoubleVector.broadcast(S, cs[o + 4]), m1 = DoubleVector.broadcast(S, cs[o + 5]);
            DoubleVector c2 = DoubleVector.broadcast(S, cs[o + 6]), p2 = DoubleVector.broadcast(S, cs[o + 7]), m2 = DoubleVector.broadcast(S, cs[o + 8]);
            DoubleVector c3 = DoubleVector.broadcast(S, cs[o + 9]), p3 = DoubleVector.broadcast(S, cs[o + 10]), m3 = DoubleVector.broadcast(S, cs[o + 11]);
            if (COMPENSATED) {
                // x_lo ← x_lo + ((c−1)·x_lo + s·x_hi), x_hi ← x_hi + ((c−1)·x_hi − s·x_lo).
                n6 = w6.add(w6.fma(c, w7.mul(p)));
                n7 = w7.add(w7.fma(c, w6.mul(m)));
                n4 = w4.add(w4.fma(c1, w5.mul(p1)));
                n5 = w5.add(w5.fma(c1, w4.mul(m1)));
                n2 = w2.add(w2.fma(c2, w3.mul(p2)));
                n3 = w3.add(w3.fma(c2, w2.mul(m2)));
                n0 = w0.add(w0.fma(c3, w1.mul(p3)));
                n1 = w1.add(w1.fma(c3, w0.mul(m3)));
            } else {
                // x_lo ← c·x_lo + s·x_hi, x_hi ← c·x_hi − s·x_lo.
                n6 = w7.fma(p, w6.mul(c));
                n7 = w6.fma(m, w7.mul(c));
                n4 = w5.fma(p1, w4.mul(c1));
                n5 = w4.fma(m1, w5.mul(c1));
                n2 = w3.fma(p2, w2.mul(c2));
                n3 = w2.fma(m2, w3.mul(c2));
                n0 = w1.fma(p3, w0.mul(c3));
                n1 = w0.fma(m3, w1.mul(c3));
            }
            store(n0, buf, base, dir * (t - 6), count);
            w0 = n1;
            w1 = n2;
            w2 = n3;
            w3 = n4;
            w4 = n5;
            w5 = n6;
            w6 = n7;
            w7 = load(buf, base, dir * (t + 2), count);
        }
        int t = t0 + g.steps();
        store(w0, buf, base, dir * (t - 6), count);
        store(w1, buf, base, dir * (t - 5), count);
        store(w2, buf, base, dir * (t - 4), count);
        store(w3, buf, base, dir * (t - 3), count);
        store(w4, buf, base, dir * (t - 2), count);
        store(w5, buf, base, dir * (t - 1), count);
        store(w6, buf, base, dir * t, count);
    }

    private static DoubleVector load(double[] buf, int base, int row, int count) {
        return row >= 0 && row < count ? DoubleVector.fromArray(S, buf, base + row * L) : DoubleVector.zero(S);
    }

    private static void store(DoubleVector v, double[] buf, int base, int row, int count) {
        if (row >= 0 && row < count) v.intoArray(buf, base + row * L);
    }
}
