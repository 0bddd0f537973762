package dev.rankwise.peft.init;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Module;
import dev.rankwise.peft.AdapterLayer;
import dev.rankwise.peft.Method;
import dev.rankwise.peft.Peft;

/// LaMDA (arXiv 2406.12832): y = W x + s·B·S·A·x with the first projection A [r, n] frozen, a small
/// trainable core S [r, r], and the second projection B [m, r] trainable at first and frozen column
/// by column during early training, so that late in training only S (r² numbers) is updated.
///
/// [unverified] The paper's exact initialization and freezing schedule could not be confirmed. This
/// implementation initializes from the top-r SVD as PiSSA does (A = V_rᵀ, B = U_r, S = Σ_r/s, and the
/// frozen residual W − s·B·S·A, so the model starts unchanged), and freezes B's columns in order
/// (principal direction first) on a linear schedule that ends at a step the caller chooses.
public final class Lamda {
    private Lamda() {}

    /// The initial parts for W [m, n]: frozen A = V_rᵀ, trainable B = U_r and core S = diag(σ_{1..r})/s,
    /// and W_res = W − s·B·S·A = Σ_{i>r} σ_i u_i v_iᵀ.
    public static Factors init(Tensor w, int r, double scale) {
        SvdInit.check("lamda", w, r);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Linalg.Svd svd = Linalg.svd(wd);
            Tensor b = svd.u().narrow(1, 0, r).contiguous(), a = svd.vh().narrow(0, 0, r).contiguous();
            Tensor core = Tensor.eye(r, w.dtype()).mul(svd.s().narrow(0, 0, r).div(scale).unsqueeze(0)).contiguous();
            return new Factors(a, b, null, core, scale, wd.sub(b.matmul(core).matmul(a).mul(scale)), Method.LAMDA);
        }
    }

    /// Columns of B frozen at `step` (0-based) when all r freeze linearly by `freezeSteps`:
    /// ⌊r·min(step, T)/T⌋.
    public static int frozenColumnsAt(int step, int freezeSteps, int r) {
        if (freezeSteps < 1 || step < 0) throw new IllegalArgumentException("lamda: need freezeSteps >= 1 and step >= 0");
        return (int) ((long) r * Math.min(step, freezeSteps) / freezeSteps);
    }

    /// Applies the schedule at `step` to every adapter named `name` on `model` (call it once per step,
    /// before the forward pass).
    public static void applySchedule(Module model, String name, int step, int freezeSteps) {
        for (AdapterLayer l : Peft.adapterLayers(model).values()) {
            if (!l.adapterNames().contains(name)) continue;
            int k = frozenColumnsAt(step, freezeSteps, l.spec(name).r());
            if (k > l.frozenColumns(name)) l.freezeColumnsOfB(name, k);
        }
    }
}
