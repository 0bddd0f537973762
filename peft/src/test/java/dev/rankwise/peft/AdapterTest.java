package dev.rankwise.peft;

import dev.rankwise.DType;
import dev.rankwise.GradCheck;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Embedding;
import dev.rankwise.nn.Functional;
import dev.rankwise.nn.Linear;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.rankwise.peft.Models.*;
import static org.junit.jupiter.api.Assertions.*;

/// LoRA, DoRA and SoRA adapters on Linear and Embedding layers against independent references: the
/// base model's output, the merged weight, finite differences, and the explicit formulas.
class AdapterTest {
    private static LoraConfig cfg(LoraConfig.AdapterKind kind, List<String> targets) {
        return new LoraConfig(kind, 3, 6, false, 0, LoraConfig.Init.DEFAULT, targets);
    }

    @ParameterizedTest
    @EnumSource(LoraConfig.AdapterKind.class)
    void initialAdapterLeavesTheOutputUnchanged(LoraConfig.AdapterKind kind) {
        TokenNet net = new TokenNet(DType.F64, new Generator(1));
        Tensor ids = ids(0, 3, 6, 3, 1);
        Tensor before = noGrad(() -> net.forward(ids));
        List<String> targets = kind == LoraConfig.AdapterKind.DORA ? List.of("q_proj", "out") : List.of("embed", "q_proj", "out");
        Peft.attach(net, "default", cfg(kind, targets), new Generator(3));
        assertTrue(maxDiff(noGrad(() -> net.forward(ids)), before) < 1e-12, "B = 0 (embedding: A = 0) makes the adapter a no-op");
        Peft.attach(net, "g", cfg(kind, targets).withInit(LoraConfig.Init.GAUSSIAN), new Generator(4));
        assertTrue(maxDiff(noGrad(() -> net.forward(ids)), before) < 1e-12, "gaussian init is a no-op as well");
    }

    @Test
    void gaussianInitHasStandardDeviationOneOverR() {
        Linear base = new Linear(400, 3, false, new Generator(5), DType.F64);
        LoraLinear l = new LoraLinear(base);
        l.addAdapter("g", LoraConfig.lora(4, List.of()).withInit(LoraConfig.Init.GAUSSIAN), new Generator(6));
        double std = Math.sqrt(l.loraA("g").square().mean().item());
        assertEquals(0.25, std, 0.25 * 4 / Math.sqrt(2 * 1600.0), "PEFT's normal_(std = 1/r); 4 standard errors");
    }

    @ParameterizedTest
    @EnumSource(LoraConfig.AdapterKind.class)
    void mergedEqualsUnmergedAndUnmergeRestores(LoraConfig.AdapterKind kind) {
        TokenNet net = new TokenNet(DType.F32, new Generator(4));
        List<String> targets = kind == LoraConfig.AdapterKind.DORA ? List.of("q_proj") : List.of("embed", "q_proj");
        Peft.attach(net, "default", cfg(kind, targets), new Generator(5));
        perturb(net, 99);
        Tensor ids = ids(1, 2, 6, 0);
        Tensor unmerged = noGrad(() -> net.forward(ids));
        for (AdapterLayer l : Peft.adapterLayers(net).values()) {
            Tensor w0 = l.baseWeight().copy();
            l.merge("default", true);
            assertTrue(l.isMerged());
            assertTrue(maxDiff(noGrad(() -> net.forward(ids)), unmerged) < 1e-4, "merged vs unmerged (F32)");
            l.unmerge("default");
            assertTrue(maxDiff(l.baseWeight(), w0) < 1e-5, "unmerge restores W");
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

    /// Finite differences through the whole model, for every kind of adapter on Linear and Embedding layers.
    @ParameterizedTest
    @EnumSource(value = LoraConfig.AdapterKind.class, names = {"LORA", "SORA"})
    void gradientsThroughAdaptedModelsMatchFiniteDifferences(LoraConfig.AdapterKind kind) {
        TokenNet net = new TokenNet(DType.F64, new Generator(11));
        Peft.attach(net, "a", cfg(kind, List.of("embed", "q_proj", "out")).withRsLora(true), new Generator(12));
        perturb(net, 13);
        Tensor ids = ids(0, 5, 5, 2);
        gradCheck(net, () -> net.forward(ids));
    }

    @Test
    void loraLayerForwardIsThePaperFormula() {
        Generator g = new Generator(11);
        Linear base = new Linear(5, 4, true, g, DType.F64);
        LoraLinear l = new LoraLinear(base);
        l.addAdapter("s", LoraConfig.sora(3, 6, List.of()), g);
        perturb(wrap(l), 3);
        Tensor x = Tensor.randn(g, DType.F64, 6, 5);
        // y = W0 x + b + s·B(g ⊙ (A x)), s = α/r = 2
        Tensor expected = noGrad(() -> x.matmul(base.weight().t()).add(base.bias())
                .add(x.matmul(l.loraA("s").t()).mul(l.gate("s")).matmul(l.loraB("s").t()).mul(2.0)));
        assertTrue(maxDiff(noGrad(() -> l.forward(x)), expected) < 1e-12);
    }

    @Test
    void embeddingAdapterIsPeftsLayout() {
        Embedding emb = new Embedding(7, 5, new Generator(14), DType.F64);
        LoraEmbedding l = new LoraEmbedding(emb);
        l.addAdapter("e", LoraConfig.lora(3, List.of()).withAlpha(6), new Generator(15));
        assertEquals(0, l.loraA("e").abs().max().item(), "A = 0 for embeddings, as PEFT");
        assertEquals(List.of(3, 7), List.of(l.loraA("e").size(0), l.loraA("e").size(1)));
        assertEquals(List.of(5, 3), List.of(l.loraB("e").size(0), l.loraB("e").size(1)));
        perturb(wrap(l), 16);
        Tensor ids = Tensor.fromArray(new int[] {4, 0, 6, 4, 2, 1}, 2, 3);
        // y[t] = W[id] + s·(B A)ᵀ[id], s = 2
        Tensor table = noGrad(() -> emb.weight().add(l.loraB("e").matmul(l.loraA("e")).t().mul(2.0)));
        Tensor expected = table.indexSelect(0, ids.reshape(-1)).reshape(2, 3, 5);
        assertTrue(maxDiff(noGrad(() -> l.forward(ids)), expected) < 1e-12);
        assertTrue(maxDiff(l.deltaWeight("e"), table.sub(emb.weight())) < 1e-12, "ΔW in the table's [V, d] layout");
        Map<String, Tensor> names = wrap(l).namedParameters();
        assertTrue(names.containsKey("l.lora_embedding_A.e") && names.containsKey("l.lora_embedding_B.e"), names.keySet().toString());
        assertThrows(IllegalArgumentException.class, () -> l.addAdapter("d", cfg(LoraConfig.AdapterKind.DORA, List.of()), new Generator(1)));
    }

    @Test
    void doraGradientTreatsTheNormAsConstant() {
        Generator g = new Generator(12);
        Linear base = new Linear(5, 4, false, g, DType.F64);
        LoraLinear l = new LoraLinear(base);
        l.addAdapter("d", new LoraConfig(LoraConfig.AdapterKind.DORA, 2, 2, false, 0, LoraConfig.Init.DEFAULT, List.of()), g);
        perturb(wrap(l), 5);
        Tensor x = Tensor.randn(g, DType.F64, 3, 5);
        l.forward(x).square().sum().backward();
        // Reference: the same formula with the row norm of W0 + sBA held at its current value, by finite differences.
        Tensor w0 = base.weight().detach();
        Tensor norm = noGrad(() -> w0.add(l.loraB("d").matmul(l.loraA("d"))).square().sum(1, false).sqrt());
        GradCheck.check(in -> x.matmul(w0.t()).add(x.matmul(in.get(0).t()).matmul(in.get(1).t())).mul(in.get(2).div(norm)),
                l.loraA("d"), l.loraB("d"), l.magnitude("d"));
        Tensor a = l.loraA("d").detach().copy().requiresGrad(true), b = l.loraB("d").detach().copy().requiresGrad(true);
        Tensor m = l.magnitude("d").detach().copy().requiresGrad(true);
        x.matmul(w0.t()).add(x.matmul(a.t()).matmul(b.t())).mul(m.div(norm)).square().sum().backward();
        assertTrue(maxDiff(l.loraA("d").grad(), a.grad()) < 1e-12);
        assertTrue(maxDiff(l.loraB("d").grad(), b.grad()) < 1e-12);
        assertTrue(maxDiff(l.magnitude("d").grad(), m.grad()) < 1e-12);
    }

    /// PEFT's DoRA with dropout: y = base(x) + (f − 1)⊙(drop(x) W₀ᵀ) + f⊙s·drop(x)AᵀBᵀ; without it f⊙(W₀x + sBAx) + b.
    @Test
    void doraWithAndWithoutDropoutIsPeftsFormula() {
        Generator g = new Generator(21);
        Linear base = new Linear(4, 6, true, g, DType.F64);
        LoraLinear l = new LoraLinear(base);
        l.addAdapter("d", new LoraConfig(LoraConfig.AdapterKind.DORA, 2, 2, false, 0.5, LoraConfig.Init.DEFAULT, List.of()), g);
        perturb(wrap(l), 22);
        Tensor x = Tensor.ones(DType.F64, 200, 4);
        Tensor w = base.weight(), a = l.loraA("d"), b = l.loraB("d");
        Tensor f = noGrad(() -> l.magnitude("d").div(w.add(b.matmul(a)).square().sum(1, false).sqrt()));
        l.eval();
        Tensor plain = noGrad(() -> x.matmul(w.t()).add(x.matmul(a.t()).matmul(b.t())).mul(f).add(base.bias()));
        assertTrue(maxDiff(noGrad(() -> l.forward(x)), plain) < 1e-12, "eval: no dropout");
        l.train(true);
        Tensor y = noGrad(() -> l.forward(x));
        assertTrue(maxDiff(y, plain) > 1e-3, "training: dropout acts");
        Tensor base0 = noGrad(() -> base.forward(x));
        Tensor resid = noGrad(() -> y.sub(base0));
        // (f − 1)⊙(d W₀ᵀ) + f⊙(s·d AᵀBᵀ) = d·M with M = W₀ᵀ⊙(f − 1) + AᵀBᵀ⊙f [4, 6] (s = 1): recover each
        // dropped input row d from its output by least squares (M has full row rank) and check it is x ⊙ mask/(1 − p).
        Tensor mMat = noGrad(() -> w.t().mul(f.sub(1.0)).add(a.t().matmul(b.t()).mul(f)));
        Tensor d = noGrad(() -> dev.rankwise.linalg.Linalg.lstsq(mMat.t(), resid.t()).t());
        double[] dv = d.toDoubleArray();
        int zeros = 0;
        for (double v : dv) {
            assertTrue(Math.abs(v) < 1e-8 || Math.abs(v - 2) < 1e-8, "dropped input is 0 or 1/(1 − p) = 2, got " + v);
            if (Math.abs(v) < 1e-8) zeros++;
        }
        assertEquals(0.5, (double) zeros / dv.length, 4 * Math.sqrt(0.25 / dv.length), "drop rate p = 0.5 within 4σ");
    }

    @Test
    void loraDropoutActsOnTheAdapterInputOnly() {
        Generator g = new Generator(23);
        Linear base = new Linear(4, 4, true, g, DType.F64);
        LoraLinear l = new LoraLinear(base);
        l.addAdapter("a", new LoraConfig(LoraConfig.AdapterKind.LORA, 4, 4, false, 0.25, LoraConfig.Init.DEFAULT, List.of()), g);
        try (var ignored = GradMode.noGrad()) {
            l.loraA("a").copyFrom(Tensor.eye(4, DType.F64));
            l.loraB("a").copyFrom(Tensor.eye(4, DType.F64));
        }
        Tensor x = Tensor.ones(DType.F64, 500, 4);
        double[] delta = noGrad(() -> l.forward(x).sub(base.forward(x))).toDoubleArray();
        int zeros = 0;
        for (double v : delta) {
            assertTrue(Math.abs(v) < 1e-12 || Math.abs(v - 4.0 / 3) < 1e-12, "s·drop(x) with s = 1: 0 or 1/(1 − p), got " + v);
            if (Math.abs(v) < 1e-12) zeros++;
        }
        assertEquals(0.25, (double) zeros / delta.length, 4 * Math.sqrt(0.25 * 0.75 / delta.length));
        l.eval();
        assertTrue(maxDiff(noGrad(() -> l.forward(x)), noGrad(() -> base.forward(x).add(1.0))) < 1e-12, "eval: no dropout");
    }

    @Test
    void scalesCountsAndAdapterManagement() {
        assertEquals(16.0 / 8, LoraConfig.sora(8, 16, List.of()).scale());
        assertEquals(16.0 / Math.sqrt(8), LoraConfig.sora(8, 16, List.of()).withRsLora(true).scale());
        TokenNet net = new TokenNet(DType.F32, new Generator(13));
        List<String> adapted = Peft.attach(net, "a", LoraConfig.lora(2, List.of("q_proj", "out", "embed")), new Generator(14));
        assertEquals(List.of("embed", "net.q_proj", "net.out"), adapted);
        assertEquals(2 * (7 + 6) + 2 * (6 + 5) + 2 * (5 + 4), net.trainableCount(), "r(d_in + d_out) per layer");
        Peft.attach(net, "b", LoraConfig.sora(3, 3, List.of("q_proj")), new Generator(15));
        assertEquals(2 * (7 + 6) + 2 * (6 + 5) + 2 * (5 + 4) + 3 * (6 + 5) + 3, net.trainableCount(), "SoRA adds r_max(m + n) + r_max");
        Map<String, Tensor> names = net.namedParameters();
        assertTrue(names.containsKey("net.q_proj.lora_A.a.weight") && names.containsKey("net.q_proj.lora_B.b.weight")
                && names.containsKey("net.q_proj.lora_gate.b.weight") && names.containsKey("net.q_proj.base_layer.weight")
                && names.containsKey("embed.lora_embedding_A.a"), names.keySet().toString());
        assertTrue(Peft.summary(net).contains("sora"));
        LoraLinear q = Peft.layers(net).get("net.q_proj");
        assertEquals("b", q.activeAdapter());
        Peft.setActiveAdapter(net, "a");
        assertEquals("a", q.activeAdapter());
        perturb(net, 99);
        Tensor ids = ids(1, 4, 4);
        Tensor adaptedOut = noGrad(() -> net.forward(ids));
        Peft.setAdaptersDisabled(net, true);
        Tensor plain = noGrad(() -> net.forward(ids));
        Peft.setAdaptersDisabled(net, false);
        assertTrue(maxDiff(adaptedOut, plain) > 1e-3);
        Peft.deleteAdapter(net, "a");
        assertFalse(q.adapterNames().contains("a"));
        assertFalse(net.namedParameters().containsKey("net.q_proj.lora_A.a.weight"));
        assertThrows(IllegalArgumentException.class, () -> q.setActiveAdapter("a"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Peft.attach(new Net(DType.F32, new Generator(1)), "x", LoraConfig.lora(2, List.of("v_proj")), new Generator(1)));
        assertTrue(e.getMessage().contains("v_proj") && e.getMessage().contains("q_proj"), e.getMessage());
        assertTrue(Peft.matches("layers.0.attn.q_proj", List.of("q_proj")));
        assertFalse(Peft.matches("layers.0.attn.xq_proj", List.of("q_proj")));
        assertTrue(Peft.matches("layers.3.mlp", List.of("re:layers\\.[0-9]+\\.mlp")));
    }

    @Test
    void loraPlusGivesBItsOwnLearningRate() {
        TokenNet net = new TokenNet(DType.F32, new Generator(30));
        Peft.attach(net, "a", LoraConfig.sora(2, 2, List.of("q_proj", "embed")), new Generator(31));
        List<ParamGroup> groups = Peft.loraPlusGroups(net, 1e-4, 16, 0.01);
        assertEquals(1e-4, groups.get(0).lr());
        assertEquals(16e-4, groups.get(1).lr(), 1e-18);
        LoraLinear q = Peft.layers(net).get("net.q_proj");
        AdapterLayer e = Peft.adapterLayers(net).get("embed");
        assertEquals(Set.of(q.loraB("a"), e.loraB("a")), Set.copyOf(groups.get(1).params()));
        assertEquals(Set.of(q.loraA("a"), q.gate("a"), e.loraA("a"), e.gate("a")), Set.copyOf(groups.get(0).params()));
    }

    @Test
    void frozenPartsAreBuffersAndCanBeToggled() {
        Net net = new Net(DType.F64, new Generator(40));
        Peft.attach(net, "f", LoraConfig.lora(2, List.of("q_proj")), new Generator(41));
        LoraLinear q = Peft.layers(net).get("q_proj");
        Tensor a = q.loraA("f");
        q.setFrozen("f", Part.A, true);
        assertFalse(net.namedParameters().containsKey("q_proj.lora_A.f.weight"));
        assertSame(a, net.stateDict().get("q_proj.lora_A.f.weight"), "still in the state dict, the same tensor");
        assertFalse(a.requiresGrad());
        assertEquals(2 * 5, net.trainableCount());
        q.setFrozen("f", Part.A, false);
        assertSame(a, net.namedParameters().get("q_proj.lora_A.f.weight"));
        assertEquals(Set.of(), q.spec("f").frozen());
    }

    /// A bad attach is refused before the model changes: DoRA on an Embedding, an initializer that fails
    /// on the second layer, an adapter name a layer already has.
    @Test
    void badAttachLeavesTheModelUnchanged() {
        TokenNet net = new TokenNet(DType.F64, new Generator(60));
        Map<String, Tensor> before = net.stateDict();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Peft.attach(net, "d", cfg(LoraConfig.AdapterKind.DORA, List.of("q_proj", "embed")), new Generator(61)));
        assertTrue(e.getMessage().contains("'embed' is an Embedding"), e.getMessage());
        // r = 5 fits q_proj [5, 6] but not out [4, 5]: the PiSSA split fails on the second layer.
        assertThrows(IllegalArgumentException.class, () -> Peft.attach(net, "p", List.of("q_proj", "out"),
                (p, w) -> dev.rankwise.peft.init.SvdInit.pissa(w, 5, 1, -1, null)));
        assertTrue(Peft.adapterLayers(net).isEmpty());
        assertEquals(before, net.stateDict(), "the same tensors, none replaced");
        Peft.attach(net, "a", LoraConfig.lora(2, List.of("q_proj")), new Generator(62));
        assertThrows(IllegalArgumentException.class, () -> Peft.attach(net, "a", LoraConfig.lora(2, List.of("q_proj", "out")), new Generator(63)));
        assertEquals(1, Peft.adapterLayers(net).size());
    }

    @Test
    void switchingWhileMergedIsRefused() {
        Net net = new Net(DType.F32, new Generator(50));
        Peft.attach(net, "a", LoraConfig.lora(2, List.of("q_proj")), new Generator(51));
        Peft.attach(net, "b", LoraConfig.lora(2, List.of("q_proj")), new Generator(52));
        LoraLinear q = Peft.layers(net).get("q_proj");
        q.merge("b", true);
        assertThrows(IllegalStateException.class, () -> q.setActiveAdapter("a"));
        assertThrows(IllegalStateException.class, () -> q.merge("a", true));
        q.unmerge("b");
        q.setActiveAdapter("a");
    }

    @Test
    void mergeAndUnloadGivesPlainLayersWithTheSameOutput() {
        TokenNet net = new TokenNet(DType.F32, new Generator(17));
        Peft.attach(net, "default", LoraConfig.lora(2, List.of("q_proj", "out", "embed")), new Generator(18));
        perturb(net, 19);
        Tensor ids = ids(3, 1, 0, 6);
        Tensor before = noGrad(() -> net.forward(ids));
        Peft.mergeAndUnload(net);
        assertTrue(Peft.adapterLayers(net).isEmpty());
        assertInstanceOf(Linear.class, net.module("net.q_proj"));
        assertInstanceOf(Embedding.class, net.module("embed"));
        assertTrue(maxDiff(noGrad(() -> net.forward(ids)), before) < 1e-4);
        assertEquals(Set.of("embed.weight", "net.q_proj.weight", "net.q_proj.bias", "net.out.weight", "net.out.bias"), net.namedParameters().keySet());
    }

    /// A model holding `m` as its one submodule "l" (so that it can be targeted and replaced).
    static dev.rankwise.nn.Module wrap(dev.rankwise.nn.Module m) {
        return new dev.rankwise.nn.Module() {
            {
                registerModule("l", m);
            }

            @Override
            public Tensor forward(Tensor x) {
                return module("l").forward(x);
            }
        };
    }
}
