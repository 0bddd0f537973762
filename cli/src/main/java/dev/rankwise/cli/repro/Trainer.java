package dev.rankwise.cli.repro;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Module;
import dev.rankwise.optim.Optimizer;
import dev.rankwise.random.Generator;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/// A plain mini-batch training loop: shuffled batches from a seeded generator, one or more optimizers
/// stepped after each backward, the loss recorded every step.
final class Trainer {
    /// Loss of a batch: (prediction, target) → scalar.
    interface Loss extends BiFunction<Tensor, Tensor, Tensor> {}

    /// Called after each step with its index and loss.
    @FunctionalInterface
    interface StepListener {
        void after(int step, double loss);
    }

    private Trainer() {}

    /// Trains `model` for `steps` steps on (x, y) and returns the loss of every step.
    ///
    /// `afterStep` runs after the optimizers with the step index (logging, progress, schedules).
    static List<Double> train(Module model, Tensor x, Tensor y, Loss loss, List<Optimizer> optimizers,
                              int steps, int batchSize, Generator gen, StepListener afterStep) {
        int n = x.size(0);
        int b = Math.min(batchSize, n);
        List<Double> losses = new ArrayList<>(steps);
        int[] order = permutation(n, gen);
        int cursor = 0;
        model.train(true);
        for (int step = 0; step < steps; step++) {
            if (cursor + b > n) {
                order = permutation(n, gen);
                cursor = 0;
            }
            Tensor idx = Tensor.fromArray(java.util.Arrays.copyOfRange(order, cursor, cursor + b), b);
            cursor += b;
            Tensor xb = x.indexSelect(0, idx), yb = y.indexSelect(0, idx);
            for (Optimizer o : optimizers) o.zeroGrad();
            Tensor l = loss.apply(model.forward(xb), yb);
            l.backward();
            for (Optimizer o : optimizers) o.step();
            double lv = l.item();
            losses.add(lv);
            afterStep.after(step, lv);
        }
        model.train(false);
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
        float[] u = Tensor.rand(gen, dev.rankwise.DType.F32, Math.max(n, 1)).toFloatArray();
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
