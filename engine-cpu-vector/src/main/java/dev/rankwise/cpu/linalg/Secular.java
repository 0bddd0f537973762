package dev.rankwise.cpu.linalg;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/// Roots of the secular equation `f(x) = 1/ρ + Σ w_i/(p_i − x) = 0` (poles p ascending, weights
/// w_i > 0, ρ > 0), whose j-th root lies in (p_j, p_{j+1}), the last in (p_{k−1}, p_{k−1} + ρ·Σw).
/// Each root is returned as an origin pole o and an offset τ, x = p_o + τ, with o the nearer end of
/// the root's interval, so that the differences p_i − x = (p_i − p_o) − τ that the eigenvectors need
/// keep full relative accuracy. Iteration: the two-pole rational model of Li's "middle way" (as in
/// LAPACK's dlaed4), safeguarded by bisection of a bracket that every evaluation shrinks.
///
/// With `sq` given the poles are squares, p_i = sq_i² (the bidiagonal SVD's `1 + Σ z_i²/(d_i² − σ²)`,
/// LAPACK's dlasd4), and every pole difference is formed as (sq_i − sq_o)·(sq_i + sq_o), which keeps
/// the relative accuracy that p_i − p_o loses when d_i and d_o are close.
final class Secular {
    private Secular() {}

    private static final double EPS = 0x1p-53;
    private static final int MAX_ITER = 200;

    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;

    /// p_i − p_o, by [Secular] as a product when `sq` is given.
    static double diff(double[] p, double[] sq, int i, int o) {
        return sq == null ? p[i] - p[o] : (sq[i] - sq[o]) * (sq[i] + sq[o]);
    }

    /// {Σ q_i, Σ q_i/δ_i, Σ |q_i|} over i in [from, to), with δ_i = (p_i − po) − t and q_i = w_i/δ_i;
    /// with `sq` given, δ_i = (sq_i − so)·(sq_i + so) − t.
    private static double[] sums(double[] p, double[] sq, double[] w, int from, int to, double po, double so, double t) {
        int l = S.length(), i = from;
        DoubleVector vs = DoubleVector.zero(S), vd = DoubleVector.zero(S), va = DoubleVector.zero(S);
        DoubleVector vpo = DoubleVector.broadcast(S, po), vso = DoubleVector.broadcast(S, so), vt = DoubleVector.broadcast(S, t);
        for (; i + l <= to; i += l) {
            DoubleVector delta;
            if (sq == null) delta = DoubleVector.fromArray(S, p, i).sub(vpo).sub(vt);
            else {
                DoubleVector x = DoubleVector.fromArray(S, sq, i);
                delta = x.sub(vso).mul(x.add(vso)).sub(vt);
            }
            // One division per pole: q/δ as q·(1/δ) (the derivative only steers the step).
            DoubleVector inv = DoubleVector.broadcast(S, 1).div(delta);
            DoubleVector q = DoubleVector.fromArray(S, w, i).mul(inv);
            vs = vs.add(q);
            vd = q.fma(inv, vd);
            va = va.add(q.abs());
        }
        double sum = BlasF64.sumLanes(vs), der = BlasF64.sumLanes(vd), abs = BlasF64.sumLanes(va);   // fixed order, see sumLanes
        for (; i < to; i++) {
            double delta = (sq == null ? p[i] - po : (sq[i] - so) * (sq[i] + so)) - t, q = w[i] / delta;
            sum += q;
            der += q / delta;
            abs += Math.abs(q);
        }
        return new double[] {sum, der, abs};
    }

    static void root(double[] p, double[] w, int k, double rho, int j, int[] origin, double[] tau) {
        root(p, null, w, k, rho, j, origin, tau);
    }

    /// Root j, written as origin[j] and tau[j]; `sq` null or the square roots of the poles (see [Secular]).
    static void root(double[] p, double[] sq, double[] w, int k, double rho, int j, int[] origin, double[] tau) {
        boolean last = j == k - 1;
        int o;
        double lo, hi, guess = Double.NaN;
        if (last) {
            double sum = 0;
            for (int i = 0; i < k; i++) sum += w[i];
            o = j;
            lo = 0;
            hi = rho * sum;
        } else {
            double gap = diff(p, sq, j + 1, j), mid = p[j] + gap / 2;
            // At the middle: p_i − mid, or (p_i − p_j) − gap/2 from the accurate differences.
            double f = 1 / rho + (sq == null ? sums(p, null, w, 0, k, mid, 0, 0) : sums(p, sq, w, 0, k, 0, sq[j], gap / 2))[0];
            if (f >= 0) { // root left of the middle: measure from p_j
                o = j;
                lo = 0;
                hi = gap / 2;
            } else {
                o = j + 1;
                lo = -gap / 2;
                hi = 0;
            }
            // First guess as in dlaed4: the two nearest poles exact and the rest of f frozen at its value
            // at the middle, c + w_j/(p_j − x) + w_{j+1}/(p_{j+1} − x) = 0, which for x = p_o + t reads
            // c·t² − A·t + B = 0; its root nearest 0 is the one in the bracket. (The bracket's middle
            // took about one more iteration per root: 4.4 on average on Gaussian matrices.)
            double a = diff(p, sq, j, o), b = diff(p, sq, j + 1, o);
            double c = f + 2 * (w[j] - w[j + 1]) / gap;
            double aa = c * (a + b) + w[j] + w[j + 1], bb = w[j] * b + w[j + 1] * a;
            double disc = Math.sqrt(Math.max(0, aa * aa - 4 * c * bb));
            guess = 2 * bb / (aa + Math.copySign(disc, aa));
        }
        double po = p[o], so = sq == null ? 0 : sq[o];
        double t = guess > lo && guess < hi ? guess : (lo + hi) / 2;
        for (int it = 0; it < MAX_ITER; it++) {
            // f and its split derivative at x = p_o + t; left poles i ≤ j, right poles i > j.
            double[] left = sums(p, sq, w, 0, j + 1, po, so, t), right = sums(p, sq, w, j + 1, k, po, so, t);
            double psi = left[0], dpsi = left[1], phi = right[0], dphi = right[1];
            double abs = 1 / rho + left[2] + right[2];
            double f = 1 / rho + psi + phi;
            if (Math.abs(f) <= 8 * k * EPS * abs) break;
            if (f > 0) hi = t;
            else lo = t;
            double a = diff(p, sq, j, o) - t, step;
            if (last) {
                // One pole at p_j, the rest of f frozen: c + a²·ψ'/(a − η) = 0.
                double c = f - a * dpsi;
                step = c == 0 ? Double.NaN : a + a * a * dpsi / c;
            } else {
                double b = diff(p, sq, j + 1, o) - t;
                double c = f - a * dpsi - b * dphi;
                double aa = (a + b) * f - a * b * (dpsi + dphi), bb = a * b * f;
                double disc = Math.sqrt(Math.abs(aa * aa - 4 * bb * c));
                if (c == 0) step = aa == 0 ? Double.NaN : bb / aa;
                else if (aa <= 0) step = (aa - disc) / (2 * c);
                else step = 2 * bb / (aa + disc);
            }
            double next = t + step;
            if (!(next > lo && next < hi)) next = (lo + hi) / 2;
            if (next == t || hi - lo <= 2 * EPS * Math.max(Math.abs(lo), Math.abs(hi))) {
                t = next;
                break;
            }
            t = next;
        }
        origin[j] = o;
        tau[j] = t;
    }

    /// Gu–Eisenstat's ẑ_i², for the roots x_j = po_j + τ_j (po_j = p[origin[j]]):
    /// −((p_i − po_i) − τ_i)·Π_{j≠i} ((p_i − po_j) − τ_j)/(p_i − p_j), into zh[0..k). The product over j
    /// runs in vector lanes (one division per factor), the lanes multiplied in a fixed order. Rows
    /// [i0, i1) only, so that threads can share the work.
    static void zhatSquared(double[] p, double[] po, double[] tau, int k, int i0, int i1, double[] zh) {
        zhatSquared(p, null, po, tau, k, i0, i1, zh);
    }

    /// As above; with `sq` given (poles p_i = sq_i², see [Secular]) `po` holds the origins' square roots
    /// sq[origin[j]], and every difference is formed as a product of a difference and a sum.
    static void zhatSquared(double[] p, double[] sq, double[] po, double[] tau, int k, int i0, int i1, double[] zh) {
        int l = S.length();
        double[] x = sq == null ? p : sq;
        for (int i = i0; i < i1; i++) {
            double xi = x[i];
            DoubleVector vxi = DoubleVector.broadcast(S, xi), acc = DoubleVector.broadcast(S, 1);
            double prod = delta(sq, xi, po[i]) - tau[i];
            for (int part = 0; part < 2; part++) {
                int j = part == 0 ? 0 : i + 1, end = part == 0 ? i : k;
                for (; j + l <= end; j += l) {
                    DoubleVector vo = DoubleVector.fromArray(S, po, j), vx = DoubleVector.fromArray(S, x, j);
                    DoubleVector num = sq == null ? vxi.sub(vo) : vxi.sub(vo).mul(vxi.add(vo));
                    DoubleVector den = sq == null ? vxi.sub(vx) : vxi.sub(vx).mul(vxi.add(vx));
                    acc = acc.mul(num.sub(DoubleVector.fromArray(S, tau, j)).div(den));
                }
                for (; j < end; j++) prod *= (delta(sq, xi, po[j]) - tau[j]) / delta(sq, xi, x[j]);
            }
            zh[i] = -(prod * BlasF64.productLanes(acc));   // fixed order, see sumLanes
        }
    }

    /// a − b for plain poles; (a − b)·(a + b) for square roots of poles (`sq` given).
    private static double delta(double[] sq, double a, double b) {
        return sq == null ? a - b : (a - b) * (a + b);
    }

    /// Column j of the merge's eigenvector matrix before normalization, v_i = ẑ_i/((p_i − po_j) − τ_j),
    /// into col[0..k); returns 1/‖v‖₂.
    static double vectorColumn(double[] p, double poj, double tauj, double[] zh, int k, double[] col) {
        int l = S.length(), i = 0;
        DoubleVector vpo = DoubleVector.broadcast(S, poj), vt = DoubleVector.broadcast(S, tauj), norm = DoubleVector.zero(S);
        for (; i + l <= k; i += l) {
            DoubleVector v = DoubleVector.fromArray(S, zh, i).div(DoubleVector.fromArray(S, p, i).sub(vpo).sub(vt));
            v.intoArray(col, i);
            norm = v.fma(v, norm);
        }
        double ss = BlasF64.sumLanes(norm);
        for (; i < k; i++) {
            col[i] = zh[i] / ((p[i] - poj) - tauj);
            ss += col[i] * col[i];
        }
        return 1 / Math.sqrt(ss);
    }
}
