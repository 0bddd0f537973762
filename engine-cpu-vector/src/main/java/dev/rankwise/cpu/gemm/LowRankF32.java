package dev.rankwise.cpu.gemm;

import dev.rankwise.cpu.Parallel;
import dev.rankwise.cpu.Team;

/// F32 fused low-rank linear (LoRA, arXiv 2106.09685 eq. 3; SoRA's gated form, arXiv 2311.11696 eq. 3)
/// on contiguous row-major arrays: x [N, d_in], W [d_out, d_in], A [r, d_in], B [d_out, r], g [r] or
/// null, y and dy [N, d_out]. The CPU backend's override of `FusedKernels.loraForward/loraBackward`.
///
/// GENERATED from `LowRankF64.java` by `GenerateGemmF32` (engine-cpu-vector tests). Do not edit.
public final class LowRankF32 {
    /// Rows of x and dy per step of the backward sweep: both row blocks stay in L2 (about 1 MiB of
    /// F64, or of F32 at twice the rows) while all four small products read them.
    private static final int SWEEP_ELEMENTS = 1 << 17;

    private LowRankF32() {}

    /// `y = x Wᵀ + bias + s·((x Aᵀ) ⊙ g) Bᵀ`; y [N, d_out] is overwritten, and so is hOut [N, r] when not
    /// null: it receives h = x Aᵀ, which the backward then need not recompute. Nothing else is modified.
    ///
    /// Two passes over x: h = x Aᵀ (the narrow GEMM path), then the dense product with the low-rank
    /// term riding along as r extra columns of K in its last K block, `[x | u]·[W | B]ᵀ` with u = s·h ⊙ g
    /// ([#denseLastBlock]), so y is written once instead of being read back for `y += u Bᵀ`.
    public static void forward(int n, int dIn, int dOut, int r, float[] x, float[] w, float[] bias,
                               float[] a, float[] b, float[] g, float s, float[] y, float[] hOut) {
        float[] h = hOut != null ? hOut : new float[n * r], u = new float[n * r];
        Gemm.sgemm(false, true, n, r, dIn, 1, x, 0, dIn, a, 0, dIn, 0, h, 0, r);           // h = x Aᵀ
        for (int i = 0; i < n; i++) {                                                     // u = s·h ⊙ g
            for (int j = 0; j < r; j++) u[i * r + j] = h[i * r + j] * (g == null ? s : s * g[j]);
        }
        if (bias != null) for (int i = 0; i < n; i++) System.arraycopy(bias, 0, y, i * dOut, dOut);
        if (n == 0 || dOut == 0) return;
        // GemmF32 takes every K block but the last: x[:, :k0] W[:, :k0]ᵀ, in the blocks it would use for dIn.
        int kLast = dIn == 0 ? 0 : dIn - (GemmF32.ceilDiv(dIn, GemmF32.KC) - 1) * GemmF32.ceilDiv(dIn, GemmF32.ceilDiv(dIn, GemmF32.KC));
        int k0 = dIn - kLast;
        float beta = bias == null ? 0 : 1;
        if (k0 > 0) {
            Gemm.sgemm(false, true, n, dOut, k0, 1, x, 0, dIn, w, 0, dIn, beta, y, 0, dOut);  // y (+)= x Wᵀ, K blocks but the last
            beta = 1;
        }
        denseLastBlock(n, dIn, dOut, r, k0, x, w, u, b, beta, y);
    }

    /// Per-thread packing buffers of [#denseLastBlock].
    private static final class Packs {
        float[] a = new float[0], b = new float[0];
        final float[] tile = GemmF32.scratchTile();
    }

    private static final ThreadLocal<Packs> PACKS = ThreadLocal.withInitial(Packs::new);

    /// `y = [x[:, k0:] | u]·[W[:, k0:] | B]ᵀ + beta·y`: one K block of kx = d_in − k0 + r, packed from
    /// both sources into [GemmF32]'s micro-panel layout and run through its kernel, in row bands over
    /// the threads (each packs its B panel, as GemmF32 does). x [N, d_in], W [d_out, d_in], u [N, r],
    /// B [d_out, r]; y [N, d_out] is modified.
    static void denseLastBlock(int n, int dIn, int dOut, int r, int k0, float[] x, float[] w, float[] u, float[] b,
                               float beta, float[] y) {
        int mr = GemmF32.MR, nr = GemmF32.NR, kw = dIn - k0, kx = kw + r;
        int units = GemmF32.ceilDiv(n, mr);
        int tasks = Math.min(units, 2L * n * dOut * kx < GemmF32.PARALLEL_FLOPS ? 1 : Parallel.threads());
        Team.run(tasks, t0 -> {                             // one band per thread, on GEMM's spinning team
            int t1 = t0 + 1;
            Packs pk = PACKS.get();
            int panels = GemmF32.ceilDiv(dOut, nr);
            if (pk.b.length < panels * nr * kx) pk.b = new float[panels * nr * kx];
            float[] pb = pk.b;
            for (int q = 0; q < panels; q++) {                  // (p, j) of panel q at q·NR·kx + p·NR + j
                int base = q * nr * kx;
                for (int j = 0; j < nr; j++) {
                    int col = q * nr + j;
                    if (col >= dOut) {
                        for (int p = 0; p < kx; p++) pb[base + p * nr + j] = 0;
                        continue;
                    }
                    for (int p = 0; p < kw; p++) pb[base + p * nr + j] = w[col * dIn + k0 + p];
                    for (int p = 0; p < r; p++) pb[base + (kw + p) * nr + j] = b[col * r + p];
                }
            }
            for (int t = t0; t < t1; t++) {
                int i0 = (int) ((long) units * t / tasks) * mr, i1 = Math.min(n, (int) ((long) units * (t + 1) / tasks) * mr);
                int mcMax = GemmF32.ceilDiv(GemmF32.ceilDiv(i1 - i0, GemmF32.ceilDiv(i1 - i0, GemmF32.MC)), mr) * mr;
                if (pk.a.length < mcMax * kx) pk.a = new float[mcMax * kx];
                float[] pa = pk.a;
                for (int ic = i0; ic < i1; ic += mcMax) {
                    int mc = Math.min(mcMax, i1 - ic);
                    for (int ip = 0; ip < mc; ip += mr) {       // (i, p) of panel ip at ip·kx + p·MR + i
                        int base = ip * kx;
                        boolean full = ip + mr <= mc && GemmF32.TRANSPOSES;
                        if (full) GemmF32.transposeRows(x, (ic + ip) * dIn + k0, dIn, kw, pa, base);
                        for (int i = 0; i < mr; i++) {
                            int row = ic + ip + i;
                            if (ip + i >= mc) {
                                for (int p = 0; p < kx; p++) pa[base + p * mr + i] = 0;
                                continue;
                            }
                            if (!full) for (int p = 0; p < kw; p++) pa[base + p * mr + i] = x[row * dIn + k0 + p];
                            for (int p = 0; p < r; p++) pa[base + (kw + p) * mr + i] = u[row * r + p];
                        }
                    }
                    for (int jr = 0; jr < dOut; jr += nr) {
                        for (int ir = 0; ir < mc; ir += mr) {
                            GemmF32.tileCold(kx, pa, ir * kx, pb, jr * kx, y, (ic + ir) * dOut + jr, dOut,
                                    Math.min(mr, mc - ir), Math.min(nr, dOut - jr), 1, beta, pk.tile);
                        }
                    }
                }
            }
        });
    }

    /// The gradients with W frozen, each written where its array is non-null: dx [N, d_in], dA [r, d_in],
    /// dB [d_out, r], dg [r] (overwritten). `h` [N, r] is x Aᵀ saved by the forward, or null to compute
    /// it block by block. With h = x Aᵀ, u = h ⊙ g, du = s·dy B:
    /// dB = s·dyᵀ u, dg = Σ_rows du ⊙ h, dA = (du ⊙ g)ᵀ x, dx = dy W + (du ⊙ g) A.
    ///
    /// One sweep over row blocks of x and dy, in parallel over contiguous row ranges (each with its own
    /// partial sums): per block, du (and h when not saved) come from the narrow GEMM path, then the dBᵀ
    /// and dA updates (r rows each), all while the block sits in L2. So x and dy are each
    /// read from memory once (dy twice more when dx is asked for: dx is a full-size GEMM). dA, dB and dg
    /// add per-task partial sums, so their rounding (not their value) depends on the thread count.
    public static void backward(int n, int dIn, int dOut, int r, float[] dy, float[] x, float[] w, float[] a,
                                float[] b, float[] g, float s, float[] h, float[] dx, float[] da, float[] db, float[] dg) {
        if (n == 0 || r == 0) {                                                           // empty sums
            for (float[] o : new float[][] {dx, da, db, dg}) if (o != null) java.util.Arrays.fill(o, 0);
            return;
        }
        // du = s·dy B: with r = L, B's rows are the vectors GemmNarrowF32's one-vector broadcast path
        // reads, so B goes in as it is; otherwise Bᵀ [r, d_out], whose rows the dot-product path reads.
        boolean bInPlace = r == GemmF32.L;
        float[] bt = bInPlace ? b : new float[r * dOut];
        if (!bInPlace) for (int i = 0; i < dOut; i++) for (int j = 0; j < r; j++) bt[j * dOut + i] = b[i * r + j];
        int rows = Math.max(8, Math.min(512, SWEEP_ELEMENTS / Math.max(1, dIn + dOut)) / 8 * 8);
        int blocks = GemmF32.ceilDiv(n, rows);
        int tasks = Math.min(blocks, 4L * n * (dIn + dOut) * r < GemmF32.PARALLEL_FLOPS ? 1 : Parallel.threads());
        float[] dh = dx == null ? null : new float[n * r];
        float[][] pa = new float[tasks][], pb = new float[tasks][], pg = new float[tasks][];
        // One band per thread on GEMM's spinning team, which the forward's product has just left awake
        // (a pool worker would have parked by now); the products inside a band run on its thread.
        Team.split(tasks, t -> {
            float[] daT = da == null ? null : new float[r * dIn], dbT = db == null ? null : new float[r * dOut];
            float[] dgT = new float[r], hLocal = h == null ? new float[rows * r] : null;
            float[] du = new float[rows * r], u = new float[rows * r];
            float[] dhB = new float[rows * r];
            int first = (int) ((long) blocks * t / tasks), last = (int) ((long) blocks * (t + 1) / tasks);
            for (int blk = first; blk < last; blk++) {
                int i0 = blk * rows, m = Math.min(rows, n - i0);
                float[] hb = h == null ? hLocal : h;
                int ho = h == null ? 0 : i0 * r;
                if (h == null) Gemm.sgemm(false, true, m, r, dIn, 1, x, i0 * dIn, dIn, a, 0, dIn, 0, hLocal, 0, r);  // h = x Aᵀ
                Gemm.sgemm(false, !bInPlace, m, r, dOut, s, dy, i0 * dOut, dOut, bt, 0, bInPlace ? r : dOut, 0, du, 0, r); // du = s·dy B
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < r; j++) {
                        int q = i * r + j;
                        float gj = g == null ? 1 : g[j];
                        u[q] = hb[ho + q] * gj;
                        dgT[j] += du[q] * hb[ho + q];
                        dhB[q] = du[q] * gj;
                    }
                }
                if (dh != null) System.arraycopy(dhB, 0, dh, i0 * r, m * r);
                // dBᵀ += s·uᵀ dy_blk and dAᵀ... = dhᵀ x_blk: r rows, so x and dy are read in place.
                if (dbT != null) Gemm.sgemm(true, false, r, dOut, m, s, u, 0, r, dy, i0 * dOut, dOut, 1, dbT, 0, dOut);
                if (daT != null) Gemm.sgemm(true, false, r, dIn, m, 1, dhB, 0, r, x, i0 * dIn, dIn, 1, daT, 0, dIn);
            }
            pa[t] = daT;
            pb[t] = dbT;
            pg[t] = dgT;
        });
        if (da != null) sumInto(pa, da);
        if (dg != null) sumInto(pg, dg);
        if (db != null) {
            float[] dbT = new float[r * dOut];
            sumInto(pb, dbT);
            for (int j = 0; j < r; j++) for (int i = 0; i < dOut; i++) db[i * r + j] = dbT[j * dOut + i];
        }
        if (dx != null) {
            Gemm.sgemm(false, false, n, dIn, dOut, 1, dy, 0, dOut, w, 0, dIn, 0, dx, 0, dIn);    // dx = dy W
            Gemm.sgemm(false, false, n, dIn, r, 1, dh, 0, r, a, 0, dIn, 1, dx, 0, dIn);        //    + dh A
        }
    }

    /// out = Σ parts (in task order, so the result does not depend on scheduling).
    private static void sumInto(float[][] parts, float[] out) {
        System.arraycopy(parts[0], 0, out, 0, out.length);
        for (int t = 1; t < parts.length; t++) for (int i = 0; i < out.length; i++) out[i] += parts[t][i];
    }
}
