package dev.rankwise.peft;

import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Embedding;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.peft.PeftFormat.LayerKind;
import dev.rankwise.peft.PeftFormat.ModuleAdapter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// Saving a model's adapter to PEFT's files and loading one into a model ([PeftFormat] is the format).
public final class AdapterFiles {
    private AdapterFiles() {}

    /// Writes adapter `name` of every adapted layer of `model` (and every SALT layer) to `dir`. For
    /// methods that replace the base weight, and for SALT (whose pair is zero and whose W' is the
    /// base), the current base weights go to `base_weight.safetensors`. A merged adapter is refused:
    /// its layer's base weight no longer is the base.
    public static void save(Path dir, Module model, String name) throws IOException {
        Map<String, ModuleAdapter> modules = new LinkedHashMap<>();
        Map<String, Tensor> base = new LinkedHashMap<>();
        double dropout = 0;
        for (var e : Peft.adapterLayers(model).entrySet()) {
            AdapterLayer l = e.getValue();
            if (!l.adapterNames().contains(name)) continue;
            if (l.isMerged()) throw new IllegalStateException("save: layer '" + e.getKey() + "' has a merged adapter; unmerge it first");
            AdapterSpec s = l.spec(name);
            dropout = Math.max(dropout, s.dropout());
            modules.put(e.getKey(), new ModuleAdapter(l instanceof LoraEmbedding ? LayerKind.EMBEDDING : LayerKind.LINEAR, s.method(), s.r(),
                    s.alpha(), s.rsLora(), l.loraA(name), l.effectiveB(name), l.gate(name), l.core(name), l.magnitude(name), s.frozen(),
                    l.frozenColumns(name), Map.of()));
            if (s.method().replacesBase()) base.put(e.getKey(), l.baseWeight());
        }
        for (var e : model.namedModules().entrySet()) {
            if (!(e.getValue() instanceof SaltLinear salt)) continue;
            Tensor vh = salt.tensors().get("salt_Vh"), u = salt.tensors().get("salt_U");
            int r = salt.rank();
            modules.put(e.getKey(), new ModuleAdapter(LayerKind.LINEAR, Method.SALT, r, r, false, Tensor.zeros(vh.dtype(), r, vh.size(1)),
                    Tensor.zeros(u.dtype(), u.size(0), r), null, null, null, java.util.Set.of(), 0, salt.tensors()));
            try (var ignored = GradMode.noGrad()) {
                base.put(e.getKey(), salt.weight());
            }
        }
        if (modules.isEmpty()) throw new IllegalArgumentException("save: no layer has an adapter named '" + name + "'");
        PeftFormat.write(dir, modules, base, dropout);
    }

    /// Attaches the adapter in `dir` to `model` under `name` (SALT modules replace their Linear), sets
    /// the base weights from `base_weight.safetensors` when the directory has one, freezes the rest
    /// and makes the adapter active. A module the model lacks, of the wrong type or shape, is an error
    /// naming the module, the file's shapes and the model's.
    public static List<String> load(Path dir, Module model, String name) throws IOException {
        PeftFormat.Adapter ad = PeftFormat.read(dir);
        Map<String, Module> mods = model.namedModules();
        List<String> done = new ArrayList<>();
        // Check every module before changing any, so a bad file leaves the model as it was.
        for (var e : ad.modules().entrySet()) layerOf(dir, mods.get(e.getKey()), e.getKey(), e.getValue());
        for (var e : ad.modules().entrySet()) {
            String p = e.getKey();
            ModuleAdapter m = e.getValue();
            Module target = mods.get(p);
            if (m.method() == Method.SALT) {
                model.replaceModule(p, new SaltLinear((Linear) target, m.salt()));
                done.add(p);
                continue;
            }
            AdapterLayer layer = Peft.wrap(model, p, target);
            Tensor w = ad.baseWeights().get(p);
            if (w != null) Peft.setBaseWeight(layer, w.to(layer.baseWeight().dtype()));
            AdapterSpec spec = new AdapterSpec(m.method() == Method.SORA && m.gate() != null ? LoraConfig.AdapterKind.SORA
                    : m.magnitude() != null ? LoraConfig.AdapterKind.DORA : LoraConfig.AdapterKind.LORA,
                    m.rank(), m.alpha(), m.rsLora(), ad.config().dropout(), m.method(), m.frozen());
            layer.addAdapter(name, spec, m.a(), m.b(), m.gate(), m.core());
            if (m.magnitude() != null) {
                try (var ignored = GradMode.noGrad()) {
                    layer.magnitude(name).copyFrom(m.magnitude().to(layer.baseWeight().dtype()));
                }
            }
            if (m.frozenColumns() > 0) layer.freezeColumnsOfB(name, m.frozenColumns());
            done.add(p);
        }
        Peft.freezeBase(model);
        Peft.setActiveAdapter(model, name);
        return done;
    }

    /// The in/out sizes a module of the model offers, checked against the file's adapter.
    private static void layerOf(Path dir, Module target, String p, ModuleAdapter m) {
        String where = "load: module '" + p + "' of " + dir + ": ";
        if (target == null) throw new IllegalArgumentException(where + "the model has no such module");
        Module inner = target instanceof AdapterLayer l ? l.baseLayer() : target;
        int in, out;
        if (m.layer() == LayerKind.LINEAR && inner instanceof Linear lin && (m.method() != Method.SALT || target instanceof Linear)) {
            in = lin.inFeatures();
            out = lin.outFeatures();
        } else if (m.layer() == LayerKind.EMBEDDING && inner instanceof Embedding emb) {
            in = emb.vocab();
            out = emb.weight().size(1);
        } else {
            throw new IllegalArgumentException(where + "the file adapts a " + m.layer() + (m.method() == Method.SALT ? " (SALT)" : "")
                    + " but the model has a " + target.getClass().getSimpleName());
        }
        if (m.a().size(1) != in || m.b().size(0) != out) {
            throw new IllegalArgumentException(where + "the file has A " + Shape.str(m.a().shape()) + " and B " + Shape.str(m.b().shape())
                    + " but the layer has d_in " + in + " and d_out " + out);
        }
    }
}
