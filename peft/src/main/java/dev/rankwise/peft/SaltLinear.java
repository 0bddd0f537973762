package dev.rankwise.peft;

import dev.rankwise.DType;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Init;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.random.Generator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// SALT (arXiv 2503.16055, §3): a Linear whose weight W [m, n] = U Σ Vᵀ is reparameterized as
/// W' = U·ReLU(Σ')·Vᵀ with Σ' = blockdiag(diag(α ⊙ σ_{1..r} + β), diag(σ_{r+1..k}) + X·Y), k = min(m, n):
/// the top r singular values are scaled and shifted, the tail gets a rank-q LoRA, and ReLU (elementwise
/// on Σ', so off-diagonal zeros stay zero at the start) keeps the spectrum non-negative.
///
/// Frozen buffers: `salt_U` [m, k], `salt_S` [k], `salt_Vh` [k, n] and the base `bias` [m]. Trainable:
/// `salt_alpha` [r] = 1, `salt_beta` [r] = 0, `salt_X` [k − r, q] Kaiming-uniform with a = √20 and
/// `salt_Y` [q, k − r] = 0 — 2r + 2q(k − r) numbers — so W' = W at initialization.
///
/// Forward (x [..., n] → y [..., m]): h = x V; y = [h_top ⊙ ReLU(α⊙σ_top + β), h_tail · ReLU(T)ᵀ] Uᵀ + b
/// with T = diag(σ_tail) + X·Y, never forming W'.
///
/// Sources. The parameterization (scale α = 1 and shift β = 0 on the top r singular values, the tail's
/// σ plus a LoRA X·Y, ReLU over the whole Σ', W' = U·ReLU(Σ')·Vᵀ) matches the `SALTLinear` variants
/// published with the paper (BioMedIA-MBZUAI/SALT). Those variants differ among themselves and from
/// this class in two details: they draw X and Y ~ N(0, 0.01²), so W' ≈ W rather than W' = W at the
/// start, and their forward also returns a regularizer ‖diag(α⊙σ + β) − diag(σ)‖_F + ‖X·Y‖_F that the
/// training loss weights by `reg_multiplier` (0 in the published config). [The paper's own X init
/// (Kaiming, a = √20, Y = 0) and its rule r = max(1, ⌊k·ratio⌋) remain unverified: the code fixes r per
/// layer type.]
public final class SaltLinear extends Module {
    private final int r, q, k;
    private final Tensor u, s, vh, bias;

    /// r = max(1, ⌊k·ratio⌋) top singular values (the paper's rule), tail LoRA rank q.
    public static int rankFor(int k, double ratio) {
        if (!(ratio > 0 && ratio <= 1)) throw new IllegalArgumentException("salt: ratio must be in (0, 1], got " + ratio);
        return Math.max(1, (int) Math.floor(k * ratio));
    }

    /// Reparameterizes `base` (its weight and bias are copied; `base` is not changed).
    public SaltLinear(Linear base, int r, int q, Generator gen) {
        this(base, initial(base, r, q, gen));
    }

    private static Map<String, Tensor> initial(Linear base, int r, int q, Generator gen) {
        Tensor w = base.weight().detach();
        int k = Math.min(w.size(0), w.size(1));
        if (r < 1 || r > k) throw new IllegalArgumentException("salt: r must be in [1, " + k + "] for a weight " + Shape.str(w.shape()) + ", got " + r);
        if (r < k ? q < 1 || q > k - r : q != 0) {
            throw new IllegalArgumentException("salt: tail rank q must be in [1, " + (k - r) + "] (0 when r = k), got " + q);
        }
        DType dt = w.dtype();
        Linalg.Svd svd;
        try (var ignored = GradMode.noGrad()) {
            svd = Linalg.svd(w);
        }
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("salt_U", svd.u());
        t.put("salt_S", svd.s());
        t.put("salt_Vh", svd.vh());
        t.put("salt_alpha", Tensor.ones(dt, r));
        t.put("salt_beta", Tensor.zeros(dt, r));
        if (r < k) {
            t.put("salt_X", Init.kaimingUniform(gen, Math.sqrt(20), dt, k - r, q));
            t.put("salt_Y", Tensor.zeros(dt, q, k - r));
        }
        return t;
    }

    /// Rebuilds a SALT layer on `base` (for its bias and shape) from its tensors, e.g. a file's:
    /// `salt_U` [m, k], `salt_S` [k], `salt_Vh` [k, n], `salt_alpha` [r], `salt_beta` [r] and, when
    /// r < k, `salt_X` [k − r, q], `salt_Y` [q, k − r]. The tensors are copied.
    public SaltLinear(Linear base, Map<String, Tensor> t) {
        int m = base.outFeatures(), n = base.inFeatures();
        k = Math.min(m, n);
        Tensor alpha = need(t, "salt_alpha");
        r = alpha.size(0);
        q = r < k ? need(t, "salt_X").size(1) : 0;
        expect(t, "salt_U", m, k);
        expect(t, "salt_S", k);
        expect(t, "salt_Vh", k, n);
        expect(t, "salt_alpha", r);
        expect(t, "salt_beta", r);
        if (r < k) {
            expect(t, "salt_X", k - r, q);
            expect(t, "salt_Y", q, k - r);
        }
        DType dt = base.weight().dtype();
        u = registerBuffer("salt_U", own(t.get("salt_U"), dt));
        s = registerBuffer("salt_S", own(t.get("salt_S"), dt));
        vh = registerBuffer("salt_Vh", own(t.get("salt_Vh"), dt));
        bias = base.bias() == null ? null : registerBuffer("bias", own(base.bias(), dt));
        for (String name : List.of("salt_alpha", "salt_beta", "salt_X", "salt_Y")) {
            if (t.containsKey(name)) registerParameter(name, own(t.get(name), dt));
        }
    }

    private static Tensor need(Map<String, Tensor> t, String name) {
        Tensor x = t.get(name);
        if (x == null || x.rank() == 0) throw new IllegalArgumentException("salt: missing tensor " + name);
        return x;
    }

    private static void expect(Map<String, Tensor> t, String name, int... shape) {
        Tensor x = need(t, name);
        if (!java.util.Arrays.equals(x.shape(), shape)) {
            throw new IllegalArgumentException("salt: " + name + " has shape " + Shape.str(x.shape()) + ", expected " + Shape.str(shape));
        }
    }

    private static Tensor own(Tensor t, DType dt) {
        try (var ignored = GradMode.noGrad()) {
            return t.detach().to(dt).copy().detach();
        }
    }

    /// SALT's tensors by name (buffers and parameters; the same objects the layer uses).
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> out = new LinkedHashMap<>(stateDict());
        out.remove("bias");
        return out;
    }

    /// Replaces every targeted Linear of `model` by a SALT layer and freezes everything else; returns
    /// the paths. `ratio` gives r per layer ([#rankFor]), `q` the tail rank (capped at k − r).
    public static List<String> attach(Module model, List<String> targets, double ratio, int q, Generator gen) {
        List<String> done = new ArrayList<>();
        for (var e : new ArrayList<>(model.namedModules().entrySet())) {
            if (!(e.getValue() instanceof Linear lin) || !Peft.matches(e.getKey(), targets)) continue;
            int kk = Math.min(lin.inFeatures(), lin.outFeatures()), rr = rankFor(kk, ratio);
            model.replaceModule(e.getKey(), new SaltLinear(lin, rr, Math.min(q, kk - rr), gen.derive(e.getKey())));
            done.add(e.getKey());
        }
        if (done.isEmpty()) throw new IllegalArgumentException("salt: target_modules " + targets + " match no Linear layer");
        Peft.freezeBase(model);
        return done;
    }

    public int rank() {
        return r;
    }

    public int tailRank() {
        return q;
    }

    /// ReLU(Σ') as its two blocks: the top diagonal [r] and the tail [k − r, k − r].
    private Tensor[] spectrum() {
        Tensor top = s.narrow(0, 0, r).mul(parameter("salt_alpha")).add(parameter("salt_beta")).relu();
        if (r == k) return new Tensor[] {top, null};
        Tensor tail = diag(s.narrow(0, r, k - r));
        tail = tail.add(parameter("salt_X").matmul(parameter("salt_Y")));
        return new Tensor[] {top, tail.relu()};
    }

    private static Tensor diag(Tensor v) {
        int n = v.size(0);
        return Tensor.eye(n, v.dtype()).mul(v.unsqueeze(0));
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.size(-1) != vh.size(1)) throw new IllegalArgumentException("salt: input " + Shape.str(x.shape()) + " does not end in d_in = " + vh.size(1));
        Tensor[] sp = spectrum();
        Tensor h = x.matmul(vh.t());
        Tensor top = h.narrow(-1, 0, r).mul(sp[0]);
        Tensor mixed = sp[1] == null ? top : Tensor.concat(List.of(top, h.narrow(-1, r, k - r).matmul(sp[1].t())), -1);
        Tensor y = mixed.matmul(u.t());
        return bias == null ? y : y.add(bias);
    }

    /// W' = U·ReLU(Σ')·Vᵀ [m, n].
    public Tensor weight() {
        Tensor[] sp = spectrum();
        Tensor w = u.narrow(1, 0, r).mul(sp[0]).matmul(vh.narrow(0, 0, r));
        if (sp[1] != null) w = w.add(u.narrow(1, r, k - r).matmul(sp[1]).matmul(vh.narrow(0, r, k - r)));
        return w;
    }

    /// A plain, frozen Linear holding W' and the bias (merge-and-unload).
    public Linear toLinear() {
        Linear lin = new Linear(vh.size(1), u.size(0), bias != null, new Generator(0), vh.dtype());
        try (var ignored = GradMode.noGrad()) {
            lin.setParameter("weight", weight());
            if (bias != null) lin.setParameter("bias", bias);
        }
        lin.freeze();
        return lin;
    }
}
