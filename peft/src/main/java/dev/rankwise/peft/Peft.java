package dev.rankwise.peft;

import dev.rankwise.Tensor;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.random.Generator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/// Attaching, switching and removing adapters on any [Module] tree, the way Hugging Face PEFT does.
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

    /// Wraps every targeted [Linear] in a [LoraLinear] (or adds the adapter to an existing one), makes
    /// `adapterName` active, and freezes everything but adapters. Returns the adapted paths; none is an
    /// error naming the targets and the model's Linear layers.
    public static List<String> attach(Module model, String adapterName, LoraConfig cfg, Generator gen) {
        List<String> adapted = new ArrayList<>();
        List<String> linears = new ArrayList<>();
        for (var e : new ArrayList<>(model.namedModules().entrySet())) {
            String path = e.getKey();
            Module m = e.getValue();
            if (path.contains(".base_layer") || path.endsWith("base_layer")) continue;
            if (m instanceof Linear || m instanceof LoraLinear) linears.add(path);
            if (!matches(path, cfg.targetModules())) continue;
            LoraLinear layer;
            if (m instanceof LoraLinear existing) {
                layer = existing;
            } else if (m instanceof Linear lin) {
                layer = new LoraLinear(lin);
                model.replaceModule(path, layer);
            } else {
                continue;
            }
            layer.addAdapter(adapterName, cfg, gen.derive(path));
            adapted.add(path);
        }
        if (adapted.isEmpty()) {
            throw new IllegalArgumentException("attach: target_modules " + cfg.targetModules()
                    + " match no Linear layer; the model has " + linears);
        }
        freezeBase(model);
        setActiveAdapter(model, adapterName);
        return adapted;
    }

    /// Computes an adapter's factors from a layer's weight (an SVD initializer, say).
    @FunctionalInterface
    public interface Initializer {
        dev.rankwise.peft.init.Factors init(String path, Tensor weight);
    }

    /// Like [#attach], with factors from `init` instead of random ones: each targeted layer gets a LoRA
    /// adapter with A, B and scale from the initializer, and its frozen weight is replaced by the
    /// initializer's residual where it returns one.
    public static List<String> attach(Module model, String adapterName, List<String> targets, Initializer init) {
        List<String> adapted = new ArrayList<>();
        for (var e : new ArrayList<>(model.namedModules().entrySet())) {
            String path = e.getKey();
            if (path.endsWith("base_layer") || !matches(path, targets)) continue;
            LoraLinear layer;
            if (e.getValue() instanceof LoraLinear existing) layer = existing;
            else if (e.getValue() instanceof Linear lin) model.replaceModule(path, layer = new LoraLinear(lin));
            else continue;
            dev.rankwise.peft.init.Factors f = init.init(path, layer.base().weight());
            layer.addAdapter(adapterName, new LoraLinear.Spec(LoraConfig.AdapterKind.LORA, f.rank(), f.scale(), 0), f.a(), f.b(), null);
            if (f.residual() != null) layer.base().setParameter("weight", f.residual());
            adapted.add(path);
        }
        if (adapted.isEmpty()) throw new IllegalArgumentException("attach: target_modules " + targets + " match no Linear layer");
        freezeBase(model);
        setActiveAdapter(model, adapterName);
        return adapted;
    }

    /// Every adapted layer by path.
    public static Map<String, LoraLinear> layers(Module model) {
        Map<String, LoraLinear> out = new LinkedHashMap<>();
        model.namedModules().forEach((p, m) -> {
            if (m instanceof LoraLinear l) out.put(p, l);
        });
        return out;
    }

    /// Freezes every parameter, then unfreezes the factors of the active adapters (A, B, gate, magnitude).
    public static void freezeBase(Module model) {
        model.freeze();
        for (LoraLinear l : layers(model).values()) {
            for (String name : l.adapterNames()) {
                for (Tensor t : adapterParameters(l, name)) t.requiresGrad(true);
            }
        }
    }

    static List<Tensor> adapterParameters(LoraLinear l, String name) {
        List<Tensor> out = new ArrayList<>();
        out.add(l.loraA(name));
        out.add(l.loraB(name));
        if (l.gate(name) != null) out.add(l.gate(name));
        if (l.magnitude(name) != null) out.add(l.magnitude(name));
        return out;
    }

    public static void setActiveAdapter(Module model, String name) {
        for (LoraLinear l : layers(model).values()) if (l.adapterNames().contains(name)) l.setActiveAdapter(name);
    }

    /// Turns every adapter off (or back on): the model computes its base output.
    public static void setAdaptersDisabled(Module model, boolean off) {
        for (LoraLinear l : layers(model).values()) l.setDisabled(off);
    }

    public static void deleteAdapter(Module model, String name) {
        for (LoraLinear l : layers(model).values()) if (l.adapterNames().contains(name)) l.deleteAdapter(name);
    }

    /// Merges each layer's active adapter into its weight and puts the plain Linear back.
    public static void mergeAndUnload(Module model) {
        for (var e : layers(model).entrySet()) model.replaceModule(e.getKey(), e.getValue().mergeAndUnload());
    }

    /// The gates [r] of every SoRA adapter named `name`, by layer path.
    public static Map<String, Tensor> gates(Module model, String name) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        layers(model).forEach((p, l) -> {
            if (l.adapterNames().contains(name) && l.gate(name) != null) out.put(p, l.gate(name));
        });
        return out;
    }

    /// LoRA+ (arXiv 2402.12354): B's learning rate is `ratio` × A's. Gates and magnitudes go with A.
    public static List<ParamGroup> loraPlusGroups(Module model, double lr, double ratio, double weightDecay) {
        List<Tensor> a = new ArrayList<>(), b = new ArrayList<>();
        for (LoraLinear l : layers(model).values()) {
            for (String n : l.adapterNames()) {
                for (Tensor t : adapterParameters(l, n)) {
                    if (!t.requiresGrad()) continue;
                    (t == l.loraB(n) ? b : a).add(t);
                }
            }
        }
        return List.of(new ParamGroup("lora_A", a, lr, weightDecay), new ParamGroup("lora_B", b, lr * ratio, weightDecay));
    }

    /// A table of adapted layers: path, adapter, kind, rank, trainable parameters; and the totals.
    public static String summary(Module model) {
        StringBuilder sb = new StringBuilder(String.format("%-32s %-10s %-5s %5s %12s%n", "module", "adapter", "kind", "rank", "params"));
        long total = 0;
        for (var e : layers(model).entrySet()) {
            for (String n : e.getValue().adapterNames()) {
                long p = 0;
                for (Tensor t : adapterParameters(e.getValue(), n)) p += t.numel();
                LoraLinear.Spec s = e.getValue().spec(n);
                sb.append(String.format("%-32s %-10s %-5s %5d %12d%n", e.getKey(), n, s.kind(), s.r(), p));
                total += p;
            }
        }
        long all = 0;
        for (Tensor t : model.parameters()) all += t.numel();
        sb.append(String.format("trainable %d of %d parameters (%.3f%%)%n", model.trainableCount(), all,
                100.0 * model.trainableCount() / Math.max(1, all)));
        return sb.toString();
    }
}
