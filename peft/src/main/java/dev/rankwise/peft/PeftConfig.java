package dev.rankwise.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/// PEFT's `adapter_config.json` for LoRA: what we write, and a strict reading of what others wrote.
///
/// Reading rejects a key PEFT's `LoraConfig` does not have (a typo, or a feature we would silently
/// ignore), a missing required key (`peft_type`, `r`, `lora_alpha`, `target_modules`), and settings
/// whose non-default values this library cannot honor (`bias`, `fan_in_fan_out`, `lora_bias`,
/// `modules_to_save`, `layers_to_transform`, `layer_replication`, `exclude_modules`,
/// `trainable_token_indices`, `target_parameters`, `use_qalora`, and the newer variants that change the
/// forward pass: `alora_invocation_tokens`, `use_bdlora`, `arrow_config`, `monteclora_config`), each
/// with the file and the key. PEFT's `to_dict` writes every field of its `LoraConfig`, so a file from a
/// PEFT newer than this list holds fields we do not know, at their default `null`: an unknown key whose
/// value is `null` is accepted (it is a field at its default), any other value of an unknown key is an
/// error. Init-time and training-time settings (`init_lora_weights`, `loftq_config`, `eva_config`,
/// `corda_config`, `lora_ga_config`, `velora_config`, `ensure_weight_tying`, …) are accepted with any
/// value: the tensors in the file already are the result.
///
/// @param targets      `target_modules`: names (exact or dotted suffix) or, when the file has a string, one
///                     `re:` regex that must match the whole path (PEFT's `re.fullmatch`)
/// @param rankPattern  per-module ranks; keys are full paths or suffixes, as PEFT matches them
/// @param alphaPattern per-module alphas, likewise
public record PeftConfig(int r, double alpha, boolean rsLora, boolean dora, double dropout, List<String> targets,
                         Map<String, Integer> rankPattern, Map<String, Double> alphaPattern) {
    public static final String FILE = "adapter_config.json";

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private static final Set<String> KNOWN = Set.of("peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "target_modules",
            "use_rslora", "use_dora", "init_lora_weights", "rank_pattern", "alpha_pattern", "bias", "fan_in_fan_out",
            "base_model_name_or_path", "revision", "inference_mode", "modules_to_save", "layers_to_transform", "layers_pattern",
            "auto_mapping", "megatron_config", "megatron_core", "loftq_config", "layer_replication", "runtime_config",
            "exclude_modules", "eva_config", "lora_bias", "corda_config", "trainable_token_indices", "target_parameters",
            "qalora_group_size", "use_qalora", "peft_version",
            // PEFT 0.17–0.20 (LoraConfig fields as its to_dict writes them)
            "lora_ga_config", "velora_config", "alora_invocation_tokens", "monteclora_config", "use_bdlora", "arrow_config",
            "ensure_weight_tying");

    /// The rank of a module: its `rank_pattern` entry, else r.
    public int rankFor(String path) {
        String k = patternKey(rankPattern.keySet(), path);
        return k == null ? r : rankPattern.get(k);
    }

    /// The alpha of a module: its `alpha_pattern` entry, else lora_alpha.
    public double alphaFor(String path) {
        String k = patternKey(alphaPattern.keySet(), path);
        return k == null ? alpha : alphaPattern.get(k);
    }

    /// PEFT's `get_pattern_key` (`peft/utils/other.py`): the first key, in file order, for which
    /// `re.match(rf"(.*\.)?({key})$", path)` succeeds; the key is a regular expression, so its dots match
    /// any character, and a key equal to the full path or to a dotted suffix of it matches.
    static String patternKey(Iterable<String> keys, String path) {
        for (String k : keys) {
            if (Pattern.compile("(.*\\.)?(" + k + ")$").matcher(path).matches()) return k;
        }
        return null;
    }

    /// The config for modules by path: the most common rank and alpha become `r` and `lora_alpha`,
    /// the others go to the patterns keyed by full path; `target_modules` lists the full paths (exact
    /// for PEFT too). `init_lora_weights` is `true` so PEFT loads the tensors as they are rather
    /// than re-running an initializer on the base model (PEFT's advice for PiSSA and OLoRA files).
    static ObjectNode build(Map<String, Integer> ranks, Map<String, Double> alphas, boolean rsLora, boolean dora, double dropout) {
        int r = mostCommon(ranks.values());
        double alpha = mostCommon(alphas.values());
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("peft_type", "LORA");
        cfg.putNull("task_type");
        cfg.putNull("base_model_name_or_path");
        cfg.put("inference_mode", true);
        cfg.put("r", r);
        cfg.put("lora_alpha", alpha);
        cfg.put("lora_dropout", dropout);
        cfg.put("use_rslora", rsLora);
        cfg.put("use_dora", dora);
        cfg.put("init_lora_weights", true);
        cfg.put("bias", "none");
        cfg.put("fan_in_fan_out", false);
        var targets = cfg.putArray("target_modules");
        ranks.keySet().forEach(targets::add);
        ObjectNode rp = cfg.putObject("rank_pattern"), ap = cfg.putObject("alpha_pattern");
        ranks.forEach((p, v) -> {
            if (v != r) rp.put(p, v);
        });
        alphas.forEach((p, v) -> {
            if (v != alpha) ap.put(p, v);
        });
        cfg.putNull("modules_to_save");
        return cfg;
    }

    private static <T extends Comparable<T>> T mostCommon(Iterable<T> values) {
        Map<T, Integer> count = new java.util.TreeMap<>();
        for (T v : values) count.merge(v, 1, Integer::sum);
        return count.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    /// Reads and validates `file`.
    public static PeftConfig read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": missing (not a PEFT adapter directory)");
        JsonNode cfg;
        try {
            cfg = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (cfg == null || !cfg.isObject()) throw new IOException(file + ": not a JSON object");
        for (var it = cfg.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KNOWN.contains(k) && !cfg.get(k).isNull()) throw new IOException(file + ": unknown key '" + k + "' = " + cfg.get(k));
        }
        for (String k : List.of("peft_type", "r", "lora_alpha", "target_modules")) {
            if (!cfg.has(k) || cfg.get(k).isNull()) throw new IOException(file + ": missing key '" + k + "'");
        }
        if (!cfg.get("peft_type").asText().equals("LORA")) throw new IOException(file + ": peft_type " + cfg.get("peft_type") + " is not LORA");
        requireDefault(file, cfg, "bias", n -> n.isTextual() && n.asText().equals("none"), "\"none\"");
        for (String k : List.of("fan_in_fan_out", "lora_bias", "use_qalora")) requireDefault(file, cfg, k, n -> n.isBoolean() && !n.asBoolean(), "false");
        for (String k : List.of("modules_to_save", "layers_to_transform", "layer_replication", "exclude_modules", "trainable_token_indices",
                "target_parameters", "alora_invocation_tokens", "use_bdlora", "arrow_config", "monteclora_config")) {
            requireDefault(file, cfg, k, n -> n.isNull() || (n.isContainerNode() && n.isEmpty()), "null or empty");
        }
        JsonNode rNode = cfg.get("r"), alphaNode = cfg.get("lora_alpha");
        if (!rNode.canConvertToExactIntegral() || rNode.asInt() < 1) throw new IOException(file + ": r must be a positive integer, got " + rNode);
        if (!alphaNode.isNumber()) throw new IOException(file + ": lora_alpha must be a number, got " + alphaNode);
        JsonNode t = cfg.get("target_modules");
        List<String> targets = new ArrayList<>();
        if (t.isTextual()) {
            targets.add("re:" + t.asText());
        } else if (t.isArray()) {
            for (JsonNode n : t) {
                if (!n.isTextual()) throw new IOException(file + ": target_modules must hold strings, got " + n);
                targets.add(n.asText());
            }
        } else {
            throw new IOException(file + ": target_modules must be a list of names or a regex string, got " + t);
        }
        Map<String, Integer> rp = new LinkedHashMap<>();
        Map<String, Double> ap = new LinkedHashMap<>();
        pattern(file, cfg, "rank_pattern", (k, v) -> {
            if (!v.canConvertToExactIntegral() || v.asInt() < 1) throw new IOException(file + ": rank_pattern['" + k + "'] must be a positive integer, got " + v);
            rp.put(k, v.asInt());
        });
        pattern(file, cfg, "alpha_pattern", (k, v) -> {
            if (!v.isNumber()) throw new IOException(file + ": alpha_pattern['" + k + "'] must be a number, got " + v);
            ap.put(k, v.asDouble());
        });
        for (String k : concat(rp.keySet(), ap.keySet())) {
            try {
                Pattern.compile("(.*\\.)?(" + k + ")$");
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new IOException(file + ": pattern key '" + k + "' is not a valid regular expression");
            }
        }
        double dropout = cfg.path("lora_dropout").asDouble(0);
        if (dropout < 0 || dropout >= 1) throw new IOException(file + ": lora_dropout must be in [0, 1), got " + dropout);
        return new PeftConfig(rNode.asInt(), alphaNode.asDouble(), bool(file, cfg, "use_rslora"), bool(file, cfg, "use_dora"), dropout,
                List.copyOf(targets), rp, ap);
    }

    private static List<String> concat(Set<String> a, Set<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private interface Entry {
        void accept(String key, JsonNode value) throws IOException;
    }

    private static void pattern(Path file, JsonNode cfg, String key, Entry each) throws IOException {
        JsonNode p = cfg.get(key);
        if (p == null || p.isNull()) return;
        if (!p.isObject()) throw new IOException(file + ": " + key + " must be an object, got " + p);
        for (var it = p.fields(); it.hasNext(); ) {
            var e = it.next();
            each.accept(e.getKey(), e.getValue());
        }
    }

    private static boolean bool(Path file, JsonNode cfg, String key) throws IOException {
        JsonNode n = cfg.get(key);
        if (n == null || n.isNull()) return false;
        if (!n.isBoolean()) throw new IOException(file + ": " + key + " must be true or false, got " + n);
        return n.asBoolean();
    }

    private static void requireDefault(Path file, JsonNode cfg, String key, java.util.function.Predicate<JsonNode> ok, String expected)
            throws IOException {
        JsonNode n = cfg.get(key);
        if (n != null && !ok.test(n)) {
            throw new IOException(file + ": " + key + " = " + n + " is not supported (expected " + expected + ")");
        }
    }
}
