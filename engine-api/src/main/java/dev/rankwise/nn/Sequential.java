package dev.rankwise.nn;

import dev.rankwise.Tensor;

import java.util.List;

/// Modules applied in order, each to the previous one's output; named 0, 1, 2, … as in [ModuleList].
public class Sequential extends ModuleList {
    public Sequential(List<? extends Module> modules) {
        super(modules);
    }

    public Sequential(Module... modules) {
        super(List.of(modules));
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = x;
        for (Module m : this) h = m.forward(h);
        return h;
    }
}
