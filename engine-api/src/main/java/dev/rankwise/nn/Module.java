package dev.rankwise.nn;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// A building block with named parameters and submodules.
///
/// Names are dotted paths in registration order (`layers.0.attn.q_proj.weight`), the same names PEFT
/// uses to target adapters and safetensors files use as keys. A parameter is trainable while its
/// tensor has `requiresGrad`; [#freeze] turns that off for every parameter below this module.
public abstract class Module {
    private final LinkedHashMap<String, Tensor> parameters = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /// The module's main computation. Modules with several inputs add their own overloads.
    public abstract Tensor forward(Tensor x);

    // ---------------------------------------------------------------- registration

    /// Registers `t` as a trainable parameter (sets `requiresGrad`) and returns it.
    protected Tensor registerParameter(String name, Tensor t) {
        checkName(name);
        parameters.put(name, t.requiresGrad(true));
        return t;
    }

    /// Registers a tensor that is part of the state but not trained (e.g. a frozen basis).
    protected Tensor registerBuffer(String name, Tensor t) {
        checkName(name);
        buffers.put(name, t);
        return t;
    }

    protected <M extends Module> M registerModule(String name, M m) {
        checkName(name);
        children.put(name, m);
        return m;
    }

    /// Removes a direct submodule, returning it (or null).
    protected Module unregisterModule(String name) {
        return children.remove(name);
    }

    /// Removes a direct parameter, returning its tensor (or null).
    protected Tensor unregisterParameter(String name) {
        return parameters.remove(name);
    }

    /// Removes a direct buffer, returning its tensor (or null).
    protected Tensor unregisterBuffer(String name) {
        return buffers.remove(name);
    }

    private static void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) throw new IllegalArgumentException("module: invalid name '" + name + "'");
    }

    // ---------------------------------------------------------------- lookup

    /// Every parameter below this module by its dotted name, in registration order.
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false);
        return out;
    }

    /// Parameters and buffers by dotted name: what a checkpoint holds.
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out, boolean withBuffers) {
        parameters.forEach((n, t) -> out.put(prefix + n, t));
        if (withBuffers) buffers.forEach((n, t) -> out.put(prefix + n, t));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out, withBuffers));
    }

    public List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /// The parameters that currently require grad.
    public List<Tensor> trainableParameters() {
        return parameters().stream().filter(Tensor::requiresGrad).toList();
    }

    /// Number of elements of all trainable parameters.
    public long trainableCount() {
        long n = 0;
        for (Tensor t : trainableParameters()) n += t.numel();
        return n;
    }

    /// This module and every module below it by dotted name; this module is "".
    public Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        out.put("", this);
        children.forEach((n, m) -> m.namedModules().forEach((k, v) -> out.put(k.isEmpty() ? n : n + "." + k, v)));
        return out;
    }

    /// Direct submodules by name.
    public Map<String, Module> children() {
        return java.util.Collections.unmodifiableMap(children);
    }

    /// The module at a dotted path, or an exception naming the missing part.
    public Module module(String path) {
        Module m = this;
        for (String part : path.split("\\.")) {
            Module next = m.children.get(part);
            if (next == null) throw new IllegalArgumentException("module: no submodule '" + part + "' in path '" + path + "'");
            m = next;
        }
        return m;
    }

    /// Replaces the submodule at a dotted path (how adapters wrap a layer) and returns the old one.
    public Module replaceModule(String path, Module replacement) {
        int dot = path.lastIndexOf('.');
        Module parent = dot < 0 ? this : module(path.substring(0, dot));
        String name = path.substring(dot + 1);
        if (!parent.children.containsKey(name)) throw new IllegalArgumentException("replaceModule: no submodule at '" + path + "'");
        return parent.children.put(name, replacement);
    }

    /// Direct parameter by name, or null.
    public Tensor parameter(String name) {
        return parameters.get(name);
    }

    /// Replaces a direct parameter's tensor (e.g. a residual weight after an SVD initialization),
    /// keeping its trainable flag.
    public void setParameter(String name, Tensor value) {
        Tensor old = parameters.get(name);
        if (old == null) throw new IllegalArgumentException("setParameter: no parameter '" + name + "'");
        if (!java.util.Arrays.equals(old.shape(), value.shape())) {
            throw new IllegalArgumentException("setParameter: '" + name + "' has shape " + java.util.Arrays.toString(old.shape())
                    + ", got " + java.util.Arrays.toString(value.shape()));
        }
        Tensor v = value.detach().contiguous();
        if (v == value) v = value.copy().detach();
        parameters.put(name, v.requiresGrad(old.requiresGrad()));
    }

    /// What [#loadStateDict] did not match: keys this module has that the state lacks, and keys of the
    /// state this module does not have.
    public record LoadResult(List<String> missingKeys, List<String> unexpectedKeys) {}

    /// Copies values from a state dict (converting dtype) into this module's parameters and buffers.
    /// With `strict`, any missing or unexpected key is an error that lists them all; a shape mismatch
    /// is always an error naming the key. Nothing is copied unless every check passes.
    public LoadResult loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> own = stateDict();
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), badShapes = new ArrayList<>();
        for (String k : own.keySet()) if (!state.containsKey(k)) missing.add(k);
        for (String k : state.keySet()) if (!own.containsKey(k)) unexpected.add(k);
        for (var e : own.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src != null && !java.util.Arrays.equals(src.shape(), e.getValue().shape())) {
                badShapes.add("'" + e.getKey() + "' is " + java.util.Arrays.toString(e.getValue().shape())
                        + " here but " + java.util.Arrays.toString(src.shape()) + " in the state");
            }
        }
        if (!badShapes.isEmpty()) throw new IllegalArgumentException("loadStateDict: shape mismatch: " + String.join("; ", badShapes));
        if (strict && (!missing.isEmpty() || !unexpected.isEmpty())) {
            throw new IllegalArgumentException("loadStateDict: " + (missing.isEmpty() ? "" : "missing keys " + missing)
                    + (missing.isEmpty() || unexpected.isEmpty() ? "" : ", ") + (unexpected.isEmpty() ? "" : "unexpected keys " + unexpected));
        }
        try (var ignored = GradMode.noGrad()) {
            for (var e : own.entrySet()) {
                Tensor src = state.get(e.getKey());
                if (src != null) e.getValue().copyFrom(src.to(e.getValue().dtype()).to(e.getValue().device()));
            }
        }
        return new LoadResult(List.copyOf(missing), List.copyOf(unexpected));
    }

    // ---------------------------------------------------------------- modes

    /// Stops gradients for every parameter below this module.
    public Module freeze() {
        for (Tensor t : parameters()) t.requiresGrad(false);
        return this;
    }

    public Module train(boolean on) {
        for (Module m : namedModules().values()) m.training = on;
        return this;
    }

    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    /// Clears the gradients of every parameter below this module.
    public void zeroGrad() {
        for (Tensor t : parameters()) t.zeroGrad();
    }
}
