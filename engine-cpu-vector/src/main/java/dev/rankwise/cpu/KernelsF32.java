package dev.rankwise.cpu;

import dev.rankwise.Tensor;
import dev.rankwise.ops.BinaryOp;
import dev.rankwise.ops.ReduceOp;
import dev.rankwise.ops.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/// F32 elementwise, reduction and indexing kernels on strided host arrays.
///
/// GENERATED from `KernelsF64.java` by `GenerateF32Kernels` (engine-cpu-vector tests). Do not edit.
final class KernelsF32 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /// Elements per buffer of gathered strided values (a multiple of every lane count).
    private static final int BUFFER = 1024;
    /// Elements per block of a reduction.
    static final int BLOCK = 4096;

    private KernelsF32() {}

    static float[] data(Tensor t) {
        return ((CpuStorage) t.storage()).f32;
    }

    private static FloatVector load(float[] a, int off) {
        return FloatVector.fromArray(S, a, off);
    }

    /// Lanes `i …` of a row at `off` that is contiguous (stride 1) or broadcast (stride 0).
    private static FloatVector load(float[] a, int off, int stride, int i) {
        return stride == 0 ? FloatVector.broadcast(S, a[off]) : FloatVector.fromArray(S, a, off + i);
    }

    private static int roundUp(int n) {
        return (n + L - 1) / L * L;
    }

    // ---------------------------------------------------------------- unary

    static void unary(UnaryOp op, Tensor x, Tensor out) {
        float[] xs = data(x), os = data(out);
        if (Strided.allContiguous(x, out)) {
            int n = (int) out.numel(), xo = x.offset(), oo = out.offset();
            Parallel.forRange(n, Strided.GRAIN, (s, e) -> unaryRow(op, xs, xo + s, 1, os, oo + s, 1, e - s));
            return;
        }
        Strided p = new Strided(out.shapeRef(), x, out);
        int sx = p.innerStride[0], so = p.innerStride[1];
        p.forEach((off, len) -> unaryRow(op, xs, off[0], sx, os, off[1], so, len));
    }

    private static void unaryRow(UnaryOp op, float[] x, int xo, int sx, float[] o, int oo, int so, int len) {
        int bound = sx == 1 && so == 1 ? S.loopBound(len) : 0;
        unaryVectors(op, x, xo, o, oo, bound);
        if (bound < len) unaryBuffered(op, x, xo + bound * sx, sx, o, oo + bound * so, so, len - bound);
    }

    /// Strided values and tails: gathered into a buffer padded to whole vectors, so they take the
    /// same lanes as contiguous data.
    private static void unaryBuffered(UnaryOp op, float[] x, int xo, int sx, float[] o, int oo, int so, int len) {
        float[] buf = new float[Math.min(BUFFER, roundUp(len))];
        for (int s = 0; s < len; s += buf.length) {
            int n = Math.min(buf.length, len - s);
            for (int i = 0; i < n; i++) buf[i] = x[xo + (s + i) * sx];
            unaryVectors(op, buf, 0, buf, 0, roundUp(n));
            for (int i = 0; i < n; i++) o[oo + (s + i) * so] = buf[i];
        }
    }

    /// `op` over `n` contiguous elements, `n` a multiple of the lane count. Each op has its own small
    /// loop method: the JIT compiles each with its own profile and keeps every vector in registers.
    private static void unaryVectors(UnaryOp op, float[] x, int xo, float[] o, int oo, int n) {
        switch (op) {
            case NEG -> neg(x, xo, o, oo, n);
            case ABS -> abs(x, xo, o, oo, n);
            case SQRT -> sqrt(x, xo, o, oo, n);
            case RSQRT -> rsqrt(x, xo, o, oo, n);
            case RELU -> relu(x, xo, o, oo, n);
            case SIGN -> sign(x, xo, o, oo, n);
            case EXP -> VectorMath.exp(x, xo, o, oo, n);
            case SIGMOID, SILU, GELU_TANH, TANH -> {
                float[] e = new float[Math.min(n, BUFFER)];
                for (int s = 0; s < n; s += BUFFER) activation(op, x, xo + s, o, oo + s, e, Math.min(BUFFER, n - s));
            }
            case LOG, ERF, GELU_ERF -> { // no vector version yet: the scalar definition, computed in F64
                for (int i = 0; i < n; i++) o[oo + i] = (float) op.apply(x[xo + i]);
            }
        }
    }

    private static void neg(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += L) load(x, xo + i).neg().intoArray(o, oo + i);
    }

    private static void abs(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += L) load(x, xo + i).abs().intoArray(o, oo + i);
    }

    private static void sqrt(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += L) load(x, xo + i).sqrt().intoArray(o, oo + i);
    }

    private static void rsqrt(float[] x, int xo, float[] o, int oo, int n) {
        FloatVector one = FloatVector.broadcast(S, (float) 1);
        for (int i = 0; i < n; i += L) one.div(load(x, xo + i).sqrt()).intoArray(o, oo + i);
    }

    private static void relu(float[] x, int xo, float[] o, int oo, int n) {
        FloatVector zero = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) load(x, xo + i).max(zero).intoArray(o, oo + i);
    }

    /// −1, +1, or x itself for ±0 and NaN (as `Math.signum`).
    private static void sign(float[] x, int xo, float[] o, int oo, int n) {
        FloatVector one = FloatVector.broadcast(S, (float) 1), minusOne = one.neg();
        for (int i = 0; i < n; i += L) {
            FloatVector v = load(x, xo + i);
            v.blend(one, v.compare(VectorOperators.GT, (float) 0)).blend(minusOne, v.compare(VectorOperators.LT, (float) 0)).intoArray(o, oo + i);
        }
    }

    /// The activations built on exp, in three passes over an L1-sized chunk (`e` is scratch):
    /// - sigmoid(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0, e = e^(−|x|): nothing overflows and
    ///   the small values of the negative side keep their precision;
    /// - SiLU(x) = x·sigmoid(x); GELU-tanh(x) = 0.5·x·(1 + tanh(u)) = x·sigmoid(2u),
    ///   u = √(2/π)·(x + 0.044715·x³), which has the sign of x;
    /// - tanh(x) = ±(−m)/(m + 2), m = e^(−2|x|) − 1, accurate near 0 where 1 − e^(−2|x|) would cancel.
    private static void activation(UnaryOp op, float[] x, int xo, float[] o, int oo, float[] e, int n) {
        switch (op) {
            case TANH -> {
                minusTwoAbs(x, xo, e, n);
                VectorMath.expm1NonPositive(e, 0, e, 0, n);
                tanhFromExpm1(x, xo, e, o, oo, n);
            }
            case SIGMOID -> {
                minusAbs(x, xo, e, n);
                VectorMath.exp(e, 0, e, 0, n);
                sigmoidFromExp(x, xo, e, o, oo, n);
            }
            case SILU -> {
                minusAbs(x, xo, e, n);
                VectorMath.exp(e, 0, e, 0, n);
                timesSigmoidFromExp(x, xo, e, o, oo, n);
            }
            default -> { // GELU_TANH
                minusAbsTwoU(x, xo, e, n);
                VectorMath.exp(e, 0, e, 0, n);
                timesSigmoidFromExp(x, xo, e, o, oo, n);
            }
        }
    }

    private static void minusAbs(float[] x, int xo, float[] e, int n) {
        for (int i = 0; i < n; i += L) load(x, xo + i).abs().neg().intoArray(e, i);
    }

    private static void minusTwoAbs(float[] x, int xo, float[] e, int n) {
        for (int i = 0; i < n; i += L) load(x, xo + i).abs().mul((float) -2).intoArray(e, i);
    }

    /// −|2u|, 2u = 2√(2/π)·x·(1 + 0.044715·x²).
    private static void minusAbsTwoU(float[] x, int xo, float[] e, int n) {
        FloatVector k = FloatVector.broadcast(S, (float) 0.044715), one = FloatVector.broadcast(S, (float) 1);
        FloatVector c = FloatVector.broadcast(S, (float) (-2 * Math.sqrt(2 / Math.PI)));
        for (int i = 0; i < n; i += L) {
            FloatVector v = load(x, xo + i);
            v.mul(v).fma(k, one).mul(v.abs()).mul(c).intoArray(e, i);
        }
    }

    private static void sigmoidFromExp(float[] x, int xo, float[] e, float[] o, int oo, int n) {
        FloatVector one = FloatVector.broadcast(S, (float) 1);
        for (int i = 0; i < n; i += L) {
            FloatVector ev = load(e, i);
            one.blend(ev, load(x, xo + i).compare(VectorOperators.LT, (float) 0)).div(ev.add(one)).intoArray(o, oo + i);
        }
    }

    private static void timesSigmoidFromExp(float[] x, int xo, float[] e, float[] o, int oo, int n) {
        FloatVector one = FloatVector.broadcast(S, (float) 1);
        for (int i = 0; i < n; i += L) {
            FloatVector v = load(x, xo + i), ev = load(e, i);
            v.mul(one.blend(ev, v.compare(VectorOperators.LT, (float) 0)).div(ev.add(one))).intoArray(o, oo + i);
        }
    }

    /// tanh(|x|) = −m/(m + 2) ≥ 0, then the sign bit of x (so tanh(−0) = −0).
    private static void tanhFromExpm1(float[] x, int xo, float[] m, float[] o, int oo, int n) {
        FloatVector two = FloatVector.broadcast(S, (float) 2);
        for (int i = 0; i < n; i += L) {
            FloatVector mv = load(m, i);
            FloatVector t = mv.div(mv.add(two)).abs();
            t.blend(t.neg(), load(x, xo + i).test(VectorOperators.IS_NEGATIVE)).intoArray(o, oo + i);
        }
    }

    // ---------------------------------------------------------------- binary

    static void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        float[] as = data(a), bs = data(b), os = data(out);
        if (Strided.allContiguous(a, b, out)) {
            int n = (int) out.numel(), ao = a.offset(), bo = b.offset(), oo = out.offset();
            Parallel.forRange(n, Strided.GRAIN, (s, e) -> binaryRow(op, as, ao + s, 1, bs, bo + s, 1, os, oo + s, 1, e - s));
            return;
        }
        Strided p = new Strided(out.shapeRef(), a, b, out);
        int sa = p.innerStride[0], sb = p.innerStride[1], so = p.innerStride[2];
        p.forEach((off, len) -> binaryRow(op, as, off[0], sa, bs, off[1], sb, os, off[2], so, len));
    }

    /// One row. Contiguous and broadcast operands run in vector lanes; other strides are gathered into
    /// buffers first. `o` may alias `a` or `b` at the same positions (in-place updates).
    private static void binaryRow(BinaryOp op, float[] a, int ao, int sa, float[] b, int bo, int sb,
                                  float[] o, int oo, int so, int len) {
        if (so == 1 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1)) {
            binaryVectors(op, a, ao, sa, b, bo, sb, o, oo, len);
            return;
        }
        int size = Math.min(BUFFER, len);
        float[] ba = new float[size], bb = new float[size], bo2 = new float[size];
        for (int s = 0; s < len; s += size) {
            int n = Math.min(size, len - s);
            for (int i = 0; i < n; i++) {
                ba[i] = a[ao + (s + i) * sa];
                bb[i] = b[bo + (s + i) * sb];
            }
            binaryVectors(op, ba, 0, 1, bb, 0, 1, bo2, 0, n);
            for (int i = 0; i < n; i++) o[oo + (s + i) * so] = bo2[i];
        }
    }

    /// `op` over `len` elements; `a` and `b` have stride 1 or 0, `o` stride 1. Every op here is
    /// correctly rounded, so the scalar tail gives the bits the lanes would.
    private static void binaryVectors(BinaryOp op, float[] a, int ao, int sa, float[] b, int bo, int sb,
                                      float[] o, int oo, int len) {
        int n = op == BinaryOp.POW ? 0 : S.loopBound(len);
        FloatVector one = FloatVector.broadcast(S, (float) 1), zero = FloatVector.zero(S);
        switch (op) {
            case ADD -> {
                for (int i = 0; i < n; i += L) load(a, ao, sa, i).add(load(b, bo, sb, i)).intoArray(o, oo + i);
            }
            case SUB -> {
                for (int i = 0; i < n; i += L) load(a, ao, sa, i).sub(load(b, bo, sb, i)).intoArray(o, oo + i);
            }
            case MUL -> {
                for (int i = 0; i < n; i += L) load(a, ao, sa, i).mul(load(b, bo, sb, i)).intoArray(o, oo + i);
            }
            case DIV -> {
                for (int i = 0; i < n; i += L) load(a, ao, sa, i).div(load(b, bo, sb, i)).intoArray(o, oo + i);
            }
            case MAX -> {
                for (int i = 0; i < n; i += L) load(a, ao, sa, i).max(load(b, bo, sb, i)).intoArray(o, oo + i);
            }
            case MIN -> {
                for (int i = 0; i < n; i += L) load(a, ao, sa, i).min(load(b, bo, sb, i)).intoArray(o, oo + i);
            }
            case GT -> {
                for (int i = 0; i < n; i += L) {
                    zero.blend(one, load(a, ao, sa, i).compare(VectorOperators.GT, load(b, bo, sb, i))).intoArray(o, oo + i);
                }
            }
            case GE -> {
                for (int i = 0; i < n; i += L) {
                    zero.blend(one, load(a, ao, sa, i).compare(VectorOperators.GE, load(b, bo, sb, i))).intoArray(o, oo + i);
                }
            }
            case LT -> {
                for (int i = 0; i < n; i += L) {
                    zero.blend(one, load(a, ao, sa, i).compare(VectorOperators.LT, load(b, bo, sb, i))).intoArray(o, oo + i);
                }
            }
            case LE -> {
                for (int i = 0; i < n; i += L) {
                    zero.blend(one, load(a, ao, sa, i).compare(VectorOperators.LE, load(b, bo, sb, i))).intoArray(o, oo + i);
                }
            }
            case EQ -> {
                for (int i = 0; i < n; i += L) {
                    zero.blend(one, load(a, ao, sa, i).compare(VectorOperators.EQ, load(b, bo, sb, i))).intoArray(o, oo + i);
                }
            }
            case POW -> { } // scalar below: Math.pow has no lane version
        }
        for (int i = n; i < len; i++) o[oo + i] = (float) op.apply(a[ao + i * sa], b[bo + i * sb]);
    }

    static void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        float[] as = data(a), bs = data(b), os = data(out);
        CpuStorage cs = (CpuStorage) cond.storage();
        Strided p = new Strided(out.shapeRef(), cond, a, b, out);
        int sc = p.innerStride[0], sa = p.innerStride[1], sb = p.innerStride[2], so = p.innerStride[3];
        p.forEach((off, len) -> {
            for (int i = 0; i < len; i++) {
                boolean c = CpuBackend.isNonZero(cs, off[0] + i * sc);
                os[off[3] + i * so] = c ? as[off[1] + i * sa] : bs[off[2] + i * sb];
            }
        });
    }

    static void fill(Tensor dst, /*keep*/double value) {
        float[] ds = data(dst);
        float v = (float) value;
        if (dst.numel() == 0) return;   // an empty view's offset may lie past its storage
        if (dst.isContiguous()) {
            java.util.Arrays.fill(ds, dst.offset(), dst.offset() + (int) dst.numel(), v);
            return;
        }
        Strided p = new Strided(dst.shapeRef(), dst);
        int sd = p.innerStride[0];
        p.forEach((off, len) -> {
            if (sd == 1) java.util.Arrays.fill(ds, off[0], off[0] + len, v);
            else for (int i = 0; i < len; i++) ds[off[0] + i * sd] = v;
        });
    }

    /// Same-dtype strided copy.
    static void copy(Tensor src, Tensor dst) {
        float[] ss = data(src), ds = data(dst);
        if (dst.numel() == 0) return;   // an empty view's offset may lie past its storage
        if (Strided.allContiguous(src, dst)) {
            System.arraycopy(ss, src.offset(), ds, dst.offset(), (int) dst.numel());
            return;
        }
        Strided p = new Strided(dst.shapeRef(), src, dst);
        int s0 = p.innerStride[0], s1 = p.innerStride[1];
        p.forEach((off, len) -> {
            if (s0 == 1 && s1 == 1) System.arraycopy(ss, off[0], ds, off[1], len);
            else for (int i = 0; i < len; i++) ds[off[1] + i * s1] = ss[off[0] + i * s0];
        });
    }

    // ---------------------------------------------------------------- reductions

    /// SUM, MAX or MIN of `x` over `dims` into `out` (x's shape with those dims set to 1).
    static void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        float[] xs = data(x), os = data(out);
        float init = op == ReduceOp.SUM ? 0 : op == ReduceOp.MAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        java.util.Arrays.fill(os, out.offset(), out.offset() + (int) out.numel(), (float) init);
        int r = x.rank();
        // Dims of size 1 reduce to themselves; only the others count (coalescing drops size-1 dims).
        boolean[] reduced = new boolean[r];
        int last = -1;
        for (int d : dims) reduced[d] = x.shapeRef()[d] != 1;
        for (int d = 0; d < r; d++) if (x.shapeRef()[d] != 1) last = d;
        // `out` seen with x's shape: stride 0 along the reduced dims.
        int[] ost = out.strides();
        for (int d : dims) ost[d] = 0;
        if (last >= 0 && reduced[last]) {
            // The innermost dim is reduced: order dims as kept, then reduced, and reduce row by row.
            int[] perm = new int[r];
            int k = 0;
            for (int i = 0; i < r; i++) if (!reduced[i]) perm[k++] = i;
            for (int i = 0; i < r; i++) if (reduced[i]) perm[k++] = i;
            int[] shape = new int[r], xst = new int[r], pst = new int[r];
            for (int i = 0; i < r; i++) {
                shape[i] = x.shapeRef()[perm[i]];
                xst[i] = x.stridesRef()[perm[i]];
                pst[i] = ost[perm[i]];
            }
            Tensor xv = new Tensor(x.storage(), shape, xst, x.offset());
            Tensor ov = new Tensor(out.storage(), shape, pst, out.offset());
            Strided p = new Strided(shape, xv, ov);
            int sx = p.innerStride[0];
            long outputs = out.numel(), rowsPerOutput = p.rows / Math.max(1, outputs);
            // Few long rows: each row's blocks go to the pool. Many rows: the rows do.
            boolean blocksInParallel = p.rows < 2L * Parallel.threads();
            Strided.Row body = (off, len) -> os[off[1]] = combine(op, os[off[1]], reduceRow(op, xs, off[0], sx, len, blocksInParallel));
            if (blocksInParallel) p.forEachSequential(body);
            else p.forEachGroup(body, rowsPerOutput);
        } else {
            // The innermost dim is kept: accumulate whole rows of x into rows of out, in order; the
            // pool splits the columns.
            Tensor ov = new Tensor(out.storage(), x.shapeRef(), ost, out.offset());
            Strided p = new Strided(x.shapeRef(), x, ov);
            int sx = p.innerStride[0], so = p.innerStride[1];
            if (sx == 1 && so == 1 && p.oneOutputRow(1) && p.rows >= 2L * ROW_BLOCK && p.rows * p.inner >= 2L * Strided.GRAIN) {
                reduceRowBlocks(op, xs, p, os, p.base[1]);
            } else {
                p.forEachColumns((off, len) -> accumulateRow(op, xs, off[0], sx, os, off[1], so, len));
            }
        }
    }

    /// Rows of x per partial result in [#reduceRowBlocks].
    static final int ROW_BLOCK = 256;

    /// All of x's rows into the one row of out at `oo` (a sum over every dim but the innermost, such as
    /// a bias gradient): fixed blocks of [#ROW_BLOCK] rows, each accumulated in order into its own
    /// partial row, and the partial rows then into out, in order. Every thread streams whole rows (split
    /// by columns instead, each thread read half of each 4 KiB row and two threads ran no faster than
    /// one: 16.0 against 15.0 GB/s, F32 [32768, 1024]), and the blocks do not depend on the thread
    /// count, so neither does the result.
    private static void reduceRowBlocks(ReduceOp op, float[] xs, Strided p, float[] os, int oo) {
        int inner = p.inner, blocks = (int) ((p.rows + ROW_BLOCK - 1) / ROW_BLOCK);
        float init = os[oo];                               // the reduction's identity, filled above
        float[] partial = new float[blocks * inner];
        Parallel.forRange(blocks, 1, (s, e) -> {
            for (int j = s; j < e; j++) {
                int at = j * inner;
                java.util.Arrays.fill(partial, at, at + inner, init);
                p.forEachRowsOf(j * (long) ROW_BLOCK, Math.min(p.rows, (j + 1) * (long) ROW_BLOCK),
                        (off, len) -> accumulateRow(op, xs, off[0], 1, partial, at, 1, len));
            }
        });
        for (int j = 0; j < blocks; j++) accumulateRow(op, partial, j * inner, 1, os, oo, 1, inner);
    }

    /// `o[i] = combine(o[i], x[i])` over a row; exact per element, so lanes and scalars agree.
    private static void accumulateRow(ReduceOp op, float[] x, int xo, int sx, float[] o, int oo, int so, int len) {
        int i = 0;
        if (sx == 1 && so == 1) {
            int bound = S.loopBound(len);
            switch (op) {
                case SUM -> {
                    for (; i < bound; i += L) load(o, oo + i).add(load(x, xo + i)).intoArray(o, oo + i);
                }
                case MAX -> {
                    for (; i < bound; i += L) load(o, oo + i).max(load(x, xo + i)).intoArray(o, oo + i);
                }
                default -> {
                    for (; i < bound; i += L) load(o, oo + i).min(load(x, xo + i)).intoArray(o, oo + i);
                }
            }
        }
        for (; i < len; i++) o[oo + i * so] = combine(op, o[oo + i * so], x[xo + i * sx]);
    }

    private static float combine(ReduceOp op, float acc, float v) {
        return switch (op) {
            case SUM -> (float) (acc + v);
            case MAX -> Float.isNaN(acc) || Float.isNaN(v) ? Float.NaN : Math.max(acc, v);
            default -> Float.isNaN(acc) || Float.isNaN(v) ? Float.NaN : Math.min(acc, v);
        };
    }

    /// One row reduced in blocks of [#BLOCK]; the block results are combined in order.
    /// Block sums are added in F64 (also for F32 data): a long F32 sum is rounded to F32 once at the end
    /// rather than once per block.
    private static float reduceRow(ReduceOp op, float[] x, int off, int stride, int len, boolean parallel) {
        if (len <= BLOCK) return reduceBlock(op, x, off, stride, len);
        int blocks = (len + BLOCK - 1) / BLOCK;
        /*keep*/double[] partial = new /*keep*/double[blocks];
        Parallel.RangeBody body = (s, e) -> {
            for (int j = s; j < e; j++) {
                partial[j] = reduceBlock(op, x, off + j * BLOCK * stride, stride, Math.min(BLOCK, len - j * BLOCK));
            }
        };
        if (parallel) Parallel.forRange(blocks, Strided.GRAIN / BLOCK, body);
        else body.run(0, blocks);
        if (op == ReduceOp.SUM) {
            /*keep*/double sum = 0;
            for (int j = 0; j < blocks; j++) sum += partial[j];
            return (float) sum;
        }
        float acc = (float) partial[0];
        for (int j = 1; j < blocks; j++) acc = combine(op, acc, (float) partial[j]);
        return acc;
    }

    /// At most [#BLOCK] elements; strided ones are gathered first, so the sum does not depend on the layout.
    private static float reduceBlock(ReduceOp op, float[] x, int off, int stride, int len) {
        if (stride != 1) {
            float[] buf = new float[len];
            for (int i = 0; i < len; i++) buf[i] = x[off + i * stride];
            return reduceBlock(op, buf, 0, 1, len);
        }
        if (len == 0) return op == ReduceOp.SUM ? 0 : op == ReduceOp.MAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        int bound = S.loopBound(len);
        float acc = op == ReduceOp.SUM ? sumVectors(x, off, bound) : op == ReduceOp.MAX ? maxVectors(x, off, bound) : minVectors(x, off, bound);
        for (int i = bound; i < len; i++) acc = combine(op, acc, x[off + i]);
        return acc;
    }

    /// Four accumulators hide the add latency; they, and then their lanes, are added in a fixed order.
    private static float sumVectors(float[] x, int off, int n) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            a0 = a0.add(load(x, off + i));
            a1 = a1.add(load(x, off + i + L));
            a2 = a2.add(load(x, off + i + 2 * L));
            a3 = a3.add(load(x, off + i + 3 * L));
        }
        for (; i < n; i += L) a0 = a0.add(load(x, off + i));
        return lanes(ReduceOp.SUM, a0.add(a1).add(a2.add(a3)));
    }

    /// Maximum of the first `n` elements (a multiple of the lane count) and of x[off], NaN if any is NaN.
    private static float maxVectors(float[] x, int off, int n) {
        FloatVector a0 = FloatVector.broadcast(S, x[off]), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            a0 = a0.max(load(x, off + i));
            a1 = a1.max(load(x, off + i + L));
            a2 = a2.max(load(x, off + i + 2 * L));
            a3 = a3.max(load(x, off + i + 3 * L));
        }
        for (; i < n; i += L) a0 = a0.max(load(x, off + i));
        return lanes(ReduceOp.MAX, a0.max(a1).max(a2.max(a3)));
    }

    private static float minVectors(float[] x, int off, int n) {
        FloatVector a0 = FloatVector.broadcast(S, x[off]), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            a0 = a0.min(load(x, off + i));
            a1 = a1.min(load(x, off + i + L));
            a2 = a2.min(load(x, off + i + 2 * L));
            a3 = a3.min(load(x, off + i + 3 * L));
        }
        for (; i < n; i += L) a0 = a0.min(load(x, off + i));
        return lanes(ReduceOp.MIN, a0.min(a1).min(a2.min(a3)));
    }

    /// The lanes combined from first to last (`reduceLanes` leaves the order open, and it differs
    /// between the intrinsic and the fallback).
    private static float lanes(ReduceOp op, FloatVector v) {
        float[] l = v.toArray();
        float acc = l[0];
        for (int i = 1; i < l.length; i++) acc = combine(op, acc, l[i]);
        return acc;
    }

    /// Index of the first maximum (ARGMAX) or minimum (ARGMIN) along the single dim `d` into I32 `out`;
    /// a NaN counts as the extreme.
    static void argReduce(ReduceOp op, Tensor x, int d, Tensor out) {
        float[] xs = data(x);
        int[] os = ((CpuStorage) out.storage()).i32;
        int n = x.shapeRef()[d], step = x.stridesRef()[d];
        // Walk every output position; x seen with stride 0 along d gives each row's start.
        int[] xst = x.strides();
        xst[d] = 0;
        int[] shape = out.shapeRef();
        Tensor xv = new Tensor(x.storage(), shape, xst, x.offset());
        Strided p = new Strided(shape, xv, out);
        int sx = p.innerStride[0], so = p.innerStride[1];
        boolean max = op == ReduceOp.ARGMAX;
        p.forEach((off, len) -> {
            for (int i = 0; i < len; i++) {
                int base = off[0] + i * sx;
                int best = 0;
                float bv = xs[base];
                for (int j = 1; j < n && !Float.isNaN(bv); j++) {
                    float v = xs[base + j * step];
                    if (Float.isNaN(v) || (max ? v > bv : v < bv)) {
                        bv = v;
                        best = j;
                    }
                }
                os[off[1] + i * so] = best;
            }
        });
    }

    // ---------------------------------------------------------------- indexing

    static void gather(Tensor x, int d, Tensor index, Tensor out) {
        float[] xs = data(x), os = data(out);
        int[] is = ((CpuStorage) index.storage()).i32;
        int[] xst = x.strides();
        int step = xst[d];
        xst[d] = 0;
        Tensor xv = new Tensor(x.storage(), out.shapeRef(), xst, x.offset());
        Strided p = new Strided(out.shapeRef(), index, xv, out);
        int si = p.innerStride[0], sx = p.innerStride[1], so = p.innerStride[2];
        p.forEach((off, len) -> {
            for (int i = 0; i < len; i++) os[off[2] + i * so] = xs[off[1] + i * sx + is[off[0] + i * si] * step];
        });
    }

    static void scatterAdd(Tensor target, int d, Tensor index, Tensor src) {
        float[] ts = data(target), ss = data(src);
        int[] is = ((CpuStorage) index.storage()).i32;
        int[] tst = target.strides();
        int step = tst[d];
        tst[d] = 0;
        Tensor tv = new Tensor(target.storage(), index.shapeRef(), tst, target.offset());
        Strided p = new Strided(index.shapeRef(), index, src, tv);
        int si = p.innerStride[0], sv = p.innerStride[1], st = p.innerStride[2];
        // Sequential: repeated indices would race, and the order of the additions stays fixed.
        p.forEachSequential((off, len) -> {
            for (int i = 0; i < len; i++) ts[off[2] + i * st + is[off[0] + i * si] * step] += ss[off[1] + i * sv];
        });
    }
}
