package dev.rankwise.optim;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/// Adam with decoupled weight decay (Loshchilov & Hutter 2019), PyTorch's `torch.optim.AdamW` update:
/// ```
/// θ ← θ − lr·λ·θ
/// m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
/// θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
/// ```
/// With weight decay 0 this is Adam. Moments live per parameter, created on its first step.
public class AdamW implements Optimizer {
    private final List<ParamGroup> groups;
    private final double beta1, beta2, eps;
    private final boolean coupledDecay;
    private final Map<Tensor, State> state = new IdentityHashMap<>();

    private static final class State {
        Tensor m, v;
        int step;
    }

    public AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        this(groups, beta1, beta2, eps, false);
    }

    /// With `coupledDecay`, weight decay is added to the gradient (Adam's L2) instead of decoupled.
    protected AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps, boolean coupledDecay) {
        this.coupledDecay = coupledDecay;
        this.groups = List.copyOf(groups);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /// β = (0.9, 0.999), ε = 1e-8, as PyTorch.
    public AdamW(List<ParamGroup> groups) {
        this(groups, 0.9, 0.999, 1e-8);
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
                    State s = state.computeIfAbsent(p, k -> new State());
                    if (s.m == null) {
                        // The moments outlive any Memory scope this step runs in.
                        s.m = dev.rankwise.Memory.untracked(() -> Tensor.zeros(p.device(), p.dtype(), p.shape()));
                        s.v = dev.rankwise.Memory.untracked(() -> Tensor.zeros(p.device(), p.dtype(), p.shape()));
                    }
                    s.step++;
                    double lr = group.lr();
                    if (group.weightDecay() != 0) {
                        if (coupledDecay) g = g.add(p.mul(group.weightDecay()));
                        else p.mulInPlace(1 - lr * group.weightDecay());
                    }
                    s.m.mulInPlace(beta1).addInPlace(g, 1 - beta1);
                    s.v.mulInPlace(beta2).addInPlace(g.square(), 1 - beta2);
                    double bc1 = 1 - Math.pow(beta1, s.step), bc2 = 1 - Math.pow(beta2, s.step);
                    Tensor denom = s.v.div(bc2).sqrt().add(eps);
                    p.subInPlace(s.m.div(denom).mul(lr / bc1));
                }
            }
        }
    }
}
