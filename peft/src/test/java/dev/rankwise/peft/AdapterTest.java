package dev.rankwise.peft;

import dev.rankwise.DType;
import dev.rankwise.GradCheck;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Functional;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/// LoRA, DoRA and SoRA adapters against independent references: the base model's output, the merged
/// weight, finite differences, and the explicit formulas of each paper.
class AdapterTest {
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

    private static double maxDiff(Tensor a, Tensor b) {
        return a.to(DType.F64).sub(b.to(DType.F64)).abs().max().item();
    }

    private static void randomizeB(Module model) {
        Generator g = new Generator(99);
        try (var ignored = GradMode.noGrad()) {
            for (LoraLinear l : Peft.layers(model).values()) {
                for (String n : l.adapterNames()) l.loraB(n).copyFrom(Tensor.randn(g, l.loraB(n).dtype(), l.loraB(n).shape()).mul(0.3));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(LoraConfig.AdapterKind.class)
    void initialAdapterLeavesTheOutputUnchanged(LoraConfig.AdapterKind kind) {
        Net net = new Net(DType.F64, new Generator(1));
        Tensor x = Tensor.randn(new Generator(2), DType.F64, 7, 6);
        Tensor before;
        try (var ignored = GradMode.noGrad()) {
            before = net.forward(x);
        }
        Peft.attach(net, "default", new LoraConfig(kind, 3, 6, false, 0, LoraConfig.Init.DEFAULT, List.of("q_proj", "out")), new Generator(3));
        try (var ignored = GradMode.noGrad()) {
            assertTrue(maxDiff(net.forward(x), before) < 1e-12, "B = 0 makes the adapter an exact no-op");
        }
    }

    @ParameterizedTest
    @EnumSource(LoraConfig.AdapterKind.class)
    void mergedEqualsUnmergedAndUnmergeRestores(LoraConfig.AdapterKind kind) {
        Net net = new Net(DType.F32, new Generator(4));
        Peft.attach(net, "default", new LoraConfig(kind, 3, 6, false, 0, LoraConfig.Init.DEFAULT, List.of("q_proj")), new Generator(5));
        randomizeB(net);
        LoraLinear layer = Peft.layers(net).get("q_proj");
        Tensor w0 = layer.base().weight().copy();
        Tensor x = Tensor.randn(new Generator(6), DType.F32, 9, 6);
        try (var ignored = GradMode.noGrad()) {
            Tensor unmerged = net.forward(x);
            layer.merge("default", true);
            assertTrue(maxDiff(net.forward(x), unmerged) < 1e-4, "merged vs unmerged");
            layer.unmerge("default");
            assertTrue(maxDiff(layer.base().weight(), w0) < 1e-5, "unmerge restores W");
        }
    }

    @Test
    void safeMergeRefusesNonFiniteResultsAndChangesNothing() {
        Net net = new Net(DType.F32, new Generator(7));
        Peft.attach(net, "default", LoraConfig.lora(2, List.of("q_proj")), new Generator(8));
        LoraLinear layer = Peft.layers(net).get("q_proj");
        try (var ignored = GradMode.noGrad()) {
            layer.loraB("default").fill(Float.MAX_VALUE);
            layer.loraA("default").fill(Float.MAX_VALUE);
        }
        Tensor w0 = layer.base().weight().copy();
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> layer.merge("default", true));
        assertTrue(e.getMessage().contains("NaN/Inf"));
        assertEquals(0, maxDiff(layer.base().weight(), w0));
        assertFalse(layer.isMerged());
    }

    @Test
    void lowRankLinearGradientsMatchFiniteDifferences() {
        Generator g = new Generator(10);
        Tensor x = Tensor.randn(g, DType.F64, 2, 3, 5), w = Tensor.randn(g, DType.F64, 4, 5), bias = Tensor.randn(g, DType.F64, 4);
        Tensor a = Tensor.randn(g, DType.F64, 3, 5), b = Tensor.randn(g, DType.F64, 4, 3), gate = Tensor.randn(g, DType.F64, 3);
        GradCheck.check(in -> Functional.lowRankLinear(in.get(0), in.get(1), in.get(2), in.get(3), in.get(4), in.get(5), 1.7),
                x, w, bias, a, b, gate);
        GradCheck.check(in -> Functional.lowRankLinear(in.get(0), in.get(1), null, in.get(2), in.get(3), null, 0.5), x, w, a, b);
    }

    @Test
    void loraLayerForwardIsThePaperFormula() {
        Generator g = new Generator(11);
        Linear base = new Linear(5, 4, true, g, DType.F64);
        LoraLinear l = new LoraLinear(base);
        l.addAdapter("s", LoraConfig.sora(3, 6, List.of()), g);
        try (var ignored = GradMode.noGrad()) {
            l.loraB("s").copyFrom(Tensor.randn(g, DType.F64, 4, 3));
            Tensor x = Tensor.randn(g, DType.F64, 6, 5);
            // y = W0 x + b + s·B(g ⊙ (A x)), s = α/r = 2
            Tensor expected = x.matmul(base.weight().t()).add(base.bias())
                    .add(x.matmul(l.loraA("s").t()).mul(l.gate("s")).matmul(l.loraB("s").t()).mul(2.0));
            assertTrue(maxDiff(l.forward(x), expected) < 1e-12);
        }
    }

    @Test
    void doraGradientTreatsTheNormAsConstant() {
        Generator g = new Generator(12);
        Linear base = new Linear(5, 4, false, g, DType.F64);
        LoraLinear l = new LoraLinear(base);
        l.addAdapter("d", new LoraConfig(LoraConfig.AdapterKind.DORA, 2, 2, false, 0, LoraConfig.Init.DEFAULT, List.of()), g);
        try (var ignored = GradMode.noGrad()) {
            l.loraB("d").copyFrom(Tensor.randn(g, DType.F64, 4, 2));
            l.magnitude("d").copyFrom(l.magnitude("d").mul(1.3));
        }
        Tensor x = Tensor.randn(g, DType.F64, 3, 5);
        l.forward(x).square().sum().backward();
        // Reference: the same formula with the row norm of W0 + sBA as a constant, differentiated by autograd.
        Tensor w0 = base.weight().detach(), a = l.loraA("d").detach().copy().requiresGrad(true);
        Tensor b = l.loraB("d").detach().copy().requiresGrad(true), m = l.magnitude("d").detach().copy().requiresGrad(true);
        Tensor norm;
        try (var ignored = GradMode.noGrad()) {
            norm = w0.add(b.matmul(a)).square().sum(1, false).sqrt();
        }
        Tensor y = x.matmul(w0.t()).add(x.matmul(a.t()).matmul(b.t())).mul(m.div(norm));
        y.square().sum().backward();
        assertTrue(maxDiff(l.loraA("d").grad(), a.grad()) < 1e-12);
        assertTrue(maxDiff(l.loraB("d").grad(), b.grad()) < 1e-12);
        assertTrue(maxDiff(l.magnitude("d").grad(), m.grad()) < 1e-12);
    }

    @Test
    void scalesCountsAndAdapterManagement() {
        assertEquals(16.0 / 8, LoraConfig.sora(8, 16, List.of()).scale());
        assertEquals(16.0 / Math.sqrt(8), LoraConfig.sora(8, 16, List.of()).withRsLora(true).scale());
        Net net = new Net(DType.F32, new Generator(13));
        List<String> adapted = Peft.attach(net, "a", LoraConfig.lora(2, List.of("q_proj", "out")), new Generator(14));
        assertEquals(List.of("q_proj", "out"), adapted);
        assertEquals(2 * (6 + 5) + 2 * (5 + 4), net.trainableCount(), "r(m + n) per layer");
        Peft.attach(net, "b", LoraConfig.sora(3, 3, List.of("q_proj")), new Generator(15));
        assertEquals(2 * (6 + 5) + 2 * (5 + 4) + 3 * (6 + 5) + 3, net.trainableCount(), "SoRA adds r_max(m + n) + r_max");
        Map<String, Tensor> names = net.namedParameters();
        assertTrue(names.containsKey("q_proj.lora_A.a.weight") && names.containsKey("q_proj.lora_B.b.weight")
                && names.containsKey("q_proj.sora_gate.b.weight") && names.containsKey("q_proj.base_layer.weight"), names.keySet().toString());
        LoraLinear q = Peft.layers(net).get("q_proj");
        assertEquals("b", q.activeAdapter());
        Peft.setActiveAdapter(net, "a");
        assertEquals("a", q.activeAdapter());
        randomizeB(net);
        Tensor x = Tensor.randn(new Generator(16), DType.F32, 3, 6);
        try (var ignored = GradMode.noGrad()) {
            Tensor adaptedOut = net.forward(x);
            Peft.setAdaptersDisabled(net, true);
            Tensor plain = net.forward(x);
            Peft.setAdaptersDisabled(net, false);
            assertTrue(maxDiff(adaptedOut, plain) > 1e-3);
            Peft.deleteAdapter(net, "a");
            assertFalse(q.adapterNames().contains("a"));
            assertThrows(IllegalArgumentException.class, () -> q.setActiveAdapter("a"));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Peft.attach(new Net(DType.F32, new Generator(1)), "x", LoraConfig.lora(2, List.of("v_proj")), new Generator(1)));
        assertTrue(e.getMessage().contains("v_proj") && e.getMessage().contains("q_proj"), e.getMessage());
        assertTrue(Peft.matches("layers.0.attn.q_proj", List.of("q_proj")));
        assertFalse(Peft.matches("layers.0.attn.xq_proj", List.of("q_proj")));
        assertTrue(Peft.matches("layers.3.mlp", List.of("re:layers\\.[0-9]+\\.mlp")));
    }

    @Test
    void mergeAndUnloadGivesPlainLinearsWithTheSameOutput() {
        Net net = new Net(DType.F32, new Generator(17));
        Peft.attach(net, "default", LoraConfig.lora(2, List.of("q_proj", "out")), new Generator(18));
        randomizeB(net);
        Tensor x = Tensor.randn(new Generator(19), DType.F32, 4, 6);
        try (var ignored = GradMode.noGrad()) {
            Tensor before = net.forward(x);
            Peft.mergeAndUnload(net);
            assertTrue(Peft.layers(net).isEmpty());
            assertTrue(net.module("q_proj") instanceof Linear);
            assertTrue(maxDiff(net.forward(x), before) < 1e-4);
        }
    }
}
