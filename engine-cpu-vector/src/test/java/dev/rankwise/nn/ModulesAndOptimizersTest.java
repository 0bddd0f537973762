package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.GradCheck;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.cpu.Parallel;
import dev.rankwise.io.SafeTensors;
import dev.rankwise.optim.Adam;
import dev.rankwise.optim.AdamW;
import dev.rankwise.optim.GradClip;
import dev.rankwise.optim.LrSchedule;
import dev.rankwise.optim.Optimizer;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.optim.SGD;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/// Modules against finite differences and closed forms; optimizers against their published update
/// rules written out by hand; an MLP trained end to end, deterministically.
class ModulesAndOptimizersTest {
    private static Tensor rnd(long seed, int... shape) {
        return Tensor.randn(new Generator(seed), DType.F64, shape);
    }

    @Test
    void layerNormMatchesItsClosedFormAndGradients() {
        LayerNorm ln = new LayerNorm(4, 1e-5, DType.F64);
        Tensor x = Tensor.fromArray(new double[] {1, 2, 3, 4}, 1, 4);
        double mean = 2.5, var = 1.25;
        double[] y = ln.forward(x).toDoubleArray();
        for (int i = 0; i < 4; i++) assertEquals((i + 1 - mean) / Math.sqrt(var + 1e-5), y[i], 1e-12);
        GradCheck.check(in -> {
            LayerNorm l = new LayerNorm(5, 1e-5, DType.F64);
            return l.forward(in.get(0)).mul(in.get(1)).add(in.get(2));
        }, rnd(1, 3, 5), rnd(2, 5), rnd(3, 5));
    }

    @Test
    void attentionAndTransformerGradients() {
        for (boolean causal : new boolean[] {false, true}) {
            MultiHeadAttention attn = new MultiHeadAttention(8, 2, causal, new Generator(4), DType.F64);
            GradCheck.check(in -> attn.forward(in.get(0)), rnd(5, 2, 3, 8));
        }
        TransformerBlock block = new TransformerBlock(8, 2, true, new Generator(6), DType.F64);
        GradCheck.check(in -> block.forward(in.get(0)), rnd(7, 1, 4, 8));
        assertTrue(block.namedParameters().containsKey("attn.q_proj.weight"));
        assertTrue(block.namedParameters().containsKey("mlp.fc2.bias"));
        // Causality: the first position's output does not depend on later inputs.
        MultiHeadAttention causal = new MultiHeadAttention(8, 2, true, new Generator(8), DType.F64);
        Tensor x = rnd(9, 1, 3, 8), x2 = x.copy();
        try (var ignored = GradMode.noGrad()) {
            x2.narrow(1, 2, 1).copyFrom(rnd(10, 1, 1, 8));
            assertEquals(0, causal.forward(x).narrow(1, 0, 1).sub(causal.forward(x2).narrow(1, 0, 1)).abs().max().item(), 1e-12);
        }
    }

    @Test
    void crossEntropyClosedFormAndGradient() {
        Tensor logits = Tensor.fromArray(new double[] {1, 2, 3, 0, 0, 0}, 2, 3);
        Tensor labels = Tensor.fromArray(new int[] {2, 0}, 2);
        double l0 = -Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))), l1 = Math.log(3);
        assertEquals((l0 + l1) / 2, Losses.crossEntropy(logits, labels, Losses.Reduction.MEAN).item(), 1e-12);
        assertEquals(l0 + l1, Losses.crossEntropy(logits, labels, Losses.Reduction.SUM).item(), 1e-12);
        GradCheck.check(in -> Losses.crossEntropy(in.get(0), Tensor.fromArray(new int[] {1, 3, 0}, 3), Losses.Reduction.MEAN), rnd(11, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> Losses.mse(rnd(1, 2, 3), rnd(1, 3, 2), Losses.Reduction.MEAN));
        Embedding emb = new Embedding(5, 3, new Generator(12), DType.F64);
        Tensor ids = Tensor.fromArray(new int[] {4, 0, 4, 1}, 2, 2);
        assertArrayEquals(new int[] {2, 2, 3}, emb.forward(ids).shape());
        emb.forward(ids).sum().backward();
        assertArrayEquals(new double[] {1, 1, 1}, emb.weight().grad().narrow(0, 0, 1).reshape(-1).toDoubleArray());
        assertArrayEquals(new double[] {2, 2, 2}, emb.weight().grad().narrow(0, 4, 1).reshape(-1).toDoubleArray(), "repeated ids accumulate");
    }

    @Test
    void dropoutScalesInTrainingAndIsIdentityInEval() {
        Dropout d = new Dropout(0.25, new Generator(13));
        Tensor x = Tensor.ones(DType.F64, 10_000);
        double[] y = d.forward(x).toDoubleArray();
        int zeros = 0;
        for (double v : y) {
            if (v == 0) zeros++;
            else assertEquals(1 / 0.75, v, 1e-12);
        }
        assertEquals(2500, zeros, 150);                  // binomial σ ≈ 43
        d.eval();
        assertSame(x, d.forward(x));
    }

    /// One parameter θ = [1, −2] with loss Σ c·θ (gradient c = [0.5, 3]) for three steps, against the
    /// update rules of the PyTorch documentation, computed here in plain doubles.
    @Test
    void optimizersFollowTheirUpdateRules() {
        double[] c = {0.5, 3};
        double lr = 0.1, wd = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        // AdamW (decoupled)
        double[] th = {1, -2}, m = new double[2], v = new double[2];
        Tensor p = run(g -> new AdamW(List.of(new ParamGroup("p", List.of(g), lr, wd))), c, 3);
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < 2; i++) {
                th[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * c[i];
                v[i] = b2 * v[i] + (1 - b2) * c[i] * c[i];
                th[i] -= lr * (m[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(v[i] / (1 - Math.pow(b2, t))) + eps);
            }
        }
        assertArrayEquals(th, p.toDoubleArray(), 1e-12);
        // Adam (L2 coupled into the gradient)
        th = new double[] {1, -2};
        m = new double[2];
        v = new double[2];
        p = run(g -> new Adam(List.of(new ParamGroup("p", List.of(g), lr, wd))), c, 3);
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < 2; i++) {
                double g = c[i] + wd * th[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                th[i] -= lr * (m[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(v[i] / (1 - Math.pow(b2, t))) + eps);
            }
        }
        assertArrayEquals(th, p.toDoubleArray(), 1e-12);
        // SGD with Nesterov momentum
        th = new double[] {1, -2};
        double[] buf = new double[2];
        p = run(g -> new SGD(List.of(new ParamGroup("p", List.of(g), lr, wd)), 0.9, 0, true), c, 3);
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < 2; i++) {
                double g = c[i] + wd * th[i];
                buf[i] = t == 1 ? g : 0.9 * buf[i] + g;
                th[i] -= lr * (g + 0.9 * buf[i]);
            }
        }
        assertArrayEquals(th, p.toDoubleArray(), 1e-12);
    }

    private static Tensor run(java.util.function.Function<Tensor, Optimizer> make, double[] c, int steps) {
        Tensor p = Tensor.fromArray(new double[] {1, -2}, 2).requiresGrad(true);
        Optimizer opt = make.apply(p);
        for (int s = 0; s < steps; s++) {
            opt.zeroGrad();
            p.mul(Tensor.fromArray(c, 2)).sum().backward();
            opt.step();
        }
        return p;
    }

    /// Plain momentum with dampening τ (PyTorch: b ← μ·b + (1 − τ)·g, b = g on the first step) and two
    /// parameter groups, each stepping with its own lr and weight decay.
    @Test
    void sgdMomentumAndParameterGroups() {
        double[] c = {0.5, 3};
        double lr = 0.1, wd = 0.01, mu = 0.9, tau = 0.3;
        double[] th = {1, -2}, buf = new double[2];
        Tensor p = run(g -> new SGD(List.of(new ParamGroup("p", List.of(g), lr, wd)), mu, tau, false), c, 3);
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < 2; i++) {
                double g = c[i] + wd * th[i];
                buf[i] = t == 1 ? g : mu * buf[i] + (1 - tau) * g;
                th[i] -= lr * buf[i];
            }
        }
        assertArrayEquals(th, p.toDoubleArray(), 1e-12);
        // Groups: a with lr 0.1 and no decay, b with lr 0.5 and decay 0.2; one plain SGD step.
        Tensor a = Tensor.fromArray(new double[] {1, 2}, 2).requiresGrad(true), b = Tensor.fromArray(new double[] {3}, 1).requiresGrad(true);
        SGD sgd = new SGD(List.of(new ParamGroup("a", List.of(a), 0.1, 0), new ParamGroup("b", List.of(b), 0.5, 0.2)));
        a.sum().add(b.sum().mul(2.0)).backward();
        sgd.step();
        assertArrayEquals(new double[] {1 - 0.1, 2 - 0.1}, a.toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {3 - 0.5 * (2 + 0.2 * 3)}, b.toDoubleArray(), 1e-15);
        sgd.zeroGrad();
        assertNull(a.grad());
        assertNull(b.grad());
        assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(new ParamGroup(List.of(a), 0.1)), 0, 0, true),
                "Nesterov needs momentum");
    }

    /// Clipping scales every gradient by maxNorm/‖g‖ over all parameters together and returns ‖g‖;
    /// below the threshold nothing changes; parameters without a gradient are skipped.
    @Test
    void gradientClippingByGlobalNorm() {
        Tensor a = Tensor.zeros(DType.F64, 2).requiresGrad(true), b = Tensor.zeros(DType.F64, 1).requiresGrad(true);
        Tensor none = Tensor.zeros(DType.F64, 3).requiresGrad(true);
        a.setGrad(Tensor.fromArray(new double[] {3, 0}, 2));
        b.setGrad(Tensor.fromArray(new double[] {4}, 1));
        assertEquals(5, GradClip.clipGlobalNorm(List.of(a, b, none), 10), 1e-12);
        assertArrayEquals(new double[] {3, 0}, a.grad().toDoubleArray(), "below the threshold: unchanged");
        assertEquals(5, GradClip.clipGlobalNorm(List.of(a, b, none), 1), 1e-12);
        assertArrayEquals(new double[] {3 / (5 + 1e-6), 0}, a.grad().toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {4 / (5 + 1e-6)}, b.grad().toDoubleArray(), 1e-15);
        assertNull(none.grad());
    }

    /// Multipliers of the base lr, step counted from 0: linear warmup reaches 1 at step warmup − 1
    /// (step 0 already trains, at 1/warmup), then linear or cosine decay to the floor at `total`.
    @Test
    void learningRateSchedules() {
        Tensor a = Tensor.zeros(DType.F64, 2).requiresGrad(true), b = Tensor.zeros(DType.F64, 1).requiresGrad(true);
        AdamW opt = new AdamW(List.of(new ParamGroup("a", List.of(a), 1.0, 0), new ParamGroup("b", List.of(b), 0.5, 0)));
        LrSchedule cos = new LrSchedule(opt, 10, 110, LrSchedule.Decay.COSINE, 0.1);
        for (int s = 0; s < 10; s++) assertEquals((s + 1) / 10.0, cos.factor(s), 1e-12, "warmup step " + s);
        assertEquals(1.0, cos.factor(10), 1e-12);
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.25)), cos.factor(35), 1e-12);
        assertEquals(0.1 + 0.9 * 0.5, cos.factor(60), 1e-12);
        assertEquals(0.1, cos.factor(110), 1e-12);
        assertEquals(0.1, cos.factor(500), 1e-12, "after the end: the floor");
        cos.apply(opt, 60);
        assertEquals(0.55, opt.groups().get(0).lr(), 1e-12, "each group scales its own base lr");
        assertEquals(0.275, opt.groups().get(1).lr(), 1e-12);
        LrSchedule lin = new LrSchedule(opt, 4, 104, LrSchedule.Decay.LINEAR, 0);
        assertEquals(0.25, lin.factor(0), 1e-12);
        assertEquals(1.0, lin.factor(4), 1e-12);
        assertEquals(0.5, lin.factor(54), 1e-12);
        assertEquals(0.0, lin.factor(104), 1e-12);
        lin.apply(opt, 54);
        assertEquals(0.5, opt.groups().get(0).lr(), 1e-12, "schedules scale the base lr, not the last one set");
        assertEquals(1.0, new LrSchedule(opt, 0, 100, LrSchedule.Decay.CONSTANT, 0).factor(70), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(opt, 10, 5, LrSchedule.Decay.LINEAR, 0));
    }

    /// Dotted names through a ModuleList (`layers.0.attn.q_proj`), lookup and replacement by path, and
    /// train/eval reaching every submodule.
    @Test
    void namedSubmodulesAndModes() {
        ModuleList layers = new ModuleList(List.of(new TransformerBlock(8, 2, true, new Generator(20), DType.F32),
                new TransformerBlock(8, 2, true, new Generator(21), DType.F32)));
        Sequential model = new Sequential(new Dropout(0.5, new Generator(22)), new Linear(8, 8, new Generator(23)));
        Module root = new Module() {
            { registerModule("layers", layers); registerModule("head", model); }

            @Override
            public Tensor forward(Tensor x) {
                for (Module m : layers) x = m.forward(x);
                return model.forward(x);
            }
        };
        Map<String, Tensor> params = root.namedParameters();
        assertTrue(params.containsKey("layers.0.attn.q_proj.weight"), params.keySet().toString());
        assertTrue(params.containsKey("layers.1.mlp.fc2.bias"));
        assertTrue(params.containsKey("head.1.weight"));
        assertTrue(root.namedModules().containsKey("layers.1.attn.q_proj"));
        assertSame(layers.get(1), root.module("layers.1"));
        Linear replacement = new Linear(8, 8, new Generator(24));
        root.replaceModule("layers.0.attn.q_proj", replacement);
        assertSame(replacement.weight(), root.namedParameters().get("layers.0.attn.q_proj.weight"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> root.module("layers.2.attn"));
        assertTrue(e.getMessage().contains("'2'"), e.getMessage());
        root.eval();
        for (Module m : root.namedModules().values()) assertFalse(m.isTraining());
        Tensor x = Tensor.randn(new Generator(25), DType.F32, 1, 3, 8);
        try (var ignored = GradMode.noGrad()) {
            assertArrayEquals(root.forward(x).toFloatArray(), root.forward(x).toFloatArray(), "eval: dropout off");
        }
        root.train(true);
        for (Module m : root.namedModules().values()) assertTrue(m.isTraining());
        assertThrows(UnsupportedOperationException.class, () -> layers.forward(x));
    }

    /// Strict loading lists every missing and unexpected key; a shape mismatch names the key and both
    /// shapes; a failed load copies nothing; a lenient load reports what it skipped.
    @Test
    void stateDictErrors() {
        Linear a = new Linear(3, 2, new Generator(30));
        float[] before = a.weight().toFloatArray();
        Map<String, Tensor> state = new java.util.LinkedHashMap<>();
        state.put("weight", Tensor.zeros(2, 3));
        state.put("extra", Tensor.zeros(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.loadStateDict(state, true));
        assertTrue(e.getMessage().contains("missing keys [bias]") && e.getMessage().contains("unexpected keys [extra]"), e.getMessage());
        assertArrayEquals(before, a.weight().toFloatArray(), "nothing copied");
        Module.LoadResult r = a.loadStateDict(state, false);
        assertEquals(List.of("bias"), r.missingKeys());
        assertEquals(List.of("extra"), r.unexpectedKeys());
        assertArrayEquals(new float[6], a.weight().toFloatArray());
        e = assertThrows(IllegalArgumentException.class, () -> a.loadStateDict(Map.of("weight", Tensor.zeros(3, 2)), false));
        assertTrue(e.getMessage().contains("'weight' is [2, 3] here but [3, 2]"), e.getMessage());
        assertTrue(a.weight().requiresGrad(), "loading keeps parameters trainable");
    }

    /// y = tanh(2x₁) + x₂² on 512 samples; an MLP 2-32-32-1 with AdamW reaches MSE < 0.02 in 600 steps,
    /// and a second run with the same seed, on another thread count, gives bit-identical losses.
    @Test
    void mlpTrainsToAFixedLossDeterministically() {
        int threads = Parallel.threads();
        List<Double> first, second;
        try {
            Parallel.setThreads(1);
            first = train();
            Parallel.setThreads(2);
            second = train();
        } finally {
            Parallel.setThreads(threads);
        }
        assertTrue(first.get(first.size() - 1) < 0.02, "final loss " + first.get(first.size() - 1));
        for (int i = 0; i < first.size(); i++) {
            assertEquals(Double.doubleToRawLongBits(first.get(i)), Double.doubleToRawLongBits(second.get(i)), "step " + i);
        }
    }

    private static List<Double> train() {
        Generator gen = new Generator(2024);
        Tensor x = Tensor.uniform(gen, -2, 2, DType.F32, 512, 2);
        Tensor y;
        try (var ignored = GradMode.noGrad()) {
            y = x.narrow(1, 0, 1).mul(2.0).tanh().add(x.narrow(1, 1, 1).square());
        }
        MLP mlp = new MLP(new int[] {2, 32, 32, 1}, Activation.TANH, gen, DType.F32);
        AdamW opt = new AdamW(List.of(new ParamGroup("all", mlp.parameters(), 1e-2, 0)));
        List<Double> losses = new ArrayList<>();
        for (int step = 0; step < 600; step++) {
            opt.zeroGrad();
            Tensor loss = Losses.mse(mlp.forward(x), y, Losses.Reduction.MEAN);
            loss.backward();
            opt.step();
            losses.add(loss.item());
        }
        return losses;
    }

    @Test
    void stateDictRoundTripsThroughSafetensors(@TempDir Path dir) throws Exception {
        TransformerBlock a = new TransformerBlock(8, 2, false, new Generator(14), DType.F32);
        TransformerBlock b = new TransformerBlock(8, 2, false, new Generator(15), DType.F32);
        SafeTensors.write(dir.resolve("m.safetensors"), a.stateDict(), Map.of());
        b.loadStateDict(SafeTensors.read(dir.resolve("m.safetensors")), true);
        Tensor x = Tensor.randn(new Generator(16), DType.F32, 1, 3, 8);
        try (var ignored = GradMode.noGrad()) {
            assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray());
        }
        assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(Map.of("nope", x), true));
    }
}
