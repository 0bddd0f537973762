package dev.rankwise.optim;

import dev.rankwise.Tensor;

import java.util.List;

/// Updates parameters from their accumulated gradients. Parameters without a gradient are skipped.
public interface Optimizer {
    /// One update of every parameter group, inside `noGrad`.
    void step();

    /// Clears the gradients of every parameter this optimizer updates.
    default void zeroGrad() {
        for (ParamGroup g : groups()) for (Tensor t : g.params()) t.zeroGrad();
    }

    List<ParamGroup> groups();
}
