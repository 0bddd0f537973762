package dev.rankwise.peft;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.optim.Optimizer;
import dev.rankwise.optim.ParamGroup;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/// SoRA's gate update (arXiv 2311.11696, §3.2 eq. 5–6): the gates g minimize L₀(g) + λ‖g‖₁ by
/// proximal gradient steps, which set gates exactly to zero and so prune ranks.
///
/// - [Rule#PROXIMAL] (the paper, the default): `g ← T_ξ(g − η·∇g L₀)` with ξ = η·λ and the
///   soft-threshold `T_ξ(z) = sign(z)·max(|z| − ξ, 0)`, the proximal map of ξ|·|.
/// - [Rule#AUTHORS_CODE] (TsinghuaC3I/SoRA `src/sparse_optimizer.py`, `SparseAdamW`, built in
///   `run_glue.py` with the `transformers.AdamW` defaults β = (0.9, 0.999), ε = 1e-6, bias correction on,
///   weight decay 0): an Adam step on g (ε added to √v, the bias corrections folded into the step size
///   lr·√(1−β₂ᵗ)/(1−β₁ᵗ)), then thresholding with a FIXED ξ = λ (`sparse_lambda`), not scaled by the
///   learning rate, in three in-place passes `p[p > ξ] −= ξ; p[p < −ξ] += ξ; p[|p| < ξ] = 0` — so
///   values with ξ < |z| < 2ξ end at zero too, and |z| = ξ is left as it is, unlike `T_ξ`. A gate without
///   a gradient is skipped, threshold included, as in the code.
///
/// λ can be changed between steps ([#setLambda]) for the sparsifying scheduler.
public final class SoraGateOptimizer implements Optimizer {
    public enum Rule { PROXIMAL, AUTHORS_CODE }

    private final ParamGroup group;
    private final Rule rule;
    private double lambda;
    private final double beta1 = 0.9, beta2 = 0.999, eps = 1e-6;
    private final Map<Tensor, Tensor[]> moments = new IdentityHashMap<>();
    private final Map<Tensor, Integer> steps = new IdentityHashMap<>();

    /// `lr` is η; `lambda` is λ of the paper (PROXIMAL) or the fixed threshold ξ (AUTHORS_CODE).
    public SoraGateOptimizer(List<Tensor> gates, double lr, double lambda, Rule rule) {
        if (lambda < 0) throw new IllegalArgumentException("SoraGateOptimizer: lambda must be >= 0, got " + lambda);
        this.group = new ParamGroup("sora_gate", gates, lr, 0);
        this.lambda = lambda;
        this.rule = rule;
    }

    public double lambda() {
        return lambda;
    }

    public void setLambda(double lambda) {
        if (lambda < 0) throw new IllegalArgumentException("SoraGateOptimizer: lambda must be >= 0, got " + lambda);
        this.lambda = lambda;
    }

    /// The threshold ξ of the next step: η·λ for the paper's rule, λ for the code's.
    public double threshold() {
        return rule == Rule.PROXIMAL ? group.lr() * lambda : lambda;
    }

    /// Sets λ so that the next step thresholds with ξ (the sparsifying scheduler's knob).
    public void setThreshold(double xi) {
        if (xi < 0) throw new IllegalArgumentException("SoraGateOptimizer: threshold must be >= 0, got " + xi);
        lambda = rule == Rule.PROXIMAL ? xi / group.lr() : xi;
    }

    public Rule rule() {
        return rule;
    }

    @Override
    public List<ParamGroup> groups() {
        return List.of(group);
    }

    @Override
    public void step() {
        try (var ignored = GradMode.noGrad()) {
            double lr = group.lr();
            for (Tensor g : group.params()) {
                Tensor grad = g.grad();
                if (grad == null) continue;
                if (rule == Rule.PROXIMAL) {
                    g.copyFrom(softThreshold(g.sub(grad.mul(lr)), lr * lambda));
                } else {
                    Tensor[] mv = moments.computeIfAbsent(g, k -> new Tensor[] {
                            Tensor.zeros(k.device(), k.dtype(), k.shape()), Tensor.zeros(k.device(), k.dtype(), k.shape())});
                    int t = steps.merge(g, 1, Integer::sum);
                    mv[0].mulInPlace(beta1).addInPlace(grad, 1 - beta1);
                    mv[1].mulInPlace(beta2).addInPlace(grad.square(), 1 - beta2);
                    double stepSize = lr * Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t));
                    g.subInPlace(mv[0].div(mv[1].sqrt().add(eps)).mul(stepSize));
                    g.copyFrom(codeThreshold(g, lambda));
                }
            }
        }
    }

    /// `T_ξ(z) = sign(z)·max(|z| − ξ, 0)` elementwise, the proximal map of ξ|·|.
    public static Tensor softThreshold(Tensor z, double xi) {
        return z.sign().mul(z.abs().sub(xi).relu());
    }

    /// The authors' code's threshold: shrink |z| > ξ by ξ, then zero whatever is below ξ in magnitude.
    public static Tensor codeThreshold(Tensor z, double xi) {
        if (xi <= 0) return z;
        Tensor shrunk = Tensor.where(z.abs().gt(xi), z.sub(z.sign().mul(xi)), z);
        return Tensor.where(shrunk.abs().lt(xi), Tensor.zeros(z.dtype(), z.shape()).to(z.device()), shrunk);
    }

    /// λ‖g‖₁ summed over the gates, the sparsity term of the objective (for logging).
    public double l1Penalty() {
        double s = 0;
        for (Tensor g : group.params()) s += g.abs().sum().item();
        return lambda * s;
    }
}
