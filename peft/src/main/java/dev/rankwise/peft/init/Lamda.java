package dev.rankwise.peft.init;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Module;
import dev.rankwise.peft.AdapterLayer;
import dev.rankwise.peft.Method;
import dev.rankwise.peft.Peft;

import java.util.function.IntUnaryOperator;

/// LaMDA (arXiv 2406.12832): y = W x + s·B·S·A·x with the first projection A [r, n] (PMA) frozen, a small
/// trainable core S [r, r] (the low-dimensional adapter), and the second projection B [m, r] (PMB)
/// trainable at first and frozen column by column during early training, so that late in training
/// only S (r² numbers) is updated.
///
/// Sources. The paper's own text could not be read here; its Figure 1 caption, as quoted by summaries of
/// the paper, says PMB "is trainable and gradually freezes based on the singular values. After t_i
/// iterations, PMB is completely frozen", and that LaMDA initializes the projections with singular
/// vectors of the pretrained weight. This class follows that: [#init] takes the top-r SVD as PiSSA does
/// (A = V_rᵀ, B = U_r, S = Σ_r/s, frozen residual W − s·B·S·A, so the model starts unchanged), and
/// [#frozenColumnsAt] freezes B's columns in order (principal direction first) on a linear schedule that
/// has frozen all of B at step t_i. [The exact split of Σ and the shape of the schedule up to t_i remain
/// unverified.]
///
/// The authors' public code (ArminAzizi98/LaMDA, `lamda.py` and `custom_trainer.py`) differs: it keeps
/// PEFT's LoRA initialization (A Kaiming-uniform, B = 0) with S an `nn.Linear(r, r)` at its default
/// initialization, and freezes one column of B per η·T optimizer steps (`gradual_freeze_B`, η = 0.3)
/// by zeroing those columns' gradients, so Adam's momentum can still move them. [#frozenColumnsAuthorsCode]
/// gives that schedule; [AdapterLayer#freezeColumnsOfB] freezes exactly (a frozen copy is read).
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

    /// Columns of B frozen at `step` (0-based) when all r freeze linearly by `freezeSteps` (t_i):
    /// ⌊r·min(step, T)/T⌋.
    public static int frozenColumnsAt(int step, int freezeSteps, int r) {
        if (freezeSteps < 1 || step < 0) throw new IllegalArgumentException("lamda: need freezeSteps >= 1 and step >= 0");
        return (int) ((long) r * Math.min(step, freezeSteps) / freezeSteps);
    }

    /// The authors' code's schedule (`custom_trainer.py`, `gradual_freeze_B`): after `iteration` batches
    /// (1-based, counting every micro-batch of gradient accumulation), of a run of `totalSteps` optimizer
    /// steps with `accumulation` micro-batches each, t = ⌊iteration/(η·T·accumulation)⌋ leading columns of
    /// B are frozen, all r once t ≥ r. The code calls it with η = 0.3, so one column freezes every 0.3·T
    /// steps (B freezes completely within the run only when r ≤ 3).
    public static int frozenColumnsAuthorsCode(int iteration, int totalSteps, int accumulation, double eta, int r) {
        if (iteration < 0 || totalSteps < 1 || accumulation < 1 || !(eta > 0)) {
            throw new IllegalArgumentException("lamda: need iteration >= 0, totalSteps >= 1, accumulation >= 1 and eta > 0");
        }
        return (int) Math.min(r, Math.floor(iteration / (eta * totalSteps * accumulation)));
    }

    /// Applies the linear schedule ([#frozenColumnsAt]) at `step` to every adapter named `name` on `model`
    /// (call it once per step, before the forward pass).
    public static void applySchedule(Module model, String name, int step, int freezeSteps) {
        apply(model, name, r -> frozenColumnsAt(step, freezeSteps, r));
    }

    /// Applies the authors' code's schedule ([#frozenColumnsAuthorsCode]) after `iteration` batches.
    public static void applyAuthorsCodeSchedule(Module model, String name, int iteration, int totalSteps, int accumulation, double eta) {
        apply(model, name, r -> frozenColumnsAuthorsCode(iteration, totalSteps, accumulation, eta, r));
    }

    private static void apply(Module model, String name, IntUnaryOperator columnsForRank) {
        for (AdapterLayer l : Peft.adapterLayers(model).values()) {
            if (!l.adapterNames().contains(name)) continue;
            int k = columnsForRank.applyAsInt(l.spec(name).r());
            if (k > l.frozenColumns(name)) l.freezeColumnsOfB(name, k);
        }
    }
}
