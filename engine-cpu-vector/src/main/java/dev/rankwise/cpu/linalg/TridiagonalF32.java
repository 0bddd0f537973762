package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;
import dev.rankwise.cpu.Team;

/// Householder tridiagonalization `A = Q·T·Qᵀ` of a symmetric F32 matrix stored column-major, of
/// which only the lower triangle is read and updated, blocked as in LAPACK's dsytrd/dlatrd: a panel of
/// NB columns is reduced with symmetric matrix-vector products, accumulating W so that the rest is
/// updated once per panel by a rank-2·NB update `A ← A − V·Wᵀ − W·Vᵀ` (GEMMs on the lower blocks only).
/// GENERATED from `TridiagonalF64.java` by `GenerateF32Linalg` (tests); do not edit.
final class TridiagonalF32 {
    private TridiagonalF32() {}

    static final int NB = 32;
    private static final int CROSSOVER = 128;
    /// Column-block width of the lower-triangular rank-2k update.
    private static final int UPDATE_BLOCK = 256;
    /// Above this many n²·k the rank-2k update is split over threads.
    private static final long PARALLEL_UPDATE = 1L << 22;

    /// d [n], e [n−1] (T's subdiagonal), τ [n−1]; reflector i is stored in A(i+2:n, i) with its unit
    /// entry at row i+1.
    record Result(/*keep*/double[] d, /*keep*/double[] e, float[] tau) {}

    static Result sytrd(int n, float[] a, int lda) {
        /*keep*/double[] d = new /*keep*/double[n];
        /*keep*/double[] e = new /*keep*/double[Math.max(0, n - 1)];
        float[] tau = new float[Math.max(0, n - 1)];
        float[] w = new float[n * NB];
        int i = 0;
        for (; n - i > CROSSOVER; i += NB) {
            int nn = n - i, o = i * lda + i;
            latrd(nn, NB, a, o, lda, e, tau, i, w, nn);
            syr2kLower(nn - NB, NB, a, o + NB, lda, w, NB, nn, a, o + NB * lda + NB, lda);
            for (int j = i; j < i + NB; j++) {
                a[j * lda + j + 1] = (float) e[j];
                d[j] = a[j * lda + j];
            }
        }
        int rest = n - i;
        // The unblocked rest takes well under the team's spin; in a team scope, what follows (the
        // divide and conquer) splits at once: wake the helpers now, off the critical path.
        if (Parallel.inTeamScope()) Team.wake();
        if (rest > 0) {
            float[] wr = new float[rest * rest];
            latrd(rest, rest, a, i * lda + i, lda, e, tau, i, wr, rest);
            for (int j = i; j < n; j++) {
                if (j < n - 1) a[j * lda + j + 1] = (float) e[j];
                d[j] = a[j * lda + j];
            }
        }
        return new Result(d, e, tau);
    }

    /// Reduces the first nb columns of the n×n block at `o` (dlatrd, lower): reflectors are left in
    /// those columns (unit entries written as 1), W (n×nb, ld ldw) holds the update of the rest.
    static void latrd(int n, int nb, float[] a, int o, int lda, /*keep*/double[] e, float[] tau, int g, float[] w, int ldw) {
        java.util.Arrays.fill(w, 0, ldw * nb, 0);
        for (int i = 0; i < nb; i++) {
            int aii = o + i * lda + i;
            // Update A(i:n, i).
            BlasF32.gemvN(n - i, i, -1, a, o + i, lda, w, i, ldw, a, aii);
            BlasF32.gemvN(n - i, i, -1, w, i, ldw, a, o + i, lda, a, aii);
            if (i == n - 1) continue;
            // Reflector annihilating A(i+2:n, i).
            float t = HouseholderF32.larfg(n - i - 1, a, aii + 1);
            tau[g + i] = t;
            e[g + i] = a[aii + 1];
            a[aii + 1] = 1;
            int v = aii + 1, wi = i * ldw, len = n - i - 1;
            // W(i+1:n, i) = τ·(A·v − A(i+1:n, 0:i)·(W(i+1:n, 0:i)ᵀ·v) − W(i+1:n, 0:i)·(A(i+1:n, 0:i)ᵀ·v)).
            BlasF32.symvLower(len, a, aii + lda + 1, lda, a, v, w, wi + i + 1);
            BlasF32.gemvT(len, i, 1, w, i + 1, ldw, a, v, w, wi, 1);
            BlasF32.gemvN(len, i, -1, a, o + i + 1, lda, w, wi, 1, w, wi + i + 1);
            java.util.Arrays.fill(w, wi, wi + i, 0);
            BlasF32.gemvT(len, i, 1, a, o + i + 1, lda, a, v, w, wi, 1);
            BlasF32.gemvN(len, i, -1, w, i + 1, ldw, w, wi, 1, w, wi + i + 1);
            BlasF32.scal(len, t, w, wi + i + 1);
            float alpha = (float) (-0.5 * t * BlasF32.dot(len, w, wi + i + 1, a, v));
            BlasF32.axpy(len, alpha, a, v, w, wi + i + 1);
        }
    }

    /// Lower triangle (and diagonal blocks whole) of C (n×n) −= V·Wᵀ + W·Vᵀ for V, W n×k.
    /// The column blocks are independent: on several threads they are dealt out to the pool (narrower
    /// blocks, so the shrinking ones balance) and each block's GEMMs run on one thread.
    static void syr2kLower(int n, int k, float[] v, int ov, int ldv, float[] w, int ow, int ldw, float[] c, int oc, int ldc) {
        int nb = Parallel.threads() > 1 && (long) n * n * k >= PARALLEL_UPDATE ? UPDATE_BLOCK / 2 : UPDATE_BLOCK;
        int blocks = (n + nb - 1) / nb;
        Parallel.forRange(blocks, nb == UPDATE_BLOCK ? blocks : 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int j = b * nb, jb = Math.min(nb, n - j), rows = n - j;
                int cb = oc + j * ldc + j;
                BlasF32.gemm(false, true, rows, jb, k, -1, v, ov + j, ldv, w, ow + j, ldw, 1, c, cb, ldc);
                BlasF32.gemm(false, true, rows, jb, k, -1, w, ow + j, ldw, v, ov + j, ldv, 1, c, cb, ldc);
            }
        });
    }
}
