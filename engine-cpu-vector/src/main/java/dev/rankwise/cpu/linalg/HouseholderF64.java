package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;
import dev.rankwise.cpu.Team;

/// Householder reflectors on column-major F64 matrices: generation (LAPACK's dlarfg), the compact WY
/// block form `H_0⋯H_{k−1} = I − V·T·Vᵀ` (Schreiber & Van Loan 1989; dlarft) applied with two GEMMs
/// (dlarfb), the blocked QR factorization (dgeqrf) and the explicit or implicit Q (dorgqr, dormqr).
/// Hand-written; `HouseholderF32` is generated from this file.
final class HouseholderF64 {
    private HouseholderF64() {}

    /// Panel width of the blocked QR (its panels are reduced column by column).
    static final int NB = 32;
    /// Reflectors per block when applying or forming Q: wider blocks give the GEMMs a longer inner
    /// dimension; the T factor's cost, NBQ²·m per block, stays small.
    static final int NBQ = 64;
    /// Below this many m·n·k the explicit Q is formed on the calling thread.
    private static final long PARALLEL_APPLY = 1L << 24;
    /// The same inside a [Parallel#onTeam] scope, where the bands go to the spinning team.
    private static final long TEAM_APPLY = 1L << 23;

    /// Turns x = a[o .. o+n) into β·e₁ by H = I − τ·v·vᵀ with v = (1, v₂…): a[o] becomes β and a[o+1..]
    /// becomes v₂…; returns τ (0 when x is already a multiple of e₁).
    static double larfg(int n, double[] a, int o) {
        if (n <= 1) return 0;
        /*keep*/double xnorm = BlasF64.nrm2(n - 1, a, o + 1, 1);
        if (xnorm == 0) return 0;
        /*keep*/double alpha = a[o];
        /*keep*/double beta = -Math.copySign(Scalars.hypot(alpha, xnorm), alpha);
        /*keep*/double tau = (beta - alpha) / beta;
        /*keep*/double denom = alpha - beta;
        if (Math.abs(denom) > 0x1p-100) {
            BlasF64.scal(n - 1, (double) (1 / denom), a, o + 1);
        } else {
            // 1/denom could overflow the dtype: divide instead.
            for (int i = o + 1; i < o + n; i++) a[i] = (double) (a[i] / denom);
        }
        a[o] = (double) beta;
        return (double) tau;
    }

    /// Unblocked QR of the m×nb panel at `oa`: reflector j is left below the diagonal of column j.
    static void geqr2(int m, int nb, double[] a, int oa, int lda, double[] tau, int ot) {
        int k = Math.min(m, nb);
        for (int i = 0; i < k; i++) {
            int col = oa + i * lda + i;
            double t = larfg(m - i, a, col);
            tau[ot + i] = t;
            if (t == 0 || i == nb - 1) continue;
            double aii = a[col];
            a[col] = 1;
            for (int c = i + 1; c < nb; c++) {
                int cc = oa + c * lda + i;
                double w = BlasF64.dot(m - i, a, col, a, cc);
                BlasF64.axpy(m - i, -t * w, a, col, a, cc);
            }
            a[col] = aii;
        }
    }

    /// V (m×k, column-major, ld m) = the k reflectors stored below the diagonal at `oa`, with the unit
    /// diagonal and the zeros above it written out, so GEMMs can use V as it is.
    static void copyV(int m, int k, double[] a, int oa, int lda, double[] v) {
        for (int j = 0; j < k; j++) {
            int dst = j * m;
            java.util.Arrays.fill(v, dst, dst + Math.min(j, m), 0);
            if (j < m) {
                v[dst + j] = 1;
                System.arraycopy(a, oa + j * lda + j + 1, v, dst + j + 1, m - j - 1);
            }
        }
    }

    /// The upper triangular T (k×k, ld k) of `H_0⋯H_{k−1} = I − V·T·Vᵀ` (forward, columnwise).
    static void larft(int m, int k, double[] v, double[] tau, int ot, double[] t) {
        for (int i = 0; i < k; i++) {
            double ti = tau[ot + i];
            int col = i * k;
            java.util.Arrays.fill(t, col, col + k, 0);
            if (ti == 0) continue;
            // T(0:i, i) = −τ_i·V(i:m, 0:i)ᵀ·V(i:m, i), then T(0:i, i) = T(0:i, 0:i)·T(0:i, i).
            BlasF64.gemvT(m - i, i, -ti, v, i, m, v, i * m + i, t, col, 1);
            for (int r = 0; r < i; r++) {
                double s = 0;
                for (int c = r; c < i; c++) s += t[c * k + r] * t[col + c];
                t[col + r] = s;
            }
            t[col + i] = ti;
        }
    }

    /// C (m×n at `oc`) ← H·C, or Hᵀ·C when `trans`, for H = I − V·T·Vᵀ with V m×k. Work: 2 k×n arrays.
    static void applyLeft(boolean trans, int m, int n, int k, double[] v, double[] t, double[] c, int oc, int ldc) {
        if (m == 0 || n == 0 || k == 0) return;
        double[] w = new double[k * n];
        BlasF64.gemm(true, false, k, n, m, 1, v, 0, m, c, oc, ldc, 0, w, 0, k);
        if (m <= 2 * n) {
            // (V·op(T))·W instead of V·(op(T)·W): m·k² flops instead of n·k², but op(T)·W's k×n output
            // goes through the GEMM's narrow path (measured F32, k = 64, n = 512: 37 GFLOP/s, 114 µs)
            // while V·op(T) is a plain product (36 µs).
            double[] vt = new double[m * k];
            BlasF64.gemm(false, trans, m, k, k, 1, v, 0, m, t, 0, k, 0, vt, 0, m);
            BlasF64.gemm(false, false, m, n, k, -1, vt, 0, m, w, 0, k, 1, c, oc, ldc);
            return;
        }
        double[] w2 = new double[k * n];
        BlasF64.gemm(trans, false, k, n, k, 1, t, 0, k, w, 0, k, 0, w2, 0, k);
        BlasF64.gemm(false, false, m, n, k, -1, v, 0, m, w2, 0, k, 1, c, oc, ldc);
    }

    /// C (m×n at `oc`) ← C·H, or C·Hᵀ when `trans`, for H = I − V·T·Vᵀ with V n×k.
    static void applyRight(boolean trans, int m, int n, int k, double[] v, double[] t, double[] c, int oc, int ldc) {
        if (m == 0 || n == 0 || k == 0) return;
        double[] w = new double[m * k], w2 = new double[m * k];
        BlasF64.gemm(false, false, m, k, n, 1, c, oc, ldc, v, 0, n, 0, w, 0, m);
        BlasF64.gemm(false, trans, m, k, k, 1, w, 0, m, t, 0, k, 0, w2, 0, m);
        BlasF64.gemm(false, true, m, n, k, -1, w2, 0, m, v, 0, n, 1, c, oc, ldc);
    }

    /// Blocked Householder QR of the m×n matrix at `oa` (dgeqrf): R is left on and above the
    /// diagonal, the reflectors below it, their τ in `tau[0 .. min(m, n))`.
    static void geqrf(int m, int n, double[] a, int oa, int lda, double[] tau) {
        int k = Math.min(m, n);
        double[] v = new double[m * NB], t = new double[NB * NB];
        for (int j = 0; j < k; j += NB) {
            int jb = Math.min(NB, k - j);
            int panel = oa + j * lda + j;
            geqr2(m - j, jb, a, panel, lda, tau, j);
            if (j + jb < n) {
                copyV(m - j, jb, a, panel, lda, v);
                larft(m - j, jb, v, tau, j, t);
                applyLeft(true, m - j, n - j - jb, jb, v, t, a, panel + jb * lda, lda);
            }
        }
    }

    /// C (m×n at `oc`, ld ldc) ← Q·C for Q = H_0⋯H_{k−1} stored by [#geqrf] at `oa`. With `identityStart` C is
    /// taken to be [I; 0] on entry (its first columns untouched by later reflectors are skipped), which
    /// forms Q's first n columns explicitly (dorgqr). On several threads C's columns are split into
    /// bands of equal work, each band updated by its own thread with single-threaded GEMMs: the GEMMs
    /// here have a short inner dimension (NBQ) or a short output (NBQ rows), which the GEMM's own split
    /// serves poorly, while the bands are independent (each recomputes the small T factors).
    static void applyQ(int m, int n, int k, double[] a, int oa, int lda, double[] tau, int ot, double[] c, int oc, int ldc, boolean identityStart) {
        // Inside a pool worker or a serial scope the bands would run one after the other, and a band's
        // GEMMs, narrower, run slower than the whole (measured F32, n = 512: 4.5 ms whole, 6.0 ms in
        // two bands one after the other): not split there. Inside a team scope the bands go to the
        // spinning team (F32 eigh, 2 threads: n = 256 0.98 → 0.81 ms, 512 4.5 → 3.3, 1024 26 → 16).
        long size = (long) m * n * k;
        boolean split = Parallel.nested() ? Parallel.inTeamScope() && size >= TEAM_APPLY : size >= PARALLEL_APPLY;
        int parts = split ? Math.min(Parallel.threads(), Math.max(1, n / NBQ)) : 1;
        if (parts == 1) {
            applyQCols(m, 0, n, k, a, oa, lda, tau, ot, c, oc, ldc, identityStart);
            return;
        }
        // Column c costs Σ over the blocks that reach it of (m − j): with identityStart only blocks j ≤ c.
        /*keep*/double[] work = new /*keep*/double[n + 1];
        for (int col = 0; col < n; col++) {
            /*keep*/double w = 0;
            for (int j = 0; j < k; j += NBQ) if (!identityStart || j <= col) w += m - j;
            work[col + 1] = work[col] + w;
        }
        int[] bounds = new int[parts + 1];
        bounds[parts] = n;
        for (int p = 1, col = 0; p < parts; p++) {
            while (col < n && work[col] < work[n] * p / parts) col++;
            bounds[p] = col;
        }
        Parallel.RangeBody bands = (s0, s1) -> {
            for (int p = s0; p < s1; p++) applyQCols(m, bounds[p], bounds[p + 1], k, a, oa, lda, tau, ot, c, oc, ldc, identityStart);
        };
        if (Parallel.nested()) Team.split(parts, p -> bands.run(p, p + 1));
        else Parallel.forRange(parts, 1, bands);
    }

    /// Columns [c0, c1) of [#applyQ].
    private static void applyQCols(int m, int c0, int c1, int k, double[] a, int oa, int lda, double[] tau, int ot, double[] c, int oc, int ldc,
                                   boolean identityStart) {
        if (c0 >= c1) return;
        double[] v = new double[m * NBQ], t = new double[NBQ * NBQ];
        for (int j = (k - 1) / NBQ * NBQ; j >= 0; j -= NBQ) {
            int jb = Math.min(NBQ, k - j);
            int from = identityStart ? Math.max(c0, j) : c0;
            if (from >= c1) continue;
            copyV(m - j, jb, a, oa + j * lda + j, lda, v);
            larft(m - j, jb, v, tau, ot + j, t);
            applyLeft(false, m - j, c1 - from, jb, v, t, c, oc + from * ldc + j, ldc);
        }
    }

    /// The first `cols` columns of Q (m×cols, column-major, ld m) from k reflectors stored at `oa`.
    static double[] formQ(int m, int cols, int k, double[] a, int oa, int lda, double[] tau, int ot) {
        double[] q = new double[m * cols];
        for (int i = 0; i < Math.min(m, cols); i++) q[i * m + i] = 1;
        if (k > 0) applyQ(m, cols, k, a, oa, lda, tau, ot, q, 0, m, true);
        return q;
    }

    /// QR of a row-major m×n A: {Q [m, qc], R [qc, n]}, row-major, qc = min(m, n) (reduced) or m
    /// (complete); R's diagonal has LAPACK's signs (`Linalg.qr` makes it non-negative).
    static double[][] qr(double[] a, int m, int n, boolean complete) {
        int k = Math.min(m, n);
        double[] t = new double[m * n];
        BlasF64.transpose(m, n, a, 0, n, t, 0, m);
        int exp = Scalars.scaleExponent(BlasF64.maxAbs(t));
        BlasF64.scale(t, exp);
        double[] tau = new double[k];
        geqrf(m, n, t, 0, m, tau);
        int qc = complete ? m : k;
        double[] q = formQ(m, qc, k, t, 0, m, tau, 0);
        // R: the upper triangle of T's first k rows, transposed back to row-major in cache tiles.
        double[] r = new double[qc * n];
        BlasF64.transpose(n, k, t, 0, m, r, 0, n);
        for (int i = 0; i < k; i++) {
            java.util.Arrays.fill(r, i * n, i * n + i, 0);
            for (int c = i * n + i; c < (i + 1) * n; c++) r[c] = Math.scalb(r[c], -exp);
        }
        double[] qOut = new double[m * qc];
        BlasF64.transpose(qc, m, q, 0, m, qOut, 0, qc);
        return new double[][] {qOut, r};
    }
}
