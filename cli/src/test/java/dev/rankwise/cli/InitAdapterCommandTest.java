package dev.rankwise.cli;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.io.Npy;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Linear;
import dev.rankwise.peft.LoraLinear;
import dev.rankwise.peft.Method;
import dev.rankwise.peft.Part;
import dev.rankwise.peft.PeftFormat;
import dev.rankwise.peft.PeftFormat.LayerKind;
import dev.rankwise.peft.PeftFormat.ModuleAdapter;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/// `rankwise init` and `rankwise adapter` through the real command line, each method checked by its
/// promise: base + s·B·A (from the files alone, as PEFT would read them) is W, or what the method says.
class InitAdapterCommandTest {
    @TempDir
    Path dir;

    private static final int OUT = 10, IN = 8;

    private Tensor weight() throws Exception {
        Tensor w = Tensor.randn(new Generator(3), DType.F64, OUT, IN);
        Npy.write(dir.resolve("w.npy"), w);
        return w;
    }

    private static double maxDiff(Tensor a, Tensor b) {
        return a.to(DType.F64).sub(b.to(DType.F64)).abs().max().item();
    }

    private int init(String method, String... extra) {
        List<String> args = new ArrayList<>(List.of("init", method, "--weight", dir.resolve("w.npy").toString(), "--rank", "3",
                "--module", "q_proj", "--out", dir.resolve(method).toString()));
        args.addAll(List.of(extra));
        return Main.run(args.toArray(String[]::new));
    }

    /// Methods whose promise is W itself: the base weight they write plus s·B·A gives W back.
    @ParameterizedTest
    @ValueSource(strings = {"pissa", "milora", "olora", "svfit", "loldu", "lamda", "lora-ga", "lq-lora"})
    void residualMethodsReproduceTheWeight(String method) throws Exception {
        Tensor w = weight();
        Npy.write(dir.resolve("g.npy"), Tensor.randn(new Generator(4), DType.F64, OUT, IN));
        assertEquals(0, init(method, "--alpha", "6", "--grad", dir.resolve("g.npy").toString(), "--quantizer", "none"), method);
        PeftFormat.Adapter ad = PeftFormat.read(dir.resolve(method));
        ModuleAdapter m = ad.modules().get("q_proj");
        assertEquals(Method.fromId(method), m.method());
        assertEquals(m.method().frozen(), m.frozen());
        assertEquals(2.0, m.scale(), 1e-12);
        Tensor base = ad.baseWeights().get("q_proj");
        assertNotNull(base, method + " replaces W");
        assertTrue(maxDiff(base.add(m.update()), w) < 1e-10, method + ": base_weight + s·lora_B·lora_A = W");
        assertEquals(Set.of("svfit", "loldu").contains(method), m.gate() != null, "gate methods store lora_gate");
        assertEquals(method.equals("lamda"), m.core() != null, "LaMDA stores its core");
        Path merged = dir.resolve(method + "-merged.npy");
        assertEquals(0, Main.run("adapter", "merge", dir.resolve(method).toString(), "--out", merged.toString()));
        assertTrue(maxDiff(Npy.read(merged), w) < 1e-10);
    }

    @Test
    void loraStartsAsANoOpAndAlphaDefaultsToR() throws Exception {
        weight();
        assertEquals(0, init("lora"));
        PeftFormat.Adapter ad = PeftFormat.read(dir.resolve("lora"));
        ModuleAdapter m = ad.modules().get("q_proj");
        assertEquals(3.0, ad.config().alpha());
        assertEquals(1.0, m.scale());
        assertEquals(0, m.b().abs().max().item());
        assertTrue(m.a().abs().max().item() > 0);
        assertTrue(ad.baseWeights().isEmpty());
        assertFalse(Files.exists(dir.resolve("lora").resolve(PeftFormat.BASE_WEIGHTS)));
    }

    /// LoRA-SB keeps W₀ and starts one step in: s·B·R·A is the best rank-r approximation of −η·sign(G).
    @Test
    void loraSbIsTheBestRankRApproximationOfTheFirstStep() throws Exception {
        Tensor w = weight();
        Tensor g = Tensor.randn(new Generator(4), DType.F64, OUT, IN);
        Npy.write(dir.resolve("g.npy"), g);
        assertEquals(0, init("lora-sb", "--grad", dir.resolve("g.npy").toString(), "--lr", "0.01"));
        PeftFormat.Adapter ad = PeftFormat.read(dir.resolve("lora-sb"));
        ModuleAdapter m = ad.modules().get("q_proj");
        assertTrue(ad.baseWeights().isEmpty(), "W₀ is not modified");
        assertEquals(Set.of(Part.A, Part.B), m.frozen());
        assertEquals(9, m.trainableCount(), "only the 3×3 core trains");
        Linalg.Svd svd = Linalg.svd(g.sign().mul(-0.01));
        Tensor best = svd.u().narrow(1, 0, 3).mul(svd.s().narrow(0, 0, 3)).matmul(svd.vh().narrow(0, 0, 3));
        assertTrue(maxDiff(m.update(), best) < 1e-12);
        Path merged = dir.resolve("sb.npy");
        assertEquals(0, Main.run("adapter", "merge", dir.resolve("lora-sb").toString(), "--weight", dir.resolve("w.npy").toString(),
                "--out", merged.toString()));
        assertTrue(maxDiff(Npy.read(merged), w.add(best)) < 1e-12);
        // The authors' η: the first learning rate of a linear warmup, LR / warmup steps.
        Path warm = dir.resolve("warm");
        assertEquals(0, Main.run("init", "lora-sb", "--weight", dir.resolve("w.npy").toString(), "--rank", "3", "--module", "q_proj",
                "--grad", dir.resolve("g.npy").toString(), "--lr", "0.04", "--warmup-steps", "4", "--out", warm.toString()));
        assertTrue(maxDiff(PeftFormat.read(warm).modules().get("q_proj").update(), best) < 1e-12, "η = 0.04/4 = 0.01");
    }

    @Test
    void saltStartsAtWAndStoresItsTensors() throws Exception {
        Tensor w = weight();
        assertEquals(0, init("salt", "--tail-rank", "2"));
        PeftFormat.Adapter ad = PeftFormat.read(dir.resolve("salt"));
        ModuleAdapter m = ad.modules().get("q_proj");
        assertEquals(Method.SALT, m.method());
        assertEquals(0, m.update().abs().max().item(), "a zero pair: W' = W at the start");
        assertEquals(2 * 3 + 2 * 2 * (8 - 3), m.trainableCount(), "2r + 2q(k − r)");
        Path merged = dir.resolve("salt.npy");
        assertEquals(0, Main.run("adapter", "merge", dir.resolve("salt").toString(), "--out", merged.toString()));
        assertTrue(maxDiff(Npy.read(merged), w) < 1e-12, "U·ReLU(Σ')·Vᵀ = W at the start");
    }

    @Test
    void eoraWithWhitenedInputsIsThePlainSvdOfTheError() throws Exception {
        Tensor w = weight();
        Tensor q = w.mul(0.9);
        Npy.write(dir.resolve("q.npy"), q);
        // Columns orthogonal with XᵀX/N = I: C = I, so EoRA at full rank recovers W − Ŵ exactly.
        Tensor x = Linalg.qr(Tensor.randn(new Generator(5), DType.F64, 64, IN), false).q().mul(8.0);
        Npy.write(dir.resolve("x.npy"), x);
        assertEquals(0, Main.run("init", "eora", "--weight", dir.resolve("w.npy").toString(), "--compressed", dir.resolve("q.npy").toString(),
                "--activations", dir.resolve("x.npy").toString(), "--rank", "8", "--out", dir.resolve("eora").toString()));
        PeftFormat.Adapter ad = PeftFormat.read(dir.resolve("eora"));
        ModuleAdapter e = ad.modules().get("layer");
        assertTrue(maxDiff(ad.baseWeights().get("layer"), q) == 0, "the base becomes the compressed weight");
        assertTrue(maxDiff(q.add(e.update()), w) < 1e-9, "full rank recovers W exactly");
    }

    /// A "trained" PiSSA adapter (A1, B1) against its initialization (A0, B0) becomes a rank-2r LoRA on W.
    @Test
    void convertResidualAdapterToRank2rLora() throws Exception {
        Tensor w = weight();
        Path init = dir.resolve("p0");
        assertEquals(0, Main.run("init", "pissa", "--weight", dir.resolve("w.npy").toString(), "--rank", "2", "--alpha", "4", "--out", init.toString()));
        PeftFormat.Adapter p0 = PeftFormat.read(init);
        ModuleAdapter m0 = p0.modules().get("layer");
        ModuleAdapter m1 = ModuleAdapter.lora(Method.PISSA, m0.a().mul(1.1), m0.b().add(0.05), m0.scale());
        PeftFormat.write(dir.resolve("p1"), Map.of("layer", m1), p0.baseWeights(), 0);
        assertEquals(0, Main.run("adapter", "convert", dir.resolve("p1").toString(), "--initial", init.toString(), "--out", dir.resolve("p2").toString()));
        PeftFormat.Adapter p2 = PeftFormat.read(dir.resolve("p2"));
        ModuleAdapter m2 = p2.modules().get("layer");
        assertEquals(4, m2.rank());
        assertEquals(m0.scale(), m2.scale(), 1e-15);
        assertTrue(p2.baseWeights().isEmpty(), "applies to the original W");
        Tensor trained = p0.baseWeights().get("layer").add(m1.update());
        assertTrue(maxDiff(w.add(m2.update()), trained) < 1e-10, "W + s·B'A' = W_res + s·B1A1");
        // A different base weight in the trained directory means the pair no longer belongs to W_res.
        PeftFormat.write(dir.resolve("p3"), Map.of("layer", m1), Map.of("layer", w), 0);
        assertEquals(2, Main.run("adapter", "convert", dir.resolve("p3").toString(), "--initial", init.toString(), "--out", dir.resolve("p4").toString()));
    }

    @Test
    void convertPrunesSoraGates() throws Exception {
        Generator g = new Generator(6);
        Tensor a = Tensor.randn(g, DType.F64, 4, IN), b = Tensor.randn(g, DType.F64, OUT, 4);
        Tensor gate = Tensor.fromArray(new double[] {0.7, 0, -1.2, 0}, 4);
        ModuleAdapter sora = new ModuleAdapter(LayerKind.LINEAR, Method.SORA, 4, 8, false, a, b, gate, null, null, Set.of(), 0, Map.of());
        PeftFormat.write(dir.resolve("s"), Map.of("layer", sora), Map.of(), 0);
        assertEquals(0, Main.run("adapter", "convert", dir.resolve("s").toString(), "--out", dir.resolve("s2").toString()));
        ModuleAdapter pruned = PeftFormat.read(dir.resolve("s2")).modules().get("layer");
        assertEquals(2, pruned.rank(), "|S| = 2 non-zero gates");
        assertEquals(1.0, pruned.scale());
        assertNull(pruned.gate());
        assertTrue(maxDiff(pruned.update(), sora.update()) < 1e-12, "pruned and unpruned agree");
        assertEquals(2, Main.run("adapter", "convert", dir.resolve("s2").toString(), "--out", dir.resolve("s3").toString()), "nothing to prune");
    }

    @Test
    void doraMergeRenormalizesRows() throws Exception {
        Tensor w = weight();
        Generator g = new Generator(7);
        Linear lin = new Linear(IN, OUT, false, g, DType.F64);
        lin.setParameter("weight", w);
        LoraLinear layer = new LoraLinear(lin);
        layer.addAdapter("d", new dev.rankwise.peft.LoraConfig(dev.rankwise.peft.LoraConfig.AdapterKind.DORA, 2, 4, false, 0,
                dev.rankwise.peft.LoraConfig.Init.DEFAULT, List.of()), g);
        try (var ignored = dev.rankwise.autograd.GradMode.noGrad()) {
            layer.loraB("d").copyFrom(Tensor.randn(g, DType.F64, OUT, 2));
            layer.magnitude("d").copyFrom(layer.magnitude("d").mul(1.5));
        }
        ModuleAdapter m = new ModuleAdapter(LayerKind.LINEAR, Method.DORA, 2, 4, false, layer.loraA("d"), layer.loraB("d"), null, null,
                layer.magnitude("d"), Set.of(), 0, Map.of());
        PeftFormat.write(dir.resolve("dora"), Map.of("layer", m), Map.of(), 0);
        assertEquals(0, Main.run("adapter", "merge", dir.resolve("dora").toString(), "--weight", dir.resolve("w.npy").toString(),
                "--out", dir.resolve("dm.npy").toString()));
        layer.merge("d", true);
        assertTrue(maxDiff(Npy.read(dir.resolve("dm.npy")), lin.weight()) < 1e-12, "the file merge equals the layer's merge");
    }

    @Test
    void inspectShowsRanksCountsAndSpectra() throws Exception {
        weight();
        assertEquals(0, init("svfit"));
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run("adapter", "inspect", dir.resolve("svfit").toString()));
        } finally {
            System.setOut(old);
        }
        String text = buf.toString(java.nio.charset.StandardCharsets.UTF_8);
        double[] sv = Linalg.svdvals(Npy.read(dir.resolve("w.npy"))).toDoubleArray();
        assertTrue(text.contains("q_proj (linear, svfit): in 8, out 10, rank 3"), text);
        assertTrue(text.contains("3 trainable of 57 stored numbers"), text);
        assertTrue(text.contains(String.format("%.4g", sv[0])), "the top singular value of s·B·A is σ₁ of W\n" + text);
    }

    @Test
    void badInputsAreClearErrors() throws Exception {
        weight();
        assertEquals(2, Main.run("init", "nope", "--weight", dir.resolve("w.npy").toString(), "--rank", "2", "--out", dir.resolve("x").toString()));
        assertEquals(2, Main.run("init", "lora-ga", "--weight", dir.resolve("w.npy").toString(), "--rank", "2", "--out", dir.resolve("x").toString()));
        assertEquals(1, Main.run("init", "pissa", "--weight", dir.resolve("w.npy").toString(), "--rank", "20", "--out", dir.resolve("x").toString()));
        Files.writeString(dir.resolve("broken.npy"), "not numpy");
        assertEquals(1, Main.run("init", "pissa", "--weight", dir.resolve("broken.npy").toString(), "--rank", "2", "--out", dir.resolve("x").toString()));
        assertFalse(Files.exists(dir.resolve("x")), "nothing written on failure");
        Path ad = dir.resolve("ad");
        assertEquals(0, Main.run("init", "lora", "--weight", dir.resolve("w.npy").toString(), "--rank", "2", "--out", ad.toString()));
        Npy.write(dir.resolve("small.npy"), Tensor.zeros(DType.F64, 3, 3));
        assertEquals(2, Main.run("adapter", "merge", ad.toString(), "--weight", dir.resolve("small.npy").toString(), "--out", dir.resolve("m.npy").toString()));
        assertEquals(2, Main.run("adapter", "merge", ad.toString(), "--out", dir.resolve("m.npy").toString()), "no base weight to merge into");
        Files.writeString(ad.resolve("adapter_config.json"), Files.readString(ad.resolve("adapter_config.json")).replace("\"bias\"", "\"biass\""));
        assertEquals(1, Main.run("adapter", "inspect", ad.toString()));
    }
}
