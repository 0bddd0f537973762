package dev.rankwise.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rankwise.DType;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.io.AtomicWrite;
import dev.rankwise.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/// Hugging Face PEFT's LoRA files, read and written strictly.
///
/// `adapter_config.json` ([PeftConfig]) and `adapter_model.safetensors` with, per module path P:
/// - Linear: `base_model.model.P.lora_A.weight` [r, in], `….lora_B.weight` [out, r], and with DoRA
///   `….lora_magnitude_vector` [out] (no `.weight`: PEFT's `get_peft_model_state_dict` strips it to keep
///   the format of before DoRA's refactor into a module, `utils/save_and_load.py`);
/// - Embedding: `base_model.model.P.lora_embedding_A` [r, V], `….lora_embedding_B` [d, r].
///
/// The pair always satisfies PEFT's promise on its own: base + s·lora_B·lora_A is the adapted weight.
/// Adapters whose trainable part is not an A/B pair also store their own tensors under the same prefix,
/// which PEFT ignores: `….lora_gate` [r] (SoRA's g, LoLDU's z, SVFit's σ') or `….lora_core` [r, r]
/// (LoRA-SB's and LaMDA's R), with `….lora_B_factor` [out, r] the unfolded B (then lora_B = B·C); SALT
/// stores `….salt_U` [m, k], `salt_S` [k], `salt_Vh` [k, n], `salt_alpha` [r], `salt_beta` [r],
/// `salt_X` [k − r, q], `salt_Y` [q, k − r] beside a zero pair (W' = W at initialization). The
/// safetensors metadata key `rankwise` holds, per module, the method, its frozen parts and LaMDA's
/// count of frozen columns of B; files without it (PEFT's) read as plain LoRA or DoRA.
///
/// Methods that replace the base weight (PiSSA, LoRA-GA, …) also write `base_weight.safetensors` with
/// `base_model.model.P.weight`, the weight the pair applies to.
public final class PeftFormat {
    public static final String CONFIG = PeftConfig.FILE;
    public static final String WEIGHTS = "adapter_model.safetensors";
    public static final String BASE_WEIGHTS = "base_weight.safetensors";
    public static final String PREFIX = "base_model.model.";
    static final String META = "rankwise";

    private PeftFormat() {}

    public enum LayerKind { LINEAR, EMBEDDING }

    /// SALT's tensors, in file order.
    public static final List<String> SALT_TENSORS = List.of("salt_U", "salt_S", "salt_Vh", "salt_alpha", "salt_beta", "salt_X", "salt_Y");

    /// One adapted module as a file holds it. B is the unfolded factor (lora_B_factor when the file has
    /// one); [#peftB] folds the gate or core into it.
    ///
    /// @param salt SALT's tensors by name ([#SALT_TENSORS]), or an empty map
    public record ModuleAdapter(LayerKind layer, Method method, int rank, double alpha, boolean rsLora, Tensor a, Tensor b,
                                Tensor gate, Tensor core, Tensor magnitude, Set<Part> frozen, int frozenColumns,
                                Map<String, Tensor> salt) {
        public ModuleAdapter {
            frozen = frozen.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(frozen));
            salt = Map.copyOf(salt);
        }

        /// A plain LoRA pair on a Linear with scale s (α = s·r).
        public static ModuleAdapter lora(Method method, Tensor a, Tensor b, double scale) {
            return new ModuleAdapter(LayerKind.LINEAR, method, a.size(0), scale * a.size(0), false, a, b, null, null, null,
                    method.frozen(), 0, Map.of());
        }

        public double scale() {
            return rsLora ? alpha / Math.sqrt(rank) : alpha / rank;
        }

        /// PEFT's lora_B: B·C [out, r].
        public Tensor peftB() {
            return core != null ? b.matmul(core) : gate != null ? b.mul(gate) : b;
        }

        /// s·lora_B·lora_A [out, in] (for DoRA, the low-rank part before the magnitude rescaling).
        public Tensor update() {
            return peftB().matmul(a).mul(scale());
        }

        /// Every tensor of the adapter's own parameterization by part, SALT's included.
        public Map<String, Tensor> tensors() {
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put("A", a);
            out.put("B", b);
            if (gate != null) out.put("GATE", gate);
            if (core != null) out.put("CORE", core);
            if (magnitude != null) out.put("MAGNITUDE", magnitude);
            out.putAll(salt);
            return out;
        }

        /// Numbers that train: the non-frozen parts (SALT: α, β, X, Y).
        public long trainableCount() {
            if (method == Method.SALT) {
                long n = 0;
                for (String k : List.of("salt_alpha", "salt_beta", "salt_X", "salt_Y")) if (salt.containsKey(k)) n += salt.get(k).numel();
                return n;
            }
            long n = 0;
            if (!frozen.contains(Part.A)) n += a.numel();
            if (!frozen.contains(Part.B)) n += b.numel();
            if (gate != null && !frozen.contains(Part.GATE)) n += gate.numel();
            if (core != null && !frozen.contains(Part.CORE)) n += core.numel();
            if (magnitude != null && !frozen.contains(Part.MAGNITUDE)) n += magnitude.numel();
            return n;
        }
    }

    /// What an adapter directory holds: the modules by path, the config, and the replaced base weights
    /// by path (empty when there is no `base_weight.safetensors`).
    public record Adapter(Map<String, ModuleAdapter> modules, PeftConfig config, Map<String, Tensor> baseWeights) {
        public boolean dora() {
            return config.dora();
        }
    }

    // ---------------------------------------------------------------- writing

    /// Writes adapter files for the given modules, and `base_weight.safetensors` when `baseWeights`
    /// (the replaced weights by path) is not empty. rsLoRA must agree across modules, and DoRA be
    /// all or none: PEFT's config has one flag each.
    public static void write(Path dir, Map<String, ModuleAdapter> modules, Map<String, Tensor> baseWeights, double dropout) throws IOException {
        if (modules.isEmpty()) throw new IllegalArgumentException("write: no modules to write to " + dir);
        Map<String, Integer> ranks = new LinkedHashMap<>();
        Map<String, Double> alphas = new LinkedHashMap<>();
        Set<Boolean> rs = new java.util.HashSet<>(), dora = new java.util.HashSet<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        ObjectNode meta = PeftConfig.JSON.createObjectNode();
        for (var e : modules.entrySet()) {
            String p = e.getKey();
            ModuleAdapter m = e.getValue();
            ranks.put(p, m.rank());
            alphas.put(p, m.alpha());
            rs.add(m.rsLora());
            dora.add(m.magnitude() != null);
            String key = PREFIX + p + ".";
            boolean emb = m.layer() == LayerKind.EMBEDDING;
            tensors.put(key + (emb ? "lora_embedding_A" : "lora_A.weight"), m.a().contiguous());
            tensors.put(key + (emb ? "lora_embedding_B" : "lora_B.weight"), m.peftB().contiguous());
            if (m.magnitude() != null) tensors.put(key + "lora_magnitude_vector", m.magnitude().contiguous());
            if (m.gate() != null || m.core() != null) tensors.put(key + "lora_B_factor", m.b().contiguous());
            if (m.gate() != null) tensors.put(key + "lora_gate", m.gate().contiguous());
            if (m.core() != null) tensors.put(key + "lora_core", m.core().contiguous());
            for (String s : SALT_TENSORS) if (m.salt().containsKey(s)) tensors.put(key + s, m.salt().get(s).contiguous());
            ObjectNode mm = meta.putObject(p);
            mm.put("method", m.method().id());
            var fz = mm.putArray("frozen");
            m.frozen().stream().sorted().forEach(f -> fz.add(f.name()));
            if (m.frozenColumns() > 0) mm.put("frozen_columns", m.frozenColumns());
        }
        if (rs.size() > 1) throw new IllegalArgumentException("write: modules disagree on rsLoRA; PEFT's use_rslora is one flag");
        if (dora.size() > 1) throw new IllegalArgumentException("write: some modules are DoRA and some not; PEFT's use_dora is one flag");
        ObjectNode cfg = PeftConfig.build(ranks, alphas, rs.contains(true), dora.contains(true), dropout);
        Files.createDirectories(dir);
        SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt", META, meta.toString()));
        if (!baseWeights.isEmpty()) {
            Map<String, Tensor> bw = new LinkedHashMap<>();
            baseWeights.forEach((p, w) -> bw.put(PREFIX + p + ".weight", w.contiguous()));
            SafeTensors.write(dir.resolve(BASE_WEIGHTS), bw, Map.of("format", "pt"));
        }
        AtomicWrite.write(dir.resolve(CONFIG), out -> PeftConfig.JSON.writeValue(out, cfg));
    }

    // ---------------------------------------------------------------- reading

    /// The tensor names a module may have, longest first so that suffix matching is unambiguous.
    private static final List<String> SUFFIXES;

    static {
        List<String> s = new ArrayList<>(List.of("lora_A.weight", "lora_B.weight", "lora_magnitude_vector", "lora_embedding_A",
                "lora_embedding_B", "lora_gate", "lora_core", "lora_B_factor"));
        s.addAll(SALT_TENSORS);
        s.sort(Comparator.comparingInt(String::length).reversed());
        SUFFIXES = List.copyOf(s);
    }

    /// Reads an adapter directory, checking the config, every tensor name and every shape.
    public static Adapter read(Path dir) throws IOException {
        PeftConfig cfg = PeftConfig.read(dir.resolve(CONFIG));
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) throw new IOException(weights + ": missing");
        Map<String, Tensor> all = SafeTensors.read(weights);
        JsonNode meta = metadata(weights);
        Map<String, Map<String, Tensor>> byModule = new TreeMap<>();
        for (var e : all.entrySet()) {
            String key = e.getKey();
            String suffix = SUFFIXES.stream().filter(s -> key.endsWith("." + s)).findFirst().orElse(null);
            if (!key.startsWith(PREFIX) || suffix == null || key.length() <= PREFIX.length() + suffix.length() + 1) {
                throw new IOException(weights + ": unexpected tensor '" + key + "' (expected " + PREFIX + "<module>.<one of " + SUFFIXES + ">)");
            }
            String path = key.substring(PREFIX.length(), key.length() - suffix.length() - 1);
            byModule.computeIfAbsent(path, k -> new LinkedHashMap<>()).put(suffix, e.getValue());
        }
        if (byModule.isEmpty()) throw new IOException(weights + ": no adapter tensors under '" + PREFIX + "'");
        if (meta != null) {
            for (var it = meta.fieldNames(); it.hasNext(); ) {
                String p = it.next();
                if (!byModule.containsKey(p)) throw new IOException(weights + ": metadata describes module '" + p + "', which has no tensors");
            }
        }
        Map<String, ModuleAdapter> modules = new LinkedHashMap<>();
        for (var e : byModule.entrySet()) {
            String p = e.getKey();
            if (!Peft.matches(p, cfg.targets())) {
                throw new IOException(weights + ": module '" + p + "' is not among target_modules " + cfg.targets() + " of " + dir.resolve(CONFIG));
            }
            modules.put(p, module(weights, p, e.getValue(), cfg, meta == null ? null : meta.get(p)));
        }
        Map<String, Tensor> base = Map.of();
        Path bw = dir.resolve(BASE_WEIGHTS);
        if (Files.exists(bw)) base = baseWeights(bw, modules);
        return new Adapter(modules, cfg, base);
    }

    private static JsonNode metadata(Path weights) throws IOException {
        String m = SafeTensors.metadata(weights).get(META);
        if (m == null) return null;
        try {
            JsonNode n = PeftConfig.JSON.readTree(m);
            if (n.isObject()) return n;
        } catch (IOException ignored) {
            // reported below
        }
        throw new IOException(weights + ": metadata '" + META + "' is not a JSON object");
    }

    private static ModuleAdapter module(Path file, String p, Map<String, Tensor> t, PeftConfig cfg, JsonNode meta) throws IOException {
        String where = file + ": module '" + p + "': ";
        boolean emb = t.containsKey("lora_embedding_A") || t.containsKey("lora_embedding_B");
        String aKey = emb ? "lora_embedding_A" : "lora_A.weight", bKey = emb ? "lora_embedding_B" : "lora_B.weight";
        if (emb && (t.containsKey("lora_A.weight") || t.containsKey("lora_B.weight"))) throw new IOException(where + "has both Linear and Embedding tensors");
        Tensor a = t.get(aKey), peftB = t.get(bKey);
        if (a == null || peftB == null) throw new IOException(where + "needs both " + aKey + " and " + bKey + ", has " + t.keySet());
        int r = cfg.rankFor(p);
        if (a.rank() != 2 || peftB.rank() != 2 || a.size(0) != r || peftB.size(1) != r) {
            throw new IOException(where + aKey + " " + Shape.str(a.shape()) + " and " + bKey + " " + Shape.str(peftB.shape())
                    + " do not fit rank " + r + " (A [r, in], B [out, r])");
        }
        int out = peftB.size(0), in = a.size(1);
        Method method = cfg.dora() ? Method.DORA : Method.LORA;
        Set<Part> frozen = EnumSet.noneOf(Part.class);
        int frozenColumns = 0;
        if (meta != null) {
            try {
                method = Method.fromId(meta.path("method").asText());
                for (JsonNode f : meta.path("frozen")) frozen.add(Part.valueOf(f.asText()));
            } catch (IllegalArgumentException e) {
                throw new IOException(where + "bad metadata: " + e.getMessage());
            }
            frozenColumns = meta.path("frozen_columns").asInt(0);
            if (frozenColumns < 0 || frozenColumns > r) throw new IOException(where + "frozen_columns " + frozenColumns + " is not in [0, " + r + "]");
        }
        Tensor mag = t.get("lora_magnitude_vector");
        if (cfg.dora() != (mag != null)) {
            throw new IOException(where + (cfg.dora() ? "use_dora is set but there is no lora_magnitude_vector" : "has lora_magnitude_vector but use_dora is not set"));
        }
        if (mag != null && (emb || !Arrays.equals(mag.shape(), new int[] {out}))) {
            throw new IOException(where + "lora_magnitude_vector " + Shape.str(mag.shape()) + " must be [" + out + "] on a Linear module");
        }
        Tensor gate = t.get("lora_gate"), core = t.get("lora_core"), bFactor = t.get("lora_B_factor");
        if (gate != null && core != null) throw new IOException(where + "has both lora_gate and lora_core");
        if ((gate != null || core != null) != (bFactor != null)) throw new IOException(where + "lora_B_factor comes with lora_gate or lora_core, and only then");
        check(where, "lora_gate", gate, r);
        check(where, "lora_core", core, r, r);
        check(where, "lora_B_factor", bFactor, out, r);
        Map<String, Tensor> salt = new LinkedHashMap<>();
        for (String s : SALT_TENSORS) if (t.containsKey(s)) salt.put(s, t.get(s));
        if (!salt.isEmpty() != (method == Method.SALT)) throw new IOException(where + "SALT tensors belong to (and only to) method 'salt'");
        if (method == Method.SALT) checkSalt(where, salt, out, in, r);
        ModuleAdapter m = new ModuleAdapter(emb ? LayerKind.EMBEDDING : LayerKind.LINEAR, method, r, cfg.alphaFor(p), cfg.rsLora(), a,
                bFactor != null ? bFactor : peftB, gate, core, mag, frozen, frozenColumns, salt);
        if (bFactor != null) {
            double err = m.peftB().to(DType.F64).sub(peftB.to(DType.F64)).abs().max().item();
            double size = peftB.to(DType.F64).abs().max().item();
            if (err > 1e-5 * Math.max(size, 1e-30)) throw new IOException(where + bKey + " differs from lora_B_factor times its gate/core by " + err);
        }
        return m;
    }

    private static void check(String where, String name, Tensor t, int... shape) throws IOException {
        if (t != null && !Arrays.equals(t.shape(), shape)) {
            throw new IOException(where + name + " has shape " + Shape.str(t.shape()) + ", expected " + Shape.str(shape));
        }
    }

    private static void checkSalt(String where, Map<String, Tensor> s, int m, int n, int r) throws IOException {
        for (String k : List.of("salt_U", "salt_S", "salt_Vh", "salt_alpha", "salt_beta")) {
            if (!s.containsKey(k)) throw new IOException(where + "SALT needs " + k);
        }
        int k = Math.min(m, n);
        check(where, "salt_U", s.get("salt_U"), m, k);
        check(where, "salt_S", s.get("salt_S"), k);
        check(where, "salt_Vh", s.get("salt_Vh"), k, n);
        check(where, "salt_alpha", s.get("salt_alpha"), r);
        check(where, "salt_beta", s.get("salt_beta"), r);
        if (r < k) {
            Tensor x = s.get("salt_X"), y = s.get("salt_Y");
            if (x == null || y == null || x.rank() != 2) throw new IOException(where + "SALT with r < k needs salt_X and salt_Y");
            check(where, "salt_X", x, k - r, x.size(1));
            check(where, "salt_Y", y, x.size(1), k - r);
        }
    }

    private static Map<String, Tensor> baseWeights(Path file, Map<String, ModuleAdapter> modules) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : SafeTensors.read(file).entrySet()) {
            String k = e.getKey();
            if (!k.startsWith(PREFIX) || !k.endsWith(".weight")) throw new IOException(file + ": unexpected tensor '" + k + "'");
            String p = k.substring(PREFIX.length(), k.length() - ".weight".length());
            ModuleAdapter m = modules.get(p);
            if (m == null) throw new IOException(file + ": weight for module '" + p + "', which the adapter does not have");
            int out0 = m.b().size(0), in = m.a().size(1);
            int[] want = m.layer() == LayerKind.EMBEDDING ? new int[] {in, out0} : new int[] {out0, in};
            check(file + ": ", k, e.getValue(), want);
            out.put(p, e.getValue());
        }
        return out;
    }
}
