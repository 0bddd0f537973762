package dev.rankwise.cli.repro;

import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.cli.ReproContext;
import dev.rankwise.cli.report.Progress;
import dev.rankwise.nn.Module;
import dev.rankwise.optim.AdamW;
import dev.rankwise.optim.Optimizer;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.peft.LoraConfig;
import dev.rankwise.peft.Peft;
import dev.rankwise.peft.Sora;
import dev.rankwise.peft.SoraGateOptimizer;
import dev.rankwise.peft.init.SvdInit;
import dev.rankwise.random.Generator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/// Sets up each [Method] on a fresh copy of the pretrained model, trains it with the same loop,
/// batches and schedule, and evaluates it: one [Result] per method and seed.
final class Methods {
    private Methods() {}

    static final String ADAPTER = "default";

    /// What an experiment provides: data, a fresh copy of the pretrained model, its loss and metric.
    interface Task {
        /// A trainable copy of the pretrained model (adapters freeze what they do not train).
        Module freshModel();

        /// The Linear layers that get adapters.
        List<String> targets();

        /// The training set.
        Examples train();

        Trainer.Loss loss();

        /// The reported metric on held-out data (test MSE, or accuracy).
        double metric(Module model);

        /// Modules trained in full beside the adapters (PEFT's `modules_to_save`, e.g. a new task's head).
        default List<String> fullyTrained() {
            return List.of();
        }
    }

    /// Inputs x [N, ...] and targets y [N, ...].
    record Examples(Tensor x, Tensor y) {}

    /// The count of non-zero gates per matrix at a training step.
    record GatePoint(int step, Map<String, Integer> nonZero) {}

    /// One stage of the sparsifying scheduler: its λ and per-step threshold ξ = η·λ (at the peak η), the
    /// non-zero gates per matrix after it, the parameters left after pruning, and the metric.
    record Stage(double lambda, double xi, Map<String, Integer> gates, long paramsAfterPruning, double metric) {}

    /// One method's outcome on one seed. `effectiveRanks` and `gates` are empty except for SoRA;
    /// `losses` holds every step's training loss (the scheduler's stages appended).
    record Result(Method method, long seed, int rank, double lr, long trainable, long afterPruning, double metric,
                  Map<String, Integer> effectiveRanks, List<Double> losses, List<GatePoint> gates, List<Stage> stages,
                  double seconds) {}

    /// Receives the step count (1-based, over the whole run) and the loss as a method trains.
    @FunctionalInterface
    interface Progressing {
        void step(int done, double loss);
    }

    /// Steps `method` takes in all (SoRA includes the scheduler's stages, which continue its run).
    static int totalSteps(Method method, Recipe r) {
        return r.steps() + (method == Method.SORA ? r.stageLambdas().length * r.stageSteps() : 0);
    }

    /// Sets up, trains and evaluates `method`. SoRA yields its row and, when the recipe has scheduler
    /// stages, the "SoRA + scheduler" row, which continues the same run through the stages.
    static List<Result> run(Method method, Task task, Recipe r, long seed, Progressing progress) {
        if (method == Method.SORA_SCHEDULED) throw new IllegalArgumentException("the scheduler row comes from running SORA");
        long start = System.nanoTime();
        Generator gen = new Generator(seed).derive(method.name());
        Module model = task.freshModel();
        double lr = r.lr(method);
        List<Optimizer> optimizers = new ArrayList<>();
        SoraGateOptimizer gates = null;
        int rank = 0;
        switch (method) {
            // The pretrained weights themselves train: no weight decay, which would pull them towards 0.
            case FULL -> optimizers.add(new AdamW(List.of(new ParamGroup("all", model.parameters(), lr, 0))));
            case LORA_MAX, LORA_SMALL -> {
                rank = method == Method.LORA_MAX ? r.rMax() : r.rSmall();
                Peft.attach(model, ADAPTER, new LoraConfig(LoraConfig.AdapterKind.LORA, rank, r.scale() * rank, false, 0,
                        LoraConfig.Init.DEFAULT, task.targets()), gen);
                optimizers.add(new AdamW(List.of(new ParamGroup("lora", model.trainableParameters(), lr, r.weightDecay()))));
            }
            case SORA -> {
                rank = r.rMax();
                Peft.attach(model, ADAPTER, soraConfig(task, r), gen);
                List<Tensor> gateParams = new ArrayList<>(Peft.gates(model, ADAPTER).values());
                List<Tensor> factors = model.trainableParameters().stream().filter(t -> !gateParams.contains(t)).toList();
                optimizers.add(new AdamW(List.of(new ParamGroup("lora", factors, lr, r.weightDecay()))));
                gates = new SoraGateOptimizer(gateParams, r.gateLr(), r.gateLambda(), SoraGateOptimizer.Rule.PROXIMAL);
                optimizers.add(gates);
            }
            case PISSA -> {
                rank = r.rMax();
                // A and B hold W's principal part, so decaying them towards 0 would erase it: no weight decay.
                Peft.attach(model, ADAPTER, task.targets(), (path, w) -> SvdInit.pissa(w, r.rMax(), r.scale(), -1, null));
                optimizers.add(new AdamW(List.of(new ParamGroup("pissa", model.trainableParameters(), lr, 0))));
            }
            default -> throw new AssertionError(method);
        }
        long head = 0;
        if (method != Method.FULL && !task.fullyTrained().isEmpty()) {
            List<Tensor> headParams = new ArrayList<>();
            for (String name : task.fullyTrained()) headParams.addAll(model.module(name).parameters());
            for (Tensor p : headParams) {
                p.requiresGrad(true);
                head += p.numel();
            }
            optimizers.add(new AdamW(List.of(new ParamGroup("head", headParams, lr, 0))));
        }
        long trainable = model.trainableCount();

        List<GatePoint> gateHistory = new ArrayList<>();
        boolean sora = gates != null;
        int every = Math.max(1, r.steps() / 100);
        List<Double> losses = Trainer.train(model, task.train().x(), task.train().y(), task.loss(), optimizers,
                Trainer.Schedule.cosine(r.steps()), r.batch(), gen, (step, loss) -> {
                    if (sora && (step % every == 0 || step == r.steps() - 1)) {
                        gateHistory.add(new GatePoint(step + 1, Sora.effectiveRanks(model, ADAPTER)));
                    }
                    progress.step(step + 1, loss);
                });
        if (!sora) {
            return List.of(new Result(method, seed, rank, lr, trainable, trainable, task.metric(model), Map.of(), losses,
                    List.of(), List.of(), seconds(start)));
        }
        List<Result> out = new ArrayList<>();
        Map<String, Integer> ranks = Sora.effectiveRanks(model, ADAPTER);
        long after = Sora.prunedParameterCount(model, ADAPTER) + head;
        if (r.stageLambdas().length == 0) {
            Sora.prune(model, ADAPTER);
            out.add(new Result(method, seed, rank, lr, trainable, after, task.metric(model), ranks, losses, gateHistory, List.of(),
                    seconds(start)));
            return out;
        }
        out.add(new Result(method, seed, rank, lr, trainable, after, prunedMetric(model, task, r), ranks, List.copyOf(losses),
                List.copyOf(gateHistory), List.of(), seconds(start)));

        List<Stage> stages = new ArrayList<>();
        List<Double> all = new ArrayList<>(losses);
        for (double lambda : r.stageLambdas()) {
            gates.setLambda(lambda);
            int offset = all.size();
            List<Optimizer> stage = new ArrayList<>(optimizers);
            stage.set(stage.indexOf(gates), new ClosedStayClosed(gates));
            all.addAll(Trainer.train(model, task.train().x(), task.train().y(), task.loss(), stage, Trainer.Schedule.cosine(r.stageSteps()).scaled(r.stageLr()),
                    r.batch(), gen, (step, loss) -> {
                        if ((offset + step) % every == 0) gateHistory.add(new GatePoint(offset + step + 1, Sora.effectiveRanks(model, ADAPTER)));
                        progress.step(offset + step + 1, loss);
                    }));
            gateHistory.add(new GatePoint(all.size(), Sora.effectiveRanks(model, ADAPTER)));
            stages.add(new Stage(lambda, r.stageLr() * r.gateLr() * lambda, Sora.effectiveRanks(model, ADAPTER),
                    Sora.prunedParameterCount(model, ADAPTER) + head, task.metric(model)));
        }
        Stage last = stages.get(stages.size() - 1);
        Sora.prune(model, ADAPTER);
        out.add(new Result(Method.SORA_SCHEDULED, seed, rank, lr, trainable, last.paramsAfterPruning(), task.metric(model),
                last.gates(), all, gateHistory, stages, seconds(start)));
        return out;
    }

    /// [#run] with a progress bar named after the method and seed.
    static List<Result> runWithProgress(ReproContext ctx, Method m, Task task, Recipe recipe, long seed) {
        int total = totalSteps(m, recipe);
        String name = (m == Method.SORA && recipe.stageLambdas().length > 0 ? "SoRA (+ scheduler)" : m.label) + ", seed " + seed;
        try (Progress p = Progress.start(name, total, ctx.log())) {
            return run(m, task, recipe, seed, p::step);
        }
    }

    /// The gate step of a scheduler stage: ranks closed when the stage begins stay closed. Each stage
    /// restarts the learning-rate schedule, and at the restarted peak a closed gate can reopen on batch
    /// noise alone (we saw one in about one stage of ten); a stage is meant to prune further, not to
    /// revisit what is pruned.
    private static final class ClosedStayClosed implements Optimizer {
        private final SoraGateOptimizer inner;
        private final List<Tensor> open = new ArrayList<>();

        ClosedStayClosed(SoraGateOptimizer inner) {
            this.inner = inner;
            try (var ignored = GradMode.noGrad()) {
                for (Tensor g : inner.groups().get(0).params()) open.add(g.abs().gt(0.0).to(g.dtype()));
            }
        }

        @Override
        public void step() {
            inner.step();
            try (var ignored = GradMode.noGrad()) {
                List<Tensor> gates = inner.groups().get(0).params();
                for (int i = 0; i < gates.size(); i++) gates.get(i).copyFrom(gates.get(i).mul(open.get(i)));
            }
        }

        @Override
        public List<ParamGroup> groups() {
            return inner.groups();
        }
    }

    static LoraConfig soraConfig(Task task, Recipe r) {
        return LoraConfig.sora(r.rMax(), r.alpha(), task.targets());
    }

    /// The metric of a pruned copy of a SoRA model (the model itself keeps training).
    private static double prunedMetric(Module model, Task task, Recipe r) {
        Module twin = task.freshModel();
        Peft.attach(twin, ADAPTER, soraConfig(task, r), new Generator(0));
        twin.loadStateDict(model.stateDict(), true);
        Sora.prune(twin, ADAPTER);
        return task.metric(twin);
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /// Mean and sample standard deviation (0 for a single value).
    static double[] meanStd(List<Double> xs) {
        double m = 0;
        for (double x : xs) m += x;
        m /= xs.size();
        double v = 0;
        for (double x : xs) v += (x - m) * (x - m);
        return new double[] {m, xs.size() > 1 ? Math.sqrt(v / (xs.size() - 1)) : 0};
    }
}
