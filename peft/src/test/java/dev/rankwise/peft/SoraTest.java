package dev.rankwise.peft;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.optim.AdamW;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.random.Generator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/// SoRA's defining properties (arXiv 2311.11696): the gate step is a proximal step, pruning keeps the
/// function, and the gates find a planted rank.
class SoraTest {
    /// T_ξ(z) = argmin_u ½(u − z)² + ξ|u|, checked against a brute-force search on a fine grid.
    @Property(tries = 200)
    void softThresholdIsTheProximalMapOfTheL1Norm(@ForAll @DoubleRange(min = -3, max = 3) double z,
                                                  @ForAll @DoubleRange(min = 0, max = 2) double xi) {
        double t = SoraGateOptimizer.softThreshold(Tensor.fromArray(new double[] {z}, 1), xi).item();
        double best = Double.NaN, bestValue = Double.POSITIVE_INFINITY;
        for (int i = -40000; i <= 40000; i++) {
            double u = i * 1e-4;
            double v = 0.5 * (u - z) * (u - z) + xi * Math.abs(u);
            if (v < bestValue) {
                bestValue = v;
                best = u;
            }
        }
        assertEquals(best, t, 1.01e-4);
        double objective = 0.5 * (t - z) * (t - z) + xi * Math.abs(t);
        assertTrue(objective <= bestValue + 1e-12, "T_ξ(z) is at least as good as every grid point");
    }

    /// TsinghuaC3I/SoRA `src/sparse_optimizer.py`: `p[p > ξ] -= ξ; p[p < −ξ] += ξ; p[|p| < ξ] = 0`, in
    /// that order. So ξ < |z| < 2ξ ends at 0 (shrunk below ξ, then zeroed), while |z| = ξ (no strict
    /// inequality holds) stays ξ and |z| = 2ξ shrinks to exactly ξ and stays: unlike `T_ξ`, which maps
    /// both boundaries continuously (to 0 and ξ).
    @Test
    void authorsCodeThresholdZeroesUpToTwiceXi() {
        Tensor z = Tensor.fromArray(new double[] {0.05, 0.15, 0.25, -0.15, -0.3, 0.1, -0.1, 0.2, -0.2, 0}, 10);
        double[] got = SoraGateOptimizer.codeThreshold(z, 0.1).toDoubleArray();
        assertArrayEquals(new double[] {0, 0, 0.15, 0, -0.2, 0.1, -0.1, 0.1, -0.1, 0}, got, 1e-12);
        assertArrayEquals(new double[] {0, 0.05, 0.15, -0.05, -0.2, 0, 0, 0.1, -0.1, 0},
                SoraGateOptimizer.softThreshold(z, 0.1).toDoubleArray(), 1e-12, "the paper's T_ξ for contrast");
    }

    @Test
    void zeroLambdaGivesThePlainGradientStep() {
        Tensor g = Tensor.fromArray(new double[] {0.5, -1.0, 2.0}, 3).requiresGrad(true);
        g.mul(Tensor.fromArray(new double[] {1, 2, 3}, 3)).sum().backward();
        new SoraGateOptimizer(List.of(g), 0.1, 0, SoraGateOptimizer.Rule.PROXIMAL).step();
        assertArrayEquals(new double[] {0.4, -1.2, 1.7}, g.toDoubleArray(), 1e-12);
    }

    @Test
    void l1TermIsLambdaTimesTheGateNorm() {
        Tensor g = Tensor.fromArray(new double[] {0.5, -1.0, 2.0}, 3);
        assertEquals(0.35, new SoraGateOptimizer(List.of(g), 0.1, 0.1, SoraGateOptimizer.Rule.PROXIMAL).l1Penalty(), 1e-15);
    }

    @Test
    void proximalStepShrinksByEtaLambda() {
        Tensor g = Tensor.fromArray(new double[] {0.5, -0.01, 2.0}, 3).requiresGrad(true);
        g.sum().mul(0.0).backward(); // zero gradient: only the shrinkage acts
        new SoraGateOptimizer(List.of(g), 0.1, 0.5, SoraGateOptimizer.Rule.PROXIMAL).step();
        assertArrayEquals(new double[] {0.45, 0, 1.95}, g.toDoubleArray(), 1e-12);
    }

    /// The authors' code: an Adam step (HF's form: ε added to √v, bias corrections folded into the step
    /// size), then the fixed-ξ threshold. The first step moves each gate by lr·√(1−β₂)/(1−β₁)·m/(√v + ε).
    @Test
    void authorsCodeRuleIsAdamThenThreshold() {
        double[] g0 = {0.5, -0.3, 0.02}, grad = {0.2, -0.4, 1e-3};
        Tensor g = Tensor.fromArray(g0, 3).requiresGrad(true);
        g.mul(Tensor.fromArray(grad, 3)).sum().backward();
        new SoraGateOptimizer(List.of(g), 0.1, 0.05, SoraGateOptimizer.Rule.AUTHORS_CODE).step();
        double[] expected = new double[3];
        for (int i = 0; i < 3; i++) {
            double m = 0.1 * grad[i], v = 0.001 * grad[i] * grad[i];
            double z = g0[i] - 0.1 * Math.sqrt(1 - 0.999) / (1 - 0.9) * m / (Math.sqrt(v) + 1e-6);
            expected[i] = Math.abs(z) > 0.05 ? z - Math.signum(z) * 0.05 : z;
            if (Math.abs(expected[i]) < 0.05) expected[i] = 0;
        }
        assertArrayEquals(expected, g.toDoubleArray(), 1e-12);
        assertEquals(0, g.toDoubleArray()[2], "0.02 − ~0.1 sign → |z| < 2ξ: zeroed");
    }

    /// The scheduler raises ξ stage by stage and logs the non-zero gates and the parameters kept.
    @Test
    void schedulerLogsEachStage() {
        Module net = new Models.Net(DType.F64, new Generator(22));
        Peft.attach(net, "s", LoraConfig.sora(3, 3, List.of("q_proj")), new Generator(23));
        Tensor g = Peft.gates(net, "s").get("q_proj");
        try (var ignored = GradMode.noGrad()) {
            g.copyFrom(Tensor.fromArray(new double[] {0.5, 0.05, 1.0}, 3));
        }
        SoraGateOptimizer prox = new SoraGateOptimizer(List.of(g), 0.5, 0, SoraGateOptimizer.Rule.PROXIMAL);
        // Each stage: one proximal step with a zero gradient, so only the threshold acts.
        List<Sora.Stage> log = Sora.schedule(net, "s", prox, new double[] {0.1, 0.6}, () -> {
            g.setGrad(Tensor.zeros(DType.F64, 3));
            prox.step();
        });
        assertEquals(0.6, prox.threshold(), 1e-15);
        assertEquals(1.2, prox.lambda(), 1e-15, "ξ = η·λ");
        assertEquals(2, log.size());
        assertEquals(2, log.get(0).ranks().get("q_proj"));
        assertEquals(2 * (6 + 5), log.get(0).parameters());
        assertEquals(1, log.get(1).ranks().get("q_proj"));
        assertArrayEquals(new double[] {0, 0, 0.3}, g.toDoubleArray(), 1e-12);
    }

    @Test
    void prunedEmbeddingAdapterComputesTheSameFunction() {
        Module net = new Models.TokenNet(DType.F64, new Generator(24));
        Peft.attach(net, "s", LoraConfig.sora(4, 4, List.of("embed")), new Generator(25));
        Models.perturb(net, 26);
        try (var ignored = GradMode.noGrad()) {
            Peft.gates(net, "s").get("embed").narrow(0, 2, 2).fill(0);
        }
        Tensor ids = Models.ids(0, 6, 2, 2);
        Tensor before = Models.noGrad(() -> net.forward(ids));
        Sora.prune(net, "s");
        assertTrue(Models.maxDiff(Models.noGrad(() -> net.forward(ids)), before) < 1e-12);
        assertEquals(2 * (7 + 6), net.trainableCount());
    }

    @Test
    void schedulerSpacings() {
        assertArrayEquals(new double[] {1, 2, 3}, Sora.thresholds(Sora.Spacing.LINEAR, 1, 3, 3), 1e-12);
        assertArrayEquals(new double[] {1e-3, 1e-2, 1e-1}, Sora.thresholds(Sora.Spacing.EXP_LINEAR, 1e-3, 1e-1, 3), 1e-15);
        double[] ll = Sora.thresholds(Sora.Spacing.LOG_LINEAR, 0, 1, 3);
        assertEquals(Math.log((1 + Math.E) / 2), ll[1], 1e-12);
        assertEquals(1, ll[2], 1e-12);
    }

    @Test
    void prunedAdapterComputesTheSameFunction() {
        Generator gen = new Generator(21);
        Module net = new Models.Net(DType.F64, gen);
        Peft.attach(net, "s", LoraConfig.sora(5, 10, List.of("q_proj", "out")), gen);
        try (var ignored = GradMode.noGrad()) {
            for (LoraLinear l : Peft.layers(net).values()) {
                l.loraB("s").copyFrom(Tensor.randn(gen, DType.F64, l.loraB("s").shape()));
                Tensor g = l.gate("s");
                g.copyFrom(g.mul(Tensor.fromArray(new double[] {1, 0, 1, 0, 1}, 5))); // close two ranks
            }
        }
        Tensor x = Tensor.randn(gen, DType.F64, 8, 6);
        Tensor before;
        try (var ignored = GradMode.noGrad()) {
            before = net.forward(x);
        }
        assertEquals(3 * (6 + 5) + 3 * (5 + 4), Sora.prunedParameterCount(net, "s"));
        Sora.prune(net, "s");
        try (var ignored = GradMode.noGrad()) {
            assertTrue(net.forward(x).sub(before).abs().max().item() < 1e-12);
        }
        LoraLinear q = Peft.layers(net).get("q_proj");
        assertEquals(3, q.spec("s").r());
        assertNull(q.gate("s"));
        assertEquals(3 * (6 + 5) + 3 * (5 + 4), net.trainableCount());
    }

    /// A single layer whose target differs by a rank-2 change: with r_max = 6, the proximal gate step
    /// closes exactly the 4 unneeded ranks.
    @Test
    void recoversAPlantedRank() {
        Generator gen = new Generator(31);
        int d = 16, k = 2;
        Linear base = new Linear(d, d, false, gen, DType.F32);
        Tensor u = Tensor.randn(gen, DType.F32, d, k), v = Tensor.randn(gen, DType.F32, k, d);
        Tensor delta = u.matmul(v).mul(0.5 / Math.sqrt(d));
        Tensor x = Tensor.randn(gen, DType.F32, 256, d);
        Tensor y;
        try (var ignored = GradMode.noGrad()) {
            y = x.matmul(base.weight().add(delta).t());
        }
        Module net = new Module() {
            {
                registerModule("layer", base);
            }

            @Override
            public Tensor forward(Tensor in) {
                return module("layer").forward(in);
            }
        };
        Peft.attach(net, "s", LoraConfig.sora(6, 6, List.of("layer")), gen);
        List<Tensor> gates = new ArrayList<>(Peft.gates(net, "s").values());
        List<Tensor> rest = net.trainableParameters().stream().filter(t -> !gates.contains(t)).toList();
        AdamW adam = new AdamW(List.of(new ParamGroup("ab", rest, 1e-2, 0.1)));
        SoraGateOptimizer prox = new SoraGateOptimizer(gates, 2e-2, 0.05, SoraGateOptimizer.Rule.PROXIMAL);
        double scale;
        try (var ignored = GradMode.noGrad()) {
            scale = net.forward(x).sub(y).square().mean().item();
        }
        for (int step = 0; step < 1500; step++) {
            adam.zeroGrad();
            prox.zeroGrad();
            net.forward(x).sub(y).square().mean().div(scale).backward();
            adam.step();
            prox.step();
        }
        assertEquals(k, Sora.effectiveRanks(net, "s").get("layer"), "non-zero gates " + gates.get(0));
    }
}
