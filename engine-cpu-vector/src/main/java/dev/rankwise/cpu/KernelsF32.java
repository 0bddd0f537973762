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
/// GENERATED from `KernelsF32.java` by `GenerateF32Kernels` (engine-cpu-vector tests). Do not edit.
final class KernelsF32 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private KernelsF32() {}

    static float[] data(Tensor t) {
        return ((CpuStorage) t.storage()).f32;
    }

    // ---------------------------------------------------------------- unary

    static void unary(UnaryOp op, Tensor x, Tensor out) {
        float[] xs = data(x), os = data(out);
        Strided p = new Strided(out.shapeRef(), x, out);
        int sx = p.innerStride[0], so = p.innerStride[1];
        p.forEach((off, len) -> {
            int xo = off[0], oo = off[1];
            int i = sx == 1 && so == 1 ? unaryVector(op, xs, xo, os, oo, len) : 0;
            for (; i < len; i++) os[oo + i * so] = (float) op.apply(xs[xo + i * sx]);
        }, true);
    }

    /// The vectorized part of a contiguous row; returns how many elements it covered.
    ///
    /// Only correctly rounded operations are vectorized (negation, absolute value, sqrt, division,
    /// max). The Vector API's transcendental lanewise ops (EXP, LOG, TANH) give different bits when
    /// intrinsified than in their Java fallback, so a result would depend on how far the JIT has got;
    /// exp, log, tanh and the activations built on them take the scalar path, which is reproducible.
    private static int unaryVector(UnaryOp op, float[] x, int xo, float[] o, int oo, int len) {
        int bound = S.loopBound(len);
        VectorOperators.Unary lanewise = switch (op) {
            case NEG -> VectorOperators.NEG;
            case SQRT -> VectorOperators.SQRT;
            case ABS -> VectorOperators.ABS;
            default -> null;
        };
        if (lanewise != null) {
            for (int i = 0; i < bound; i += S.length()) {
                FloatVector.fromArray(S, x, xo + i).lanewise(lanewise).intoArray(o, oo + i);
            }
            return bound;
        }
        FloatVector one = FloatVector.broadcast(S, (float) 1);
        switch (op) {
            case RELU -> {
                FloatVector zero = FloatVector.zero(S);
                for (int i = 0; i < bound; i += S.length()) {
                    FloatVector.fromArray(S, x, xo + i).max(zero).intoArray(o, oo + i);
                }
            }
            case RSQRT -> {
                for (int i = 0; i < bound; i += S.length()) {
                    one.div(FloatVector.fromArray(S, x, xo + i).sqrt()).intoArray(o, oo + i);
                }
            }
            default -> {
                return 0; // transcendental and the rest: scalar
            }
        }
        return bound;
    }

    // ---------------------------------------------------------------- binary

    static void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        float[] as = data(a), bs = data(b), os = data(out);
        Strided p = new Strided(out.shapeRef(), a, b, out);
        int sa = p.innerStride[0], sb = p.innerStride[1], so = p.innerStride[2];
        VectorOperators.Binary lanewise = switch (op) {
            case ADD -> VectorOperators.ADD;
            case SUB -> VectorOperators.SUB;
            case MUL -> VectorOperators.MUL;
            case DIV -> VectorOperators.DIV;
            case MAX -> VectorOperators.MAX;
            case MIN -> VectorOperators.MIN;
            default -> null;
        };
        boolean vector = lanewise != null && so == 1 && (sa == 1 || sa == 0) && (sb == 1 || sb == 0);
        p.forEach((off, len) -> {
            int ao = off[0], bo = off[1], oo = off[2];
            int i = 0;
            if (vector) {
                int bound = S.loopBound(len);
                if (sa == 1 && sb == 1) {
                    for (; i < bound; i += S.length()) {
                        FloatVector.fromArray(S, as, ao + i).lanewise(lanewise, FloatVector.fromArray(S, bs, bo + i)).intoArray(os, oo + i);
                    }
                } else if (sa == 1) {
                    FloatVector vb = FloatVector.broadcast(S, bs[bo]);
                    for (; i < bound; i += S.length()) {
                        FloatVector.fromArray(S, as, ao + i).lanewise(lanewise, vb).intoArray(os, oo + i);
                    }
                } else if (sb == 1) {
                    FloatVector va = FloatVector.broadcast(S, as[ao]);
                    for (; i < bound; i += S.length()) {
                        va.lanewise(lanewise, FloatVector.fromArray(S, bs, bo + i)).intoArray(os, oo + i);
                    }
                }
            }
            for (; i < len; i++) os[oo + i * so] = (float) op.apply(as[ao + i * sa], bs[bo + i * sb]);
        }, true);
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
        }, true);
    }

    static void fill(Tensor dst, /*keep*/double value) {
        float[] ds = data(dst);
        float v = (float) value;
        Strided p = new Strided(dst.shapeRef(), dst);
        int sd = p.innerStride[0];
        p.forEach((off, len) -> {
            if (sd == 1) java.util.Arrays.fill(ds, off[0], off[0] + len, v);
            else for (int i = 0; i < len; i++) ds[off[0] + i * sd] = v;
        }, true);
    }

    /// Same-dtype strided copy.
    static void copy(Tensor src, Tensor dst) {
        float[] ss = data(src), ds = data(dst);
        Strided p = new Strided(dst.shapeRef(), src, dst);
        int s0 = p.innerStride[0], s1 = p.innerStride[1];
        p.forEach((off, len) -> {
            if (s0 == 1 && s1 == 1) System.arraycopy(ss, off[0], ds, off[1], len);
            else for (int i = 0; i < len; i++) ds[off[1] + i * s1] = ss[off[0] + i * s0];
        }, true);
    }

    // ---------------------------------------------------------------- reductions

    /// SUM, MAX or MIN of `x` over `dims` into `out` (x's shape with those dims set to 1).
    static void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        float[] xs = data(x), os = data(out);
        float init = op == ReduceOp.SUM ? 0 : op == ReduceOp.MAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        java.util.Arrays.fill(os, out.offset(), out.offset() + (int) out.numel(), (float) init);
        int r = x.rank();
        boolean[] reduced = new boolean[r];
        for (int d : dims) reduced[d] = true;
        // `out` seen with x's shape: stride 0 along the reduced dims.
        int[] ost = out.strides();
        for (int d : dims) ost[d] = 0;
        if (r > 0 && reduced[r - 1]) {
            // The innermost dim is reduced: order dims as kept, then reduced, and reduce each row.
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
            boolean rowPerOutput = p.innerStride[1] == 0 && p.rows == out.numel();
            p.forEach((off, len) -> {
                float v = reduceRow(op, xs, off[0], sx, len);
                os[off[1]] = combine(op, os[off[1]], v);
            }, rowPerOutput);
        } else {
            // The innermost dim is kept: accumulate whole rows of x into rows of out, in memory order.
            Tensor ov = new Tensor(out.storage(), x.shapeRef(), ost, out.offset());
            Strided p = new Strided(x.shapeRef(), x, ov);
            int sx = p.innerStride[0], so = p.innerStride[1];
            p.forEach((off, len) -> {
                int i = 0;
                if (sx == 1 && so == 1) {
                    int bound = S.loopBound(len);
                    for (; i < bound; i += S.length()) {
                        FloatVector acc = FloatVector.fromArray(S, os, off[1] + i);
                        FloatVector v = FloatVector.fromArray(S, xs, off[0] + i);
                        (op == ReduceOp.SUM ? acc.add(v) : op == ReduceOp.MAX ? acc.max(v) : acc.min(v)).intoArray(os, off[1] + i);
                    }
                }
                for (; i < len; i++) os[off[1] + i * so] = combine(op, os[off[1] + i * so], xs[off[0] + i * sx]);
            }, false);
        }
    }

    private static float combine(ReduceOp op, float acc, float v) {
        return switch (op) {
            case SUM -> (float) (acc + v);
            case MAX -> Float.isNaN(acc) || Float.isNaN(v) ? Float.NaN : Math.max(acc, v);
            default -> Float.isNaN(acc) || Float.isNaN(v) ? Float.NaN : Math.min(acc, v);
        };
    }

    private static float reduceRow(ReduceOp op, float[] x, int off, int stride, int len) {
        if (stride == 1 && op == ReduceOp.SUM) {
            int bound = S.loopBound(len);
            FloatVector acc = FloatVector.zero(S);
            int i = 0;
            for (; i < bound; i += S.length()) acc = acc.add(FloatVector.fromArray(S, x, off + i));
            // Lanes are added in a fixed order: reduceLanes' order is unspecified and differs between
            // the intrinsic and the fallback, which would make sums depend on the JIT.
            float[] lanes = new float[S.length()];
            acc.intoArray(lanes, 0);
            float s = 0;
            for (float l : lanes) s += l;
            for (; i < len; i++) s += x[off + i];
            return s;
        }
        float acc = op == ReduceOp.SUM ? 0 : x[off];
        for (int i = op == ReduceOp.SUM ? 0 : 1; i < len; i++) acc = combine(op, acc, x[off + i * stride]);
        return acc;
    }

    /// Index of the first maximum (ARGMAX) or minimum (ARGMIN) along the single dim `d` into I32 `out`.
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
        }, true);
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
        }, true);
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
        // Sequential: repeated indices would race.
        p.forEach((off, len) -> {
            for (int i = 0; i < len; i++) ts[off[2] + i * st + is[off[0] + i * si] * step] += ss[off[1] + i * sv];
        }, false);
    }
}
