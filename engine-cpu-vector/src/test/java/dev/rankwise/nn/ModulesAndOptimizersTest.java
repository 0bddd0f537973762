package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.GradCheck;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
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

    @Test
    void clippingAndSchedules() {
        Tensor a = Tensor.zeros(DType.F64, 2).requiresGrad(true), b = Tensor.zeros(DType.F64, 1).requiresGrad(true);
        a.setGrad(Tensor.fromArray(new double[] {3, 0}, 2));
        b.setGrad(Tensor.fromArray(new double[] {4}, 1));
        assertEquals(5, GradClip.clipGlobalNorm(List.of(a, b), 1), 1e-12);
        assertEquals(1, Math.hypot(a.grad().toDoubleArray()[0], b.grad().item()), 1e-6);
        AdamW opt = new AdamW(List.of(new ParamGroup("a", List.of(a), 1.0, 0), new ParamGroup("b", List.of(b), 0.5, 0)));
        LrSchedule cos = new LrSchedule(opt, 10, 110, LrSchedule.Decay.COSINE, 0.1);
        assertEquals(0.1, cos.factor(0), 1e-12);
        assertEquals(1.0, cos.factor(9), 1e-12);
        assertEquals(0.1 + 0.9 * 0.5, cos.factor(60), 1e-12);
        assertEquals(0.1, cos.factor(110), 1e-12);
        cos.apply(opt, 60);
        assertEquals(0.55, opt.groups().get(0).lr(), 1e-12);
        assertEquals(0.275, opt.groups().get(1).lr(), 1e-12);
        assertEquals(0.5, new LrSchedule(opt, 0, 100, LrSchedule.Decay.LINEAR, 0).factor(50), 1e-12);
    }

    /// y = tanh(2x₁) + x₂² on 512 samples; an MLP 2-32-32-1 with AdamW reaches MSE < 0.02 in 600 steps,
    /// and a second run with the same seed gives bit-identical losses.
    @Test
    void mlpTrainsToAFixedLossDeterministically() {
        List<Double> first = train(), second = train();
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
