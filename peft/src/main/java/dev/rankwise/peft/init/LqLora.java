package dev.rankwise.peft.init;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.peft.Method;

import java.util.ArrayList;
import java.util.List;

/// LQ-LoRA (arXiv 2311.12023, §3.1, Algorithm 1): W ≈ Q + L₁L₂ with Q quantized and L₁ [m, r],
/// L₂ [r, n] a high-precision low-rank part, found by alternating, from Q = 0,
/// L₁L₂ ← SVD_r(W − Q) (L₁ = U_r√Σ_r, L₂ = √Σ_r V_rᵀ) and Q ← quantize(W − L₁L₂), and stopping when the
/// Frobenius error ‖W − (Q + L₁L₂)‖ rises, reaches 0, or after `maxIters` rounds. The adapter trains
/// L₁, L₂ on the frozen Q.
///
/// Checked against HanGuo97/lq-lora (`models/lq_utils.py`, `lowrank_quantized_sparse_decomposition`;
/// `models/factorizations_utils.py`): the same alternation and split, up to 100 rounds. On a rise the
/// code returns the round that rose, with a `TODO` to return the previous one "since this is slightly
/// worse"; this class keeps the previous one (the lower error). The code takes a randomized SVD
/// (oversampling 10) where this class takes the exact one.
public final class LqLora {
    private LqLora() {}

    /// The authors' cap on rounds (`num_iterations = 100`).
    public static final int AUTHORS_MAX_ITERATIONS = 100;

    /// The decomposition and the error after each round (errors[i] of round i + 1).
    public record Result(Tensor q, Tensor l1, Tensor l2, double[] errors) {
        /// As adapter parts with scale s: B = L₁/√s, A = L₂/√s, residual Q, so Q + s·B·A = Q + L₁L₂.
        public Factors factors(double scale) {
            double root = Math.sqrt(scale);
            return new Factors(l2.div(root).contiguous(), l1.div(root).contiguous(), null, null, scale, q, Method.LQ_LORA);
        }
    }

    public static Result decompose(Tensor w, int r, Quantizer quantizer, int maxIters) {
        SvdInit.check("lq-lora", w, r);
        if (maxIters < 1) throw new IllegalArgumentException("lq-lora: maxIters must be >= 1, got " + maxIters);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Tensor q = Tensor.zeros(wd.dtype(), wd.shape());
            Result best = null;
            List<Double> errors = new ArrayList<>();
            for (int it = 0; it < maxIters; it++) {
                Linalg.Svd svd = Linalg.svd(wd.sub(q));
                Tensor root = svd.s().narrow(0, 0, r).sqrt();
                Tensor l1 = svd.u().narrow(1, 0, r).mul(root).contiguous();
                Tensor l2 = svd.vh().narrow(0, 0, r).mul(root.unsqueeze(1)).contiguous();
                Tensor lowRank = l1.matmul(l2);
                Tensor qNew = quantizer.quantize(wd.sub(lowRank));
                double err = wd.sub(qNew).sub(lowRank).to(DType.F64).norm().item();
                if (best != null && err > errors.get(errors.size() - 1)) {
                    errors.add(err);
                    break;
                }
                errors.add(err);
                q = qNew;
                best = new Result(qNew, l1, l2, null);
                if (err == 0) break;
            }
            double[] e = errors.stream().mapToDouble(Double::doubleValue).toArray();
            return new Result(best.q(), best.l1(), best.l2(), e);
        }
    }
}
