package dev.rankwise.cli;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.io.Npy;
import dev.rankwise.io.SafeTensors;
import dev.rankwise.peft.PeftFormat;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/// `rankwise init` and `rankwise adapter` through the real command line, checked by each method's
/// promise: base_weight + s·B·A reproduces W.
class InitAdapterCommandTest {
    @TempDir
    Path dir;

    private Tensor weight() throws Exception {
        Tensor w = Tensor.randn(new Generator(3), DType.F64, 10, 8);
        Npy.write(dir.resolve("w.npy"), w);
        return w;
    }

    private static double maxDiff(Tensor a, Tensor b) {
        return a.to(DType.F64).sub(b.to(DType.F64)).abs().max().item();
    }

    @Test
    void residualMethodsReproduceTheWeight() throws Exception {
        Tensor w = weight();
        for (String method : new String[] {"pissa", "milora", "olora", "loldu"}) {
            Path out = dir.resolve(method);
            assertEquals(0, Main.run("init", method, "--weight", dir.resolve("w.npy").toString(), "--rank", "3", "--alpha", "6",
                    "--module", "q_proj", "--out", out.toString()), method);
            PeftFormat.Adapter ad = PeftFormat.read(out);
            PeftFormat.ModuleAdapter m = ad.modules().get("q_proj");
            assertEquals(2.0, m.scale(), 1e-12);
            Tensor base = SafeTensors.read(out.resolve("base_weight.safetensors")).get("base_model.model.q_proj.weight");
            assertTrue(maxDiff(base.add(m.b().matmul(m.a()).mul(m.scale())), w) < 1e-10, method);
            assertEquals(0, Main.run("adapter", "merge", out.toString(), "--weight", out.resolve("base_weight.safetensors").toString(),
                    "--out", dir.resolve(method + "-merged.npy").toString()));
            assertTrue(maxDiff(Npy.read(dir.resolve(method + "-merged.npy")), w) < 1e-10);
        }
    }

    @Test
    void loraGaAndEoraAndConvert() throws Exception {
        Tensor w = weight();
        Npy.write(dir.resolve("g.npy"), Tensor.randn(new Generator(4), DType.F64, 10, 8));
        assertEquals(0, Main.run("init", "lora-ga", "--weight", dir.resolve("w.npy").toString(), "--grad", dir.resolve("g.npy").toString(),
                "--rank", "2", "--out", dir.resolve("ga").toString()));
        // EoRA: with C = I (whitened inputs) the adapter is the plain rank-r SVD of W − Ŵ.
        Tensor q = w.mul(0.9);
        Npy.write(dir.resolve("q.npy"), q);
        Tensor x = dev.rankwise.linalg.Linalg.qr(Tensor.randn(new Generator(5), DType.F64, 64, 8), false).q().mul(8.0);
        Npy.write(dir.resolve("x.npy"), x);
        assertEquals(0, Main.run("init", "eora", "--weight", dir.resolve("w.npy").toString(), "--compressed", dir.resolve("q.npy").toString(),
                "--activations", dir.resolve("x.npy").toString(), "--rank", "8", "--out", dir.resolve("eora").toString()));
        PeftFormat.ModuleAdapter e = PeftFormat.read(dir.resolve("eora")).modules().get("layer");
        assertTrue(maxDiff(q.add(e.b().matmul(e.a()).mul(e.scale())), w) < 1e-9, "full rank recovers W exactly");

        // Convert: a "trained" PiSSA adapter (A1, B1) against its initialization (A0, B0) becomes a rank-2r LoRA on W.
        Path init = dir.resolve("p0");
        assertEquals(0, Main.run("init", "pissa", "--weight", dir.resolve("w.npy").toString(), "--rank", "2", "--out", init.toString()));
        PeftFormat.ModuleAdapter p0 = PeftFormat.read(init).modules().get("layer");
        PeftFormat.ModuleAdapter p1 = new PeftFormat.ModuleAdapter(p0.a().mul(1.1), p0.b().add(0.05), p0.scale(), null);
        PeftFormat.write(dir.resolve("p1"), Map.of("layer", p1), false, Map.of());
        assertEquals(0, Main.run("adapter", "convert", dir.resolve("p1").toString(), "--initial", init.toString(), "--out", dir.resolve("p2").toString()));
        PeftFormat.ModuleAdapter p2 = PeftFormat.read(dir.resolve("p2")).modules().get("layer");
        assertEquals(4, p2.rank());
        Tensor wRes = SafeTensors.read(init.resolve("base_weight.safetensors")).get("base_model.model.layer.weight");
        Tensor trained = wRes.add(p1.b().matmul(p1.a()).mul(p1.scale()));
        assertTrue(maxDiff(w.add(p2.b().matmul(p2.a()).mul(p2.scale())), trained) < 1e-10, "W + s·B'A' = W_res + s·B1A1");
        assertEquals(0, Main.run("adapter", "inspect", dir.resolve("p2").toString()));
    }

    @Test
    void badInputsAreClearErrors() throws Exception {
        weight();
        assertEquals(2, Main.run("init", "nope", "--weight", dir.resolve("w.npy").toString(), "--rank", "2", "--out", dir.resolve("x").toString()));
        assertEquals(1, Main.run("init", "pissa", "--weight", dir.resolve("w.npy").toString(), "--rank", "20", "--out", dir.resolve("x").toString()));
        Files.writeString(dir.resolve("broken.npy"), "not numpy");
        assertEquals(1, Main.run("init", "pissa", "--weight", dir.resolve("broken.npy").toString(), "--rank", "2", "--out", dir.resolve("x").toString()));
        Path ad = dir.resolve("ad");
        assertEquals(0, Main.run("init", "lora", "--weight", dir.resolve("w.npy").toString(), "--rank", "2", "--out", ad.toString()));
        Files.writeString(ad.resolve("adapter_config.json"), Files.readString(ad.resolve("adapter_config.json")).replace("\"bias\"", "\"biass\""));
        assertTrue(assertThrows(java.io.IOException.class, () -> PeftFormat.read(ad)).getMessage().contains("unknown key 'biass'"));
        assertEquals(1, Main.run("adapter", "inspect", ad.toString()));
    }
}
