package dev.rankwise.cpu.gemm;

import dev.rankwise.cpu.Parallel;
import dev.rankwise.cpu.Team;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/// F32 GEMM `C = alpha·op(A)·op(B) + beta·C` on row-major arrays, the BLIS way (Van Zee & van de Geijn,
/// "BLIS: A Framework for Rapidly Instantiating BLAS Functionality", 2015):
///
/// ```
/// for jc in N step NC
///   for kb in K step K_BLOCKS·KC             pack B[kb.., jc..] into KC×NR micro-panels (L3)
///     for ic in M step MC                    the MC×NC block of C stays in L2 over these K blocks
///       for pc in kb.. step KC               pack A[ic.., pc..] into MR×KC micro-panels (L2)
///         for jr in NC step NR               one B micro-panel stays in L1 …
///           for ir in MC step MR             … while the A micro-panels stream past it
///             micro-kernel: MR×NR tile of C in 16 vector registers, KC rank-1 updates
/// ```
///
/// Packing resolves the transposes and pads edges with zeros, so the micro-kernel always computes a
/// full tile; edge tiles are written back through a scratch tile. Arguments are validated by [Gemm].
///
/// GENERATED from `GemmF64.java` by `GenerateGemmF32` (engine-cpu-vector tests). Do not edit.
final class GemmF32 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /// Lanes per vector.
    static final int L = S.length();
    /// The micro-tile: MR rows × two vectors. Measured on AVX-512 against 12×2, 14×2, 8×3, 6×4, 16×1
    /// and 24×1 tiles: 8×2 is as fast as any, and C2 keeps its 16 accumulators, 2 B vectors and the 8
    /// broadcast A values in registers; tiles with more than 28 live vectors spill.
    static final int MR = 8, NR = 2 * L;
    /// Cache blocks in elements. The KC×NR micro-panel of B and the MR×KC micro-panel of A streaming
    /// past it share the 48 KiB L1: 40 KiB for F32 (KC 256), 36 KiB for F64 (KC 192; at 256 the F64
    /// panels take all of L1 and the kernel ran 10% slower even with C out of the picture). MC×KC of A
    /// lives in L2. C is the expensive operand: every K block reads and writes each tile of it again, so
    /// the K blocks run innermost over an MC×NC block of C (384 KiB for either type) that stays in L2
    /// beside the KC×NC panel of B in use, instead of leaving for L3 between K blocks. Measured in
    /// alternating JVMs against the earlier order (K blocks outside the row blocks, NC 4096, KC 256),
    /// one thread: 2000³ F64 60–63 → 66–68 GFLOP/s, F32 131–141 → 144–148; powers of two unchanged.
    static final int KC = S.elementSize() == 64 ? 192 : 256, MC = 96, NC = S.elementSize() == 64 ? 512 : 1024;
    /// B is packed for up to this many K blocks at a time: at most K_BLOCKS·KC×NC elements (8 MiB for
    /// F32, 6 MiB for F64) per thread, however long K is.
    static final int K_BLOCKS = 8;
    /// Below this many flops one thread does the whole product (a fork costs a few microseconds).
    static final long PARALLEL_FLOPS = 1L << 21;

    private GemmF32() {}

    /// Per-thread packing buffers, reused across calls so hot loops allocate nothing.
    private static final class Buffers {
        final float[] a = new float[MC * KC];
        final float[] tile = scratchTile();
        float[] b = new float[0];

        float[] b(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /// The whole product, split over [Parallel]'s pool. Expects m, n, k > 0 and alpha ≠ 0.
    static void gemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                     float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
        int tasks = 2L * m * n * k < PARALLEL_FLOPS ? 1 : Parallel.threads();
        if (GemmNarrowF32.takes(ta, tb, m, n, k)) {
            GemmNarrowF32.gemm(tasks, ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
            return;
        }
        // Each task owns a band of C and packs what it needs itself, so tasks never wait on each other.
        // Splitting rows repacks B in every task, splitting columns repacks A: split the side whose
        // operand copy is cheaper (rows when n < m, i.e. when B is the smaller operand).
        boolean rows = m >= n;
        int units = rows ? ceilDiv(m, MR) : ceilDiv(n, NR);
        int t = Math.min(tasks, units);
        if (t <= 1) {
            block(ta, tb, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, 0, m, 0, n);
            return;
        }
        java.util.function.IntConsumer task = i -> {
            int u0 = (int) ((long) units * i / t), u1 = (int) ((long) units * (i + 1) / t);
            if (rows) block(ta, tb, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, u0 * MR, Math.min(m, u1 * MR), 0, n);
            else block(ta, tb, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, 0, m, u0 * NR, Math.min(n, u1 * NR));
        };
        // One band per thread on the spinning team: the next call finds its helpers awake (see Team).
        Team.run(t, task);
    }

    /// C[i0:i1, j0:j1] on the calling thread.
    static void block(boolean ta, boolean tb, int k, float alpha, float[] a, int offA, int lda,
                      float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc,
                      int i0, int i1, int j0, int j1) {
        Buffers buf = BUFFERS.get();
        int kcMax = ceilDiv(k, ceilDiv(k, KC));            // equal K blocks: no thin last block
        int kbMax = K_BLOCKS * kcMax;
        int mcMax = ceilDiv(i1 - i0, ceilDiv(i1 - i0, MC));
        mcMax = ceilDiv(mcMax, MR) * MR;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc), ncp = ceilDiv(nc, NR) * NR;
            float[] pb = buf.b(Math.min(k, kbMax) * ncp);  // the K block at pc starts at (pc − kb)·ncp
            for (int kb = 0; kb < k; kb += kbMax) {
                int kbEnd = Math.min(k, kb + kbMax);
                for (int pc = kb; pc < kbEnd; pc += kcMax) {
                    packB(tb, b, offB, ldb, pc, Math.min(kcMax, k - pc), jc, nc, pb, (pc - kb) * ncp);
                }
                for (int ic = i0; ic < i1; ic += mcMax) {
                    int mc = Math.min(mcMax, i1 - ic);
                    for (int pc = kb; pc < kbEnd; pc += kcMax) {
                        int kc = Math.min(kcMax, k - pc), pbc = (pc - kb) * ncp;
                        float betaNow = pc == 0 ? beta : 1;
                        packA(ta, a, offA, lda, ic, mc, pc, kc, buf.a);
                        for (int jr = 0; jr < nc; jr += NR) {
                            int cols = Math.min(NR, nc - jr);
                            for (int ir = 0; ir < mc; ir += MR) {
                                tile(kc, buf.a, ir * kc, pb, pbc + jr * kc, c, offC + (ic + ir) * ldc + jc + jr, ldc,
                                        Math.min(MR, mc - ir), cols, alpha, betaNow, buf.tile);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Packs op(A)[i0:i0+mc, p0:p0+kc] as MR-row micro-panels: element (i, p) of panel q at
    /// `q·MR·kc + p·MR + i`, rows past mc zero.
    static void packA(boolean ta, float[] a, int offA, int lda, int i0, int mc, int p0, int kc, float[] dst) {
        for (int ip = 0; ip < mc; ip += MR) {
            int rows = Math.min(MR, mc - ip), base = ip * kc;
            if (ta) {                                       // op(A)(i, p) = a[p·lda + i]: rows are contiguous
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(a, offA + (p0 + p) * lda + i0 + ip, dst, base + p * MR, rows);
                }
            } else if (rows == MR && TRANSPOSES) {
                transposeRows(a, offA + (i0 + ip) * lda + p0, lda, kc, dst, base);
            } else {
                for (int i = 0; i < rows; i++) {
                    int src = offA + (i0 + ip + i) * lda + p0;
                    for (int p = 0; p < kc; p++) dst[base + p * MR + i] = a[src + p];
                }
            }
            if (rows < MR) {
                for (int p = 0; p < kc; p++) java.util.Arrays.fill(dst, base + p * MR + rows, base + (p + 1) * MR, 0);
            }
        }
    }

    /// Whether [#transposeRows] applies: its three interleaving stages turn MR = 8 rows of L ≥ 8 lanes
    /// into groups of 8 (AVX-512 in both types, AVX2 in F32); elsewhere A is packed element by element.
    static final boolean TRANSPOSES = MR == 8 && L >= 8;
    /// Index vectors of [#interleave] for blocks of 1, 2 and 4 lanes, from the low (…L) or high (…H)
    /// half of each source.
    private static final FloatVector I1L = interleave(1, 0), I1H = interleave(1, L / 2), I2L = interleave(2, 0),
            I2H = interleave(2, L / 2), I4L = interleave(4, 0), I4H = interleave(4, L / 2);

    /// Indices for `idx.selectFrom(x, y)` that alternate blocks of g lanes from x and y, each source
    /// giving its blocks in order from lane h on: lane q takes lane `h + ⌊q/2g⌋·g + q mod g` of x when
    /// ⌊q/g⌋ is even, of y when it is odd.
    private static FloatVector interleave(int g, int h) {
        float[] idx = new float[L];
        for (int q = 0; q < L; q++) idx[q] = (q / g % 2 == 0 ? 0 : L) + h + q / (2 * g) * g + q % g;
        return FloatVector.fromArray(S, idx, 0);
    }

    /// Packs MR = 8 rows of A starting at `src` (row stride lda), kc elements each, into one micro-panel
    /// at `dst[base + p·MR + i]`: L columns at a time, the 8×L block is transposed in registers by three
    /// rounds of two-source lane selection (pairs of rows, then pairs of pairs, then the two halves), 24
    /// permutes, 8 loads and 8 stores per 8·L elements where the element loop moves each one by itself.
    /// Measured, one thread: packing all of A for an F32 2048³ product 4.0 → 2.1 ms; the products of
    /// 1000³, 2048³ and 4096×1024×1024 2–6% faster in both types against OpenBLAS in the same JVM.
    static void transposeRows(float[] a, int src, int lda, int kc, float[] dst, int base) {
        int p = 0;
        for (; p <= kc - L; p += L) {
            int s = src + p;
            FloatVector r0 = FloatVector.fromArray(S, a, s), r1 = FloatVector.fromArray(S, a, s + lda);
            FloatVector r2 = FloatVector.fromArray(S, a, s + 2 * lda), r3 = FloatVector.fromArray(S, a, s + 3 * lda);
            FloatVector r4 = FloatVector.fromArray(S, a, s + 4 * lda), r5 = FloatVector.fromArray(S, a, s + 5 * lda);
            FloatVector r6 = FloatVector.fromArray(S, a, s + 6 * lda), r7 = FloatVector.fromArray(S, a, s + 7 * lda);
            // rows (0 1), (2 3), (4 5), (6 7) lane by lane: columns [0, L/2) in …l, [L/2, L) in …h
            FloatVector a0l = I1L.selectFrom(r0, r1), a0h = I1H.selectFrom(r0, r1);
            FloatVector a1l = I1L.selectFrom(r2, r3), a1h = I1H.selectFrom(r2, r3);
            FloatVector a2l = I1L.selectFrom(r4, r5), a2h = I1H.selectFrom(r4, r5);
            FloatVector a3l = I1L.selectFrom(r6, r7), a3h = I1H.selectFrom(r6, r7);
            // rows 0–3 and 4–7 in blocks of 2: columns in quarters
            FloatVector b0ll = I2L.selectFrom(a0l, a1l), b0lh = I2H.selectFrom(a0l, a1l);
            FloatVector b0hl = I2L.selectFrom(a0h, a1h), b0hh = I2H.selectFrom(a0h, a1h);
            FloatVector b1ll = I2L.selectFrom(a2l, a3l), b1lh = I2H.selectFrom(a2l, a3l);
            FloatVector b1hl = I2L.selectFrom(a2h, a3h), b1hh = I2H.selectFrom(a2h, a3h);
            // all 8 rows in blocks of 4: each vector holds L/8 whole columns, in column order
            int d = base + p * MR;
            I4L.selectFrom(b0ll, b1ll).intoArray(dst, d);
            I4H.selectFrom(b0ll, b1ll).intoArray(dst, d + L);
            I4L.selectFrom(b0lh, b1lh).intoArray(dst, d + 2 * L);
            I4H.selectFrom(b0lh, b1lh).intoArray(dst, d + 3 * L);
            I4L.selectFrom(b0hl, b1hl).intoArray(dst, d + 4 * L);
            I4H.selectFrom(b0hl, b1hl).intoArray(dst, d + 5 * L);
            I4L.selectFrom(b0hh, b1hh).intoArray(dst, d + 6 * L);
            I4H.selectFrom(b0hh, b1hh).intoArray(dst, d + 7 * L);
        }
        for (; p < kc; p++) {
            for (int i = 0; i < MR; i++) dst[base + p * MR + i] = a[src + i * lda + p];
        }
    }

    /// Packs op(B)[p0:p0+kc, j0:j0+nc] as NR-column micro-panels: element (p, j) of panel q at
    /// `q·NR·kc + p·NR + j`, columns past nc zero.
    static void packB(boolean tb, float[] b, int offB, int ldb, int p0, int kc, int j0, int nc, float[] dst) {
        packB(tb, b, offB, ldb, p0, kc, j0, nc, dst, 0);
    }

    /// [#packB(boolean, float[], int, int, int, int, int, int, float[])] into `dst` from `off` on.
    static void packB(boolean tb, float[] b, int offB, int ldb, int p0, int kc, int j0, int nc, float[] dst, int off) {
        for (int jp = 0; jp < nc; jp += NR) {
            int cols = Math.min(NR, nc - jp), base = off + jp * kc;
            if (!tb) {                                      // op(B)(p, j) = b[p·ldb + j]: columns are contiguous
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(b, offB + (p0 + p) * ldb + j0 + jp, dst, base + p * NR, cols);
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    int src = offB + (j0 + jp + j) * ldb + p0;
                    for (int p = 0; p < kc; p++) dst[base + p * NR + j] = b[src + p];
                }
            }
            if (cols < NR) {
                for (int p = 0; p < kc; p++) java.util.Arrays.fill(dst, base + p * NR + cols, base + (p + 1) * NR, 0);
            }
        }
    }

    /// A scratch tile for [#tile]: MR·NR elements, and one more for [#tileCold]'s sink.
    static float[] scratchTile() {
        return new float[MR * NR + 1];
    }

    /// One MR×NR tile of C at `ic`, of which the first rows × cols entries are written: a full tile goes
    /// straight to [#kernel], an edge tile through `scratch` (from [#scratchTile]) and [#writeEdge].
    static void tile(int kc, float[] pa, int ia, float[] pb, int ib, float[] c, int ic, int ldc,
                     int rows, int cols, float alpha, float beta, float[] scratch) {
        if (rows == MR && cols == NR) {
            kernel(kc, pa, ia, pb, ib, c, ic, ldc, alpha, beta);
        } else {
            kernel(kc, pa, ia, pb, ib, scratch, 0, NR, 1, 0);
            writeEdge(scratch, rows, cols, alpha, beta, c, ic, ldc);
        }
    }

    /// [#tile] for a C that comes from memory, written in one pass (the low-rank forward's output, the
    /// short-K path): first it loads one element of each of a full tile's cache lines, so that their
    /// misses overlap the kernel instead of stalling its write-back (Java has no prefetch instruction,
    /// and C's rows are ldc apart, which the hardware prefetchers do not follow). [#block] does without:
    /// it keeps C in L2 over its K blocks, and the loads measured 2–6% slower there.
    static void tileCold(int kc, float[] pa, int ia, float[] pb, int ib, float[] c, int ic, int ldc,
                         int rows, int cols, float alpha, float beta, float[] scratch) {
        if (rows == MR && cols == NR) {
            float touch = 0;
            for (int i = 0, o = ic; i < MR; i++, o += ldc) touch += c[o] + c[o + NR - 1];
            scratch[scratch.length - 1] = touch;            // a use, so the loads are not dropped
        }
        tile(kc, pa, ia, pb, ib, c, ic, ldc, rows, cols, alpha, beta, scratch);
    }

    /// One full MR×NR tile: `C = alpha·(Ã·B̃) + beta·C` for the packed micro-panels at `ia` and `ib`. Edge
    /// tiles go through a scratch tile and [#writeEdge], never through a branch in here: once C2 has seen
    /// an edge path in this method it compiles the whole kernel about 20% slower (measured: F32 2048³
    /// 141.6 → 112.7 GFLOP/s after one 2000³ product in the same JVM). The panel strides are constants on
    /// purpose: with a variable B stride C2 keeps range checks in the loop and spills (measured −15%).
    /// Everything stays in this one method: C2 would box vectors passed to a call it does not inline, and
    /// a method this size stops inlining early.
    static void kernel(int kc, float[] pa, int ia, float[] pb, int ib, float[] c, int ic, int ldc,
                       float alpha, float beta) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int p = 0; p < kc; p++) {
            int ap = ia + p * MR, bp = ib + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bp), b1 = FloatVector.fromArray(S, pb, bp + L);
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
        FloatVector va = FloatVector.broadcast(S, alpha);
        if (beta == 0) {                                // BLAS: with beta = 0, C is not read (NaNs vanish)
            c00.mul(va).intoArray(c, ic);
            c01.mul(va).intoArray(c, ic + L);
            c10.mul(va).intoArray(c, ic + ldc);
            c11.mul(va).intoArray(c, ic + ldc + L);
            c20.mul(va).intoArray(c, ic + 2 * ldc);
            c21.mul(va).intoArray(c, ic + 2 * ldc + L);
            c30.mul(va).intoArray(c, ic + 3 * ldc);
            c31.mul(va).intoArray(c, ic + 3 * ldc + L);
            c40.mul(va).intoArray(c, ic + 4 * ldc);
            c41.mul(va).intoArray(c, ic + 4 * ldc + L);
            c50.mul(va).intoArray(c, ic + 5 * ldc);
            c51.mul(va).intoArray(c, ic + 5 * ldc + L);
            c60.mul(va).intoArray(c, ic + 6 * ldc);
            c61.mul(va).intoArray(c, ic + 6 * ldc + L);
            c70.mul(va).intoArray(c, ic + 7 * ldc);
            c71.mul(va).intoArray(c, ic + 7 * ldc + L);
        } else {
            FloatVector vb = FloatVector.broadcast(S, beta);
            int o = ic;
            c00.fma(va, FloatVector.fromArray(S, c, o).mul(vb)).intoArray(c, o);
            c01.fma(va, FloatVector.fromArray(S, c, o + L).mul(vb)).intoArray(c, o + L);
            o += ldc;
            c10.fma(va, FloatVector.fromArray(S, c, o).mul(vb)).intoArray(c, o);
            c11.fma(va, FloatVector.fromArray(S, c, o + L).mul(vb)).intoArray(c, o + L);
            o += ldc;
            c20.fma(va, FloatVector.fromArray(S, c, o).mul(vb)).intoArray(c, o);
            c21.fma(va, FloatVector.fromArray(S, c, o + L).mul(vb)).intoArray(c, o + L);
            o += ldc;
            c30.fma(va, FloatVector.fromArray(S, c, o).mul(vb)).intoArray(c, o);
            c31.fma(va, FloatVector.fromArray(S, c, o + L).mul(vb)).intoArray(c, o + L);
            o += ldc;
            c40.fma(va, FloatVector.fromArray(S, c, o).mul(vb)).intoArray(c, o);
            c41.fma(va, FloatVector.fromArray(S, c, o + L).mul(vb)).intoArray(c, o + L);
            o += ldc;
            c50.fma(va, FloatVector.fromArray(S, c, o).mul(vb)).intoArray(c, o);
            c51.fma(va, FloatVector.fromArray(S, c, o + L).mul(vb)).intoArray(c, o + L);
            o += ldc;
            c60.fma(va, FloatVector.fromArray(S, c, o).mul(vb)).intoArray(c, o);
            c61.fma(va, FloatVector.fromArray(S, c, o + L).mul(vb)).intoArray(c, o + L);
            o += ldc;
            c70.fma(va, FloatVector.fromArray(S, c, o).mul(vb)).intoArray(c, o);
            c71.fma(va, FloatVector.fromArray(S, c, o + L).mul(vb)).intoArray(c, o + L);
        }
    }

    /// Writes the first rows × cols entries of a scratch tile (row stride NR, alpha = 1, beta = 0 applied)
    /// into C as `C = alpha·tile + beta·C`.
    static void writeEdge(float[] tile, int rows, int cols, float alpha, float beta, float[] c, int ic, int ldc) {
        for (int i = 0; i < rows; i++) {
            int o = ic + i * ldc;
            for (int j = 0; j < cols; j++) {
                float v = alpha * tile[i * NR + j];
                c[o + j] = beta == 0 ? v : v + beta * c[o + j];
            }
        }
    }

    /// `C = beta·C` (k = 0 or alpha = 0); with beta = 0, C is zeroed without being read.
    static void scale(int m, int n, float beta, float[] c, int offC, int ldc) {
        for (int i = 0; i < m; i++) {
            int o = offC + i * ldc;
            if (beta == 0) java.util.Arrays.fill(c, o, o + n, 0);
            else for (int j = 0; j < n; j++) c[o + j] *= beta;
        }
    }

    static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }
}
