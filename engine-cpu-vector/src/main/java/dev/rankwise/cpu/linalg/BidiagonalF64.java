package dev.rankwise.cpu.linalg;

/// Householder bidiagonalization `A = Q·B·Pᵀ` of a column-major m×n F64 matrix with m ≥ n (B upper
/// bidiagonal), blocked as in LAPACK's dgebrd/dlabrd (Dongarra, Sorensen & Hammarling 1989): a panel
/// of NB columns and rows is reduced with matrix-vector products, accumulating X and Y so that the
/// rest of the matrix is updated once per panel by two GEMMs, `A ← A − V·Yᵀ − X·Uᵀ`. Half the flops
/// stay in the two matrix-vector products over the trailing matrix per step, which bound the speed
/// by memory bandwidth, as in LAPACK. Hand-written; `BidiagonalF32` is generated from this file.
final class BidiagonalF64 {
    private BidiagonalF64() {}

    static final int NB = 32;
    /// Below this many columns the rest is reduced as one panel.
    private static final int CROSSOVER = 128;

    /// The result: d [n], e [n−1], and the τ of the left (tauq [n]) and right (taup [n]) reflectors.
    /// Left reflector i is stored in A(i+1:m, i); right reflector i in A(i, i+2:n).
    record Result(/*keep*/double[] d, /*keep*/double[] e, double[] tauq, double[] taup) {}

    static Result gebrd(int m, int n, double[] a, int lda) {
        if (m < n) throw new IllegalArgumentException("gebrd: needs m >= n, got " + m + "x" + n);
        /*keep*/double[] d = new /*keep*/double[n];
        /*keep*/double[] e = new /*keep*/double[Math.max(0, n - 1)];
        double[] tauq = new double[n], taup = new double[n];
        int nb = NB;
        double[] x = new double[m * nb], y = new double[n * nb];
        int i = 0;
        for (; n - i > CROSSOVER; i += nb) {
            int mm = m - i, nn = n - i, o = i * lda + i;
            labrd(mm, nn, nb, a, o, lda, d, e, tauq, taup, i, x, mm, y, nn);
            // A(i+nb:m, i+nb:n) −= V·Yᵀ + X·U, with V = A(i+nb:m, i:i+nb) and U = A(i:i+nb, i+nb:n).
            BlasF64.gemm(false, true, mm - nb, nn - nb, nb, -1, a, o + nb, lda, y, nb, nn, 1, a, o + nb * lda + nb, lda);
            BlasF64.gemm(false, false, mm - nb, nn - nb, nb, -1, x, nb, mm, a, o + nb * lda, lda, 1, a, o + nb * lda + nb, lda);
            for (int j = i; j < i + nb; j++) {
                a[j * lda + j] = (double) d[j];
                a[(j + 1) * lda + j] = (double) e[j];
            }
        }
        int rest = n - i;
        if (rest > 0) {
            double[] xr = new double[(m - i) * rest], yr = new double[rest * rest];
            labrd(m - i, rest, rest, a, i * lda + i, lda, d, e, tauq, taup, i, xr, m - i, yr, rest);
        }
        return new Result(d, e, tauq, taup);
    }

    /// Reduces the first nb rows and columns of the m×n block at `o` (dlabrd, m ≥ n): on return the
    /// block's first nb columns hold the left reflectors (unit diagonal written as 1), its first nb rows
    /// the right reflectors (unit superdiagonal written as 1), and X (m×nb, ld ldx), Y (n×nb, ld ldy)
    /// the update of the rest. d, e, τ are written at global index `g + i`.
    static void labrd(int m, int n, int nb, double[] a, int o, int lda, /*keep*/double[] d, /*keep*/double[] e,
                      double[] tauq, double[] taup, int g, double[] x, int ldx, double[] y, int ldy) {
        java.util.Arrays.fill(x, 0, ldx * nb, 0);
        java.util.Arrays.fill(y, 0, ldy * nb, 0);
        double[] row = new double[n], xi = new double[nb];
        for (int i = 0; i < nb; i++) {
            int aii = o + i * lda + i;
            // Update A(i:m, i) with the previous columns and rows of the panel.
            BlasF64.gemvN(m - i, i, -1, a, o + i, lda, y, i, ldy, a, aii);
            BlasF64.gemvN(m - i, i, -1, x, i, ldx, a, o + i * lda, 1, a, aii);
            // Left reflector: annihilate A(i+1:m, i).
            double tq = HouseholderF64.larfg(m - i, a, aii);
            tauq[g + i] = tq;
            d[g + i] = a[aii];
            if (i == n - 1) {
                taup[g + i] = 0;
                continue;
            }
            a[aii] = 1;
            int yi = i * ldy;
            // Y(i+1:n, i) = τq·(A(i:m, i+1:n)ᵀ·u − Y(i+1:n, 0:i)·(A(i:m, 0:i)ᵀ·u) − A(0:i, i+1:n)ᵀ·(X(i:m, 0:i)ᵀ·u)).
            BlasF64.gemvT(m - i, n - i - 1, 1, a, aii + lda, lda, a, aii, y, yi + i + 1, 1);
            BlasF64.gemvT(m - i, i, 1, a, o + i, lda, a, aii, y, yi, 1);
            BlasF64.gemvN(n - i - 1, i, -1, y, i + 1, ldy, y, yi, 1, y, yi + i + 1);
            java.util.Arrays.fill(y, yi, yi + i, 0);
            BlasF64.gemvT(m - i, i, 1, x, i, ldx, a, aii, y, yi, 1);
            BlasF64.gemvT(i, n - i - 1, -1, a, o + (i + 1) * lda, lda, y, yi, y, yi + i + 1, 1);
            BlasF64.scal(n - i - 1, tq, y, yi + i + 1);
            // Update row A(i, i+1:n) (in a contiguous copy) with the panel so far.
            int nr = n - i - 1;
            for (int j = 0; j < nr; j++) row[j] = a[aii + (j + 1) * lda];
            BlasF64.gemvN(nr, i + 1, -1, y, i + 1, ldy, a, o + i, lda, row, 0);
            for (int p = 0; p < i; p++) xi[p] = x[i + p * ldx];
            BlasF64.gemvT(i, nr, -1, a, o + (i + 1) * lda, lda, xi, 0, row, 0, 1);
            // Right reflector: annihilate A(i, i+2:n).
            double tp = HouseholderF64.larfg(nr, row, 0);
            taup[g + i] = tp;
            e[g + i] = row[0];
            row[0] = 1;
            for (int j = 0; j < nr; j++) a[aii + (j + 1) * lda] = row[j];
            // X(i+1:m, i) = τp·(A(i+1:m, i+1:n)·v − A(i+1:m, 0:i+1)·(Y(i+1:n, 0:i+1)ᵀ·v) − X(i+1:m, 0:i)·(A(0:i, i+1:n)·v)).
            int xcol = i * ldx;
            BlasF64.gemvN(m - i - 1, nr, 1, a, aii + lda + 1, lda, row, 0, 1, x, xcol + i + 1);
            BlasF64.gemvT(nr, i + 1, 1, y, i + 1, ldy, row, 0, x, xcol, 1);
            BlasF64.gemvN(m - i - 1, i + 1, -1, a, o + i + 1, lda, x, xcol, 1, x, xcol + i + 1);
            java.util.Arrays.fill(x, xcol, xcol + i, 0);
            BlasF64.gemvN(i, nr, 1, a, o + (i + 1) * lda, lda, row, 0, 1, x, xcol);
            BlasF64.gemvN(m - i - 1, i, -1, x, i + 1, ldx, x, xcol, 1, x, xcol + i + 1);
            BlasF64.scal(m - i - 1, tp, x, xcol + i + 1);
        }
    }
}
