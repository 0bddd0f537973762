package dev.rankwise.peft;

import dev.rankwise.Tensor;
import dev.rankwise.nn.Embedding;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.peft.init.Factors;
import dev.rankwise.random.Generator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/// Attaching, switching and removing adapters on any [Module] tree, the way Hugging Face PEFT does:
/// targeted [Linear] layers become [LoraLinear], targeted [Embedding] layers [LoraEmbedding].
public final class Peft {
    private Peft() {}

    /// True when a module path is targeted: PEFT's rule — each name matches the whole path or its
    /// last dotted parts (`q_proj` matches `layers.0.attn.q_proj`); a single `re:` entry is a regex
    /// that must match the whole path.
    public static boolean matches(String path, List<String> targets) {
        if (targets.size() == 1 && targets.get(0).startsWith("re:")) {
            return Pattern.compile(targets.get(0).substring(3)).matcher(path).matches();
        }
        for (String t : targets) if (path.equals(t) || path.endsWith("." + t)) return true;
        return false;
    }

    /// Wraps every targeted Linear or Embedding (or adds the adapter to an already adapted one), makes
    /// `adapterName` active, and freezes everything but adapters. Returns the adapted paths. No target,
    /// an adapter name a target already has, or DoRA on an Embedding is an error raised before the
    /// model changes.
    public static List<String> attach(Module model, String adapterName, LoraConfig cfg, Generator gen) {
        Map<String, Module> found = targets(model, cfg.targetModules(), adapterName);
        if (cfg.kind() == LoraConfig.AdapterKind.DORA) {
            found.forEach((p, m) -> {
                if (m instanceof Embedding || m instanceof LoraEmbedding) {
                    throw new IllegalArgumentException("attach: DoRA is supported on Linear layers only, and '" + p + "' is an Embedding");
                }
            });
        }
        for (var e : found.entrySet()) wrap(model, e.getKey(), e.getValue()).addAdapter(adapterName, cfg, gen.derive(e.getKey()));
        finish(model, adapterName);
        return List.copyOf(found.keySet());
    }

    /// Computes an adapter's parts from the weight it adapts, W [d_out, d_in] in y = W x orientation
    /// (an Embedding's table [V, d] arrives transposed, as [d, V]).
    @FunctionalInterface
    public interface Initializer {
        Factors init(String path, Tensor weight);
    }

    /// Like [#attach], with parts from `init` instead of random ones: each targeted layer gets the
    /// initializer's adapter (its method's frozen parts as buffers), and its frozen weight is replaced
    /// by the initializer's residual where it returns one. Every layer's parts are computed and
    /// checked before the model changes.
    public static List<String> attach(Module model, String adapterName, List<String> targets, Initializer init) {
        Map<String, Module> found = targets(model, targets, adapterName);
        Map<String, Factors> factors = new LinkedHashMap<>();
        for (var e : found.entrySet()) {
            Module m = e.getValue();
            boolean embedding = m instanceof Embedding || m instanceof LoraEmbedding;
            Tensor w = m instanceof AdapterLayer l ? l.baseWeight() : m.parameter("weight");
            Tensor wOutIn = embedding ? w.t() : w;
            Factors f = init.init(e.getKey(), wOutIn);
            int out = wOutIn.size(0), in = wOutIn.size(1), r = f.rank();
            if (f.a().size(1) != in || f.b().size(0) != out || f.b().size(1) != r
                    || (f.residual() != null && !java.util.Arrays.equals(f.residual().shape(), wOutIn.shape()))) {
                throw new IllegalArgumentException("attach: the initializer's parts for '" + e.getKey() + "' do not fit its weight [" + out + ", " + in + "]");
            }
            factors.put(e.getKey(), f);
        }
        for (var e : factors.entrySet()) {
            AdapterLayer layer = wrap(model, e.getKey(), found.get(e.getKey()));
            Factors f = e.getValue();
            if (f.residual() != null) setBaseWeight(layer, layer instanceof LoraEmbedding ? f.residual().t() : f.residual());
            layer.addAdapter(adapterName, AdapterSpec.withScale(f.method(), f.rank(), f.scale(), f.method().frozen()),
                    f.a(), f.b(), f.gate(), f.core());
        }
        finish(model, adapterName);
        return List.copyOf(found.keySet());
    }

    /// Replaces a layer's frozen base weight (an initializer's residual), keeping it frozen.
    static void setBaseWeight(AdapterLayer layer, Tensor w) {
        layer.baseLayer().setParameter("weight", w);
    }

    /// The targeted Linear, Embedding and adapter layers, unchanged; none, or one that already has
    /// `adapterName`, is an error.
    private static Map<String, Module> targets(Module model, List<String> targets, String adapterName) {
        Map<String, Module> out = new LinkedHashMap<>();
        List<String> adaptable = new ArrayList<>();
        for (var e : model.namedModules().entrySet()) {
            String path = e.getKey();
            Module m = e.getValue();
            if (path.equals("base_layer") || path.endsWith(".base_layer") || path.contains(".base_layer.")) continue;
            if (!(m instanceof Linear || m instanceof Embedding || m instanceof AdapterLayer)) continue;
            adaptable.add(path);
            if (!matches(path, targets)) continue;
            if (m instanceof AdapterLayer l && l.adapterNames().contains(adapterName)) {
                throw new IllegalArgumentException("attach: '" + path + "' already has an adapter named '" + adapterName + "'");
            }
            out.put(path, m);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("attach: target_modules " + targets + " match no Linear or Embedding layer; the model has " + adaptable);
        }
        return out;
    }

    /// The adapter layer at `path`: `m` itself if adapted, else a new wrapper put in its place.
    static AdapterLayer wrap(Module model, String path, Module m) {
        AdapterLayer layer = switch (m) {
            case AdapterLayer l -> l;
            case Linear lin -> new LoraLinear(lin);
            case Embedding emb -> new LoraEmbedding(emb);
            default -> throw new IllegalArgumentException("adapt: module '" + path + "' is a " + m.getClass().getSimpleName() + ", not a Linear or Embedding");
        };
        if (layer != m) model.replaceModule(path, layer);
        return layer;
    }

    private static void finish(Module model, String adapterName) {
        freezeBase(model);
        setActiveAdapter(model, adapterName);
    }

    /// Every adapted Linear by path.
    public static Map<String, LoraLinear> layers(Module model) {
        Map<String, LoraLinear> out = new LinkedHashMap<>();
        adapterLayers(model).forEach((p, l) -> {
            if (l instanceof LoraLinear ll) out.put(p, ll);
        });
        return out;
    }

    /// Every adapted layer (Linear and Embedding) by path.
    public static Map<String, AdapterLayer> adapterLayers(Module model) {
        Map<String, AdapterLayer> out = new LinkedHashMap<>();
        model.namedModules().forEach((p, m) -> {
            if (m instanceof AdapterLayer l) out.put(p, l);
        });
        return out;
    }

    /// Freezes every parameter, then unfreezes the trainable parts of every adapter.
    public static void freezeBase(Module model) {
        model.freeze();
        for (AdapterLayer l : adapterLayers(model).values()) {
            for (String name : l.adapterNames()) for (Tensor t : l.adapterParameters(name)) t.requiresGrad(true);
        }
        for (Module m : model.namedModules().values()) {
            if (m instanceof SaltLinear s) for (Tensor t : s.parameters()) t.requiresGrad(true);
        }
    }

    public static void setActiveAdapter(Module model, String name) {
        for (AdapterLayer l : adapterLayers(model).values()) if (l.adapterNames().contains(name)) l.setActiveAdapter(name);
    }

    /// Turns every adapter off (or back on): the model computes its base output.
    public static void setAdaptersDisabled(Module model, boolean off) {
        for (AdapterLayer l : adapterLayers(model).values()) l.setDisabled(off);
    }

    public static void deleteAdapter(Module model, String name) {
        for (AdapterLayer l : adapterLayers(model).values()) if (l.adapterNames().contains(name)) l.deleteAdapter(name);
    }

    /// Merges each layer's active adapter into its weight (a safe merge) and puts the plain layer back
    /// (a SALT layer becomes a Linear holding W'): the model no longer holds any adapter.
    public static void mergeAndUnload(Module model) {
        for (var e : adapterLayers(model).entrySet()) model.replaceModule(e.getKey(), e.getValue().mergeAndUnload());
        for (var e : new ArrayList<>(model.namedModules().entrySet())) {
            if (e.getValue() instanceof SaltLinear s) model.replaceModule(e.getKey(), s.toLinear());
        }
    }

    /// The gates [r] of every adapter named `name` that has one, by layer path.
    public static Map<String, Tensor> gates(Module model, String name) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        adapterLayers(model).forEach((p, l) -> {
            if (l.adapterNames().contains(name) && l.gate(name) != null) out.put(p, l.gate(name));
        });
        return out;
    }

    /// LoRA+ (arXiv 2402.12354): B's learning rate is `ratio` × A's (the paper's λ = η_B/η_A). Every
    /// other trainable adapter part (A, gate, core, magnitude) goes with A; frozen parts with neither.
    public static List<ParamGroup> loraPlusGroups(Module model, double lr, double ratio, double weightDecay) {
        List<Tensor> a = new ArrayList<>(), b = new ArrayList<>();
        for (AdapterLayer l : adapterLayers(model).values()) {
            for (String n : l.adapterNames()) {
                for (Tensor t : l.adapterParameters(n)) (t == l.loraB(n) ? b : a).add(t);
            }
        }
        return List.of(new ParamGroup("lora_A", a, lr, weightDecay), new ParamGroup("lora_B", b, lr * ratio, weightDecay));
    }

    /// A table of adapted layers: path, adapter, method, rank, trainable and frozen adapter parameters;
    /// and the model's totals.
    public static String summary(Module model) {
        StringBuilder sb = new StringBuilder(String.format("%-32s %-10s %-8s %5s %12s %12s%n", "module", "adapter", "method", "rank", "trainable", "frozen"));
        for (var e : adapterLayers(model).entrySet()) {
            for (String n : e.getValue().adapterNames()) {
                long train = 0, all = 0;
                for (Tensor t : e.getValue().adapterParameters(n)) train += t.numel();
                for (Tensor t : e.getValue().adapterParts(n).values()) all += t.numel();
                AdapterSpec s = e.getValue().spec(n);
                sb.append(String.format("%-32s %-10s %-8s %5d %12d %12d%n", e.getKey(), n, s.method().id(), s.r(), train, all - train));
            }
        }
        long all = 0;
        for (Tensor t : model.parameters()) all += t.numel();
        sb.append(String.format("trainable %d of %d parameters (%.3f%%)%n", model.trainableCount(), all,
                100.0 * model.trainableCount() / Math.max(1, all)));
        return sb.toString();
    }
}
