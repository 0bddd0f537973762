package dev.rankwise.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.io.AtomicWrite;
import dev.rankwise.io.SafeTensors;
import dev.rankwise.nn.Module;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/// Hugging Face PEFT's LoRA files: `adapter_config.json` and `adapter_model.safetensors` with keys
/// `base_model.model.<module>.lora_A.weight` [r, in], `….lora_B.weight` [out, r] and DoRA's
/// `….lora_magnitude_vector` [out]. Per-module ranks and scales (SoRA after pruning) go into
/// `rank_pattern` and `alpha_pattern`, keyed by the full module path.
public final class PeftFormat {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";

    /// The keys of PEFT's `LoraConfig` this reader accepts; anything else is an error (a typo, or a
    /// feature we would silently ignore).
    private static final Set<String> KNOWN = Set.of("peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "target_modules",
            "use_rslora", "use_dora", "init_lora_weights", "rank_pattern", "alpha_pattern", "bias", "fan_in_fan_out",
            "base_model_name_or_path", "revision", "inference_mode", "modules_to_save", "layers_to_transform", "layers_pattern",
            "auto_mapping", "megatron_config", "megatron_core", "loftq_config", "layer_replication", "runtime_config",
            "exclude_modules", "eva_config", "lora_bias", "corda_config", "trainable_token_indices", "target_parameters",
            "qalora_group_size", "use_qalora");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PeftFormat() {}

    /// One adapted module: its factors and effective scale s (y = W x + s·B·A x), DoRA's magnitude or null.
    public record ModuleAdapter(Tensor a, Tensor b, double scale, Tensor magnitude) {
        public int rank() {
            return a.size(0);
        }
    }

    /// What an adapter directory holds.
    public record Adapter(Map<String, ModuleAdapter> modules, boolean dora, JsonNode config) {}

    /// Writes the LoRA/DoRA adapter `name` of every adapted layer of `model`. SoRA adapters must be
    /// pruned first ([Sora#prune]), which turns them into plain LoRA.
    public static void save(Path dir, Module model, String name) throws IOException {
        Map<String, ModuleAdapter> modules = new LinkedHashMap<>();
        boolean dora = false;
        for (var e : Peft.layers(model).entrySet()) {
            LoraLinear l = e.getValue();
            if (!l.adapterNames().contains(name)) continue;
            LoraLinear.Spec s = l.spec(name);
            if (s.kind() == LoraConfig.AdapterKind.SORA) {
                throw new IllegalStateException("save: adapter '" + name + "' on " + e.getKey() + " is a SoRA adapter with gates; "
                        + "prune it first (Sora.prune), which folds the gate into B");
            }
            dora |= s.kind() == LoraConfig.AdapterKind.DORA;
            modules.put(e.getKey(), new ModuleAdapter(l.loraA(name), l.loraB(name), s.scale(), l.magnitude(name)));
        }
        if (modules.isEmpty()) throw new IllegalArgumentException("save: no layer has an adapter named '" + name + "'");
        write(dir, modules, dora, Map.of());
    }

    /// Writes adapter files for the given modules. Each module's scale is stored as lora_alpha = s·r.
    public static void write(Path dir, Map<String, ModuleAdapter> modules, boolean dora, Map<String, Object> extraConfig) throws IOException {
        // The most common rank and alpha become r and lora_alpha; the rest go to the patterns.
        Map<Integer, Integer> rankCount = new TreeMap<>();
        Map<Double, Integer> alphaCount = new TreeMap<>();
        for (ModuleAdapter m : modules.values()) {
            rankCount.merge(m.rank(), 1, Integer::sum);
            alphaCount.merge(m.scale() * m.rank(), 1, Integer::sum);
        }
        int r = rankCount.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        double alpha = alphaCount.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("peft_type", "LORA");
        cfg.putNull("task_type");
        cfg.put("r", r);
        cfg.put("lora_alpha", alpha);
        cfg.put("lora_dropout", 0.0);
        cfg.put("use_rslora", false);
        cfg.put("use_dora", dora);
        cfg.put("init_lora_weights", true);
        cfg.put("bias", "none");
        cfg.put("fan_in_fan_out", false);
        Set<String> shortNames = new LinkedHashSet<>();
        for (String path : modules.keySet()) shortNames.add(path.substring(path.lastIndexOf('.') + 1));
        var targets = cfg.putArray("target_modules");
        shortNames.forEach(targets::add);
        ObjectNode rankPattern = cfg.putObject("rank_pattern"), alphaPattern = cfg.putObject("alpha_pattern");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var e : modules.entrySet()) {
            ModuleAdapter m = e.getValue();
            if (m.rank() != r) rankPattern.put(e.getKey(), m.rank());
            if (m.scale() * m.rank() != alpha) alphaPattern.put(e.getKey(), m.scale() * m.rank());
            tensors.put(PREFIX + e.getKey() + ".lora_A.weight", m.a().contiguous());
            tensors.put(PREFIX + e.getKey() + ".lora_B.weight", m.b().contiguous());
            if (m.magnitude() != null) tensors.put(PREFIX + e.getKey() + ".lora_magnitude_vector", m.magnitude().contiguous());
        }
        extraConfig.forEach((k, v) -> cfg.set(k, JSON.valueToTree(v)));
        Files.createDirectories(dir);
        SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        AtomicWrite.write(dir.resolve(CONFIG), out -> JSON.writeValue(out, cfg));
    }

    /// Reads an adapter directory, checking the config's keys and every tensor's shape.
    public static Adapter read(Path dir) throws IOException {
        Path cfgFile = dir.resolve(CONFIG), weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(cfgFile)) throw new IOException(cfgFile + ": missing (not a PEFT adapter directory)");
        if (!Files.isRegularFile(weights)) throw new IOException(weights + ": missing");
        JsonNode cfg;
        try {
            cfg = JSON.readTree(cfgFile.toFile());
        } catch (IOException e) {
            throw new IOException(cfgFile + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (cfg == null || !cfg.isObject()) throw new IOException(cfgFile + ": not a JSON object");
        for (var it = cfg.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KNOWN.contains(k)) throw new IOException(cfgFile + ": unknown key '" + k + "'");
        }
        for (String k : List.of("peft_type", "r", "lora_alpha", "target_modules")) {
            if (!cfg.has(k)) throw new IOException(cfgFile + ": missing key '" + k + "'");
        }
        if (!cfg.get("peft_type").asText().equals("LORA")) throw new IOException(cfgFile + ": peft_type " + cfg.get("peft_type") + " is not LORA");
        int r = cfg.get("r").asInt();
        double alpha = cfg.get("lora_alpha").asDouble();
        boolean rs = cfg.path("use_rslora").asBoolean(false), dora = cfg.path("use_dora").asBoolean(false);
        Map<String, Tensor> t = SafeTensors.read(weights);
        Map<String, ModuleAdapter> modules = new LinkedHashMap<>();
        for (String key : t.keySet()) {
            if (!key.startsWith(PREFIX) || !key.endsWith(".lora_A.weight")) continue;
            String path = key.substring(PREFIX.length(), key.length() - ".lora_A.weight".length());
            Tensor a = t.get(key), b = t.get(PREFIX + path + ".lora_B.weight");
            if (b == null) throw new IOException(weights + ": " + key + " has no matching lora_B.weight");
            int rank = cfg.path("rank_pattern").has(path) ? cfg.path("rank_pattern").get(path).asInt() : r;
            double al = cfg.path("alpha_pattern").has(path) ? cfg.path("alpha_pattern").get(path).asDouble() : alpha;
            if (a.rank() != 2 || b.rank() != 2 || a.size(0) != rank || b.size(1) != rank) {
                throw new IOException(weights + ": module " + path + " has lora_A " + Shape.str(a.shape()) + " and lora_B "
                        + Shape.str(b.shape()) + ", inconsistent with rank " + rank);
            }
            Tensor mag = t.get(PREFIX + path + ".lora_magnitude_vector");
            if (dora && mag == null) throw new IOException(weights + ": use_dora is set but " + path + " has no lora_magnitude_vector");
            modules.put(path, new ModuleAdapter(a, b, rs ? al / Math.sqrt(rank) : al / rank, mag));
        }
        if (modules.isEmpty()) throw new IOException(weights + ": no lora_A/lora_B tensors under '" + PREFIX + "'");
        return new Adapter(modules, dora, cfg);
    }

    /// Attaches an adapter read from `dir` to `model` under `name`; a module the model lacks, or whose
    /// shape differs, is an error naming both.
    public static List<String> load(Path dir, Module model, String name) throws IOException {
        Adapter ad = read(dir);
        List<String> done = new ArrayList<>();
        Map<String, Module> mods = model.namedModules();
        for (var e : ad.modules().entrySet()) {
            Module m = mods.get(e.getKey());
            LoraLinear layer;
            if (m instanceof LoraLinear l) layer = l;
            else if (m instanceof dev.rankwise.nn.Linear lin) model.replaceModule(e.getKey(), layer = new LoraLinear(lin));
            else throw new IllegalArgumentException("load: the model has no Linear module '" + e.getKey() + "' (adapter in " + dir + ")");
            ModuleAdapter a = e.getValue();
            try {
                layer.addAdapter(name, new LoraLinear.Spec(ad.dora() ? LoraConfig.AdapterKind.DORA : LoraConfig.AdapterKind.LORA,
                        a.rank(), a.scale(), 0), a.a(), a.b(), null);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("load: module '" + e.getKey() + "': " + ex.getMessage());
            }
            if (a.magnitude() != null) {
                try (var ignored = dev.rankwise.autograd.GradMode.noGrad()) {
                    layer.magnitude(name).copyFrom(a.magnitude());
                }
            }
            done.add(e.getKey());
        }
        Peft.freezeBase(model);
        Peft.setActiveAdapter(model, name);
        return done;
    }
}
