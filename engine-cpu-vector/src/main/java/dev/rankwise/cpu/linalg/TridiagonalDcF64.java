package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;

/// Eigenvectors of a symmetric tridiagonal matrix by divide and conquer (Cuppen 1981; stable vectors by
/// Gu & Eisenstat 1995; LAPACK's dstedc/dlaed0–dlaed4). T is torn into two halves plus a rank-one
/// term, the halves are solved recursively, and the merge solves the secular equation of
/// `diag(λ) + ρ·z·zᵀ` for its eigenvalues; its eigenvectors, computed from a z recomputed from those
/// eigenvalues (which keeps them orthogonal), are combined with the halves' by one GEMM. Components
/// that are negligible, and pairs of nearly equal eigenvalues, deflate (are taken over unchanged or
/// after one rotation), which on typical matrices leaves much of the work undone. Small blocks use
/// the QL iteration. The scalar work runs in double; the vectors and GEMMs in the dtype.
/// Hand-written; `TridiagonalDcF32` is generated from this file.
final class TridiagonalDcF64 {
    private TridiagonalDcF64() {}

    /// Blocks up to this size use the QL iteration.
    static final int LEAF = 32;
    /// Subproblems at least this large solve their halves in parallel.
    private static final int PARALLEL_SPLIT = 192;
    private static final /*keep*/double EPS = 0x1p-53;
    /// Inside a [Parallel#onTeam] scope the secular loops of merges with at least this many kept poles
    /// are split over the spinning team.
    private static final int TEAM_LOOP = 64;

    /// Z (n×n, column-major) with T = Z·diag(d)·Zᵀ; d (diagonal) is overwritten with the eigenvalues in
    /// ascending order, e (subdiagonal, n−1) is destroyed.
    static double[] solve(/*keep*/double[] d, /*keep*/double[] e, int n) {
        return solve(d, e, 0, n);
    }

    private static double[] solve(/*keep*/double[] d, /*keep*/double[] e, int off, int n) {
        if (n <= LEAF) return leaf(d, e, off, n);
        int n1 = n / 2, n2 = n - n1;
        /*keep*/double rho = e[off + n1 - 1];
        d[off + n1 - 1] -= Math.abs(rho);
        d[off + n1] -= Math.abs(rho);
        // The halves touch disjoint parts of d and e: on several threads the top split solves them
        // side by side (nested splits then run inline on the thread that holds them).
        double[][] z = new double[2][];
        if (n >= PARALLEL_SPLIT) {
            Fork.both(() -> z[0] = solve(d, e, off, n1), () -> z[1] = solve(d, e, off + n1, n2));
        } else {
            z[0] = solve(d, e, off, n1);
            z[1] = solve(d, e, off + n1, n2);
        }
        return merge(d, off, n1, n2, rho, z[0], z[1]);
    }

    private static double[] leaf(/*keep*/double[] d, /*keep*/double[] e, int off, int n) {
        double[] z = new double[n * n];
        for (int i = 0; i < n; i++) z[i * n + i] = 1;
        /*keep*/double[] dl = java.util.Arrays.copyOfRange(d, off, off + n);
        /*keep*/double[] el = new /*keep*/double[Math.max(1, n - 1)];
        System.arraycopy(e, off, el, 0, n - 1);
        RotationLog log = new RotationLog(Scalars.logCapacity(n), l -> RotationsF64.apply(l, z, n, n, n));
        TridiagonalQl.iterate(dl, el, n, EPS, log);
        log.flush();
        return sorted(d, off, dl, z, n, n);
    }

    /// Writes the values ascending into d[off..] and returns the columns of z (rows×n) in that order.
    private static double[] sorted(/*keep*/double[] d, int off, /*keep*/double[] values, double[] z, int rows, int n) {
        int[] order = Scalars.ascending(values);
        double[] out = new double[rows * n];
        for (int c = 0; c < n; c++) {
            d[off + c] = values[order[c]];
            System.arraycopy(z, order[c] * rows, out, c * rows, rows);
        }
        return out;
    }

    /// Eigenvectors of diag(Z1, Z2)·(diag(λ1, λ2) + ρ'·z·zᵀ)·diag(Z1, Z2)ᵀ, the torn matrix put back.
    private static double[] merge(/*keep*/double[] d, int off, int n1, int n2, /*keep*/double rho, double[] z1, double[] z2) {
        int n = n1 + n2;
        // Q = diag(Z1, Z2), full n×n so that deflating rotations may mix the halves.
        double[] q = new double[n * n];
        for (int c = 0; c < n1; c++) System.arraycopy(z1, c * n1, q, c * n, n1);
        for (int c = 0; c < n2; c++) System.arraycopy(z2, c * n2, q, (n1 + c) * n + n1, n2);
        /*keep*/double[] lam = java.util.Arrays.copyOfRange(d, off, off + n);
        if (rho == 0) return sorted(d, off, lam, q, n, n);
        // z = Qᵀ·v/√2 with v = (e_{n1}, sign(ρ)·e_1): Z1's last row and Z2's first row; ρ' = 2|ρ|.
        /*keep*/double[] z = new /*keep*/double[n];
        /*keep*/double sign = Math.signum(rho), r = 2 * Math.abs(rho), inv = 1 / Math.sqrt(2);
        for (int c = 0; c < n1; c++) z[c] = z1[c * n1 + n1 - 1] * inv;
        for (int c = 0; c < n2; c++) z[n1 + c] = sign * z2[c * n2] * inv;

        // Deflation (LAPACK's dlaed2), in ascending order of λ.
        int[] order = Scalars.ascending(lam);
        /*keep*/double dmax = 0, zmax = 0;
        for (int i = 0; i < n; i++) {
            dmax = Math.max(dmax, Math.abs(lam[i]));
            zmax = Math.max(zmax, Math.abs(z[i]));
        }
        /*keep*/double tol = 8 * EPS * Math.max(dmax, r * zmax);
        int[] kept = new int[n];
        // Which halves of the rows a column of Q is nonzero in: 1 top, 2 bottom, 3 both (after a
        // deflating rotation mixed a top and a bottom column).
        int[] rows = new int[n];
        for (int c = 0; c < n; c++) rows[c] = c < n1 ? 1 : 2;
        int k = 0, prev = -1;
        for (int oi = 0; oi < n; oi++) {
            int j = order[oi];
            if (r * Math.abs(z[j]) <= tol) continue; // deflated: λ_j and Q's column j stand
            if (prev >= 0) {
                /*keep*/double s = z[prev], c = z[j], tau = Scalars.hypot(c, s), t = lam[j] - lam[prev];
                c /= tau;
                s = -s / tau;
                if (Math.abs(t * c * s) <= tol) {
                    // Nearly equal: one rotation zeroes z[prev], which then deflates.
                    z[j] = tau;
                    z[prev] = 0;
                    rotate(q, prev * n, j * n, n, c, s);
                    rows[prev] = rows[j] = rows[prev] | rows[j];
                    /*keep*/double tp = lam[prev] * c * c + lam[j] * s * s;
                    lam[j] = lam[prev] * s * s + lam[j] * c * c;
                    lam[prev] = tp;
                    prev = j;
                    continue;
                }
                kept[k++] = prev;
            }
            prev = j;
        }
        if (prev >= 0) kept[k++] = prev;
        if (k == 0) return sorted(d, off, lam, q, n, n);

        // The secular equation 1/ρ' + Σ z_i²/(p_i − x) = 0 over the kept poles p (ascending).
        /*keep*/double[] p = new /*keep*/double[k], w = new /*keep*/double[k];
        for (int i = 0; i < k; i++) {
            p[i] = lam[kept[i]];
            w[i] = z[kept[i]] * z[kept[i]];
        }
        int[] origin = new int[k];
        /*keep*/double[] tau = new /*keep*/double[k];
        // Roots, then ẑ, then the vectors: each loop's iterations are independent (k² work each).
        int nk = k; // effectively final, for the loops below
        int grain = nk < 256 ? nk : Math.max(64, nk / (4 * Parallel.threads()));
        Fork.range(nk, grain, TEAM_LOOP, (j0, j1) -> {
            for (int j = j0; j < j1; j++) Secular.root(p, w, nk, r, j, origin, tau);
        });
        // Gu–Eisenstat: the z for which the computed roots are exact, then the vectors from it.
        /*keep*/double[] po = new /*keep*/double[nk], zh = new /*keep*/double[nk];
        for (int j = 0; j < nk; j++) po[j] = p[origin[j]];
        Fork.range(nk, grain, TEAM_LOOP, (i0, i1) -> {
            Secular.zhatSquared(p, po, tau, nk, i0, i1, zh);
            for (int i = i0; i < i1; i++) zh[i] = Math.copySign(Math.sqrt(Math.max(0, zh[i])), z[kept[i]]);
        });
        double[] u = new double[nk * nk];
        Fork.range(nk, grain, TEAM_LOOP, (j0, j1) -> {
            /*keep*/double[] col = new /*keep*/double[nk];
            for (int j = j0; j < j1; j++) {
                /*keep*/double scale = Secular.vectorColumn(p, po[j], tau[j], zh, nk, col);
                for (int i = 0; i < nk; i++) u[j * nk + i] = (double) (col[i] * scale);
            }
        });
        for (int j = 0; j < k; j++) lam[kept[j]] = p[origin[j]] + tau[j];
        // The kept columns of Q times U, the top rows and the bottom rows separately, each from only the
        // columns nonzero there (half the flops of the full product when nothing mixed); the deflated
        // columns stay.
        // The two products are independent: on several threads each runs on its own (their GEMMs, with
        // a few hundred rows, gain less from the GEMM's own split).
        Runnable top = () -> multiplyKept(q, n, 0, n1, kept, nk, rows, 1, u);
        Runnable bottom = () -> multiplyKept(q, n, n1, n2, kept, nk, rows, 2, u);
        if (n >= PARALLEL_SPLIT) Fork.both(top, bottom);
        else {
            top.run();
            bottom.run();
        }
        return sorted(d, off, lam, q, n, n);
    }

    /// Rows [r0, r0 + nr) of Q's kept columns ← (those rows of the kept columns nonzero there) · (the
    /// matching rows of U).
    static void multiplyKept(double[] q, int n, int r0, int nr, int[] kept, int k, int[] rows, int half, double[] u) {
        multiplyKept(q, n, r0, nr, kept, k, rows, half, u, 0);
    }

    /// As above; bands of at most `byColumns` rows are multiplied column by column (GEMVs) instead of
    /// by one GEMM, whose skinny-product path costs more than it saves at the bidiagonal D&C's many
    /// small merges (measured: 256×256 F32 SVD 26.5 → 14.4 ms, one thread).
    static void multiplyKept(double[] q, int n, int r0, int nr, int[] kept, int k, int[] rows, int half, double[] u, int byColumns) {
        int[] cols = new int[k];
        int kc = 0;
        for (int i = 0; i < k; i++) if ((rows[kept[i]] & half) != 0) cols[kc++] = i;
        double[] qs = new double[nr * kc], out = new double[nr * k];
        for (int c = 0; c < kc; c++) System.arraycopy(q, kept[cols[c]] * n + r0, qs, c * nr, nr);
        // U's rows `cols`, gathered column by column (U's columns are contiguous); none to gather
        // when every kept column is nonzero here.
        double[] us = u;
        if (kc < k) {
            us = new double[kc * k];
            for (int j = 0; j < k; j++) for (int c = 0; c < kc; c++) us[j * kc + c] = u[j * k + cols[c]];
        }
        if (nr <= byColumns) {
            for (int j = 0; j < k; j++) BlasF64.gemvN(nr, kc, 1, qs, 0, nr, us, j * kc, 1, out, j * nr);
        } else BlasF64.gemm(false, false, nr, k, kc, 1, qs, 0, nr, us, 0, kc, 0, out, 0, nr);
        for (int i = 0; i < k; i++) System.arraycopy(out, i * nr, q, kept[i] * n + r0, nr);
    }

    /// Columns x (at px) and y (at py) of length n: x ← c·x + s·y, y ← c·y − s·x.
    static void rotate(double[] q, int px, int py, int n, /*keep*/double c, /*keep*/double s) {
        for (int i = 0; i < n; i++) {
            double x = q[px + i], y = q[py + i];
            q[px + i] = (double) (c * x + s * y);
            q[py + i] = (double) (c * y - s * x);
        }
    }
}
