package dev.rankwise.optim;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/// Stochastic gradient descent with momentum and Nesterov, PyTorch's `torch.optim.SGD` update:
/// ```
/// g ← g + λ·θ
/// b ← μ·b + (1 − τ)·g   (b = g on the first step)
/// g ← g + μ·b (Nesterov) or b (plain momentum)
/// θ ← θ − lr·g
/// ```
public class SGD implements Optimizer {
    private final List<ParamGroup> groups;
    private final double momentum, dampening;
    private final boolean nesterov;
    private final Map<Tensor, Tensor> buffers = new IdentityHashMap<>();

    public SGD(List<ParamGroup> groups, double momentum, double dampening, boolean nesterov) {
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum needs momentum > 0 and dampening = 0");
        }
        this.groups = List.copyOf(groups);
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
    }

    public SGD(List<ParamGroup> groups) {
        this(groups, 0, 0, false);
    }

    @Override
    public List<ParamGroup> groups() {
        return groups;
    }

    @Override
    public void step() {
        try (var ignored = GradMode.noGrad()) {
            for (ParamGroup group : groups) {
                for (Tensor p : group.params()) {
                    Tensor g = p.grad();
                    if (g == null) continue;
                    if (group.weightDecay() != 0) g = g.add(p.mul(group.weightDecay()));
                    if (momentum != 0) {
                        Tensor b = buffers.get(p);
                        if (b == null) {
                            b = g.copy();
                            buffers.put(p, b);
                        } else {
                            b.mulInPlace(momentum).addInPlace(g, 1 - dampening);
                        }
                        g = nesterov ? g.add(b.mul(momentum)) : b;
                    }
                    p.subInPlace(g.mul(group.lr()));
                }
            }
        }
    }
}
