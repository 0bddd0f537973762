package dev.rankwise.cli.repro;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Module;
import dev.rankwise.optim.LrSchedule;
import dev.rankwise.optim.Optimizer;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.random.Generator;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/// A plain mini-batch training loop: shuffled batches (epochs without replacement) from a seeded
/// generator, every optimizer stepped after each backward under one learning-rate schedule, the loss
/// recorded every step.
final class Trainer {
    /// Loss of a batch: (prediction, target) → scalar.
    interface Loss extends BiFunction<Tensor, Tensor, Tensor> {}

    /// Called after each step with its index (0-based) and loss.
    @FunctionalInterface
    interface StepListener {
        void after(int step, double loss);
    }

    /// The learning-rate schedule of one training run, as a multiplier of each group's initial rate:
    /// linear warmup over `warmup` steps to `peak`, then cosine decay to 0 at the last step. Decaying to
    /// 0 lets every method settle instead of ending on the noise floor of a constant step size; SoRA's
    /// gate threshold ξ = η·λ follows the gate's scheduled η.
    record Schedule(int steps, int warmup, double peak) {
        Schedule {
            if (steps < 1 || warmup < 0 || warmup > steps || !(peak > 0)) {
                throw new IllegalArgumentException("schedule: need steps >= 1, 0 <= warmup <= steps and peak > 0, got "
                        + steps + ", " + warmup + ", " + peak);
            }
        }

        /// `steps` steps with 5% warmup to the initial rates.
        static Schedule cosine(int steps) {
            return new Schedule(steps, steps / 20, 1);
        }

        /// The same, peaking at `peak` × the initial rates.
        Schedule scaled(double peak) {
            return new Schedule(steps, warmup, peak);
        }
    }

    private Trainer() {}

    /// Trains `model` on (x [N, ...], y [N, ...]) and returns the loss of every step.
    static List<Double> train(Module model, Tensor x, Tensor y, Loss loss, List<Optimizer> optimizers, Schedule schedule,
                              int batchSize, Generator gen, StepListener afterStep) {
        int n = x.size(0);
        int b = Math.min(batchSize, n);
        LrSchedule lrs = new LrSchedule(schedule.warmup(), schedule.steps(), LrSchedule.Decay.COSINE, 0);
        List<Double> losses = new ArrayList<>(schedule.steps());
        int[] order = permutation(n, gen);
        int cursor = 0;
        model.train(true);
        try {
            for (int step = 0; step < schedule.steps(); step++) {
                if (cursor + b > n) {
                    order = permutation(n, gen);
                    cursor = 0;
                }
                Tensor idx = Tensor.fromArray(java.util.Arrays.copyOfRange(order, cursor, cursor + b), b).to(x.device());
                cursor += b;
                Tensor xb = x.indexSelect(0, idx), yb = y.indexSelect(0, idx);
                for (Optimizer o : optimizers) {
                    o.zeroGrad();
                    lrs.apply(o, step);
                    for (ParamGroup g : o.groups()) g.setLr(g.lr() * schedule.peak());
                }
                Tensor l = loss.apply(model.forward(xb), yb);
                l.backward();
                for (Optimizer o : optimizers) o.step();
                double lv = l.item();
                if (!Double.isFinite(lv)) {
                    throw new ArithmeticException("training diverged: loss " + lv + " at step " + step + " (learning rate too high?)");
                }
                losses.add(lv);
                afterStep.after(step, lv);
            }
        } finally {
            model.train(false);
        }
        return losses;
    }

    /// Mean of `loss` over the whole set, without recording a graph, in batches of 4096 rows.
    static double evaluate(Module model, Tensor x, Tensor y, Loss loss) {
        try (var ignored = GradMode.noGrad()) {
            model.train(false);
            int n = x.size(0);
            double total = 0;
            for (int s = 0; s < n; s += 4096) {
                int len = Math.min(4096, n - s);
                total += loss.apply(model.forward(x.narrow(0, s, len)), y.narrow(0, s, len)).item() * len;
            }
            return total / n;
        }
    }

    /// A uniformly random permutation of [0, n) drawn from `gen` (Fisher–Yates on Philox uniforms).
    static int[] permutation(int n, Generator gen) {
        float[] u = Tensor.rand(gen, DType.F32, Math.max(n, 1)).toFloatArray();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = Math.min(i, (int) (u[i] * (i + 1)));
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
