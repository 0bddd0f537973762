package dev.rankwise.peft;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Embedding;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.random.Generator;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/// Small models and checks shared by the peft tests.
final class Models {
    private Models() {}

    /// Two named Linear layers, the second fed by the first: enough to test targeting by name.
    static final class Net extends Module {
        Net(DType dt, Generator gen) {
            registerModule("q_proj", new Linear(6, 5, true, gen, dt));
            registerModule("out", new Linear(5, 4, true, gen, dt));
        }

        @Override
        public Tensor forward(Tensor x) {
            return module("out").forward(module("q_proj").forward(x).tanh());
        }
    }

    /// An embedding (V = 7, d = 6) feeding the two-layer net: ids I32 [...] → [..., 4].
    static final class TokenNet extends Module {
        TokenNet(DType dt, Generator gen) {
            registerModule("embed", new Embedding(7, 6, gen, dt));
            registerModule("net", new Net(dt, gen));
        }

        @Override
        public Tensor forward(Tensor ids) {
            return module("net").forward(module("embed").forward(ids));
        }
    }

    static Tensor ids(int... v) {
        return Tensor.fromArray(v, v.length);
    }

    static double maxDiff(Tensor a, Tensor b) {
        return a.to(DType.F64).sub(b.to(DType.F64)).abs().max().item();
    }

    static Tensor noGrad(Supplier<Tensor> f) {
        try (var ignored = GradMode.noGrad()) {
            return f.get();
        }
    }

    /// Moves every adapter part of `model` (and every SALT parameter) by random amounts, so that
    /// adapters are no longer no-ops (B = 0 or A = 0 at initialization would hide mistakes) and no
    /// ReLU input of SALT sits at its kink.
    static void perturb(Module model, long seed) {
        Generator g = new Generator(seed);
        try (var ignored = GradMode.noGrad()) {
            for (AdapterLayer l : Peft.adapterLayers(model).values()) {
                for (String n : l.adapterNames()) {
                    for (Tensor t : l.adapterParts(n).values()) {
                        if (t == l.magnitude(n)) t.copyFrom(t.mul(Tensor.uniform(g, 0.8, 1.2, t.dtype(), t.shape())));
                        else t.copyFrom(t.add(Tensor.randn(g, t.dtype(), t.shape()).mul(0.3)));
                    }
                }
            }
            for (Module m : model.namedModules().values()) {
                if (!(m instanceof SaltLinear salt)) continue;
                for (Tensor t : salt.parameters()) t.copyFrom(t.add(Tensor.randn(g, t.dtype(), t.shape()).mul(0.3)));
            }
        }
    }

    /// Gradient check through a module: the gradients autograd gives every trainable parameter of
    /// `m` for Σ w ⊙ f() (fixed random w) against F64 central differences, |Δ| ≤ 1e-6 + 1e-5·|numeric|
    /// (step 1e-6: truncation O(h²), rounding O(ε/h) ≈ 1e-10). Frozen tensors (buffers) must get no gradient.
    static void gradCheck(Module m, Supplier<Tensor> f) {
        m.zeroGrad();
        for (Tensor t : m.stateDict().values()) t.setGrad(null);
        Tensor out = f.get();
        double[] w = new double[(int) out.numel()];
        Random rnd = new Random(7);
        for (int i = 0; i < w.length; i++) w[i] = 0.5 + rnd.nextDouble();
        Tensor wt = Tensor.fromArray(w, out.shape());
        out.mul(wt).sum().backward();
        List<Tensor> params = new ArrayList<>(m.trainableParameters());
        for (var e : m.stateDict().entrySet()) {
            if (!params.contains(e.getValue())) assertNull(e.getValue().grad(), "frozen " + e.getKey() + " got a gradient");
        }
        for (var e : m.namedParameters().entrySet()) {
            Tensor p = e.getValue();
            if (!p.requiresGrad()) continue;
            double[] x = p.toDoubleArray();
            double[] analytic = p.grad() == null ? new double[x.length] : p.grad().toDoubleArray();
            for (int i = 0; i < x.length; i++) {
                double h = 1e-6 * Math.max(1, Math.abs(x[i]));
                double plus = eval(m, f, p, x, i, x[i] + h, wt), minus = eval(m, f, p, x, i, x[i] - h, wt);
                double numeric = (plus - minus) / (2 * h);
                assertEquals(numeric, analytic[i], 1e-6 + 1e-5 * Math.abs(numeric), e.getKey() + " at flat index " + i);
            }
            set(p, x);
        }
    }

    private static double eval(Module m, Supplier<Tensor> f, Tensor p, double[] x, int i, double v, Tensor w) {
        double[] y = x.clone();
        y[i] = v;
        set(p, y);
        try (var ignored = GradMode.noGrad()) {
            return f.get().mul(w).sum().item();
        }
    }

    private static void set(Tensor p, double[] v) {
        try (var ignored = GradMode.noGrad()) {
            p.copyFrom(Tensor.fromArray(v, p.shape()));
        }
    }
}
