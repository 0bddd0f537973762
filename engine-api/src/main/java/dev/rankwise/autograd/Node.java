package dev.rankwise.autograd;

import dev.rankwise.Tensor;

/// One recorded op in the autograd graph: its name, its inputs, and its backward function.
public final class Node {
    /// Maps the gradient of the op's output to the gradients of its inputs, aligned with the inputs;
    /// an entry is null where that input needs no gradient.
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOutput);
    }

    private final String op;
    private final Tensor[] inputs;
    private Backward backward;

    public Node(String op, Tensor[] inputs, Backward backward) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
    }

    public String op() {
        return op;
    }

    public Tensor[] inputs() {
        return inputs;
    }

    Backward backward() {
        return backward;
    }

    /// Drops the saved tensors after a backward that does not retain the graph.
    void release() {
        backward = null;
    }

    boolean released() {
        return backward == null;
    }
}
