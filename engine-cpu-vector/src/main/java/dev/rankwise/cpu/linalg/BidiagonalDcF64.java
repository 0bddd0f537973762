package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;

/// Singular vectors of an upper bidiagonal matrix by divide and conquer (Gu & Eisenstat 1995, "A
/// divide-and-conquer algorithm for the bidiagonal SVD"; LAPACK's dbdsdc/dlasd0–dlasd4). B (n×(n+sqre),
/// sqre 0 or 1) is split at a middle row k into B1 (k×(k+1)), the row (α at column k, β at column
/// k+1) and B2. With B1 and B2 solved recursively, B = Ũ·M·Ṽᵀ where M = [z; 0 diag(d)] has one dense
/// first row z and the children's singular values on its diagonal (d_0 = 0). M's singular values
/// are the roots of `1 + Σ z_i²/(d_i² − σ²) = 0` ([Secular] with poles d_i², their differences
/// formed as (d_i − d_j)(d_i + d_j)); its vectors come from the z recomputed from those roots
/// (Gu–Eisenstat), which keeps them orthogonal, and are combined with Ũ and Ṽ by GEMMs. Small z
/// components and close pairs of d deflate first (dlasd2), which on typical matrices leaves much of
/// the work undone. Blocks of at most [#LEAF] rows use the bidiagonal QR iteration. Scalars run in
/// double; the vectors and GEMMs in the dtype. Hand-written; `BidiagonalDcF32` is generated from this file.
final class BidiagonalDcF64 {
    private BidiagonalDcF64() {}

    /// Blocks up to this size use the QR iteration.
    static final int LEAF = 32;
    /// Subproblems at least this large solve their halves in parallel.
    private static final int PARALLEL_SPLIT = 192;
    /// Row bands up to this height are multiplied by GEMVs, not the GEMM (see
    /// [TridiagonalDcF64#multiplyKept(double[], int, int, int, int[], int, int[], int, double[], int)]).
    private static final int SMALL_PRODUCT = 64;

    /// {U (n×n), V (n×n)}, column-major, with B = U·diag(d)·Vᵀ for the square upper bidiagonal B
    /// (diagonal d [n], superdiagonal e [n−1]); d is overwritten with the singular values, ascending.
    /// `eps` is the unit roundoff of the data's dtype: it sets the deflation tolerance.
    static double[][] solve(/*keep*/double[] d, /*keep*/double[] e, int n, /*keep*/double eps) {
        return solve(d, e, 0, n, 0, eps);
    }

    /// The block of rows [off, off + n) and columns [off, off + n + sqre): {U (n×n), V (m×m)}, m = n +
    /// sqre; with sqre = 1, V's last column spans B's null space.
    private static double[][] solve(/*keep*/double[] d, /*keep*/double[] e, int off, int n, int sqre, /*keep*/double eps) {
        if (n <= LEAF) return leaf(d, e, off, n, sqre, eps);
        int nl = n / 2, nr = n - nl - 1;
        /*keep*/double alpha = d[off + nl], beta = e[off + nl];
        // The halves touch disjoint parts of d and e: on several threads the top split solves them side
        // by side.
        double[][][] parts = new double[2][][];
        Parallel.forRange(2, n >= PARALLEL_SPLIT ? 1 : 2, (h0, h1) -> {
            for (int h = h0; h < h1; h++) {
                parts[h] = h == 0 ? solve(d, e, off, nl, 1, eps) : solve(d, e, off + nl + 1, nr, sqre, eps);
            }
        });
        return merge(d, off, nl, nr, sqre, alpha, beta, parts[0], parts[1], eps);
    }

    private static double[][] leaf(/*keep*/double[] d, /*keep*/double[] e, int off, int n, int sqre, /*keep*/double eps) {
        int m = n + sqre;
        /*keep*/double[] dl = java.util.Arrays.copyOfRange(d, off, off + n);
        /*keep*/double[] el = new /*keep*/double[n];
        System.arraycopy(e, off, el, 0, n - 1 + sqre);
        double[] u = new double[n * n], v = new double[m * m];
        for (int i = 0; i < n; i++) u[i * n + i] = 1;
        for (int i = 0; i < m; i++) v[i * m + i] = 1;
        if (sqre == 1) {
            // Rotations of columns (i, n), i = n−1 … 0, chase the last column's entry up and out: B·G =
            // [B', 0] with B' square upper bidiagonal, and V = G·diag(V', 1).
            /*keep*/double f = el[n - 1];
            for (int i = n - 1; i >= 0; i--) {
                /*keep*/double r = Scalars.hypot(dl[i], f), c = r == 0 ? 1 : dl[i] / r, s = r == 0 ? 0 : f / r;
                dl[i] = r;
                if (i > 0) {
                    f = -s * el[i - 1];
                    el[i - 1] = c * el[i - 1];
                }
                TridiagonalDcF64.rotate(v, i * m, n * m, m, c, s);
            }
        }
        RotationLog ul = new RotationLog(Scalars.logCapacity(n), l -> RotationsF64.apply(l, u, n, n, n));
        RotationLog vl = new RotationLog(Scalars.logCapacity(n), l -> RotationsF64.apply(l, v, m, n, m));
        BidiagonalQr.iterate(dl, el, n, eps, ul, vl);
        ul.flush();
        vl.flush();
        flipNegative(dl, n, v, m);
        return sorted(d, off, dl, u, n, v, m, n);
    }

    /// d_i ← |d_i|, negating column i of V (ld ldv) with each negative d_i: the QR iteration's values
    /// made non-negative.
    static void flipNegative(/*keep*/double[] d, int n, double[] v, int ldv) {
        for (int i = 0; i < n; i++) {
            if (d[i] < 0) {
                d[i] = -d[i];
                BlasF64.scal(ldv, -1, v, i * ldv);
            }
        }
    }

    /// Writes the first n values ascending into d[off..] and returns U's columns and V's first n
    /// columns in that order (V's columns from n on stay).
    private static double[][] sorted(/*keep*/double[] d, int off, /*keep*/double[] values, double[] u, int un, double[] v, int m, int n) {
        int[] order = Scalars.ascending(values);
        double[] uo = new double[un * n], vo = new double[m * m];
        for (int c = 0; c < n; c++) {
            d[off + c] = values[order[c]];
            System.arraycopy(u, order[c] * un, uo, c * un, un);
            System.arraycopy(v, order[c] * m, vo, c * m, m);
        }
        System.arraycopy(v, n * m, vo, n * m, (m - n) * m);
        return new double[][] {uo, vo};
    }

    /// The SVD of the block from its halves' (dlasd1): left = {U1 (nl×nl), V1 ((nl+1)×(nl+1))}, right =
    /// {U2 (nr×nr), V2 (m2×m2)}, m2 = nr + sqre, their singular values ascending in d.
    private static double[][] merge(/*keep*/double[] d, int off, int nl, int nr, int sqre, /*keep*/double alpha, /*keep*/double beta,
                                    double[][] left, double[][] right, /*keep*/double eps) {
        int n = nl + 1 + nr, m = n + sqre, m1 = nl + 1, m2 = nr + sqre;
        double[] u1 = left[0], v1 = left[1], u2 = right[0], v2 = right[1];
        // Ũ (n×n): column 0 the middle row e_nl, then U1 (rows 0..nl−1) and U2 (rows nl+1..n−1).
        // Ṽ (m×m): column 0 the null vectors combined, then V1 (rows 0..nl) and V2 (rows nl+1..m−1);
        // with sqre = 1, column n the new null vector.
        double[] uq = new double[n * n], vq = new double[m * m];
        uq[nl] = 1;
        for (int c = 0; c < nl; c++) {
            System.arraycopy(u1, c * nl, uq, (1 + c) * n, nl);
            System.arraycopy(v1, c * m1, vq, (1 + c) * m, m1);
        }
        for (int c = 0; c < nr; c++) {
            System.arraycopy(u2, c * nr, uq, (nl + 1 + c) * n + nl + 1, nr);
            System.arraycopy(v2, c * m2, vq, (nl + 1 + c) * m + nl + 1, m2);
        }
        /*keep*/double[] z = new /*keep*/double[n], dd = new /*keep*/double[n];
        for (int c = 0; c < nl; c++) {
            z[1 + c] = alpha * v1[c * m1 + nl];
            dd[1 + c] = d[off + c];
        }
        for (int c = 0; c < nr; c++) {
            z[nl + 1 + c] = beta * v2[c * m2];
            dd[nl + 1 + c] = d[off + nl + 1 + c];
        }
        /*keep*/double dmax = Math.max(Math.abs(alpha), Math.abs(beta));
        for (int i = 0; i < n; i++) dmax = Math.max(dmax, dd[i]);
        /*keep*/double tol = 8 * eps * dmax;
        // Row z_0 of the null columns: α·(V1's null vector's last entry), with sqre = 1 combined by one
        // rotation with β·(V2's null vector's first entry).
        /*keep*/double z1 = alpha * v1[nl * m1 + nl], z2 = sqre == 1 ? beta * v2[nr * m2] : 0;
        /*keep*/double z0 = Scalars.hypot(z1, z2), c0 = 1, s0 = 0;
        if (z0 <= tol) z0 = tol; // never deflated: a tiny z_0 is raised to tol (dlasd3)
        else if (sqre == 1) {
            c0 = z1 / z0;
            s0 = z2 / z0;
        } else z0 = z1;
        z[0] = z0;
        for (int i = 0; i < m1; i++) vq[i] = (double) (c0 * v1[nl * m1 + i]);
        if (sqre == 1) {
            for (int i = 0; i < m2; i++) vq[nl + 1 + i] = (double) (s0 * v2[nr * m2 + i]);
            for (int i = 0; i < m1; i++) vq[n * m + i] = (double) (-s0 * v1[nl * m1 + i]);
            for (int i = 0; i < m2; i++) vq[n * m + nl + 1 + i] = (double) (c0 * v2[nr * m2 + i]);
        }
        // A zero block (tol = 0): M is zero, and Ũ, Ṽ already are its vectors.
        if (z0 == 0) return sorted(d, off, dd, uq, n, vq, m, n);
        // Which row bands a column is nonzero in: 1 rows 0..nl, 2 the rows below, 3 both.
        int[] rows = new int[n];
        for (int c = 0; c < n; c++) rows[c] = c <= nl ? 1 : 2;
        if (s0 != 0) rows[0] = 3;

        // Deflation (dlasd2), in ascending order of d over columns 1..n−1; column 0 always stays.
        /*keep*/double[] rest = java.util.Arrays.copyOfRange(dd, 1, n);
        int[] order = Scalars.ascending(rest);
        int[] kept = new int[n];
        int k = 1, prev = -1;
        for (int oi = 0; oi < n - 1; oi++) {
            int j = order[oi] + 1;
            if (Math.abs(z[j]) <= tol) continue; // deflated: d_j and its columns stand
            if (prev >= 0) {
                if (dd[j] - dd[prev] <= tol) {
                    // Nearly equal: one rotation of both sides' columns zeroes z[prev], which then deflates.
                    /*keep*/double s = z[prev], c = z[j], tau = Scalars.hypot(c, s);
                    c /= tau;
                    s = -s / tau;
                    z[j] = tau;
                    z[prev] = 0;
                    TridiagonalDcF64.rotate(uq, prev * n, j * n, n, c, s);
                    TridiagonalDcF64.rotate(vq, prev * m, j * m, m, c, s);
                    rows[prev] = rows[j] = rows[prev] | rows[j];
                    prev = j;
                    continue;
                }
                kept[k++] = prev;
            }
            prev = j;
        }
        if (prev >= 0) kept[k++] = prev;
        /*keep*/double[] values = dd.clone();

        // The secular equation 1 + Σ z_i²/(p_i − σ²) = 0 over the kept poles p_i = sq_i².
        int nk = k;
        /*keep*/double[] sq = new /*keep*/double[nk], p = new /*keep*/double[nk], w = new /*keep*/double[nk];
        for (int i = 0; i < nk; i++) {
            sq[i] = dd[kept[i]];
            w[i] = z[kept[i]] * z[kept[i]];
        }
        // The smallest nonzero pole kept at least tol/2 from the pole at 0 (dlasd2).
        if (nk > 1 && sq[1] <= tol / 2) sq[1] = tol / 2;
        for (int i = 0; i < nk; i++) p[i] = sq[i] * sq[i];
        int[] origin = new int[nk];
        /*keep*/double[] tau = new /*keep*/double[nk];
        int grain = nk < 256 ? nk : Math.max(64, nk / (4 * Parallel.threads()));
        Parallel.forRange(nk, grain, (j0, j1) -> {
            for (int j = j0; j < j1; j++) Secular.root(p, sq, w, nk, 1, j, origin, tau);
        });
        // Gu–Eisenstat: the z for which the computed roots are exact, then the vectors from it:
        // v_j ∝ ẑ_i/(d_i² − σ_j²), u_j ∝ (−1, d_i·ẑ_i/(d_i² − σ_j²)) (dlasd3).
        /*keep*/double[] so = new /*keep*/double[nk], zh = new /*keep*/double[nk];
        for (int j = 0; j < nk; j++) so[j] = sq[origin[j]];
        Parallel.forRange(nk, grain, (i0, i1) -> {
            Secular.zhatSquared(p, sq, so, tau, nk, i0, i1, zh);
            for (int i = i0; i < i1; i++) zh[i] = Math.copySign(Math.sqrt(Math.max(0, zh[i])), z[kept[i]]);
        });
        double[] um = new double[nk * nk], vm = new double[nk * nk];
        Parallel.forRange(nk, grain, (j0, j1) -> {
            /*keep*/double[] col = new /*keep*/double[nk];
            for (int j = j0; j < j1; j++) {
                /*keep*/double nu = 1, nv = 0;
                for (int i = 0; i < nk; i++) {
                    /*keep*/double x = zh[i] / (Secular.diff(p, sq, i, origin[j]) - tau[j]);
                    col[i] = x;
                    nv += x * x;
                    if (i > 0) nu += (sq[i] * x) * (sq[i] * x);
                }
                /*keep*/double iu = 1 / Math.sqrt(nu), iv = 1 / Math.sqrt(nv);
                um[j * nk] = (double) -iu;
                for (int i = 0; i < nk; i++) {
                    vm[j * nk + i] = (double) (col[i] * iv);
                    if (i > 0) um[j * nk + i] = (double) (sq[i] * col[i] * iu);
                }
            }
        });
        for (int j = 0; j < nk; j++) values[kept[j]] = Math.sqrt(Math.max(0, p[origin[j]] + tau[j]));
        // The kept columns of Ũ and Ṽ times U_M and V_M, each row band from only the columns nonzero
        // there; the deflated columns stay. The four products are independent.
        Parallel.forRange(4, n >= PARALLEL_SPLIT ? 1 : 4, (h0, h1) -> {
            for (int h = h0; h < h1; h++) {
                switch (h) {
                    case 0 -> TridiagonalDcF64.multiplyKept(uq, n, 0, nl + 1, kept, nk, rows, 1, um, SMALL_PRODUCT);
                    case 1 -> TridiagonalDcF64.multiplyKept(uq, n, nl + 1, nr, kept, nk, rows, 2, um, SMALL_PRODUCT);
                    case 2 -> TridiagonalDcF64.multiplyKept(vq, m, 0, nl + 1, kept, nk, rows, 1, vm, SMALL_PRODUCT);
                    default -> TridiagonalDcF64.multiplyKept(vq, m, nl + 1, m2, kept, nk, rows, 2, vm, SMALL_PRODUCT);
                }
            }
        });
        return sorted(d, off, values, uq, n, vq, m, n);
    }
}
