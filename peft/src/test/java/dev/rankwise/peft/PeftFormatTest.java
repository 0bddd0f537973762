package dev.rankwise.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.io.SafeTensors;
import dev.rankwise.nn.Module;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.rankwise.peft.Models.*;
import static org.junit.jupiter.api.Assertions.*;

/// PEFT's adapter files: bit-exact round trips through a model, the pair's promise read from the raw
/// tensors, PEFT's own conventions (suffix patterns, regex targets), and malformed files rejected with
/// an error naming the file and the problem.
class PeftFormatTest {
    @TempDir
    Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();

    /// Saving, then loading into a fresh copy of the original model, gives bit-identical outputs.
    @ParameterizedTest
    @EnumSource(value = Method.class, names = {"LORA", "DORA", "SORA", "PISSA", "SVFIT", "LOLDU", "LORA_SB", "LAMDA", "FEDSVD", "SALT", "EORA"})
    void saveThenLoadIsBitExact(Method method) throws IOException {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Net net = new Net(dt, new Generator(1));
            InitializedAdapterTest.attach(net, method);
            perturb(net, 2);
            if (method == Method.LAMDA) dev.rankwise.peft.init.Lamda.applySchedule(net, "m", 1, 2);
            if (method == Method.SORA) {
                try (var ignored = dev.rankwise.autograd.GradMode.noGrad()) {
                    Peft.layers(net).get("q_proj").gate("m").narrow(0, 1, 1).fill(0);
                }
            }
            Path d = dir.resolve(method.id() + dt);
            AdapterFiles.save(d, net, "m");
            Net fresh = new Net(dt, new Generator(1));
            AdapterFiles.load(d, fresh, "m");
            Tensor x = Tensor.randn(new Generator(3), dt, 5, 6);
            assertEquals(0, maxDiff(noGrad(() -> fresh.forward(x)), noGrad(() -> net.forward(x))), method.id() + " " + dt);
            assertEquals(net.trainableCount(), fresh.trainableCount());
            for (var e : net.stateDict().entrySet()) {
                assertArrayEquals(e.getValue().toDoubleArray(), fresh.stateDict().get(e.getKey()).toDoubleArray(), e.getKey());
            }
            // Written again, the files are byte for byte the same.
            AdapterFiles.save(dir.resolve("again"), fresh, "m");
            assertArrayEquals(Files.readAllBytes(d.resolve(PeftFormat.WEIGHTS)), Files.readAllBytes(dir.resolve("again").resolve(PeftFormat.WEIGHTS)));
            assertEquals(Files.readString(d.resolve(PeftFormat.CONFIG)), Files.readString(dir.resolve("again").resolve(PeftFormat.CONFIG)));
        }
    }

    /// What PEFT sees: from the raw tensors alone, base + s·lora_B·lora_A is the adapted layer's weight.
    @ParameterizedTest
    @EnumSource(value = Method.class, names = {"LORA", "SORA", "PISSA", "SVFIT", "LOLDU", "LORA_SB", "LAMDA", "EORA", "SALT"})
    void thePairAloneKeepsPeftsPromise(Method method) throws IOException {
        Net net = new Net(DType.F64, new Generator(4));
        Map<String, Tensor> original = Map.of("q_proj", net.module("q_proj").parameter("weight"), "out", net.module("out").parameter("weight"));
        InitializedAdapterTest.attach(net, method);
        perturb(net, 5);
        Map<String, Tensor> effective = new LinkedHashMap<>();
        for (String p : List.of("q_proj", "out")) {
            Module m = net.module(p);
            effective.put(p, m instanceof AdapterLayer l ? l.baseWeight().add(l.deltaWeight("m")) : ((SaltLinear) m).weight());
        }
        AdapterFiles.save(dir, net, "m");
        JsonNode cfg = JSON.readTree(dir.resolve(PeftFormat.CONFIG).toFile());
        Map<String, Tensor> raw = SafeTensors.read(dir.resolve(PeftFormat.WEIGHTS));
        Map<String, Tensor> base = Files.exists(dir.resolve(PeftFormat.BASE_WEIGHTS)) ? SafeTensors.read(dir.resolve(PeftFormat.BASE_WEIGHTS)) : Map.of();
        for (String p : List.of("q_proj", "out")) {
            Tensor a = raw.get("base_model.model." + p + ".lora_A.weight"), b = raw.get("base_model.model." + p + ".lora_B.weight");
            int r = cfg.path("rank_pattern").has(p) ? cfg.get("rank_pattern").get(p).asInt() : cfg.get("r").asInt();
            double alpha = cfg.path("alpha_pattern").has(p) ? cfg.get("alpha_pattern").get(p).asDouble() : cfg.get("lora_alpha").asDouble();
            double s = cfg.get("use_rslora").asBoolean() ? alpha / Math.sqrt(r) : alpha / r;
            Tensor w = base.getOrDefault("base_model.model." + p + ".weight", original.get(p));
            assertTrue(maxDiff(w.add(b.matmul(a).mul(s)), effective.get(p)) < 1e-12, method.id() + " " + p);
        }
        assertTrue(cfg.get("init_lora_weights").asBoolean(), "PEFT must not re-run an initializer on load");
        assertEquals("LORA", cfg.get("peft_type").asText());
    }

    @Test
    void patternsRsLoraAndTargetsInTheConfig() throws IOException {
        TokenNet net = new TokenNet(DType.F32, new Generator(6));
        Peft.attach(net, "s", LoraConfig.sora(4, 8, List.of("q_proj", "out", "embed")).withRsLora(true), new Generator(7));
        try (var ignored = dev.rankwise.autograd.GradMode.noGrad()) {
            Peft.adapterLayers(net).get("net.q_proj").gate("s").narrow(0, 0, 2).fill(0);
        }
        Sora.prune(net, "s"); // ranks 2, 4, 4 with scale 1 (α = r)
        AdapterFiles.save(dir, net, "s");
        JsonNode cfg = JSON.readTree(dir.resolve(PeftFormat.CONFIG).toFile());
        assertEquals(4, cfg.get("r").asInt());
        assertEquals(4.0, cfg.get("lora_alpha").asDouble());
        assertEquals(2, cfg.get("rank_pattern").get("net.q_proj").asInt());
        assertEquals(2.0, cfg.get("alpha_pattern").get("net.q_proj").asDouble());
        assertFalse(cfg.get("use_rslora").asBoolean(), "pruned adapters have plain scale 1");
        assertEquals(List.of("embed", "net.q_proj", "net.out"), JSON.convertValue(cfg.get("target_modules"), List.class));
        Map<String, Tensor> raw = SafeTensors.read(dir.resolve(PeftFormat.WEIGHTS));
        assertTrue(raw.containsKey("base_model.model.embed.lora_embedding_A") && raw.containsKey("base_model.model.embed.lora_embedding_B"));
        assertEquals(List.of(2, 6), List.of(raw.get("base_model.model.net.q_proj.lora_A.weight").shape()[0], raw.get("base_model.model.net.q_proj.lora_A.weight").shape()[1]));

        TokenNet rs = new TokenNet(DType.F64, new Generator(8));
        Peft.attach(rs, "r", LoraConfig.lora(4, List.of("q_proj")).withAlpha(6).withRsLora(true), new Generator(9));
        AdapterFiles.save(dir.resolve("rs"), rs, "r");
        PeftFormat.Adapter ad = PeftFormat.read(dir.resolve("rs"));
        assertTrue(ad.config().rsLora());
        assertEquals(6 / Math.sqrt(4), ad.modules().get("net.q_proj").scale());
    }

    /// A file as PEFT writes it: short target names, suffix keys in the patterns, no metadata, F32.
    @Test
    void readsPeftsConventions() throws IOException {
        Generator g = new Generator(10);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("base_model.model.layers.0.q_proj.lora_A.weight", Tensor.randn(g, DType.F32, 4, 6));
        t.put("base_model.model.layers.0.q_proj.lora_B.weight", Tensor.randn(g, DType.F32, 5, 4));
        t.put("base_model.model.layers.0.v_proj.lora_A.weight", Tensor.randn(g, DType.F32, 8, 6));
        t.put("base_model.model.layers.0.v_proj.lora_B.weight", Tensor.randn(g, DType.F32, 5, 8));
        SafeTensors.write(dir.resolve(PeftFormat.WEIGHTS), t, Map.of("format", "pt"));
        Files.writeString(dir.resolve(PeftFormat.CONFIG), """
                {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 8, "lora_alpha": 16, "lora_dropout": 0.05,
                 "target_modules": ["v_proj", "q_proj"], "rank_pattern": {"q_proj": 4}, "alpha_pattern": {"layers.0.q_proj": 2},
                 "use_rslora": false, "use_dora": false, "init_lora_weights": true, "bias": "none", "fan_in_fan_out": false,
                 "modules_to_save": null, "layers_to_transform": null, "layers_pattern": null, "revision": null}""");
        PeftFormat.Adapter ad = PeftFormat.read(dir);
        PeftFormat.ModuleAdapter q = ad.modules().get("layers.0.q_proj"), v = ad.modules().get("layers.0.v_proj");
        assertEquals(4, q.rank());
        assertEquals(0.5, q.scale(), "alpha_pattern 2 over rank 4");
        assertEquals(2.0, v.scale(), "16 / 8");
        assertEquals(Method.LORA, q.method());
        assertEquals(0.05, ad.config().dropout());
        // A regex string as target_modules (PEFT's re.fullmatch).
        Files.writeString(dir.resolve(PeftFormat.CONFIG), Files.readString(dir.resolve(PeftFormat.CONFIG))
                .replace("[\"v_proj\", \"q_proj\"]", "\"layers\\\\.[0-9]+\\\\.(q|v)_proj\""));
        assertEquals(2, PeftFormat.read(dir).modules().size());
        Files.writeString(dir.resolve(PeftFormat.CONFIG), Files.readString(dir.resolve(PeftFormat.CONFIG)).replace("(q|v)_proj", "q_proj"));
        assertMalformed("not among target_modules");
    }

    /// PEFT's `get_pattern_key`: `re.match(rf"(.*\.)?({key})$", path)`, first key in file order wins. A
    /// bare name matches only a whole last component (not `kq_proj`), a key is a regular expression, and
    /// a specific key listed first shadows a general one listed after it.
    @Test
    void patternKeysArePeftsRegexRule() {
        List<String> keys = List.of("layers.0.q_proj", "q_proj", "layers\\.[23]\\.v_proj");
        assertEquals("layers.0.q_proj", PeftConfig.patternKey(keys, "model.layers.0.q_proj"));
        assertEquals("q_proj", PeftConfig.patternKey(keys, "model.layers.1.q_proj"));
        assertEquals("q_proj", PeftConfig.patternKey(keys, "q_proj"));
        assertNull(PeftConfig.patternKey(keys, "model.layers.1.kq_proj"), "a suffix must start at a dot");
        assertNull(PeftConfig.patternKey(keys, "model.layers.0.q_proj.lora"), "the key must end the path");
        assertEquals("layers\\.[23]\\.v_proj", PeftConfig.patternKey(keys, "model.layers.3.v_proj"));
        assertNull(PeftConfig.patternKey(keys, "model.layers.4.v_proj"));
        assertEquals("q_proj", PeftConfig.patternKey(List.of("q_proj", "layers.0.q_proj"), "layers.0.q_proj"), "file order decides");
    }

    /// An `adapter_config.json` as PEFT 0.20's `LoraConfig.to_dict` writes it: every field, the newer ones
    /// at their defaults, plus a field from a PEFT newer still (null). It reads; a newer variant that would
    /// change the forward pass, or an unknown key with a value, is refused.
    @Test
    void readsAConfigFromARecentPeft() throws IOException {
        writeLora(Map.of(), null);
        String full = """
                {"task_type": "CAUSAL_LM", "peft_type": "LORA", "auto_mapping": null, "peft_version": "0.20.0",
                 "base_model_name_or_path": "some/model", "revision": null, "inference_mode": true, "r": 2,
                 "target_modules": ["q_proj"], "exclude_modules": null, "lora_alpha": 4, "lora_dropout": 0.0,
                 "fan_in_fan_out": false, "bias": "none", "use_rslora": false, "modules_to_save": null,
                 "init_lora_weights": "pissa_niter_4", "layers_to_transform": null, "layers_pattern": null,
                 "rank_pattern": {}, "alpha_pattern": {}, "megatron_config": null, "megatron_core": "megatron.core",
                 "trainable_token_indices": null, "loftq_config": {}, "eva_config": null, "corda_config": null,
                 "lora_ga_config": null, "use_dora": false, "velora_config": null, "alora_invocation_tokens": null,
                 "use_qalora": false, "qalora_group_size": 16, "monteclora_config": null, "layer_replication": null,
                 "lora_bias": false, "target_parameters": null, "use_bdlora": null, "arrow_config": null,
                 "ensure_weight_tying": false, "a_field_from_a_later_peft": null}""";
        Files.writeString(dir.resolve(PeftFormat.CONFIG), full);
        assertEquals(2.0, PeftFormat.read(dir).modules().get("q_proj").scale());
        Files.writeString(dir.resolve(PeftFormat.CONFIG), full.replace("\"alora_invocation_tokens\": null", "\"alora_invocation_tokens\": [5, 6]"));
        assertMalformed("alora_invocation_tokens = [5,6] is not supported");
        Files.writeString(dir.resolve(PeftFormat.CONFIG), full.replace("\"a_field_from_a_later_peft\": null", "\"a_field_from_a_later_peft\": 3"));
        assertMalformed("unknown key 'a_field_from_a_later_peft' = 3");
    }

    private void writeLora(Map<String, Tensor> extra, String configEdit) throws IOException {
        Generator g = new Generator(11);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("base_model.model.q_proj.lora_A.weight", Tensor.randn(g, DType.F64, 2, 6));
        t.put("base_model.model.q_proj.lora_B.weight", Tensor.randn(g, DType.F64, 5, 2));
        t.putAll(extra);
        t.values().removeIf(v -> v == null);
        SafeTensors.write(dir.resolve(PeftFormat.WEIGHTS), t, Map.of("format", "pt"));
        String cfg = """
                {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"], "use_dora": false, "bias": "none"}""";
        Files.writeString(dir.resolve(PeftFormat.CONFIG), configEdit == null ? cfg : cfg.replace("\"bias\": \"none\"", configEdit));
    }

    private void assertMalformed(String expected) {
        IOException e = assertThrows(IOException.class, () -> PeftFormat.read(dir));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(dir.toString()), "the message names the file: " + e.getMessage());
    }

    @Test
    void malformedConfigsAreRejected() throws IOException {
        writeLora(Map.of(), null);
        assertEquals(1, PeftFormat.read(dir).modules().size(), "the well-formed file reads");
        String[][] cases = {
                {"\"bias\": \"none\", \"lora_alhpa\": 3", "unknown key 'lora_alhpa'"},
                {"\"bias\": \"all\"", "bias = \"all\" is not supported"},
                {"\"bias\": \"none\", \"fan_in_fan_out\": true", "fan_in_fan_out = true is not supported"},
                {"\"bias\": \"none\", \"modules_to_save\": [\"lm_head\"]", "modules_to_save"},
                {"\"bias\": \"none\", \"rank_pattern\": {\"q_proj\": 0}", "rank_pattern['q_proj'] must be a positive integer"},
                {"\"bias\": \"none\", \"rank_pattern\": {\"q_proj(\": 2}", "is not a valid regular expression"},
                {"\"bias\": \"none\", \"use_rslora\": \"yes\"", "use_rslora must be true or false"},
                {"\"bias\": \"none\", \"use_dora\": true", "use_dora is set but there is no lora_magnitude_vector"},
        };
        for (String[] c : cases) {
            writeLora(Map.of(), c[0]);
            assertMalformed(c[1]);
        }
        writeLora(Map.of(), null);
        Files.writeString(dir.resolve(PeftFormat.CONFIG), Files.readString(dir.resolve(PeftFormat.CONFIG)).replace("\"r\": 2, ", ""));
        assertMalformed("missing key 'r'");
        Files.writeString(dir.resolve(PeftFormat.CONFIG), "{\"peft_type\": \"IA3\", \"r\": 2, \"lora_alpha\": 4, \"target_modules\": []}");
        assertMalformed("is not LORA");
        Files.writeString(dir.resolve(PeftFormat.CONFIG), "{\"peft_type\": \"LORA\", \"r\": 2,");
        assertMalformed("not valid JSON");
        Files.delete(dir.resolve(PeftFormat.CONFIG));
        assertMalformed("missing");
    }

    @Test
    void malformedTensorsAreRejected() throws IOException {
        Generator g = new Generator(12);
        Object[][] cases = {
                {Map.of("base_model.model.q_proj.lora_C.weight", Tensor.zeros(DType.F64, 2, 6)), "unexpected tensor 'base_model.model.q_proj.lora_C.weight'"},
                {Map.of("model.q_proj.lora_A.weight", Tensor.zeros(DType.F64, 2, 6)), "unexpected tensor 'model.q_proj.lora_A.weight'"},
                {Map.of("base_model.model.x.q_proj.lora_A.weight", Tensor.zeros(DType.F64, 2, 6)), "needs both lora_A.weight and lora_B.weight"},
                {Map.of("base_model.model.q_proj.lora_magnitude_vector", Tensor.ones(DType.F64, 5)), "but use_dora is not set"},
                {Map.of("base_model.model.q_proj.lora_gate", Tensor.ones(DType.F64, 2)), "lora_B_factor comes with lora_gate"},
                {Map.of("base_model.model.q_proj.lora_gate", Tensor.ones(DType.F64, 2), "base_model.model.q_proj.lora_B_factor",
                        Tensor.randn(g, DType.F64, 5, 2)), "differs from lora_B_factor times its gate"},
                {Map.of("base_model.model.q_proj.lora_core", Tensor.ones(DType.F64, 3, 3), "base_model.model.q_proj.lora_B_factor",
                        Tensor.randn(g, DType.F64, 5, 2)), "lora_core has shape [3, 3], expected [2, 2]"},
        };
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked") Map<String, Tensor> extra = (Map<String, Tensor>) c[0];
            writeLora(extra, null);
            assertMalformed((String) c[1]);
        }
        writeLora(Map.of("base_model.model.q_proj.lora_A.weight", Tensor.zeros(DType.F64, 3, 6)), null);
        assertMalformed("do not fit rank 2");
        writeLora(Map.of(), null);
        SafeTensors.write(dir.resolve(PeftFormat.WEIGHTS), SafeTensors.read(dir.resolve(PeftFormat.WEIGHTS)), Map.of("rankwise", "[1, 2]"));
        assertMalformed("metadata 'rankwise' is not a JSON object");
        SafeTensors.write(dir.resolve(PeftFormat.WEIGHTS), SafeTensors.read(dir.resolve(PeftFormat.WEIGHTS)),
                Map.of("rankwise", "{\"q_proj\": {\"method\": \"vera\", \"frozen\": []}}"));
        assertMalformed("unknown method 'vera'");
        writeLora(Map.of(), null);
        byte[] bytes = Files.readAllBytes(dir.resolve(PeftFormat.WEIGHTS));
        Files.write(dir.resolve(PeftFormat.WEIGHTS), java.util.Arrays.copyOf(bytes, bytes.length - 9));
        IOException e = assertThrows(IOException.class, () -> PeftFormat.read(dir));
        assertTrue(e.getMessage().contains(PeftFormat.WEIGHTS), e.getMessage());
    }

    @Test
    void loadingIntoAMismatchedModelIsAnErrorThatChangesNothing() throws IOException {
        Net net = new Net(DType.F64, new Generator(13));
        Peft.attach(net, "a", LoraConfig.lora(2, List.of("q_proj", "out")), new Generator(14));
        AdapterFiles.save(dir, net, "a");
        Module other = new Module() {
            {
                registerModule("q_proj", new dev.rankwise.nn.Linear(6, 5, true, new Generator(1), DType.F64));
                registerModule("out", new dev.rankwise.nn.Linear(5, 3, true, new Generator(1), DType.F64));
            }

            @Override
            public Tensor forward(Tensor x) {
                return module("out").forward(module("q_proj").forward(x));
            }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir, other, "a"));
        assertTrue(e.getMessage().contains("'out'") && e.getMessage().contains("d_out 3"), e.getMessage());
        assertTrue(Peft.adapterLayers(other).isEmpty(), "nothing was wrapped");
        Module missing = new Module() {
            {
                registerModule("q_proj", new dev.rankwise.nn.Linear(6, 5, true, new Generator(1), DType.F64));
            }

            @Override
            public Tensor forward(Tensor x) {
                return x;
            }
        };
        e = assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir, missing, "a"));
        assertTrue(e.getMessage().contains("no such module"), e.getMessage());
        Net merged = new Net(DType.F64, new Generator(15));
        Peft.attach(merged, "a", LoraConfig.lora(2, List.of("q_proj")), new Generator(16));
        Peft.layers(merged).get("q_proj").merge("a", true);
        assertThrows(IllegalStateException.class, () -> AdapterFiles.save(dir.resolve("m"), merged, "a"));
    }
}
