package dev.rankwise.peft;

import dev.rankwise.Tensor;
import dev.rankwise.nn.Module;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/// A dictionary of per-adapter tensors, each a parameter (trainable) or a buffer (frozen). In
/// ModuleDict mode each tensor sits in a holder module and is named `<adapter>.weight` (PEFT's
/// `lora_A.<adapter>.weight`); in ParameterDict mode it is named `<adapter>` (PEFT's
/// `lora_embedding_A.<adapter>`).
final class PartDict extends Module {
    private final boolean parameterDict;
    private final Map<String, Tensor> byName = new LinkedHashMap<>();
    private final Map<String, Boolean> trainable = new HashMap<>();

    PartDict(boolean parameterDict) {
        this.parameterDict = parameterDict;
    }

    void put(String name, Tensor t, boolean train) {
        remove(name);
        if (parameterDict) {
            if (train) registerParameter(name, t);
            else registerBuffer(name, t.requiresGrad(false));
        } else {
            registerModule(name, new Holder(t, train));
        }
        byName.put(name, t);
        trainable.put(name, train);
    }

    Tensor get(String name) {
        return byName.get(name);
    }

    boolean isTrainable(String name) {
        return byName.containsKey(name) && trainable.get(name);
    }

    void setTrainable(String name, boolean train) {
        Tensor t = byName.get(name);
        if (trainable.get(name) == train) return;
        put(name, t, train);
    }

    void remove(String name) {
        if (byName.remove(name) == null) return;
        trainable.remove(name);
        if (parameterDict) {
            unregisterParameter(name);
            unregisterBuffer(name);
        } else {
            unregisterModule(name);
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        throw new UnsupportedOperationException("a parameter container has no forward");
    }

    /// One tensor as a module's `weight`, a parameter or a buffer.
    private static final class Holder extends Module {
        Holder(Tensor t, boolean train) {
            if (train) registerParameter("weight", t);
            else registerBuffer("weight", t.requiresGrad(false));
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("a parameter holder has no forward");
        }
    }
}
