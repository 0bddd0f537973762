package dev.rankwise;

import dev.rankwise.autograd.Anomaly;
import dev.rankwise.autograd.Backprop;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.autograd.Node;
import dev.rankwise.ops.BinaryOp;
import dev.rankwise.ops.ReduceOp;
import dev.rankwise.ops.UnaryOp;
import dev.rankwise.random.Generator;
import dev.rankwise.spi.Backend;
import dev.rankwise.spi.Backends;
import dev.rankwise.spi.Distribution;
import dev.rankwise.spi.Storage;

import java.util.Arrays;
import java.util.List;

/// An n-dimensional array of F32, F64 or I32 elements: a strided view of a backend's storage, with
/// an optional autograd node.
///
/// Views (reshape of a contiguous tensor, transpose, permute, narrow, expand, squeeze, unsqueeze)
/// share storage and copy nothing. Every op is differentiable through the rules in
/// `dev.rankwise.autograd.Derivatives`; ops on tensors with `requiresGrad` record the graph unless
/// [GradMode#noGrad] is in effect. Ops never modify their inputs, except the `…InPlace` methods, which
/// are for optimizers and refuse to run on tensors that require grad while recording.
public final class Tensor {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final int offset;
    private final long numel;
    private final boolean contiguous;
    private boolean requiresGrad;
    private boolean retainGrad;
    private Tensor grad;
    private Node gradFn;

    /// For backends and engine internals: a view of `storage`. Prefer the factory methods.
    public Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.numel = Shape.numel(shape);
        this.contiguous = numel == 0 || Shape.isContiguous(shape, strides);
    }

    // ---------------------------------------------------------------- creation

    public static Tensor zeros(int... shape) {
        return zeros(DType.F32, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return zeros(Device.CPU, dtype, shape);
    }

    public static Tensor zeros(Device device, DType dtype, int... shape) {
        return Ops.empty(Backends.forDevice(device), device, dtype, shape.clone());
    }

    public static Tensor ones(int... shape) {
        return full(1, DType.F32, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(1, dtype, shape);
    }

    public static Tensor full(double value, DType dtype, int... shape) {
        Tensor t = zeros(dtype, shape);
        if (value != 0) t.backend().fill(t, value);
        return t;
    }

    /// A 0-dimensional tensor.
    public static Tensor scalar(double value, DType dtype) {
        return full(value, dtype);
    }

    /// `[0, 1, …, n−1]` as F32.
    public static Tensor arange(int n) {
        return arange(0, n, 1, DType.F32);
    }

    /// `start, start + step, …` below `end` (above it for a negative step).
    public static Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0) throw new IllegalArgumentException("arange: step must not be 0");
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = start + i * step;
        return fromArray(v, n).to(dtype);
    }

    /// The n×n identity matrix.
    public static Tensor eye(int n, DType dtype) {
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        return fromArray(v, n, n).to(dtype);
    }

    public static Tensor fromArray(float[] data, int... shape) {
        return fromHost(Device.CPU, DType.F32, data, data.length, shape);
    }

    public static Tensor fromArray(double[] data, int... shape) {
        return fromHost(Device.CPU, DType.F64, data, data.length, shape);
    }

    /// An I32 tensor (indices, labels).
    public static Tensor fromArray(int[] data, int... shape) {
        return fromHost(Device.CPU, DType.I32, data, data.length, shape);
    }

    private static Tensor fromHost(Device device, DType dtype, Object data, int length, int[] shape) {
        if (Shape.numel(shape) != length) {
            throw new IllegalArgumentException("fromArray: " + length + " values do not fill shape " + Shape.str(shape));
        }
        checkShape("fromArray", shape);
        Backend be = Backends.forDevice(device);
        return new Tensor(be.upload(device, dtype, data.getClass() == float[].class ? ((float[]) data).clone()
                : data.getClass() == double[].class ? ((double[]) data).clone() : ((int[]) data).clone()),
                shape.clone(), Shape.contiguousStrides(shape), 0);
    }

    /// Uniform numbers on `[low, high)` from `gen`.
    public static Tensor uniform(Generator gen, double low, double high, DType dtype, int... shape) {
        return Ops.random(gen, Distribution.uniform(low, high), dtype, shape.clone());
    }

    /// Uniform numbers on (0, 1) from `gen`.
    public static Tensor rand(Generator gen, DType dtype, int... shape) {
        return uniform(gen, 0, 1, dtype, shape);
    }

    /// Normal numbers with mean `mean` and standard deviation `std` from `gen`.
    public static Tensor normal(Generator gen, double mean, double std, DType dtype, int... shape) {
        return Ops.random(gen, Distribution.normal(mean, std), dtype, shape.clone());
    }

    /// Standard normal numbers from `gen`.
    public static Tensor randn(Generator gen, DType dtype, int... shape) {
        return normal(gen, 0, 1, dtype, shape);
    }

    /// Uniform numbers on (0, 1) from `gen`, generated on `device` (the same numbers as on the CPU).
    public static Tensor rand(Generator gen, DType dtype, Device device, int... shape) {
        return Ops.random(gen, Distribution.uniform(0, 1), dtype, device, shape.clone());
    }

    /// Standard normal numbers from `gen`, generated on `device` (the same numbers as on the CPU).
    public static Tensor randn(Generator gen, DType dtype, Device device, int... shape) {
        return Ops.random(gen, Distribution.normal(0, 1), dtype, device, shape.clone());
    }

    static void checkShape(String op, int[] shape) {
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException(op + ": negative dimension in shape " + Shape.str(shape));
        }
    }

    // ---------------------------------------------------------------- metadata

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    public Backend backend() {
        return storage.backend();
    }

    public Storage storage() {
        return storage;
    }

    /// A copy of the shape.
    public int[] shape() {
        return shape.clone();
    }

    public int size(int dim) {
        return shape[Shape.dim("size", dim, shape.length)];
    }

    public int rank() {
        return shape.length;
    }

    public long numel() {
        return numel;
    }

    /// A copy of the strides, in elements.
    public int[] strides() {
        return strides.clone();
    }

    /// The position of element 0 in the storage.
    public int offset() {
        return offset;
    }

    /// For backends: the shape array itself. Never modify it.
    public int[] shapeRef() {
        return shape;
    }

    /// For backends: the strides array itself. Never modify it.
    public int[] stridesRef() {
        return strides;
    }

    /// True when the elements lie in row-major order without gaps (every empty tensor is contiguous).
    public boolean isContiguous() {
        return contiguous;
    }

    // ---------------------------------------------------------------- autograd state

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /// Marks a leaf as a parameter whose gradient backward accumulates. Returns this tensor.
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null && !value) {
            throw new IllegalStateException("requiresGrad: cannot turn off on a non-leaf tensor; use detach()");
        }
        if (value && !dtype().isFloating()) {
            throw new IllegalArgumentException("requiresGrad: only floating tensors can require grad, not " + dtype());
        }
        requiresGrad = value;
        return this;
    }

    /// The accumulated gradient, or null.
    public Tensor grad() {
        return grad;
    }

    /// Replaces the gradient (null clears it).
    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.shape, shape)) {
            throw new IllegalArgumentException("setGrad: gradient shape " + Shape.str(g.shape)
                    + " does not match tensor shape " + Shape.str(shape));
        }
        grad = g;
    }

    /// Clears the accumulated gradient.
    public void zeroGrad() {
        grad = null;
    }

    /// The node that produced this tensor, or null for a leaf.
    public Node gradFn() {
        return gradFn;
    }

    public boolean isLeaf() {
        return gradFn == null;
    }

    /// Keeps this non-leaf tensor's gradient in `.grad()` during backward.
    public Tensor retainGrad() {
        retainGrad = true;
        return this;
    }

    public boolean retainsGrad() {
        return retainGrad;
    }

    /// Adds `g` into `.grad()`; the first gradient is copied so that it never aliases another tensor.
    public void accumulateGrad(Tensor g) {
        if (grad == null) {
            grad = Ops.copy(g);
        } else {
            try (var ignored = GradMode.noGrad()) {
                grad.addInPlace(g);
            }
        }
    }

    /// Attaches the node that produced this tensor (engine internal).
    void attach(Node node) {
        gradFn = node;
        requiresGrad = true;
    }

    /// Back-propagates from this scalar.
    public void backward() {
        if (numel() != 1) {
            throw new IllegalStateException("backward: output has shape " + Shape.str(shape)
                    + "; pass an upstream gradient of that shape for a non-scalar output");
        }
        Backprop.backward(this, Tensor.full(1, dtype(), shape).to(device()), false);
    }

    /// Back-propagates `grad`, the gradient of some scalar with respect to this tensor.
    public void backward(Tensor grad) {
        Backprop.backward(this, grad, false);
    }

    public void backward(Tensor grad, boolean retainGraph) {
        Backprop.backward(this, grad, retainGraph);
    }

    /// The same values, cut from the graph.
    public Tensor detach() {
        return new Tensor(storage, shape, strides, offset);
    }

    // ---------------------------------------------------------------- data out

    public float[] toFloatArray() {
        Tensor t = dtype() == DType.F32 ? this : Ops.convert(this, DType.F32);
        return (float[]) backend().download(t);
    }

    public double[] toDoubleArray() {
        Tensor t = dtype() == DType.F64 ? this : Ops.convert(this, DType.F64);
        return (double[]) backend().download(t);
    }

    public int[] toIntArray() {
        Tensor t = dtype() == DType.I32 ? this : Ops.convert(this, DType.I32);
        return (int[]) backend().download(t);
    }

    /// The single value of a one-element tensor.
    public double item() {
        if (numel() != 1) throw new IllegalStateException("item: tensor has " + numel() + " elements, shape " + Shape.str(shape));
        return toDoubleArray()[0];
    }

    /// True when no element is NaN or infinite.
    public boolean allFinite() {
        if (!dtype().isFloating()) return true;
        for (double v : toDoubleArray()) if (!Double.isFinite(v)) return false;
        return true;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype()).append(", ").append(Shape.str(shape));
        if (device().kind() != Device.Kind.CPU) sb.append(", ").append(device());
        if (requiresGrad) sb.append(", requiresGrad");
        if (numel() <= 16) sb.append(", ").append(Arrays.toString(toDoubleArray()));
        return sb.append(')').toString();
    }

    // ---------------------------------------------------------------- conversion

    public Tensor to(DType dtype) {
        return dtype == dtype() ? this : Ops.toDType(this, dtype);
    }

    public Tensor to(Device device) {
        return device.equals(device()) ? this : Ops.toDevice(this, device);
    }

    /// This tensor if contiguous, else a contiguous copy.
    public Tensor contiguous() {
        return isContiguous() ? this : Ops.contiguous(this);
    }

    /// A contiguous copy that shares nothing with this tensor (differentiable).
    public Tensor copy() {
        return Ops.cloneOp(this);
    }

    // ---------------------------------------------------------------- views

    /// The elements in row-major order with a new shape (one entry may be −1): a view when the strides
    /// allow one (always for a contiguous tensor), else a contiguous copy.
    public Tensor reshape(int... newShape) {
        return Ops.reshape(this, newShape, false);
    }

    /// Like [#reshape], but an error instead of a copy when the strides allow no view.
    public Tensor view(int... newShape) {
        return Ops.reshape(this, newShape, true);
    }

    public Tensor flatten() {
        return reshape(-1);
    }

    public Tensor permute(int... dims) {
        return Ops.permute(this, dims);
    }

    public Tensor transpose(int dim0, int dim1) {
        int r = shape.length;
        int[] p = new int[r];
        for (int i = 0; i < r; i++) p[i] = i;
        int a = Shape.dim("transpose", dim0, r), b = Shape.dim("transpose", dim1, r);
        p[a] = b;
        p[b] = a;
        return permute(p);
    }

    /// The transpose of a 2-D tensor.
    public Tensor t() {
        if (shape.length != 2) throw new IllegalArgumentException("t: expects a 2-D tensor, got shape " + Shape.str(shape));
        return transpose(0, 1);
    }

    /// Transposes the last two dims.
    public Tensor mT() {
        return transpose(-2, -1);
    }

    /// Elements `start .. start + length` along `dim`.
    public Tensor narrow(int dim, int start, int length) {
        return Ops.narrow(this, dim, start, length);
    }

    /// The slice at `index` along `dim`, with that dim removed.
    public Tensor select(int dim, int index) {
        return narrow(dim, index, 1).squeeze(dim);
    }

    /// Broadcasts size-1 dims (and new leading dims) to `newShape` without copying.
    public Tensor expand(int... newShape) {
        return Ops.expand(this, newShape);
    }

    /// Removes `dim` when its size is 1 (a view); otherwise returns this tensor.
    public Tensor squeeze(int dim) {
        int d = Shape.dim("squeeze", dim, shape.length);
        if (shape[d] != 1) return this;
        int[] s = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) if (i != d) s[j++] = shape[i];
        return view(s);
    }

    /// Inserts a dim of size 1 at `dim` (a view).
    public Tensor unsqueeze(int dim) {
        int d = Shape.dim("unsqueeze", dim, shape.length + 1);
        int[] s = new int[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) s[i] = i == d ? 1 : shape[j++];
        return view(s);
    }

    // ---------------------------------------------------------------- elementwise

    /// `this + o`, broadcasting both (NumPy rules); the result has the promoted dtype.
    public Tensor add(Tensor o) { return Ops.binary(BinaryOp.ADD, this, o); }
    /// `this − o`, broadcasting.
    public Tensor sub(Tensor o) { return Ops.binary(BinaryOp.SUB, this, o); }
    /// `this ⊙ o` (elementwise), broadcasting.
    public Tensor mul(Tensor o) { return Ops.binary(BinaryOp.MUL, this, o); }
    /// `this / o`, broadcasting.
    public Tensor div(Tensor o) { return Ops.binary(BinaryOp.DIV, this, o); }
    /// `this ^ o` elementwise, broadcasting (the gradient of o needs this > 0).
    public Tensor pow(Tensor o) { return Ops.binary(BinaryOp.POW, this, o); }
    /// The larger of the two elementwise, broadcasting; NaN if either is NaN; ties share the gradient.
    public Tensor maximum(Tensor o) { return Ops.binary(BinaryOp.MAX, this, o); }
    /// The smaller of the two elementwise, broadcasting; NaN if either is NaN; ties share the gradient.
    public Tensor minimum(Tensor o) { return Ops.binary(BinaryOp.MIN, this, o); }

    /// `this + v`.
    public Tensor add(double v) { return add(Ops.constant(v, this)); }
    /// `this − v`.
    public Tensor sub(double v) { return sub(Ops.constant(v, this)); }
    /// `this · v`.
    public Tensor mul(double v) { return mul(Ops.constant(v, this)); }
    /// `this / v`.
    public Tensor div(double v) { return div(Ops.constant(v, this)); }
    /// `this ^ v` elementwise.
    public Tensor pow(double v) { return pow(Ops.constant(v, this)); }
    /// `v − this`.
    public Tensor rsub(double v) { return Ops.constant(v, this).sub(this); }

    /// 1 where `this > o`, else 0, in this tensor's dtype; carries no gradient.
    public Tensor gt(Tensor o) { return Ops.binary(BinaryOp.GT, this, o); }
    /// 1 where `this ≥ o`, else 0; no gradient.
    public Tensor ge(Tensor o) { return Ops.binary(BinaryOp.GE, this, o); }
    /// 1 where `this < o`, else 0; no gradient.
    public Tensor lt(Tensor o) { return Ops.binary(BinaryOp.LT, this, o); }
    /// 1 where `this ≤ o`, else 0; no gradient.
    public Tensor le(Tensor o) { return Ops.binary(BinaryOp.LE, this, o); }
    /// 1 where `this == o`, else 0; no gradient.
    public Tensor eq(Tensor o) { return Ops.binary(BinaryOp.EQ, this, o); }
    /// 1 where `this > v`, else 0; no gradient.
    public Tensor gt(double v) { return gt(Ops.constant(v, this)); }
    /// 1 where `this < v`, else 0; no gradient.
    public Tensor lt(double v) { return lt(Ops.constant(v, this)); }
    /// 1 where `this == v`, else 0; no gradient.
    public Tensor eq(double v) { return eq(Ops.constant(v, this)); }

    /// `−this`.
    public Tensor neg() { return Ops.unary(UnaryOp.NEG, this); }
    /// `eˣ` elementwise.
    public Tensor exp() { return Ops.unary(UnaryOp.EXP, this); }
    /// Natural logarithm elementwise (NaN below 0, −∞ at 0).
    public Tensor log() { return Ops.unary(UnaryOp.LOG, this); }
    /// `√x` elementwise.
    public Tensor sqrt() { return Ops.unary(UnaryOp.SQRT, this); }
    /// `1/√x` elementwise.
    public Tensor rsqrt() { return Ops.unary(UnaryOp.RSQRT, this); }
    /// `|x|`; its gradient at 0 is 0.
    public Tensor abs() { return Ops.unary(UnaryOp.ABS, this); }
    /// −1, 0 or 1 (x itself for ±0 and NaN); its gradient is 0.
    public Tensor sign() { return Ops.unary(UnaryOp.SIGN, this); }
    /// `max(x, 0)`; its gradient at 0 is 0, as PyTorch.
    public Tensor relu() { return Ops.unary(UnaryOp.RELU, this); }
    /// `1 / (1 + e⁻ˣ)`.
    public Tensor sigmoid() { return Ops.unary(UnaryOp.SIGMOID, this); }
    /// Hyperbolic tangent elementwise.
    public Tensor tanh() { return Ops.unary(UnaryOp.TANH, this); }
    /// GELU with the tanh approximation (GPT-2, BERT's default in many codebases).
    public Tensor gelu() { return Ops.unary(UnaryOp.GELU_TANH, this); }
    /// GELU with the exact erf form.
    public Tensor geluExact() { return Ops.unary(UnaryOp.GELU_ERF, this); }
    /// SiLU (swish): `x · sigmoid(x)`.
    public Tensor silu() { return Ops.unary(UnaryOp.SILU, this); }
    /// The error function elementwise.
    public Tensor erf() { return Ops.unary(UnaryOp.ERF, this); }
    /// `x²`.
    public Tensor square() { return mul(this); }

    /// Elementwise clamp into `[min, max]`; the gradient passes where `min ≤ x ≤ max`.
    public Tensor clamp(double min, double max) {
        return Ops.clamp(this, min, max);
    }

    /// `cond != 0 ? a : b`, broadcasting all three.
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return Ops.where(cond, a, b);
    }

    // ---------------------------------------------------------------- reductions

    /// Sum of all elements, as a 0-d tensor.
    public Tensor sum() {
        return Ops.sum(this, Ops.allDims(rank()), false);
    }

    public Tensor sum(int dim, boolean keepdim) {
        return Ops.sum(this, new int[] {dim}, keepdim);
    }

    public Tensor sum(int[] dims, boolean keepdim) {
        return Ops.sum(this, dims, keepdim);
    }

    public Tensor mean() {
        return sum().div((double) numel());
    }

    public Tensor mean(int dim, boolean keepdim) {
        return mean(new int[] {dim}, keepdim);
    }

    public Tensor mean(int[] dims, boolean keepdim) {
        long n = 1;
        for (int d : Ops.normalizeDims("mean", dims, rank())) n *= shape[d];
        return sum(dims, keepdim).div((double) n);
    }

    /// Variance over `dims`, divided by n − 1 when `unbiased` (Bessel's correction) else by n, n the
    /// number of elements reduced. As in PyTorch, too few elements (n ≤ 1 unbiased, n = 0) give NaN.
    public Tensor var(int[] dims, boolean unbiased, boolean keepdim) {
        long n = 1;
        for (int d : Ops.normalizeDims("var", dims, rank())) n *= shape[d];
        Tensor centered = sub(mean(dims, true));
        return centered.square().sum(dims, keepdim).div((double) Math.max(0, unbiased ? n - 1 : n));
    }

    public Tensor var(int dim, boolean unbiased, boolean keepdim) {
        return var(new int[] {dim}, unbiased, keepdim);
    }

    /// The p-norm over `dims` (p = 1, 2 or infinity).
    public Tensor norm(double p, int[] dims, boolean keepdim) {
        if (p == 2) return square().sum(dims, keepdim).sqrt();
        if (p == 1) return abs().sum(dims, keepdim);
        if (p == Double.POSITIVE_INFINITY) return Ops.amax(abs(), dims, keepdim);
        return abs().pow(p).sum(dims, keepdim).pow(1 / p);
    }

    /// The Frobenius (2-) norm of all elements.
    public Tensor norm() {
        return square().sum().sqrt();
    }

    /// Maximum along `dim`; ties share the gradient equally.
    public Tensor amax(int dim, boolean keepdim) {
        return Ops.amax(this, new int[] {dim}, keepdim);
    }

    public Tensor amin(int dim, boolean keepdim) {
        return Ops.amax(neg(), new int[] {dim}, keepdim).neg();
    }

    /// Maximum of all elements.
    public Tensor max() {
        return Ops.amax(this, Ops.allDims(rank()), false);
    }

    public Tensor min() {
        return neg().max().neg();
    }

    /// Maximum along `dim` with the index where it occurs; the gradient goes to that index.
    public ValuesIndices max(int dim, boolean keepdim) {
        return Ops.maxWithIndices(this, dim, keepdim, false);
    }

    public ValuesIndices min(int dim, boolean keepdim) {
        return Ops.maxWithIndices(this, dim, keepdim, true);
    }

    /// Index of the maximum along `dim`, I32.
    public Tensor argmax(int dim, boolean keepdim) {
        return Ops.argReduce(ReduceOp.ARGMAX, this, dim, keepdim);
    }

    public Tensor argmin(int dim, boolean keepdim) {
        return Ops.argReduce(ReduceOp.ARGMIN, this, dim, keepdim);
    }

    /// Values and their indices along a dim.
    public record ValuesIndices(Tensor values, Tensor indices) {}

    // ---------------------------------------------------------------- matmul, softmax, indexing

    /// Matrix product with NumPy semantics: 1-D operands are promoted to matrices and the added dim
    /// removed; leading (batch) dims broadcast.
    public Tensor matmul(Tensor o) {
        return Ops.matmul(this, o);
    }

    /// The low-rank linear of LoRA/SoRA with this tensor as x; see `nn.Functional.lowRankLinear`.
    public Tensor lowRankLinear(Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s) {
        return Ops.lowRankLinear(this, w, bias, a, b, g, s);
    }

    public Tensor softmax(int dim) {
        return Ops.softmax(this, dim, false);
    }

    public Tensor logSoftmax(int dim) {
        return Ops.softmax(this, dim, true);
    }

    /// `out[i][j] = this[i][index[i][j]]` for dim = 1 (any rank, any dim); `index` is I32 of the
    /// output's shape.
    public Tensor gather(int dim, Tensor index) {
        return Ops.gather(this, dim, index);
    }

    /// A copy of this tensor with `src` added at `index` along `dim` (repeated indices accumulate).
    public Tensor scatterAdd(int dim, Tensor index, Tensor src) {
        return Ops.scatterAdd(this, dim, index, src);
    }

    /// The slices at the 1-D I32 `index` along `dim`.
    public Tensor indexSelect(int dim, Tensor index) {
        return Ops.indexSelect(this, dim, index);
    }

    public static Tensor concat(List<Tensor> tensors, int dim) {
        return Ops.concat(tensors, dim);
    }

    public static Tensor stack(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("stack: no tensors");
        int d = Shape.dim("stack", dim, tensors.get(0).rank() + 1);
        return concat(tensors.stream().map(t -> t.unsqueeze(d)).toList(), d);
    }

    /// Splits along `dim` into pieces of the given sizes (views).
    public List<Tensor> split(int[] sizes, int dim) {
        int d = Shape.dim("split", dim, rank());
        long total = 0;
        for (int s : sizes) total += s;
        if (total != shape[d]) {
            throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " do not add up to "
                    + shape[d] + " (dim " + d + " of shape " + Shape.str(shape) + ")");
        }
        List<Tensor> out = new java.util.ArrayList<>();
        int start = 0;
        for (int s : sizes) {
            out.add(narrow(d, start, s));
            start += s;
        }
        return out;
    }

    // ---------------------------------------------------------------- in place (optimizers)

    /// `this += o` (o broadcast to this shape).
    public Tensor addInPlace(Tensor o) {
        return Ops.inPlace(BinaryOp.ADD, this, o);
    }

    /// `this += alpha · o`.
    public Tensor addInPlace(Tensor o, double alpha) {
        return Ops.inPlace(BinaryOp.ADD, this, alpha == 1 ? o : o.mul(alpha));
    }

    public Tensor subInPlace(Tensor o) {
        return Ops.inPlace(BinaryOp.SUB, this, o);
    }

    public Tensor mulInPlace(Tensor o) {
        return Ops.inPlace(BinaryOp.MUL, this, o);
    }

    public Tensor mulInPlace(double v) {
        return Ops.inPlace(BinaryOp.MUL, this, Ops.constant(v, this));
    }

    /// Copies `src` (broadcast, converted to this dtype) into this tensor.
    public Tensor copyFrom(Tensor src) {
        return Ops.copyInto(this, src);
    }

    public Tensor fill(double value) {
        Ops.checkInPlace("fill", this);
        backend().fill(this, value);
        return this;
    }

    public Tensor zero() {
        return fill(0);
    }

    static boolean recording(Tensor a) {
        return a.requiresGrad && GradMode.enabled();
    }

    static boolean recording(Tensor a, Tensor b) {
        return (a.requiresGrad || b.requiresGrad) && GradMode.enabled();
    }

    static void anomalyCheck(String op, Tensor out) {
        if (Anomaly.enabled() && !out.allFinite()) {
            throw new Anomaly.AnomalyException(op, "anomaly: op '" + op + "' produced NaN/Inf (output shape "
                    + Shape.str(out.shape) + ")");
        }
    }
}
