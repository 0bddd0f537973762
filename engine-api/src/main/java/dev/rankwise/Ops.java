package dev.rankwise;

import dev.rankwise.autograd.Derivatives;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.autograd.Node;
import dev.rankwise.ops.BinaryOp;
import dev.rankwise.ops.ReduceOp;
import dev.rankwise.ops.UnaryOp;
import dev.rankwise.random.Generator;
import dev.rankwise.spi.Backend;
import dev.rankwise.spi.Backends;
import dev.rankwise.spi.Distribution;

import java.util.Arrays;
import java.util.List;

/// The forward half of the op catalog: for each op, its shape rule and checks, the dispatch to the
/// tensor's backend, and the recording of its backward from [Derivatives]. Package-private: users
/// reach these through [Tensor]'s methods.
final class Ops {
    private Ops() {}

    // ---------------------------------------------------------------- plumbing

    static Tensor empty(Backend be, Device device, DType dtype, int[] shape) {
        Tensor.checkShape("zeros", shape);
        return new Tensor(be.allocate(device, dtype, Shape.numel(shape)), shape, Shape.contiguousStrides(shape), 0);
    }

    static Tensor emptyLike(Tensor t, DType dtype, int[] shape) {
        return empty(t.backend(), t.device(), dtype, shape);
    }

    private static Tensor record(Tensor out, String op, Tensor[] inputs, Node.Backward backward) {
        out.attach(new Node(op, inputs, backward));
        return out;
    }

    /// A 0-d constant of `like`'s dtype and device.
    static Tensor constant(double v, Tensor like) {
        DType dt = like.dtype().isCompute() ? like.dtype() : DType.F32;
        Tensor c = emptyLike(like, dt, Shape.SCALAR);
        if (v != 0) like.backend().fill(c, v);
        return c;
    }

    /// A view of `t` broadcast to `shape` (stride 0 on new and size-1 dims), outside the graph.
    static Tensor broadcastView(Tensor t, int[] shape) {
        int[] ts = t.shapeRef();
        if (Arrays.equals(ts, shape)) return t;
        int lead = shape.length - ts.length;
        int[] st = new int[shape.length];
        int[] tst = t.stridesRef();
        for (int i = 0; i < shape.length; i++) {
            if (i < lead) continue;
            int d = ts[i - lead];
            if (d == shape[i]) st[i] = tst[i - lead];
            else if (d != 1) throw new IllegalArgumentException("expand: cannot broadcast shape " + Shape.str(ts) + " to " + Shape.str(shape));
        }
        return new Tensor(t.storage(), shape.clone(), st, t.offset());
    }

    private static void sameDevice(String op, Tensor a, Tensor b) {
        if (!a.device().equals(b.device())) {
            throw new IllegalArgumentException(op + ": tensors are on different devices (" + a.device() + " and "
                    + b.device() + "); move one with to(device)");
        }
    }

    private static void requireFloat(String op, Tensor t) {
        if (!t.dtype().isCompute()) {
            throw new IllegalArgumentException(op + ": expects an F32 or F64 tensor, got " + t.dtype()
                    + " of shape " + Shape.str(t.shapeRef()));
        }
    }

    static int[] allDims(int rank) {
        int[] d = new int[rank];
        for (int i = 0; i < rank; i++) d[i] = i;
        return d;
    }

    /// Sorted, distinct, non-negative dims.
    static int[] normalizeDims(String op, int[] dims, int rank) {
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) d[i] = Shape.dim(op, dims[i], rank);
        Arrays.sort(d);
        for (int i = 1; i < d.length; i++) {
            if (d[i] == d[i - 1]) throw new IllegalArgumentException(op + ": dim " + d[i] + " given twice");
        }
        return d;
    }

    private static int[] keepShape(int[] shape, int[] dims) {
        int[] k = shape.clone();
        for (int d : dims) k[d] = 1;
        return k;
    }

    private static int[] dropDims(int[] shape, int[] dims) {
        int[] out = new int[shape.length - dims.length];
        for (int i = 0, j = 0, k = 0; i < shape.length; i++) {
            if (k < dims.length && dims[k] == i) k++;
            else out[j++] = shape[i];
        }
        return out;
    }

    /// A contiguous tensor viewed with another shape of the same size, outside the graph.
    private static Tensor rawView(Tensor t, int[] shape) {
        return new Tensor(t.storage(), shape, Shape.contiguousStrides(shape), t.offset());
    }

    // ---------------------------------------------------------------- elementwise

    static Tensor unary(UnaryOp op, Tensor x) {
        requireFloat(op.opName(), x);
        Tensor out = emptyLike(x, x.dtype(), x.shapeRef().clone());
        x.backend().unary(op, x, out);
        Tensor.anomalyCheck(op.opName(), out);
        return Tensor.recording(x) ? record(out, op.opName(), new Tensor[] {x}, Derivatives.unary(op, x, out)) : out;
    }

    static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = op.opName();
        sameDevice(name, a, b);
        requireFloat(name, a);
        requireFloat(name, b);
        if (a.dtype() != b.dtype()) {
            DType t = DType.promote(a.dtype(), b.dtype());
            a = a.to(t);
            b = b.to(t);
        }
        int[] shape = Shape.broadcast(name, a.shapeRef(), b.shapeRef());
        Tensor out = emptyLike(a, a.dtype(), shape);
        a.backend().binary(op, broadcastView(a, shape), broadcastView(b, shape), out);
        if (op.isComparison()) return out;
        Tensor.anomalyCheck(name, out);
        return Tensor.recording(a, b) ? record(out, name, new Tensor[] {a, b}, Derivatives.binary(op, a, b, out)) : out;
    }

    static Tensor clamp(Tensor x, double lo, double hi) {
        if (lo > hi) throw new IllegalArgumentException("clamp: min " + lo + " > max " + hi);
        Tensor out;
        try (var ignored = GradMode.noGrad()) {
            out = x.maximum(constant(lo, x)).minimum(constant(hi, x));
        }
        return Tensor.recording(x) ? record(out, "clamp", new Tensor[] {x}, Derivatives.clamp(x, lo, hi)) : out;
    }

    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        sameDevice("where", cond, a);
        sameDevice("where", a, b);
        requireFloat("where", a);
        requireFloat("where", b);
        if (a.dtype() != b.dtype()) {
            DType t = DType.promote(a.dtype(), b.dtype());
            a = a.to(t);
            b = b.to(t);
        }
        int[] shape = Shape.broadcast("where", Shape.broadcast("where", cond.shapeRef(), a.shapeRef()), b.shapeRef());
        Tensor out = emptyLike(a, a.dtype(), shape);
        a.backend().where(broadcastView(cond, shape), broadcastView(a, shape), broadcastView(b, shape), out);
        return Tensor.recording(a, b) ? record(out, "where", new Tensor[] {cond, a, b}, Derivatives.where(cond, a, b)) : out;
    }

    static void checkInPlace(String op, Tensor t) {
        if (t.requiresGrad() && GradMode.enabled()) {
            throw new IllegalStateException(op + ": in-place update of a tensor that requires grad while the graph "
                    + "is recorded; do it inside GradMode.noGrad()");
        }
    }

    static Tensor inPlace(BinaryOp op, Tensor self, Tensor o) {
        String name = op.opName() + "InPlace";
        checkInPlace(name, self);
        sameDevice(name, self, o);
        requireFloat(name, self);
        int[] shape = Shape.broadcast(name, self.shapeRef(), o.shapeRef());
        if (!Arrays.equals(shape, self.shapeRef())) {
            throw new IllegalArgumentException(name + ": operand of shape " + Shape.str(o.shapeRef())
                    + " would change the shape " + Shape.str(self.shapeRef()));
        }
        Tensor src = o.dtype() == self.dtype() ? o : convert(o, self.dtype());
        self.backend().binary(op, self, broadcastView(src, shape), self);
        return self;
    }

    static Tensor copyInto(Tensor self, Tensor src) {
        checkInPlace("copyFrom", self);
        sameDevice("copyFrom", self, src);
        self.backend().copy(broadcastView(src, Shape.broadcast("copyFrom", self.shapeRef(), src.shapeRef())), self);
        return self;
    }

    static Tensor random(Generator gen, Distribution dist, DType dtype, int[] shape) {
        return random(gen, dist, dtype, Device.CPU, shape);
    }

    static Tensor random(Generator gen, Distribution dist, DType dtype, Device device, int[] shape) {
        if (!dtype.isCompute()) throw new IllegalArgumentException("random: expects F32 or F64, got " + dtype);
        Tensor out = empty(Backends.forDevice(device), device, dtype, shape);
        out.backend().random(out, dist, gen.seed(), gen.take(out.numel()));
        return out;
    }

    // ---------------------------------------------------------------- reductions

    static Tensor sum(Tensor x, int[] dims, boolean keepdim) {
        requireFloat("sum", x);
        int[] d = normalizeDims("sum", dims, x.rank());
        int[] keep = keepShape(x.shapeRef(), d);
        Tensor out = emptyLike(x, x.dtype(), keep);
        if (x.numel() > 0) x.backend().reduce(ReduceOp.SUM, x, d, out);
        Tensor.anomalyCheck("sum", out);
        if (!keepdim) out = rawView(out, dropDims(x.shapeRef(), d));
        return Tensor.recording(x) ? record(out, "sum", new Tensor[] {x}, Derivatives.sum(x, keep)) : out;
    }

    static Tensor amax(Tensor x, int[] dims, boolean keepdim) {
        requireFloat("amax", x);
        int[] d = normalizeDims("amax", dims, x.rank());
        for (int k : d) {
            if (x.shapeRef()[k] == 0) throw new IllegalArgumentException("amax: cannot reduce the empty dim " + k + " of shape " + Shape.str(x.shapeRef()));
        }
        int[] keep = keepShape(x.shapeRef(), d);
        Tensor yKeep = emptyLike(x, x.dtype(), keep);
        x.backend().reduce(ReduceOp.MAX, x, d, yKeep);
        Tensor.anomalyCheck("amax", yKeep);
        Tensor out = keepdim ? yKeep : rawView(yKeep, dropDims(x.shapeRef(), d));
        return Tensor.recording(x) ? record(out, "amax", new Tensor[] {x}, Derivatives.amax(x, yKeep, d, keep)) : out;
    }

    static Tensor.ValuesIndices maxWithIndices(Tensor x, int dim, boolean keepdim, boolean min) {
        String name = min ? "min" : "max";
        requireFloat(name, x);
        int d = Shape.dim(name, dim, x.rank());
        if (x.shapeRef()[d] == 0) throw new IllegalArgumentException(name + ": cannot reduce the empty dim " + d);
        int[] keep = keepShape(x.shapeRef(), new int[] {d});
        Tensor values = emptyLike(x, x.dtype(), keep);
        Tensor indices = emptyLike(x, DType.I32, keep);
        x.backend().reduce(min ? ReduceOp.MIN : ReduceOp.MAX, x, new int[] {d}, values);
        x.backend().reduce(min ? ReduceOp.ARGMIN : ReduceOp.ARGMAX, x, new int[] {d}, indices);
        Tensor.anomalyCheck(name, values);
        Tensor idxKeep = indices;
        if (!keepdim) {
            int[] dropped = dropDims(x.shapeRef(), new int[] {d});
            values = rawView(values, dropped);
            indices = rawView(indices, dropped);
        }
        if (Tensor.recording(x)) record(values, name, new Tensor[] {x}, Derivatives.selectAlong(x, d, idxKeep, keep));
        return new Tensor.ValuesIndices(values, indices);
    }

    static Tensor argReduce(ReduceOp op, Tensor x, int dim, boolean keepdim) {
        requireFloat(op.opName(), x);
        int d = Shape.dim(op.opName(), dim, x.rank());
        if (x.shapeRef()[d] == 0) throw new IllegalArgumentException(op.opName() + ": cannot reduce the empty dim " + d);
        int[] keep = keepShape(x.shapeRef(), new int[] {d});
        Tensor out = emptyLike(x, DType.I32, keep);
        x.backend().reduce(op, x, new int[] {d}, out);
        return keepdim ? out : rawView(out, dropDims(x.shapeRef(), new int[] {d}));
    }

    // ---------------------------------------------------------------- matmul, softmax

    static Tensor matmul(Tensor a, Tensor b) {
        if (a.rank() == 0 || b.rank() == 0) {
            throw new IllegalArgumentException("matmul: needs tensors of rank >= 1, got shapes " + Shape.str(a.shapeRef()) + " and " + Shape.str(b.shapeRef()));
        }
        if (a.rank() == 1 && b.rank() == 1) return matmul(a.unsqueeze(0), b.unsqueeze(1)).reshape();
        if (a.rank() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
        if (b.rank() == 1) return matmul(a, b.unsqueeze(-1)).squeeze(-1);
        sameDevice("matmul", a, b);
        requireFloat("matmul", a);
        requireFloat("matmul", b);
        if (a.dtype() != b.dtype()) {
            DType t = DType.promote(a.dtype(), b.dtype());
            a = a.to(t);
            b = b.to(t);
        }
        int[] sa = a.shapeRef(), sb = b.shapeRef();
        int m = sa[sa.length - 2], k = sa[sa.length - 1], k2 = sb[sb.length - 2], n = sb[sb.length - 1];
        if (k != k2) {
            throw new IllegalArgumentException("matmul: shapes " + Shape.str(sa) + " and " + Shape.str(sb)
                    + " are not aligned (" + k + " columns vs " + k2 + " rows)");
        }
        int[] batch = Shape.broadcast("matmul", Arrays.copyOf(sa, sa.length - 2), Arrays.copyOf(sb, sb.length - 2));
        int[] shapeA = concat(batch, m, k), shapeB = concat(batch, k, n), shapeOut = concat(batch, m, n);
        Tensor out = emptyLike(a, a.dtype(), shapeOut);
        if (out.numel() > 0) a.backend().matmul(broadcastView(a, shapeA), broadcastView(b, shapeB), out);
        Tensor.anomalyCheck("matmul", out);
        return Tensor.recording(a, b) ? record(out, "matmul", new Tensor[] {a, b}, Derivatives.matmul(a, b)) : out;
    }

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }

    static Tensor softmax(Tensor x, int dim, boolean log) {
        String name = log ? "logSoftmax" : "softmax";
        requireFloat(name, x);
        int d = Shape.dim(name, dim, x.rank());
        Tensor y;
        try (var ignored = GradMode.noGrad()) {
            y = log ? x.backend().fused().logSoftmax(x.detach(), d) : x.backend().fused().softmax(x.detach(), d);
        }
        Tensor.anomalyCheck(name, y);
        return Tensor.recording(x) ? record(y, name, new Tensor[] {x}, Derivatives.softmax(y.detach(), d, log)) : y;
    }

    /// The low-rank linear `y = x Wᵀ + bias + s·((x Aᵀ) ⊙ g) Bᵀ` as one fused op (see
    /// `nn.Functional.lowRankLinear`). The forward is the backend's fused kernel whether or not the graph
    /// is recorded, so recording never changes the values; the backward is the fused one, plus dW and
    /// dbias when W or the bias trains (full fine-tuning through the same layer).
    static Tensor lowRankLinear(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s) {
        String op = "lowRankLinear";
        Tensor[] all = {x, w, bias, a, b, g};
        for (Tensor t : all) {
            if (t == null) continue;
            requireFloat(op, t);
            sameDevice(op, x, t);
        }
        int r = a.rank() == 2 ? a.shapeRef()[0] : -1, dIn = x.rank() == 0 ? -1 : x.shapeRef()[x.rank() - 1];
        int dOut = w.rank() == 2 ? w.shapeRef()[0] : -1;
        boolean ok = x.rank() >= 1 && w.rank() == 2 && w.shapeRef()[1] == dIn && a.rank() == 2 && a.shapeRef()[1] == dIn
                && b.rank() == 2 && b.shapeRef()[0] == dOut && b.shapeRef()[1] == r
                && (g == null || g.rank() == 1 && g.shapeRef()[0] == r) && (bias == null || bias.rank() == 1 && bias.shapeRef()[0] == dOut);
        if (!ok) {
            throw new IllegalArgumentException(op + ": expects x [..., d_in], W [d_out, d_in], bias [d_out], A [r, d_in], B [d_out, r], g [r];"
                    + " got x " + Shape.str(x.shapeRef()) + ", W " + Shape.str(w.shapeRef()) + ", bias " + (bias == null ? "none" : Shape.str(bias.shapeRef()))
                    + ", A " + Shape.str(a.shapeRef()) + ", B " + Shape.str(b.shapeRef()) + ", g " + (g == null ? "none" : Shape.str(g.shapeRef())));
        }
        DType dt = x.dtype();
        for (Tensor t : all) if (t != null && t.dtype() != dt) return composedLowRank(x, w, bias, a, b, g, s);
        boolean rec = false;
        for (Tensor t : all) rec |= t != null && t.requiresGrad();
        rec &= GradMode.enabled();
        Tensor y;
        // Saved for the backward: h = x Aᵀ [..., r] (small next to x), so it need not pass over x again.
        int[] hShape = x.shape();
        hShape[hShape.length - 1] = r;
        Tensor h = rec && (a.requiresGrad() || b.requiresGrad() || g != null && g.requiresGrad()) ? emptyLike(x, dt, hShape) : null;
        try (var ignored = GradMode.noGrad()) {
            y = x.backend().fused().loraForward(x.detach(), w.detach(), bias == null ? null : bias.detach(), a.detach(), b.detach(),
                    g == null ? null : g.detach(), s, h);
        }
        Tensor.anomalyCheck(op, y);
        return rec ? record(y, op, all, Derivatives.lowRankLinear(x, w, bias, a, b, g, s, h)) : y;
    }

    private static Tensor composedLowRank(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s) {
        return dev.rankwise.spi.FusedKernels.COMPOSED.loraForward(x, w, bias, a, b, g, s);
    }

    // ---------------------------------------------------------------- indexing

    private static void checkIndex(String op, Tensor x, int dim, Tensor index, boolean exactShape) {
        if (index.dtype() != DType.I32) throw new IllegalArgumentException(op + ": index must be I32, got " + index.dtype());
        sameDevice(op, x, index);
        if (index.rank() != x.rank()) {
            throw new IllegalArgumentException(op + ": index of shape " + Shape.str(index.shapeRef())
                    + " must have the rank of the input " + Shape.str(x.shapeRef()));
        }
        for (int i = 0; i < x.rank(); i++) {
            if (i != dim && (exactShape ? index.shapeRef()[i] != x.shapeRef()[i] : index.shapeRef()[i] > x.shapeRef()[i])) {
                throw new IllegalArgumentException(op + ": index shape " + Shape.str(index.shapeRef())
                        + " does not fit input shape " + Shape.str(x.shapeRef()) + " at dim " + i);
            }
        }
    }

    private static void checkIndexValues(String op, Tensor index, int bound) {
        for (int v : index.toIntArray()) {
            if (v < 0 || v >= bound) throw new IndexOutOfBoundsException(op + ": index " + v + " out of range [0, " + bound + ")");
        }
    }

    static Tensor gather(Tensor x, int dim, Tensor index) {
        int d = Shape.dim("gather", dim, x.rank());
        checkIndex("gather", x, d, index, false);
        checkIndexValues("gather", index, x.shapeRef()[d]);
        Tensor out = emptyLike(x, x.dtype(), index.shapeRef().clone());
        if (out.numel() > 0) x.backend().gather(x, d, index, out);
        return Tensor.recording(x) ? record(out, "gather", new Tensor[] {x, index}, Derivatives.gather(x, d, index)) : out;
    }

    static Tensor scatterAdd(Tensor target, int dim, Tensor index, Tensor src) {
        int d = Shape.dim("scatterAdd", dim, target.rank());
        requireFloat("scatterAdd", target);
        checkIndex("scatterAdd", target, d, index, false);
        if (!Arrays.equals(index.shapeRef(), src.shapeRef())) {
            throw new IllegalArgumentException("scatterAdd: index shape " + Shape.str(index.shapeRef())
                    + " must equal src shape " + Shape.str(src.shapeRef()));
        }
        checkIndexValues("scatterAdd", index, target.shapeRef()[d]);
        Tensor s = src.dtype() == target.dtype() ? src : convert(src, target.dtype());
        Tensor out = copy(target);
        if (s.numel() > 0) target.backend().scatterAdd(out, d, index, s);
        Tensor.anomalyCheck("scatterAdd", out);
        return Tensor.recording(target, src)
                ? record(out, "scatterAdd", new Tensor[] {target, index, src}, Derivatives.scatterAdd(target, d, index, src)) : out;
    }

    static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        int d = Shape.dim("indexSelect", dim, x.rank());
        if (index.rank() != 1) throw new IllegalArgumentException("indexSelect: index must be 1-D, got shape " + Shape.str(index.shapeRef()));
        int[] shape = x.shapeRef().clone();
        shape[d] = index.shapeRef()[0];
        int[] one = new int[x.rank()];
        Arrays.fill(one, 1);
        one[d] = shape[d];
        return gather(x, d, broadcastView(rawView(index.contiguous(), one), shape));
    }

    static Tensor concat(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("concat: no tensors");
        Tensor first = tensors.get(0);
        int d = Shape.dim("concat", dim, first.rank());
        DType dt = first.dtype();
        for (Tensor t : tensors) dt = DType.promote(dt, t.dtype());
        int total = 0;
        for (Tensor t : tensors) {
            sameDevice("concat", first, t);
            boolean ok = t.rank() == first.rank();
            for (int i = 0; ok && i < t.rank(); i++) ok = i == d || t.shapeRef()[i] == first.shapeRef()[i];
            if (!ok) {
                throw new IllegalArgumentException("concat: shapes " + Shape.str(first.shapeRef()) + " and "
                        + Shape.str(t.shapeRef()) + " differ outside dim " + d);
            }
            total += t.shapeRef()[d];
        }
        int[] shape = first.shapeRef().clone();
        shape[d] = total;
        Tensor out = emptyLike(first, dt, shape);
        int start = 0;
        boolean rec = false;
        Tensor[] inputs = tensors.toArray(new Tensor[0]);
        for (Tensor t : inputs) {
            int len = t.shapeRef()[d];
            if (len > 0) t.backend().copy(t, narrowView(out, d, start, len));
            start += len;
            rec |= t.requiresGrad();
        }
        return rec && GradMode.enabled() ? record(out, "concat", inputs, Derivatives.concat(inputs, d)) : out;
    }

    // ---------------------------------------------------------------- views and copies

    private static Tensor narrowView(Tensor x, int d, int start, int length) {
        int[] shape = x.shapeRef().clone();
        shape[d] = length;
        return new Tensor(x.storage(), shape, x.stridesRef(), x.offset() + start * x.stridesRef()[d]);
    }

    static Tensor narrow(Tensor x, int dim, int start, int length) {
        int d = Shape.dim("narrow", dim, x.rank());
        if (start < 0 || length < 0 || start + length > x.shapeRef()[d]) {
            throw new IndexOutOfBoundsException("narrow: [" + start + ", " + (start + length) + ") is outside dim "
                    + d + " of shape " + Shape.str(x.shapeRef()));
        }
        Tensor out = narrowView(x, d, start, length);
        return Tensor.recording(x) ? record(out, "narrow", new Tensor[] {x}, Derivatives.narrow(x, d, start, length)) : out;
    }

    static Tensor permute(Tensor x, int[] dims) {
        int r = x.rank();
        if (dims.length != r) {
            throw new IllegalArgumentException("permute: " + Arrays.toString(dims) + " is not a permutation of " + r + " dims");
        }
        int[] p = new int[r];
        boolean[] seen = new boolean[r];
        for (int i = 0; i < r; i++) {
            p[i] = Shape.dim("permute", dims[i], r);
            if (seen[p[i]]) throw new IllegalArgumentException("permute: dim " + p[i] + " repeated in " + Arrays.toString(dims));
            seen[p[i]] = true;
        }
        int[] shape = new int[r], strides = new int[r];
        for (int i = 0; i < r; i++) {
            shape[i] = x.shapeRef()[p[i]];
            strides[i] = x.stridesRef()[p[i]];
        }
        Tensor out = new Tensor(x.storage(), shape, strides, x.offset());
        return Tensor.recording(x) ? record(out, "permute", new Tensor[] {x}, Derivatives.permute(p)) : out;
    }

    /// A tensor of `newShape` (one entry may be −1) with x's elements in row-major order: a view when
    /// x's strides allow one, else a contiguous copy (`mustView` makes that an error instead).
    static Tensor reshape(Tensor x, int[] newShape, boolean mustView) {
        String op = mustView ? "view" : "reshape";
        int[] shape = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException(op + ": more than one -1 in " + Arrays.toString(newShape));
                infer = i;
            } else if (shape[i] < 0) {
                throw new IllegalArgumentException(op + ": invalid size " + shape[i] + " in " + Arrays.toString(newShape));
            } else {
                known *= shape[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || x.numel() % known != 0) {
                throw new IllegalArgumentException(op + ": cannot reshape " + Shape.str(x.shapeRef()) + " into " + Arrays.toString(newShape));
            }
            shape[infer] = (int) (x.numel() / known);
        }
        if (Shape.numel(shape) != x.numel()) {
            throw new IllegalArgumentException(op + ": cannot reshape " + Shape.str(x.shapeRef()) + " ("
                    + x.numel() + " elements) into " + Arrays.toString(newShape));
        }
        if (Arrays.equals(shape, x.shapeRef())) return x;
        int[] strides = viewStrides(x.shapeRef(), x.stridesRef(), shape);
        Tensor out;
        if (strides != null) {
            out = new Tensor(x.storage(), shape, strides, x.offset());
        } else if (mustView) {
            throw new IllegalStateException("view: a tensor of shape " + Shape.str(x.shapeRef()) + " and strides "
                    + Arrays.toString(x.stridesRef()) + " cannot be viewed as " + Arrays.toString(newShape) + "; use reshape (which copies)");
        } else {
            out = rawView(copy(x), shape);
        }
        return Tensor.recording(x) ? record(out, op, new Tensor[] {x}, Derivatives.reshape(x)) : out;
    }

    /// Strides that show the elements of a tensor (shape, strides) in row-major order with `newShape`,
    /// or null when none exist (PyTorch's `computeStride`): dims that are contiguous with each other
    /// form chunks, and every chunk must split into whole dims of the new shape.
    static int[] viewStrides(int[] shape, int[] strides, int[] newShape) {
        int[] out = new int[newShape.length];
        if (Shape.numel(shape) == 0 || shape.length == 0) return Shape.contiguousStrides(newShape);
        int viewD = newShape.length - 1;
        long chunkBase = strides[shape.length - 1], tensorNumel = 1, viewNumel = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            tensorNumel *= shape[d];
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    out[viewD] = (int) (viewNumel * chunkBase);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0) {
                    chunkBase = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? out : null;
    }

    static Tensor expand(Tensor x, int[] newShape) {
        int[] shape = newShape.clone();
        int lead = shape.length - x.rank();
        if (lead < 0) {
            throw new IllegalArgumentException("expand: target " + Arrays.toString(newShape) + " has fewer dims than " + Shape.str(x.shapeRef()));
        }
        for (int i = lead; i < shape.length; i++) if (shape[i] == -1) shape[i] = x.shapeRef()[i - lead];
        Tensor out = broadcastView(x, shape);
        if (out == x) return x;
        return Tensor.recording(x) ? record(out, "expand", new Tensor[] {x}, Derivatives.expand(x)) : out;
    }

    /// A contiguous copy outside the graph.
    static Tensor copy(Tensor x) {
        Tensor out = emptyLike(x, x.dtype(), x.shapeRef().clone());
        if (out.numel() > 0) x.backend().copy(x, out);
        return out;
    }

    /// A dtype conversion outside the graph.
    static Tensor convert(Tensor x, DType dtype) {
        Tensor out = emptyLike(x, dtype, x.shapeRef().clone());
        if (out.numel() > 0) x.backend().copy(x, out);
        return out;
    }

    static Tensor contiguous(Tensor x) {
        Tensor out = copy(x);
        return Tensor.recording(x) ? record(out, "contiguous", new Tensor[] {x}, Derivatives.identity()) : out;
    }

    static Tensor cloneOp(Tensor x) {
        Tensor out = copy(x);
        return Tensor.recording(x) ? record(out, "clone", new Tensor[] {x}, Derivatives.identity()) : out;
    }

    static Tensor toDType(Tensor x, DType dtype) {
        if (!dtype.isCompute() && dtype != DType.I32) {
            throw new IllegalArgumentException("to: " + dtype + " is a storage-only type; convert to F32 or F64");
        }
        Tensor out = convert(x, dtype);
        if (dtype.isFloating()) Tensor.anomalyCheck("to", out);                 // F64 → F32 can overflow
        return Tensor.recording(x) && dtype.isFloating() ? record(out, "to", new Tensor[] {x}, Derivatives.convert(x)) : out;
    }

    static Tensor toDevice(Tensor x, Device device) {
        Backend target = Backends.forDevice(device);
        Tensor src = x.contiguous();
        Tensor out = new Tensor(target.upload(device, x.dtype(), x.backend().download(src)),
                x.shapeRef().clone(), Shape.contiguousStrides(x.shapeRef()), 0);
        return Tensor.recording(x) ? record(out, "to", new Tensor[] {x}, Derivatives.convert(x)) : out;
    }
}
