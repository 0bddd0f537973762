package dev.rankwise.autograd;

import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.ops.BinaryOp;
import dev.rankwise.ops.UnaryOp;

import java.util.Arrays;

/// Every backward formula of the op catalog, in one place.
///
/// Each method takes what the forward saved (inputs, output, a few ints) and returns the op's
/// [Node.Backward]: a function from the output's gradient `g` to the inputs' gradients, written in
/// terms of other tensor ops so it runs on every backend. A null entry means that input does not
/// require grad. Ops without a rule throw; there is no silent zero gradient anywhere.
public final class Derivatives {
    private Derivatives() {}

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    // ---------------------------------------------------------------- elementwise

    public static Node.Backward unary(UnaryOp op, Tensor x, Tensor y) {
        return g -> new Tensor[] {switch (op) {
            case NEG -> g.neg();
            case EXP -> g.mul(y);
            case LOG -> g.div(x);
            case SQRT -> g.div(y.mul(2));
            case RSQRT -> g.mul(y.mul(y).mul(y).mul(-0.5));          // d/dx x^(-1/2) = -1/2 x^(-3/2)
            case ABS -> g.mul(x.sign());                              // subgradient 0 at 0
            case SIGN -> g.mul(0.0);                                  // derivative is 0 everywhere it exists
            case RELU -> g.mul(x.gt(0.0));                            // 0 at x = 0, as PyTorch
            case SIGMOID -> g.mul(y.mul(y.rsub(1)));
            case TANH -> g.mul(y.mul(y).rsub(1));
            case GELU_TANH -> g.mul(geluTanhDerivative(x));
            case GELU_ERF -> g.mul(geluErfDerivative(x));
            case SILU -> {                                            // s + x·s·(1 − s), s = sigmoid(x)
                Tensor s = x.sigmoid();
                yield g.mul(s.add(x.mul(s).mul(s.rsub(1))));
            }
            case ERF -> g.mul(x.mul(x).neg().exp().mul(2 / Math.sqrt(Math.PI)));
        }};
    }

    /// d/dx of 0.5·x·(1 + tanh(u)), u = c·(x + 0.044715 x³):
    /// 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3·0.044715 x²).
    private static Tensor geluTanhDerivative(Tensor x) {
        Tensor x2 = x.mul(x);
        Tensor t = x.add(x2.mul(x).mul(0.044715)).mul(SQRT_2_OVER_PI).tanh();
        Tensor du = x2.mul(3 * 0.044715).add(1).mul(SQRT_2_OVER_PI);
        return t.add(1).mul(0.5).add(x.mul(0.5).mul(t.mul(t).rsub(1)).mul(du));
    }

    /// d/dx of x·Φ(x) = Φ(x) + x·φ(x).
    private static Tensor geluErfDerivative(Tensor x) {
        Tensor cdf = x.mul(1 / Math.sqrt(2)).erf().add(1).mul(0.5);
        Tensor pdf = x.mul(x).mul(-0.5).exp().mul(INV_SQRT_2PI);
        return cdf.add(x.mul(pdf));
    }

    public static Node.Backward binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        boolean needA = a.requiresGrad(), needB = b.requiresGrad();
        int[] sa = a.shapeRef(), sb = b.shapeRef();
        return g -> {
            Tensor[] d = switch (op) {                                   // {dL/da, dL/db} before unbroadcasting
                case ADD -> new Tensor[] {g, g};
                case SUB -> new Tensor[] {g, needB ? g.neg() : null};
                case MUL -> new Tensor[] {needA ? g.mul(b) : null, needB ? g.mul(a) : null};
                case DIV -> new Tensor[] {needA ? g.div(b) : null, needB ? g.mul(out).div(b).neg() : null}; // −g·a/b² = −g·out/b
                case POW -> new Tensor[] {needA ? g.mul(b).mul(a.pow(b.sub(1))) : null, needB ? g.mul(out).mul(a.log()) : null};
                case MAX, MIN -> {                                       // ties split the gradient equally
                    Tensor win = op == BinaryOp.MAX ? a.gt(b) : a.lt(b);
                    Tensor share = win.add(a.eq(b).mul(0.5));
                    yield new Tensor[] {needA ? g.mul(share) : null, needB ? g.mul(share.rsub(1)) : null};
                }
                case GT, GE, LT, LE, EQ -> throw new IllegalStateException("comparison " + op.opName() + " has no gradient");
            };
            return new Tensor[] {needA ? unbroadcast(d[0], sa) : null, needB ? unbroadcast(d[1], sb) : null};
        };
    }

    /// clamp(x, lo, hi): the gradient passes where lo ≤ x ≤ hi.
    public static Node.Backward clamp(Tensor x, double lo, double hi) {
        return g -> new Tensor[] {g.mul(x.ge(scalarLike(lo, x)).mul(x.le(scalarLike(hi, x))))};
    }

    /// where(cond, a, b): the gradient goes to a where cond ≠ 0, to b elsewhere.
    public static Node.Backward where(Tensor cond, Tensor a, Tensor b) {
        int[] sa = a.shapeRef(), sb = b.shapeRef();
        return g -> {
            Tensor c = cond.to(g.dtype()).eq(0.0).rsub(1);
            return new Tensor[] {null,
                    a.requiresGrad() ? unbroadcast(g.mul(c), sa) : null,
                    b.requiresGrad() ? unbroadcast(g.mul(c.rsub(1)), sb) : null};
        };
    }

    // ---------------------------------------------------------------- reductions

    /// sum over dims: the gradient is broadcast back over the reduced dims.
    public static Node.Backward sum(Tensor x, int[] keepShape) {
        int[] sx = x.shapeRef();
        return g -> new Tensor[] {g.reshape(keepShape).expand(sx)};
    }

    /// amax over dims: the gradient is shared equally among the maximal elements.
    public static Node.Backward amax(Tensor x, Tensor yKeep, int[] dims, int[] keepShape) {
        return g -> {
            Tensor mask = x.eq(yKeep);
            Tensor count = mask.sum(dims, true);
            return new Tensor[] {mask.mul(g.reshape(keepShape)).div(count)};
        };
    }

    /// max/min along a dim with indices: the gradient goes to the chosen index.
    public static Node.Backward selectAlong(Tensor x, int dim, Tensor indicesKeep, int[] keepShape) {
        int[] sx = x.shapeRef();
        return g -> new Tensor[] {Tensor.zeros(x.device(), g.dtype(), sx).scatterAdd(dim, indicesKeep, g.reshape(keepShape))};
    }

    // ---------------------------------------------------------------- matmul and fused ops

    /// C = A·B (batched): dA = dC·Bᵀ, dB = Aᵀ·dC, each summed over broadcast batch dims.
    public static Node.Backward matmul(Tensor a, Tensor b) {
        int[] sa = a.shapeRef(), sb = b.shapeRef();
        return g -> new Tensor[] {
                a.requiresGrad() ? unbroadcast(g.matmul(b.mT()), sa) : null,
                b.requiresGrad() ? unbroadcast(a.mT().matmul(g), sb) : null};
    }

    /// softmax: dx = y ⊙ (g − Σ g⊙y); log-softmax: dx = g − softmax(x) ⊙ Σ g.
    public static Node.Backward softmax(Tensor y, int dim, boolean log) {
        return g -> new Tensor[] {log
                ? g.sub(y.exp().mul(g.sum(dim, true)))
                : y.mul(g.sub(g.mul(y).sum(dim, true)))};
    }

    /// The low-rank linear: the backend's fused backward gives dx, dA, dB, dg in one sweep over x and
    /// dy (formulas in `FusedKernels.loraBackward`); where W or the bias trains, dW = dyᵀ x and
    /// dbias = Σ_rows dy are added. Inputs: x, W, bias, A, B, g (bias and g may be null); `h` = x Aᵀ as
    /// the forward saved it, or null.
    public static Node.Backward lowRankLinear(Tensor x, Tensor w, Tensor bias, Tensor a, Tensor b, Tensor g, double s, Tensor h) {
        boolean needX = x.requiresGrad(), needA = a.requiresGrad(), needB = b.requiresGrad(), needG = g != null && g.requiresGrad();
        boolean needW = w.requiresGrad(), needBias = bias != null && bias.requiresGrad();
        Tensor xs = x.detach(), ws = w.detach(), as = a.detach(), bs = b.detach(), gs = g == null ? null : g.detach();
        return dy -> {
            var d = x.backend().fused().loraBackward(dy, xs, ws, as, bs, gs, s, h, needX, needA, needB, needG);
            Tensor dy2 = needW || needBias ? dy.reshape(-1, dy.size(-1)) : null;
            Tensor dw = needW ? dy2.t().matmul(xs.reshape(-1, xs.size(-1))) : null;
            Tensor dbias = needBias ? dy2.sum(new int[] {0}, false) : null;
            return new Tensor[] {d.dx(), dw, dbias, d.da(), d.db(), d.dg()};
        };
    }

    // ---------------------------------------------------------------- indexing

    /// gather: the gradient is scattered back to the gathered positions.
    public static Node.Backward gather(Tensor x, int dim, Tensor index) {
        int[] sx = x.shapeRef();
        return g -> new Tensor[] {Tensor.zeros(x.device(), g.dtype(), sx).scatterAdd(dim, index, g), null};
    }

    /// scatterAdd(target, index, src): target's gradient passes through, src's is gathered.
    public static Node.Backward scatterAdd(Tensor target, int dim, Tensor index, Tensor src) {
        return g -> new Tensor[] {
                target.requiresGrad() ? g : null, null,
                src.requiresGrad() ? g.gather(dim, index) : null};
    }

    /// concat: each input gets its slice of the gradient.
    public static Node.Backward concat(Tensor[] inputs, int dim) {
        return g -> {
            Tensor[] out = new Tensor[inputs.length];
            int start = 0;
            for (int i = 0; i < inputs.length; i++) {
                int len = inputs[i].size(dim);
                if (inputs[i].requiresGrad()) out[i] = g.narrow(dim, start, len);
                start += len;
            }
            return out;
        };
    }

    // ---------------------------------------------------------------- views and conversions

    public static Node.Backward reshape(Tensor x) {
        int[] sx = x.shapeRef();
        return g -> new Tensor[] {g.reshape(sx)};
    }

    public static Node.Backward permute(int[] dims) {
        int[] inverse = new int[dims.length];
        for (int i = 0; i < dims.length; i++) inverse[dims[i]] = i;
        return g -> new Tensor[] {g.permute(inverse)};
    }

    /// narrow: the gradient is zero outside the slice.
    public static Node.Backward narrow(Tensor x, int dim, int start, int length) {
        int[] sx = x.shapeRef();
        return g -> {
            Tensor gx = Tensor.zeros(x.device(), g.dtype(), sx);
            gx.narrow(dim, start, length).copyFrom(g);
            return new Tensor[] {gx};
        };
    }

    public static Node.Backward expand(Tensor x) {
        int[] sx = x.shapeRef();
        return g -> new Tensor[] {unbroadcast(g, sx)};
    }

    /// copies, contiguous(), clone(): the identity.
    public static Node.Backward identity() {
        return g -> new Tensor[] {g};
    }

    /// dtype and device conversions: the gradient converts back.
    public static Node.Backward convert(Tensor x) {
        return g -> new Tensor[] {g.to(x.dtype()).to(x.device())};
    }

    // ---------------------------------------------------------------- helpers

    /// Sums `g` over the dims along which an input of `shape` was broadcast, giving it that shape.
    public static Tensor unbroadcast(Tensor g, int[] shape) {
        int[] gs = g.shapeRef();
        if (Shape.same(gs, shape)) return g;
        int lead = gs.length - shape.length;
        if (lead < 0) throw new IllegalStateException("unbroadcast: gradient " + Shape.str(gs) + " is smaller than " + Shape.str(shape));
        int[] dims = new int[gs.length];
        int n = 0;
        for (int i = 0; i < gs.length; i++) {
            if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) dims[n++] = i;
        }
        Tensor s = n == 0 ? g : g.sum(Arrays.copyOf(dims, n), true);
        return s.reshape(shape);
    }

    private static Tensor scalarLike(double v, Tensor like) {
        return Tensor.scalar(v, like.dtype()).to(like.device());
    }
}
