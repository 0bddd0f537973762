package dev.rankwise.cli.repro;

import dev.rankwise.Tensor;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// The methods a reproduction compares, each set up on a fresh copy of the pretrained model and
/// trained with the same loop; one [Result] row per method and seed.
final class Methods {
    private Methods() {}

    static final String ADAPTER = "default";

    /// What is compared. Ranks and learning rates come from the experiment's [Settings].
    enum Method {
        FULL("full fine-tuning"),
        LORA_MAX("LoRA r_max"),
        LORA_SMALL("LoRA small r"),
        SORA("SoRA"),
        SORA_SCHEDULED("SoRA + scheduler"),
        PISSA("PiSSA r_max");

        final String label;

        Method(String label) {
            this.label = label;
        }
    }

    /// Hyperparameters shared by every method of one experiment.
    record Settings(int rMax, int rSmall, double alpha, int steps, int batch, double lrFull, double lrAdapter,
                    double weightDecay, double gateLr, double gateLambda, double[] schedule, int stageSteps) {}

    /// One stage of the sparsifying scheduler: its threshold, the non-zero gates per matrix, the
    /// non-zero adapter parameters, and the metric after the stage.
    record Stage(double xi, Map<String, Integer> gates, long params, double metric) {}

    /// One method's outcome.
    record Result(Method method, int rank, long trainable, long afterPruning, List<Double> losses, double metric,
                  Map<String, Integer> effectiveRanks, List<Map<String, Integer>> gateHistory, List<Stage> stages, double seconds) {}

    /// What an experiment provides: data, a fresh copy of the pretrained model, its loss and metric.
    interface Task {
        Module freshModel();

        List<String> targets();

        Tensor trainX();

        Tensor trainY();

        Trainer.Loss loss();

        /// The reported metric on held-out data (test MSE, or accuracy).
        double metric(Module model);

        String metricName();

        /// Modules trained in full beside the adapters (PEFT's `modules_to_save`, e.g. a new task's head).
        default List<String> fullyTrained() {
            return List.of();
        }
    }

    /// Sets up, trains and evaluates one method.
    static Result run(Method method, Task task, Settings s, long seed, Progressing progress) {
        long start = System.nanoTime();
        Generator gen = new Generator(seed).derive(method.name());
        Module model = task.freshModel();
        List<Optimizer> optimizers = new ArrayList<>();
        SoraGateOptimizer gates = null;
        int rank = 0;
        switch (method) {
            case FULL -> optimizers.add(new AdamW(List.of(new ParamGroup("all", model.parameters(), s.lrFull(), s.weightDecay()))));
            case LORA_MAX, LORA_SMALL -> {
                rank = method == Method.LORA_MAX ? s.rMax() : s.rSmall();
                Peft.attach(model, ADAPTER, new LoraConfig(LoraConfig.AdapterKind.LORA, rank, s.alpha() * rank / s.rMax(), false, 0,
                        LoraConfig.Init.DEFAULT, task.targets()), gen);
                optimizers.add(new AdamW(List.of(new ParamGroup("lora", model.trainableParameters(), s.lrAdapter(), s.weightDecay()))));
            }
            case SORA, SORA_SCHEDULED -> {
                rank = s.rMax();
                Peft.attach(model, ADAPTER, LoraConfig.sora(rank, s.alpha(), task.targets()), gen);
                List<Tensor> gateParams = new ArrayList<>(Peft.gates(model, ADAPTER).values());
                List<Tensor> others = model.trainableParameters().stream().filter(t -> !gateParams.contains(t)).toList();
                optimizers.add(new AdamW(List.of(new ParamGroup("lora", others, s.lrAdapter(), s.weightDecay()))));
                gates = new SoraGateOptimizer(gateParams, s.gateLr(), s.gateLambda(), SoraGateOptimizer.Rule.PROXIMAL);
                optimizers.add(gates);
            }
            case PISSA -> {
                rank = s.rMax();
                double scale = s.alpha() / s.rMax();
                Peft.attach(model, ADAPTER, task.targets(), (path, w) -> SvdInit.pissa(w, s.rMax(), scale, -1, null));
                optimizers.add(new AdamW(List.of(new ParamGroup("pissa", model.trainableParameters(), s.lrAdapter(), s.weightDecay()))));
            }
        }
        if (method != Method.FULL) {
            for (String name : task.fullyTrained()) for (Tensor p : model.module(name).parameters()) p.requiresGrad(true);
            // The optimizers above were built from the adapter parameters; the head joins the first one.
            if (!task.fullyTrained().isEmpty()) {
                List<Tensor> head = new ArrayList<>();
                for (String name : task.fullyTrained()) head.addAll(model.module(name).parameters());
                optimizers.add(new AdamW(List.of(new ParamGroup("head", head, s.lrAdapter(), 0))));
            }
        }
        long trainable = model.trainableCount();
        List<Map<String, Integer>> gateHistory = new ArrayList<>();
        int every = Math.max(1, s.steps() / 50);
        boolean sora = gates != null;
        List<Double> losses = Trainer.train(model, task.trainX(), task.trainY(), task.loss(), optimizers, s.steps(), s.batch(), gen,
                (step, loss) -> {
                    if (sora && (step % every == 0 || step == s.steps() - 1)) gateHistory.add(Sora.effectiveRanks(model, ADAPTER));
                    progress.step(step + 1, loss);
                });
        List<Stage> stages = new ArrayList<>();
        if (method == Method.SORA_SCHEDULED) {
            for (double xi : s.schedule()) {
                gates.setLambda(xi / s.gateLr()); // the scheduler raises ξ = η·λ
                losses.addAll(Trainer.train(model, task.trainX(), task.trainY(), task.loss(), optimizers, s.stageSteps(), s.batch(), gen,
                        (step, loss) -> { }));
                stages.add(new Stage(xi, Sora.effectiveRanks(model, ADAPTER), Sora.activeParameterCount(model, ADAPTER), task.metric(model)));
            }
        }
        Map<String, Integer> ranks = sora ? Sora.effectiveRanks(model, ADAPTER) : Map.of();
        long after = trainable;
        double metric;
        if (sora) {
            after = Sora.prunedParameterCount(model, ADAPTER);
            Sora.prune(model, ADAPTER);
        }
        metric = task.metric(model);
        return new Result(method, rank, trainable, after, losses, metric, ranks, gateHistory, stages,
                (System.nanoTime() - start) / 1e9);
    }

    /// Receives the step count as a method trains.
    @FunctionalInterface
    interface Progressing {
        void step(int done, double loss);
    }

    /// Mean and sample standard deviation.
    static double[] meanStd(List<Double> xs) {
        double m = 0;
        for (double x : xs) m += x;
        m /= xs.size();
        double v = 0;
        for (double x : xs) v += (x - m) * (x - m);
        return new double[] {m, xs.size() > 1 ? Math.sqrt(v / (xs.size() - 1)) : 0};
    }

    static Map<String, Object> row(Result r, String metricName) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", r.method().label);
        m.put("rank", r.rank());
        m.put("trainable_params", r.trainable());
        m.put("params_after_pruning", r.afterPruning());
        m.put("metric", metricName);
        return m;
    }
}
