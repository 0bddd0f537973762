package dev.rankwise.optim;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;

import java.util.List;

/// Gradient clipping by the global L2 norm over all parameters (PyTorch's `clip_grad_norm_`).
public final class GradClip {
    private GradClip() {}

    /// Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)) and returns the norm before clipping.
    public static double clipGlobalNorm(List<Tensor> params, double maxNorm) {
        try (var ignored = GradMode.noGrad()) {
            double sq = 0;
            for (Tensor p : params) if (p.grad() != null) sq += p.grad().square().sum().item();
            double norm = Math.sqrt(sq);
            double factor = maxNorm / (norm + 1e-6);
            if (factor < 1) for (Tensor p : params) if (p.grad() != null) p.grad().mulInPlace(factor);
            return norm;
        }
    }
}
