package dev.rankwise.cpu.gemm;

import dev.rankwise.cpu.Parallel;
import dev.rankwise.cpu.Team;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/// F32 GEMM for skinny products, where C or op(A) has few rows or columns and the packed path of
/// [GemmF32] would spend its time copying the big operand rather than multiplying (for n ≤ 64, packing
/// A costs about as much as the product). Three paths, each reading the big operand once, in place or
/// through a copy that stays in L1/L2:
///
/// - [#broadcast]: a few vectors' worth of columns of C (L < n ≤ 64, such as `x·Aᵀ` for r = 32 or 64):
///   MR-row tiles of C, each element of A, read in place, broadcast against one or two vectors of a
///   once-packed op(B).
/// - [#broadcastOne]: one vector's worth of columns, nearly all used (3L/4 < n ≤ L: `x·Aᵀ`, `dy·B` in
///   a LoRA layer with r = 16 in F32): 16-row tiles of C, one vector each, broadcasting elements of A
///   read in place against one vector of op(B) per step of K.
/// - [#narrow]: fewer columns (n ≤ L: `A·Ω` in a randomized SVD, a LoRA layer with r < 16 in F32, or
///   fewer than 16 rows): dot products along K of rows of A, read in place, with columns of op(B).
/// - [#fewRows]: few rows of C and long rows of B (`hᵀ·dy`, `Qᵀ·A`): B streams through in strips of
///   MR×NR tiles while op(A) and C stay in cache; the work splits over columns of C, so a long-K
///   reduction needs no final sum. A small row-major B (in L2) is read in place ([#fewRowsInPlace]).
/// - [#shortK]: short K and many rows (`u·Bᵀ`, `dh·A`): C is the big operand, written once in MR-row
///   bands from a once-packed op(B).
///
/// Called by [GemmF32#gemm] when [#takes] says so; arguments validated by [Gemm].
///
/// GENERATED from `GemmNarrowF64.java` by `GenerateGemmF32` (engine-cpu-vector tests). Do not edit.
final class GemmNarrowF32 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length(), MR = GemmF32.MR, NR = GemmF32.NR;
    /// [#narrow] takes what [#broadcast] leaves of op(A) row-major with k ≥ L and n < 2·NR, or n ≤ 64 with A small (m·k ≤
    /// NARROW_A elements, about L2-sized; a larger A streams from memory while the packed path reads the
    /// wider op(B) from L1). Measured (GFLOP/s, narrow vs packed): F64 64×1024·1024×16 46 vs 24,
    /// 4096×1024·1024×16 32 vs 28; F32 64×1024·1024×32 92 vs 48, 4096×1024·1024×32 69 vs 72,
    /// 256×1024·1024×64 119 vs 96, 4096×1024·1024×64 68 vs 98.
    static final int NARROW_A = 1 << 18;
    /// At most this many rows of C take [#fewRows] (when [#narrow] does not take the product).
    static final int FEW_M = 64;
    /// [#narrow] walks K in chunks of this many elements, so that the 4 rows of A it rereads for each
    /// group of 4 columns stay in L1 (16 KiB F32 or 32 KiB F64 on 512-bit vectors). Measured (F32,
    /// 4096×1024·1024×16, before the lane tree was written out): chunks of 16·L, 32·L, 64·L, 128·L ran
    /// at 40, 50, 74, 69 GFLOP/s; shorter chunks pay the lane reduction and C update too often.
    static final int K_CHUNK = 64 * L;
    /// The chunk of [#narrow] when A is small (m·k ≤ [#NARROW_A], e.g. the LoRA backward's 64-row
    /// blocks of dy, already in L2) and op(B) has more than 8 columns: then op(B)'s chunk (8 KiB per
    /// column at 64·L F32) is what leaves L1. Measured with the lane tree written out, F32
    /// 64×1024·1024×16 blocks in L2: 16·L, 32·L, 64·L at 78, 97, 76 GFLOP/s; on A streamed from memory
    /// (4096 rows) 32·L ran at 63–71 against 70–71 (and 89 vs 102 on 2 threads), so 64·L stays there.
    static final int K_CHUNK_SMALL_A = 32 * L;
    /// At most this many columns of op(A) take [#shortK] (when neither other path takes the product).
    /// Measured (1 thread, 4096×k·k×1024, GFLOP/s, short vs packed): F32 k = 16 86 vs 58, k = 64 126 vs
    /// 117; F64 k = 16 48 vs 26, k = 64 61 vs 43.
    static final int SHORT_K = 64;
    /// [#fewRows] packs B in KS×WS blocks: KS rows of 4 KiB each (WS = 32·NR elements, F32 and F64
    /// alike on 512-bit vectors), 256 KiB in all, in L2. Measured on 16×4096 · 4096×{1024, 4096}: KS = 64
    /// is twice as fast as KS = 128 or 256 (more rows than the L2 streamer tracks), and 4 KiB rows beat
    /// 0.5–2 KiB by 5–20%.
    static final int KS = 64, WS = 32 * NR;
    /// [#fewRows] reads a row-major B of at most this many elements in place ([#fewRowsInPlace]).
    /// Measured (1 thread, GFLOP/s, in place vs packed): F32 16×64·64×1024 126 vs 83, F64 57–67 vs
    /// 43–44; the LoRA backward's `uᵀ·dy` over 64-row blocks in L2 (r = 16, d = 1024) 1.18 vs 1.75 ms.
    static final int IN_PLACE_B = 1 << 16;
    /// [#broadcast] walks K in chunks of this many elements when op(B) spans several panels, so the
    /// tile's MR rows of A (8 or 16 KiB) are reread from L1 for each panel.
    static final int BCAST_KC = 256;
    /// Rows of C per tile of [#broadcastOne]: 16 accumulators of one vector each. Measured (F32, 1
    /// thread, n = 16, k = 1024): 64-row blocks in L2 1.35 ms per 4096 rows against 2.0 for [#narrow],
    /// 4096 rows streamed from memory 1.48 against 2.07.
    static final int MR1 = 16;
    /// At least this many rows of C for [#broadcastOne] when it has to copy op(B) first.
    static final int BCAST1_COPY_M = 512;
    /// Index vectors that pick the even and the odd lanes of two vectors, for [#dot4x4]'s lane sums.
    private static final FloatVector EVEN, ODD;

    static {
        float[] even = new float[L], odd = new float[L];
        for (int l = 0; l < L; l++) {
            even[l] = 2 * l;
            odd[l] = 2 * l + 1;
        }
        EVEN = FloatVector.fromArray(S, even, 0);
        ODD = FloatVector.fromArray(S, odd, 0);
    }

    private GemmNarrowF32() {}

    /// Per-thread scratch, reused across calls so hot loops allocate nothing.
    private static final class Scratch {
        final float[] dots = new float[16];
        final float[] tile = GemmF32.scratchTile();
        float[] a = new float[0], b = new float[0];

        float[] a(int size) {
            if (a.length < size) a = new float[size];
            return a;
        }

        float[] b(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /// Whether a skinny path takes op(A)·op(B) (m×k times k×n).
    static boolean takes(boolean ta, boolean tb, int m, int n, int k) {
        return broadcasts(ta, n, k) || narrows(ta, m, n, k) || m <= FEW_M || k <= SHORT_K;
    }

    /// Measured against the dot-product form [#narrow] and the packed path (1 thread, GFLOP/s,
    /// 4096×1024·1024×n): F32 n = 32 117 vs 97 (narrow), n = 64 112 vs 97 (packed); F64 n = 16 55 vs
    /// 32, n = 64 53 vs 41. For n ≤ L one vector of op(B) meets one broadcast per FMA, which caps it at
    /// half the FMA rate (F32 n = 16: 76 GFLOP/s in L2, as the dot form at 64·L chunks; 97 at 32·L).
    private static boolean broadcasts(boolean ta, int n, int k) {
        return !ta && k >= L && n > L && n <= 64;
    }

    /// [#broadcastOne] against [#narrow]: with n ≤ L, one broadcast per FMA, but no lane sums and each
    /// element of A loaded once; it wastes the lanes past n, so it takes only n > 3L/4. Unless op(B) is
    /// row-major with L columns (read in place), it first copies op(B) (k·L elements, scalar), which
    /// pays only over many rows (at m = 64, F32 k = 1024: 3.2 ms per 4096 rows against 2.0 for
    /// [#narrow]). A subset of what [#narrows] takes, so [#takes] need not name it.
    private static boolean broadcastsOne(boolean ta, boolean tb, int m, int n, int k, int ldb) {
        return !ta && k >= L && 4 * n > 3 * L && n <= L && m >= (readsBInPlace(tb, n, ldb) ? MR1 : BCAST1_COPY_M);
    }

    /// Whether [#broadcastOne] reads op(B)'s rows where they are: B row-major with exactly L columns.
    private static boolean readsBInPlace(boolean tb, int n, int ldb) {
        return !tb && n == L && ldb == L;
    }

    private static boolean narrows(boolean ta, int m, int n, int k) {
        return !ta && k >= L && (n < 2 * NR || n <= 64 && (long) m * k <= NARROW_A);
    }

    /// `C = alpha·op(A)·op(B) + beta·C` on up to `tasks` threads, for a product that [#takes] says is skinny.
    static void gemm(int tasks, boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                     float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        if (broadcasts(ta, n, k)) broadcast(tasks, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
        else if (broadcastsOne(ta, tb, m, n, k, ldb)) broadcastOne(tasks, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
        else if (narrows(ta, m, n, k)) narrow(tasks, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
        else if (m > FEW_M) shortK(tasks, ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
        else fewRows(tasks, ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
    }

    /// Few columns of C, op(A) row-major, such as `x·Aᵀ` in a LoRA layer: each C(i, j) is a dot product
    /// along K of row i of A, read in place, and column j of op(B), contiguous when B is stored
    /// transposed (else copied so once). No lanes idle on the narrow side and A is read once; K goes in
    /// chunks of [#K_CHUNK] so that a 4-row group of A is reread from L1 for each group of 4 columns.
    static void narrow(int tasks, boolean tb, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                       float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        float[] bt = b;
        int offT = offB, ldt = ldb;
        if (!tb) {                                          // op(B)(p, j) = b[p·ldb + j]: gather columns
            bt = SCRATCH.get().b(n * k);
            for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[j * k + p] = b[offB + p * ldb + j];
            offT = 0;
            ldt = k;
        }
        float[] cols = bt;
        int chunk = n > 8 && (long) m * k <= NARROW_A ? K_CHUNK_SMALL_A : K_CHUNK;
        int chunks = GemmF32.ceilDiv(k, chunk), kch = GemmF32.ceilDiv(GemmF32.ceilDiv(k, chunks), L) * L;
        int oT = offT, lT = ldt, groups = GemmF32.ceilDiv(m, 4), t = Math.min(tasks, groups);
        // A K tail (only the last chunk's, as kch is a multiple of L) goes through zero-padded copies of
        // its A rows and B columns: the same sums as masked loads, bit for bit, and dot4x4 stays small
        // enough for C1's profiling tier (with a masked tail it failed there, "out of virtual registers",
        // and could then stay interpreted-speed when short calls made it hot first).
        int lastPc = (k - 1) / kch * kch, kpad = GemmF32.ceilDiv(k - lastPc, L) * L;
        boolean padded = (k - lastPc) % L != 0;
        float[] btail = padded ? new float[n * kpad] : null;
        if (padded) for (int j = 0; j < n; j++) System.arraycopy(cols, oT + j * lT + lastPc, btail, j * kpad, k - lastPc);
        Team.run(t, task -> {                               // one band per thread, on the spinning team
            int s = (int) ((long) groups * task / t), e = (int) ((long) groups * (task + 1) / t);
            float[] out = SCRATCH.get().dots;
            float[] atail = padded ? new float[4 * kpad] : null;
            for (int g = s; g < e; g++) {
                int i0 = 4 * g, rows = Math.min(4, m - i0);
                if (padded) for (int i = 0; i < rows; i++) System.arraycopy(a, offA + (i0 + i) * lda + lastPc, atail, i * kpad, k - lastPc);
                for (int pc = 0; pc < k; pc += kch) {
                    int kc = Math.min(kch, k - pc);
                    float betaNow = pc == 0 ? beta : 1;    // later chunks add to the first
                    for (int j0 = 0; j0 < n; j0 += 4) {
                        int nj = Math.min(4, n - j0);
                        if (padded && pc == lastPc) dot4x4(kpad, atail, 0, kpad, rows, btail, j0 * kpad, kpad, nj, out);
                        else dot4x4(kc, a, offA + i0 * lda + pc, lda, rows, cols, oT + j0 * lT + pc, lT, nj, out);
                        for (int i = 0; i < rows; i++) {
                            int o = offC + (i0 + i) * ldc + j0;
                            for (int j = 0; j < nj; j++) {
                                float v = alpha * out[4 * i + j];
                                c[o + j] = betaNow == 0 ? v : v + betaNow * c[o + j];
                            }
                        }
                    }
                }
            }
        });
    }

    /// Few columns of C with op(A) row-major, in broadcast form (`x·Aᵀ` for r = 32 or 64): op(B) (k×n,
    /// small) is packed once into NR-wide micro-panels, and each MR-row tile of C runs K past them,
    /// broadcasting elements of A read in place from its MR rows (sequential streams the prefetchers
    /// follow) against the two vectors of a panel row. A is neither packed (for n = 64, packing A costs
    /// as much as the product) nor reduced across lanes. With several panels, K goes in chunks of [#BCAST_KC] so that the tile's rows of A are
    /// reread from L1 for each panel. Tasks split the rows, so every row is summed in one fixed order.
    static void broadcast(int tasks, boolean tb, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                          float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        int panels = GemmF32.ceilDiv(n, NR);
        float[] pb = SCRATCH.get().b(panels * NR * k);     // (p, j) of panel q at q·NR·k + p·NR + j
        packB(tb, b, offB, ldb, 0, k, 0, n, pb);
        int kch = panels == 1 ? k : Math.min(k, BCAST_KC), units = GemmF32.ceilDiv(m, MR), t = Math.min(tasks, units);
        Team.run(t, task -> {
            float[] tile = SCRATCH.get().tile;
            int i1 = Math.min(m, (int) ((long) units * (task + 1) / t) * MR);
            for (int i = (int) ((long) units * task / t) * MR; i < i1; i += MR) {
                int rows = Math.min(MR, i1 - i);
                for (int pc = 0; pc < k; pc += kch) {
                    int kc = Math.min(kch, k - pc);
                    float betaNow = pc == 0 ? beta : 1;    // later chunks add to the first
                    for (int q = 0; q < panels; q++) {
                        int ia = offA + i * lda + pc, ib = q * NR * k + pc * NR, ic = offC + i * ldc + q * NR;
                        broadcastTile(kc, a, ia, lda, rows, pb, ib, tile);
                        writeTile(rows, Math.min(NR, n - q * NR), tile, alpha, betaNow, c, ic, ldc);
                    }
                }
            }
        });
    }

    /// At most one vector of columns (n ≤ L), op(A) row-major: each [#MR1]-row tile of C is one vector
    /// per row, summed over K by broadcasting the elements of its rows of A, read in place, against row
    /// p of op(B), one vector: B itself when it is row-major with exactly L columns (`dy·B` in a LoRA
    /// layer), else a copy padded with zero columns. Tasks split the rows, so every row is summed in
    /// one fixed order.
    static void broadcastOne(int tasks, boolean tb, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                             float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        float[] pb = b;
        int ob = offB;
        if (!readsBInPlace(tb, n, ldb)) {                   // row p of op(B) at pb[p·L], zero past n
            pb = SCRATCH.get().b(k * L);
            ob = 0;
            java.util.Arrays.fill(pb, 0, k * L, 0);
            if (tb) for (int j = 0; j < n; j++) for (int p = 0, src = offB + j * ldb; p < k; p++) pb[p * L + j] = b[src + p];
            else for (int p = 0; p < k; p++) System.arraycopy(b, offB + p * ldb, pb, p * L, n);
        }
        float[] rowsB = pb;
        int o = ob, units = GemmF32.ceilDiv(m, MR1), t = Math.min(tasks, units);
        Team.run(t, task -> {
            float[] tile = SCRATCH.get().tile;             // MR·NR = 16·L elements
            var mask = S.indexInRange(0, n);
            FloatVector va = FloatVector.broadcast(S, alpha), vb = FloatVector.broadcast(S, beta);
            int i1 = Math.min(m, (int) ((long) units * (task + 1) / t) * MR1);
            for (int i = (int) ((long) units * task / t) * MR1; i < i1; i += MR1) {
                int rows = Math.min(MR1, i1 - i);
                broadcastOneTile(k, a, offA + i * lda, lda, rows, rowsB, o, tile);
                for (int q = 0; q < rows; q++) {
                    int oc = offC + (i + q) * ldc;
                    FloatVector v = FloatVector.fromArray(S, tile, q * L).mul(va);
                    if (beta != 0) v = FloatVector.fromArray(S, c, oc, mask).fma(vb, v);
                    v.intoArray(c, oc, mask);
                }
            }
        });
    }

    /// tile[i·L + j] = Σ_p A(i, p)·pb[ib + p·L + j] for i < [#MR1], j < L, p < kc, A row i at `a0 + i·lda`
    /// (rows past `rows` repeat the last one: computed, not written).
    static void broadcastOneTile(int kc, float[] a, int a0, int lda, int rows, float[] pb, int ib, float[] tile) {
        int o1 = a0 + Math.min(1, rows - 1) * lda, o2 = a0 + Math.min(2, rows - 1) * lda, o3 = a0 + Math.min(3, rows - 1) * lda;
        int o4 = a0 + Math.min(4, rows - 1) * lda, o5 = a0 + Math.min(5, rows - 1) * lda, o6 = a0 + Math.min(6, rows - 1) * lda;
        int o7 = a0 + Math.min(7, rows - 1) * lda, o8 = a0 + Math.min(8, rows - 1) * lda, o9 = a0 + Math.min(9, rows - 1) * lda;
        int o10 = a0 + Math.min(10, rows - 1) * lda, o11 = a0 + Math.min(11, rows - 1) * lda, o12 = a0 + Math.min(12, rows - 1) * lda;
        int o13 = a0 + Math.min(13, rows - 1) * lda, o14 = a0 + Math.min(14, rows - 1) * lda, o15 = a0 + Math.min(15, rows - 1) * lda;
        FloatVector z = FloatVector.zero(S);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
        FloatVector c8 = z, c9 = z, c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z;
        for (int p = 0; p < kc; p++) {
            FloatVector y = FloatVector.fromArray(S, pb, ib + p * L);
            c0 = FloatVector.broadcast(S, a[a0 + p]).fma(y, c0);
            c1 = FloatVector.broadcast(S, a[o1 + p]).fma(y, c1);
            c2 = FloatVector.broadcast(S, a[o2 + p]).fma(y, c2);
            c3 = FloatVector.broadcast(S, a[o3 + p]).fma(y, c3);
            c4 = FloatVector.broadcast(S, a[o4 + p]).fma(y, c4);
            c5 = FloatVector.broadcast(S, a[o5 + p]).fma(y, c5);
            c6 = FloatVector.broadcast(S, a[o6 + p]).fma(y, c6);
            c7 = FloatVector.broadcast(S, a[o7 + p]).fma(y, c7);
            c8 = FloatVector.broadcast(S, a[o8 + p]).fma(y, c8);
            c9 = FloatVector.broadcast(S, a[o9 + p]).fma(y, c9);
            c10 = FloatVector.broadcast(S, a[o10 + p]).fma(y, c10);
            c11 = FloatVector.broadcast(S, a[o11 + p]).fma(y, c11);
            c12 = FloatVector.broadcast(S, a[o12 + p]).fma(y, c12);
            c13 = FloatVector.broadcast(S, a[o13 + p]).fma(y, c13);
            c14 = FloatVector.broadcast(S, a[o14 + p]).fma(y, c14);
            c15 = FloatVector.broadcast(S, a[o15 + p]).fma(y, c15);
        }
        c0.intoArray(tile, 0);
        c1.intoArray(tile, L);
        c2.intoArray(tile, 2 * L);
        c3.intoArray(tile, 3 * L);
        c4.intoArray(tile, 4 * L);
        c5.intoArray(tile, 5 * L);
        c6.intoArray(tile, 6 * L);
        c7.intoArray(tile, 7 * L);
        c8.intoArray(tile, 8 * L);
        c9.intoArray(tile, 9 * L);
        c10.intoArray(tile, 10 * L);
        c11.intoArray(tile, 11 * L);
        c12.intoArray(tile, 12 * L);
        c13.intoArray(tile, 13 * L);
        c14.intoArray(tile, 14 * L);
        c15.intoArray(tile, 15 * L);
    }

    /// tile[i·NR + j] = Σ_p A(i, p)·pb[ib + p·NR + j] for i < MR, p < kc, A row i at `a0 + i·lda` (rows
    /// past `rows` repeat the last one: computed, not written).
    static void broadcastTile(int kc, float[] a, int a0, int lda, int rows, float[] pb, int ib, float[] tile) {
        int o1 = a0 + Math.min(1, rows - 1) * lda, o2 = a0 + Math.min(2, rows - 1) * lda, o3 = a0 + Math.min(3, rows - 1) * lda;
        int o4 = a0 + Math.min(4, rows - 1) * lda, o5 = a0 + Math.min(5, rows - 1) * lda, o6 = a0 + Math.min(6, rows - 1) * lda;
        int o7 = a0 + Math.min(7, rows - 1) * lda;
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int p = 0; p < kc; p++) {
            int bp = ib + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bp), b1 = FloatVector.fromArray(S, pb, bp + L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[o1 + p]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[o2 + p]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[o3 + p]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[o4 + p]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[o5 + p]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[o6 + p]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[o7 + p]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        c60.intoArray(tile, 6 * NR);
        c61.intoArray(tile, 6 * NR + L);
        c70.intoArray(tile, 7 * NR);
        c71.intoArray(tile, 7 * NR + L);
    }

    /// C[i, j] = alpha·tile[i·NR + j] + beta·C[i, j] for i < rows, j < cols, by masked vectors; with
    /// beta = 0, C is not read.
    static void writeTile(int rows, int cols, float[] tile, float alpha, float beta, float[] c, int ic, int ldc) {
        FloatVector va = FloatVector.broadcast(S, alpha), vb = FloatVector.broadcast(S, beta);
        for (int v = 0; v < cols; v += L) {
            var mask = S.indexInRange(v, cols);
            for (int i = 0; i < rows; i++) {
                int o = ic + i * ldc + v;
                FloatVector t = FloatVector.fromArray(S, tile, i * NR + v).mul(va);
                if (beta != 0) t = FloatVector.fromArray(S, c, o, mask).fma(vb, t);
                t.intoArray(c, o, mask);
            }
        }
    }

    /// Few rows of C (m ≤ [#FEW_M]), such as `hᵀ·dy` (the LoRA gradient of B) or `Qᵀ·A` (randomized
    /// SVD): per K block, op(A) (m×KS, tiny) is packed once, then B goes by in KS×WS blocks, each packed
    /// into NR-column micro-panels that stay in L2 while all MR-row tiles of C take [GemmF32#tile]
    /// over them. C (m×n) is read and written once per K block and stays in L2 for m·n ≲ 2^17. B is read
    /// once, in rows of WS contiguous elements, so the prefetchers follow it. Tasks split the columns.
    static void fewRows(int tasks, boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                        float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        if (!tb && (long) k * n <= IN_PLACE_B) {
            fewRowsInPlace(tasks, ta, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
            return;
        }
        int units = GemmF32.ceilDiv(n, NR), t = Math.min(tasks, units);
        int kcMax = GemmF32.ceilDiv(k, GemmF32.ceilDiv(k, KS)), mp = GemmF32.ceilDiv(m, MR) * MR;
        Parallel.forRange(t, 1, (s, e) -> {
            Scratch buf = SCRATCH.get();
            float[] pa = buf.a(mp * kcMax), pb = buf.b(kcMax * WS);
            for (int task = s; task < e; task++) {
                int j0 = (int) ((long) units * task / t) * NR, j1 = Math.min(n, (int) ((long) units * (task + 1) / t) * NR);
                for (int pc = 0; pc < k; pc += kcMax) {
                    int kc = Math.min(kcMax, k - pc);
                    float betaNow = pc == 0 ? beta : 1;
                    GemmF32.packA(ta, a, offA, lda, 0, m, pc, kc, pa);
                    for (int jc = j0; jc < j1; jc += WS) {
                        int nc = Math.min(WS, j1 - jc);
                        packB(tb, b, offB, ldb, pc, kc, jc, nc, pb);
                        for (int jr = 0; jr < nc; jr += NR) {
                            int cols = Math.min(NR, nc - jr);
                            for (int ir = 0; ir < m; ir += MR) {
                                GemmF32.tile(kc, pa, ir * kc, pb, jr * kc, c, offC + ir * ldc + jc + jr, ldc,
                                        Math.min(MR, m - ir), cols, alpha, betaNow, buf.tile);
                            }
                        }
                    }
                }
            }
        });
    }

    /// [#fewRows] for a row-major op(B) small enough to sit in L2 (k·n ≤ [#IN_PLACE_B], such as the
    /// 64-row block of dy or x that the LoRA backward's `uᵀ·dy` and `dhᵀ·x` read right after another
    /// product did): op(A) is packed once, and the kernel reads B's rows in place, two vectors at a
    /// time, instead of copying B first (a copy of B costs about half as much as the product at m = 16).
    /// The last, partial column panel is packed as in [#fewRows]. Tasks split the columns.
    static void fewRowsInPlace(int tasks, boolean ta, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                               float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        int units = GemmF32.ceilDiv(n, NR), t = Math.min(tasks, units), mp = GemmF32.ceilDiv(m, MR) * MR;
        float[] pa = SCRATCH.get().a(mp * k);
        GemmF32.packA(ta, a, offA, lda, 0, m, 0, k, pa);
        Team.run(t, task -> {
            Scratch buf = SCRATCH.get();
            int j0 = (int) ((long) units * task / t) * NR, j1 = Math.min(n, (int) ((long) units * (task + 1) / t) * NR);
            for (int jr = j0; jr < j1; jr += NR) {
                int cols = Math.min(NR, j1 - jr);
                if (cols < NR) {                            // the partial panel: packed, masked by packB
                    float[] pb = buf.b(k * NR);
                    packB(false, b, offB, ldb, 0, k, jr, cols, pb);
                    for (int ir = 0; ir < m; ir += MR) {
                        GemmF32.tile(k, pa, ir * k, pb, 0, c, offC + ir * ldc + jr, ldc, Math.min(MR, m - ir), cols, alpha, beta, buf.tile);
                    }
                    continue;
                }
                for (int ir = 0; ir < m; ir += MR) {
                    inPlaceTile(k, pa, ir * k, b, offB + jr, ldb, buf.tile);
                    writeTile(Math.min(MR, m - ir), NR, buf.tile, alpha, beta, c, offC + ir * ldc + jr, ldc);
                }
            }
        });
    }

    /// tile[i·NR + j] = Σ_p pa[ia + p·MR + i]·b[ib + p·ldb + j] for i < MR, j < NR, p < kc: a packed
    /// A micro-panel against NR columns of B read in place.
    static void inPlaceTile(int kc, float[] pa, int ia, float[] b, int ib, int ldb, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int p = 0, bp = ib; p < kc; p++, bp += ldb) {
            int ap = ia + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp), b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x = FloatVector.broadcast(S, pa[ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, pa[ap + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, pa[ap + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, pa[ap + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, pa[ap + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, pa[ap + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, pa[ap + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, pa[ap + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        c60.intoArray(tile, 6 * NR);
        c61.intoArray(tile, 6 * NR + L);
        c70.intoArray(tile, 7 * NR);
        c71.intoArray(tile, 7 * NR + L);
    }

    /// Short products (k ≤ [#SHORT_K]), such as `u·Bᵀ` and `dh·A` in a LoRA layer: C is the big operand
    /// and its writes are the cost. op(B) (k×n, small) is packed once and shared; each task takes MR-row
    /// bands of C and writes each band left to right with [GemmF32#tileCold], so C goes out as MR
    /// sequential streams (the packed path writes MC-row blocks one NR-wide strip at a time, MC streams
    /// that the prefetchers do not follow).
    static void shortK(int tasks, boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                       float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        float[] pb = SCRATCH.get().b(k * GemmF32.ceilDiv(n, NR) * NR);
        packB(tb, b, offB, ldb, 0, k, 0, n, pb);
        int units = GemmF32.ceilDiv(m, MR), t = Math.min(tasks, units);
        Parallel.forRange(t, 1, (s, e) -> {
            Scratch buf = SCRATCH.get();
            float[] pa = buf.a(MR * k);                    // not buf.b: that may be pb, on this thread
            for (int task = s; task < e; task++) {
                int i1 = Math.min(m, (int) ((long) units * (task + 1) / t) * MR);
                for (int i = (int) ((long) units * task / t) * MR; i < i1; i += MR) {
                    int rows = Math.min(MR, i1 - i);
                    GemmF32.packA(ta, a, offA, lda, i, rows, 0, k, pa);
                    for (int jr = 0; jr < n; jr += NR) {
                        GemmF32.tileCold(k, pa, 0, pb, jr * k, c, offC + i * ldc + jr, ldc, rows, Math.min(NR, n - jr), alpha, beta, buf.tile);
                    }
                }
            }
        });
    }

    /// [GemmF32#packB], with a row-major op(B) copied by vectors (masked ones for the last, partial
    /// panel, whose missing lanes load as zeros): the `System.arraycopy` of NR elements there costs
    /// about as much per call as the kernel then spends on them.
    static void packB(boolean tb, float[] b, int offB, int ldb, int p0, int kc, int j0, int nc, float[] dst) {
        if (tb) {
            GemmF32.packB(true, b, offB, ldb, p0, kc, j0, nc, dst);
            return;
        }
        for (int jp = 0; jp < nc; jp += NR) {
            int cols = Math.min(NR, nc - jp), src = offB + p0 * ldb + j0 + jp, d = jp * kc;
            if (cols == NR) {
                for (int p = 0; p < kc; p++, src += ldb, d += NR) {
                    FloatVector.fromArray(S, b, src).intoArray(dst, d);
                    FloatVector.fromArray(S, b, src + L).intoArray(dst, d + L);
                }
            } else {
                var m0 = S.indexInRange(0, cols);
                var m1 = S.indexInRange(L, cols);
                for (int p = 0; p < kc; p++, src += ldb, d += NR) {
                    FloatVector.fromArray(S, b, src, m0).intoArray(dst, d);
                    FloatVector.fromArray(S, b, src + L, m1).intoArray(dst, d + L);
                }
            }
        }
    }

    /// out[4·i + j] = Σ_p a[a0 + i·lda + p]·bt[b0 + j·ldt + p] for i < 4, j < 4, p < k, k a multiple of L
    /// (a K tail goes through zero-padded copies, see [#narrow]); rows past `rows` and columns past `cols`
    /// repeat the last valid one (their sums are computed and ignored).
    static void dot4x4(int k, float[] a, int a0, int lda, int rows, float[] bt, int b0, int ldt, int cols, float[] out) {
        int r1 = a0 + Math.min(1, rows - 1) * lda, r2 = a0 + Math.min(2, rows - 1) * lda, r3 = a0 + Math.min(3, rows - 1) * lda;
        int q1 = b0 + Math.min(1, cols - 1) * ldt, q2 = b0 + Math.min(2, cols - 1) * ldt, q3 = b0 + Math.min(3, cols - 1) * ldt;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
        int p = 0;
        for (; p <= k - L; p += L) {
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + p), x1 = FloatVector.fromArray(S, a, r1 + p);
            FloatVector x2 = FloatVector.fromArray(S, a, r2 + p), x3 = FloatVector.fromArray(S, a, r3 + p);
            FloatVector y = FloatVector.fromArray(S, bt, b0 + p);
            s00 = x0.fma(y, s00);
            s10 = x1.fma(y, s10);
            s20 = x2.fma(y, s20);
            s30 = x3.fma(y, s30);
            y = FloatVector.fromArray(S, bt, q1 + p);
            s01 = x0.fma(y, s01);
            s11 = x1.fma(y, s11);
            s21 = x2.fma(y, s21);
            s31 = x3.fma(y, s31);
            y = FloatVector.fromArray(S, bt, q2 + p);
            s02 = x0.fma(y, s02);
            s12 = x1.fma(y, s12);
            s22 = x2.fma(y, s22);
            s32 = x3.fma(y, s32);
            y = FloatVector.fromArray(S, bt, q3 + p);
            s03 = x0.fma(y, s03);
            s13 = x1.fma(y, s13);
            s23 = x2.fma(y, s23);
            s33 = x3.fma(y, s33);
        }
        // The 16 horizontal sums as a tree of lane-pair additions, log2 L rounds in which lane l < L/2
        // of the result is u[2l] + u[2l+1] and lane L/2 + l is v[2l] + v[2l+1] (two-vector permutes), so
        // each source's partial sums stay adjacent and in order. A fixed order: reduceLanes' order is
        // unspecified and differs between the intrinsic and its fallback, which would make results
        // depend on the JIT. A scalar sum of the lanes cost a third of the loop at k = 1024. Written out
        // rather than a helper: C2 stops inlining small calls in a method this size, and an
        // out-of-line call boxes its vectors (measured: half the time of a 64·L chunk).
        FloatVector w0 = EVEN.selectFrom(s00, s01).add(ODD.selectFrom(s00, s01));
        FloatVector w1 = EVEN.selectFrom(s02, s03).add(ODD.selectFrom(s02, s03));
        FloatVector w2 = EVEN.selectFrom(s10, s11).add(ODD.selectFrom(s10, s11));
        FloatVector w3 = EVEN.selectFrom(s12, s13).add(ODD.selectFrom(s12, s13));
        FloatVector w4 = EVEN.selectFrom(s20, s21).add(ODD.selectFrom(s20, s21));
        FloatVector w5 = EVEN.selectFrom(s22, s23).add(ODD.selectFrom(s22, s23));
        FloatVector w6 = EVEN.selectFrom(s30, s31).add(ODD.selectFrom(s30, s31));
        FloatVector w7 = EVEN.selectFrom(s32, s33).add(ODD.selectFrom(s32, s33));
        if (L == 2) {
            w0.intoArray(out, 0);
            w1.intoArray(out, 2);
            w2.intoArray(out, 4);
            w3.intoArray(out, 6);
            w4.intoArray(out, 8);
            w5.intoArray(out, 10);
            w6.intoArray(out, 12);
            w7.intoArray(out, 14);
            return;
        }
        FloatVector x0 = EVEN.selectFrom(w0, w1).add(ODD.selectFrom(w0, w1));
        FloatVector x1 = EVEN.selectFrom(w2, w3).add(ODD.selectFrom(w2, w3));
        FloatVector x2 = EVEN.selectFrom(w4, w5).add(ODD.selectFrom(w4, w5));
        FloatVector x3 = EVEN.selectFrom(w6, w7).add(ODD.selectFrom(w6, w7));
        if (L == 4) {
            x0.intoArray(out, 0);
            x1.intoArray(out, 4);
            x2.intoArray(out, 8);
            x3.intoArray(out, 12);
            return;
        }
        FloatVector y0 = EVEN.selectFrom(x0, x1).add(ODD.selectFrom(x0, x1));
        FloatVector y1 = EVEN.selectFrom(x2, x3).add(ODD.selectFrom(x2, x3));
        if (L == 8) {
            y0.intoArray(out, 0);
            y1.intoArray(out, 8);
            return;
        }
        EVEN.selectFrom(y0, y1).add(ODD.selectFrom(y0, y1)).intoArray(out, 0);                 // L = 16
    }
}
