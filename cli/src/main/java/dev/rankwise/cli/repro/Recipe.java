package dev.rankwise.cli.repro;

import dev.rankwise.peft.Sora;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// The hyperparameters of one experiment. Every method trains for the same number of steps on the same
/// batches and schedule; only the learning rate is the method's own (each picked from a sweep, see
/// where a recipe is defined), so the comparison is between methods at their best step size.
///
/// @param rMax         LoRA's, SoRA's and PiSSA's rank r_max
/// @param rSmall       the rank of "LoRA small r"
/// @param alpha        `lora_alpha` at r_max; the scale s = α/r_max is kept for every rank and method
/// @param steps        optimizer steps of every method (plus the scheduler's stages for SoRA)
/// @param batch        rows per step
/// @param weightDecay  AdamW's decoupled weight decay on LoRA and SoRA factors
/// @param lr           each method's peak learning rate (linear warmup, cosine decay to 0)
/// @param gateLr       η of SoRA's proximal gate step (it follows the same schedule)
/// @param gateLambda   λ of SoRA's L1 term; the threshold per step is ξ = η·λ
/// @param stageLambdas λ of each stage of the sparsifying scheduler, run after the main training
/// @param stageSteps   steps per scheduler stage; each restarts the warmup and cosine schedule
/// @param stageLr      a stage's peak learning rates as a fraction of the main run's: at the main run's full
///                     peak, Adam restarted on converged factors (tiny second moments) jumps far from the fit
///                     and shakes closed the gates of needed ranks on batch noise
record Recipe(int rMax, int rSmall, double alpha, int steps, int batch, double weightDecay, Map<Method, Double> lr,
              double gateLr, double gateLambda, double[] stageLambdas, int stageSteps, double stageLr) {
    Recipe {
        lr = new EnumMap<>(lr);
        stageLambdas = stageLambdas.clone();
    }

    /// The settings both experiments share: r_max 8, small r 2, α 16 (s = 2, the authors' code), batch 128,
    /// weight decay 0.1 and η_gate = 2e-2 (the authors' GLUE scripts use 0.1 and a separate gate rate),
    /// each method's peak learning rate from `lr`, and the scheduler's `stages` raising λ geometrically
    /// from 2λ to `top`·λ at 0.3× the peak learning rates.
    static Recipe standard(Map<Method, Double> lr, int steps, double lambda, double top, int stages, int stageSteps) {
        double[] schedule = stages == 0 ? new double[0] : Sora.thresholds(Sora.Spacing.EXP_LINEAR, 2 * lambda, top * lambda, stages);
        return new Recipe(8, 2, 16, steps, 128, 0.1, lr, 2e-2, lambda, schedule, stageSteps, 0.3);
    }

    /// The same learning rate for every method in `methods`.
    static Map<Method, Double> sameLr(List<Method> methods, double lr) {
        Map<Method, Double> rates = new EnumMap<>(Method.class);
        for (Method m : methods) rates.put(m, lr);
        return rates;
    }

    double lr(Method m) {
        Double v = lr.get(m == Method.SORA_SCHEDULED ? Method.SORA : m);
        if (v == null) throw new IllegalArgumentException("recipe has no learning rate for " + m.label);
        return v;
    }

    double scale() {
        return alpha / rMax;
    }

    /// The settings as they go into results.json.
    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("steps", steps);
        m.put("batch", batch);
        m.put("optimizer", "AdamW (beta 0.9, 0.999), peak lr per method below, 5% linear warmup, cosine decay to 0");
        m.put("lr", lrByLabel());
        m.put("weight_decay", Map.of("LoRA and SoRA factors", weightDecay, "full fine-tuning, PiSSA, new heads", 0.0));
        m.put("r_max", rMax);
        m.put("r_small", rSmall);
        m.put("lora_alpha", alpha);
        m.put("scale", scale());
        Map<String, Object> sora = new LinkedHashMap<>();
        sora.put("gate_rule", "proximal gradient (paper): g <- T_xi(g - eta grad), xi = eta * lambda");
        sora.put("gate_lr", gateLr);
        sora.put("lambda", gateLambda);
        if (stageLambdas.length > 0) {
            sora.put("scheduler_lambdas", Arrays.stream(stageLambdas).boxed().toList());
            sora.put("scheduler_stage_steps", stageSteps);
            sora.put("scheduler_stage_lr_factor", stageLr);
        }
        m.put("sora", sora);
        return m;
    }

    Map<String, Double> lrByLabel() {
        Map<String, Double> out = new LinkedHashMap<>();
        lr.forEach((k, v) -> out.put(k.label, v));
        return out;
    }
}
