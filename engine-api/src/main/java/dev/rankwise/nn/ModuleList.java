package dev.rankwise.nn;

import dev.rankwise.Tensor;

import java.util.Iterator;
import java.util.List;

/// Submodules numbered 0, 1, 2, …: a `ModuleList` registered as `layers` gives the names
/// `layers.0.attn.q_proj` that checkpoints and adapter configs use. It has no forward of its own;
/// [Sequential] is the list that chains its modules.
public class ModuleList extends Module implements Iterable<Module> {
    public ModuleList(List<? extends Module> modules) {
        for (Module m : modules) add(m);
    }

    public ModuleList() {}

    /// Appends `m` under the next number; returns this list.
    public ModuleList add(Module m) {
        registerModule(Integer.toString(size()), m);
        return this;
    }

    /// The module at `index` (after any [#replaceModule] of it).
    public Module get(int index) {
        if (index < 0 || index >= size()) throw new IndexOutOfBoundsException("module list: index " + index + " of " + size());
        return children().get(Integer.toString(index));
    }

    public int size() {
        return children().size();
    }

    @Override
    public Iterator<Module> iterator() {
        return children().values().iterator();
    }

    @Override
    public Tensor forward(Tensor x) {
        throw new UnsupportedOperationException("ModuleList has no forward; call its modules (or use Sequential)");
    }
}
