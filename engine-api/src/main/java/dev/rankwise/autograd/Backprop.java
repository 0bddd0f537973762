package dev.rankwise.autograd;

import dev.rankwise.Shape;
import dev.rankwise.Tensor;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/// Reverse-mode differentiation over the recorded graph.
///
/// Invariants: the graph is walked iteratively in reverse topological order (deep graphs cannot
/// overflow the stack); only tensors that require gradients are visited; gradients accumulate with
/// `+=` into leaves' `.grad()`; every gradient has exactly its tensor's shape, checked at each step.
/// Backward functions run with recording off, so higher-order gradients are not supported.
public final class Backprop {
    private Backprop() {}

    /// Back-propagates `grad` (the gradient of some scalar with respect to `root`) into the leaves.
    public static void backward(Tensor root, Tensor grad, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the tensor does not require grad and has no graph "
                    + "(was it computed under noGrad, or from inputs without requiresGrad?)");
        }
        if (!java.util.Arrays.equals(grad.shape(), root.shape())) {
            throw new IllegalArgumentException("backward: gradient shape " + Shape.str(grad.shape())
                    + " does not match the output shape " + Shape.str(root.shape()));
        }
        if (!grad.dtype().isFloating()) {
            throw new IllegalArgumentException("backward: the upstream gradient must be floating, got " + grad.dtype());
        }
        grad = grad.detach().to(root.dtype()).to(root.device());
        try (var ignored = GradMode.noGrad()) {
            if (root.gradFn() == null) { // a leaf: its gradient is the seed itself
                root.accumulateGrad(grad);
                return;
            }
            List<Tensor> order = topologicalOrder(root);
            Map<Tensor, Tensor> pending = new IdentityHashMap<>();
            pending.put(root, grad);
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor g = pending.remove(t);
                if (g == null) continue;
                if (t.retainsGrad()) t.accumulateGrad(g);
                Node node = t.gradFn();
                if (node.released()) {
                    throw new IllegalStateException("backward: trying to go through op '" + node.op()
                            + "' a second time, but its saved values were freed; pass retainGraph = true "
                            + "to the first backward");
                }
                Tensor[] inputGrads;
                try (var quiet = Anomaly.inBackward()) {
                    inputGrads = node.backward().apply(g);
                }
                if (!retainGraph) node.release();
                Tensor[] inputs = node.inputs();
                for (int j = 0; j < inputs.length; j++) {
                    Tensor in = inputs[j];
                    if (in == null || !in.requiresGrad()) continue;
                    Tensor gi = inputGrads[j];
                    if (gi == null) {
                        throw new IllegalStateException("backward: op '" + node.op() + "' gave no gradient for input "
                                + j + ", which requires grad (missing derivative rule)");
                    }
                    checkGradient(node, j, in, gi);
                    if (in.gradFn() == null) {
                        in.accumulateGrad(gi);
                    } else {
                        pending.merge(in, gi, Tensor::add);
                    }
                }
            }
        }
    }

    private static void checkGradient(Node node, int j, Tensor input, Tensor g) {
        if (!Shape.same(g.shapeRef(), input.shapeRef()) || g.dtype() != input.dtype()) {
            throw new IllegalStateException("backward of op '" + node.op() + "': gradient of input " + j + " is "
                    + g.dtype() + " " + Shape.str(g.shapeRef()) + " but the input is " + input.dtype() + " " + Shape.str(input.shapeRef()));
        }
        if (Anomaly.checkingBackward() && !g.allFinite()) {
            throw new Anomaly.AnomalyException(node.op(), "anomaly: backward of op '" + node.op()
                    + "' produced NaN/Inf in the gradient of input " + j + " (shape " + Shape.str(g.shape()) + ")");
        }
    }

    /// Tensors with a graph node reachable from `root`, each after all of its inputs: a depth-first
    /// walk with an explicit stack of (tensor, next input) pairs.
    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Map<Tensor, Boolean> seen = new IdentityHashMap<>();
        List<Tensor> stack = new ArrayList<>();
        int[] next = new int[16];
        stack.add(root);
        seen.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            int top = stack.size() - 1;
            Tensor t = stack.get(top);
            Tensor[] inputs = t.gradFn().inputs();
            boolean pushed = false;
            while (next[top] < inputs.length) {
                Tensor in = inputs[next[top]++];
                if (in != null && in.requiresGrad() && in.gradFn() != null && seen.put(in, Boolean.TRUE) == null) {
                    if (stack.size() == next.length) next = java.util.Arrays.copyOf(next, 2 * next.length);
                    next[stack.size()] = 0;
                    stack.add(in);
                    pushed = true;
                    break;
                }
            }
            if (!pushed) {
                stack.remove(top);
                order.add(t);
            }
        }
        return order;
    }
}
