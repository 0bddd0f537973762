package dev.rankwise.cli.repro;

import dev.rankwise.Tensor;
import dev.rankwise.cli.ReproContext;
import dev.rankwise.cli.Reproduction;
import dev.rankwise.cli.data.FashionMnist;
import dev.rankwise.cli.report.Machine;
import dev.rankwise.cli.report.Plots;
import dev.rankwise.cli.report.Progress;
import dev.rankwise.cli.report.Results;
import dev.rankwise.cli.repro.Methods.Method;
import dev.rankwise.cli.repro.Methods.Result;
import dev.rankwise.nn.Module;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// `rankwise repro sora`: the claims of SoRA (arXiv 2311.11696) at laptop scale.
///
/// 1. Planted rank: adapting a frozen MLP to a target that differs by a known low-rank change per
///    matrix, SoRA's proximal gate must close exactly the ranks that are not needed — its effective
///    rank per matrix must equal the planted rank — while matching LoRA at r_max in test error with
///    fewer parameters after pruning.
/// 2. Fashion-MNIST transfer: a network pretrained on classes 0–4 is adapted to classes 5–9 with full
///    fine-tuning, LoRA, SoRA and PiSSA at matched r_max, over several seeds.
public final class SoraReproduction implements Reproduction {
    @Override
    public String name() {
        return "sora";
    }

    @Override
    public String description() {
        return "SoRA (arXiv 2311.11696): planted-rank recovery, and Fashion-MNIST transfer vs full FT, LoRA, PiSSA";
    }

    @Override
    public int run(ReproContext ctx) throws Exception {
        ctx.log().println("SoRA reproduction" + (ctx.quick() ? " (quick)" : "") + " on " + ctx.device() + "; results under " + ctx.out());
        boolean recovered = planted(ctx);
        Path data = FashionMnist.locate(ctx.data());
        if (data == null) {
            ctx.log().println();
            ctx.log().println("Experiment 2 skipped: " + FashionMnist.howToGet());
        } else {
            fashion(ctx, data);
        }
        if (!recovered) ctx.log().println("WARNING: SoRA did not find every planted rank in this run (see the table).");
        return 0;
    }

    // ---------------------------------------------------------------- experiment 1

    static PlantedRankTask.Config plantedConfig(boolean quick) {
        return new PlantedRankTask.Config(32, 32, new int[] {1, 3, 6}, quick ? 2048 : 4096, 2048, 0.0);
    }

    static Methods.Settings plantedSettings(boolean quick) {
        // Gate step ξ = η·λ: 2e-3 (quick) and 1.5e-3 per step; measured to recover [1, 3, 6] on seeds 0 and 1.
        return quick
                ? new Methods.Settings(8, 2, 16, 1500, 128, 1e-3, 4e-3, 0.1, 2e-2, 0.1, new double[] {4e-3, 8e-3, 1.6e-2}, 150)
                : new Methods.Settings(8, 2, 16, 3000, 128, 1e-3, 4e-3, 0.1, 1e-2, 0.15, new double[] {3e-3, 6e-3, 1.2e-2, 2.4e-2}, 400);
    }

    /// Runs experiment 1; returns whether SoRA found every planted rank (first seed).
    static boolean planted(ReproContext ctx) throws Exception {
        PlantedRankTask.Config cfg = plantedConfig(ctx.quick());
        Methods.Settings s = plantedSettings(ctx.quick());
        long seed = ctx.seeds()[0];
        PlantedRankTask task = new PlantedRankTask(cfg, seed);
        double scale = Trainer.evaluate(task.pretrainedCopy(), task.trainX, task.trainY, (p, y) -> p.sub(y).square().mean());
        Methods.Task t = new Methods.Task() {
            public Module freshModel() { return task.pretrainedCopy(); }
            public List<String> targets() { return PlantedRankTask.ADAPTED; }
            public Tensor trainX() { return task.trainX; }
            public Tensor trainY() { return task.trainY; }
            // MSE divided by the pretrained model's MSE: the loss starts near 1 whatever the task's scale, so
            // the gate's λ means the same thing across configurations. Reported metrics are plain MSE.
            public Trainer.Loss loss() { return (p, y) -> p.sub(y).square().mean().div(scale); }
            public double metric(Module m) { return Trainer.evaluate(m, task.testX, task.testY, (p, y) -> p.sub(y).square().mean()); }
            public String metricName() { return "test_mse"; }
        };
        ctx.log().printf("%nExperiment 1: planted ranks %s in fc1, fc2, fc3 (three tanh heads %d -> %d), seed %d%n",
                java.util.Arrays.toString(cfg.plantedRanks()), cfg.dIn(), cfg.hidden(), seed);
        double baseline = t.metric(task.pretrainedCopy());
        List<Result> results = new ArrayList<>();
        for (Method m : Method.values()) results.add(runWithProgress(ctx, m, t, s, seed));

        Path dir = ctx.out().resolve("planted");
        Map<String, Object> json = header("planted", ctx, new long[] {seed});
        json.put("planted_ranks", plantedMap(cfg));
        json.put("pretrained_test_mse", baseline);
        List<Map<String, Object>> rows = new ArrayList<>();
        List<List<String>> table = new ArrayList<>();
        boolean recovered = true;
        for (Result r : results) {
            Map<String, Object> row = Methods.row(r, t.metricName());
            row.put("metric_mean", r.metric());
            row.put("metric_std", 0.0);
            if (!r.effectiveRanks().isEmpty()) {
                row.put("effective_ranks", r.effectiveRanks());
                if (r.method() == Method.SORA) {
                    recovered = r.effectiveRanks().equals(plantedMap(cfg));
                }
            }
            if (!r.stages().isEmpty()) row.put("stages", r.stages());
            row.put("seconds", r.seconds());
            rows.add(row);
            table.add(List.of(r.method().label, str(r.rank()), str(r.trainable()), str(r.afterPruning()),
                    String.format("%.3e", r.metric()), r.effectiveRanks().isEmpty() ? "" : r.effectiveRanks().values().toString(),
                    String.format("%.1f", r.seconds())));
        }
        json.put("sora_found_planted_ranks", recovered);
        json.put("rows", rows);
        Results.writeJson(dir.resolve("results.json"), json);
        plots(dir, results, "test MSE");
        ctx.log().println();
        ctx.log().print(Results.table(List.of("method", "rank", "trainable", "after pruning", "test MSE", "effective ranks", "seconds"), table));
        ctx.log().printf("planted ranks %s; pretrained test MSE %.3e; SoRA %s the planted ranks.%n",
                plantedMap(cfg).values(), baseline, recovered ? "found" : "did NOT find");
        ctx.log().println("wrote " + dir.resolve("results.json") + " and plots");
        return recovered;
    }

    private static Map<String, Integer> plantedMap(PlantedRankTask.Config cfg) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < PlantedRankTask.ADAPTED.size(); i++) m.put(PlantedRankTask.ADAPTED.get(i), cfg.plantedRanks()[i]);
        return m;
    }

    // ---------------------------------------------------------------- experiment 2

    static void fashion(ReproContext ctx, Path data) throws Exception {
        FashionTask.Config cfg = ctx.quick() ? FashionTask.Config.quick() : FashionTask.Config.full();
        ctx.log().printf("%nExperiment 2: Fashion-MNIST, pretrain on classes 0-4, adapt to classes 5-9 (%s), seeds %s%n",
                cfg.describe(), java.util.Arrays.toString(ctx.seeds()));
        Methods.Settings s = FashionTask.settings(ctx.quick());
        Map<Method, List<Result>> byMethod = new LinkedHashMap<>();
        List<Method> methods = List.of(Method.FULL, Method.LORA_MAX, Method.SORA, Method.PISSA);
        for (long seed : ctx.seeds()) {
            FashionTask task = FashionTask.load(data, cfg, seed, ctx.log());
            for (Method m : methods) byMethod.computeIfAbsent(m, k -> new ArrayList<>()).add(runWithProgress(ctx, m, task, s, seed));
        }
        Path dir = ctx.out().resolve("fashion-mnist");
        Map<String, Object> json = header("fashion-mnist", ctx, ctx.seeds());
        json.put("task", cfg.describe());
        List<Map<String, Object>> rows = new ArrayList<>();
        List<List<String>> table = new ArrayList<>();
        List<Result> firsts = new ArrayList<>();
        for (var e : byMethod.entrySet()) {
            List<Result> rs = e.getValue();
            Result first = rs.get(0);
            firsts.add(first);
            double[] ms = Methods.meanStd(rs.stream().map(Result::metric).toList());
            double[] after = Methods.meanStd(rs.stream().map(r -> (double) r.afterPruning()).toList());
            Map<String, Object> row = Methods.row(first, "test_accuracy");
            row.put("params_after_pruning", Math.round(after[0]));
            row.put("metric_mean", ms[0]);
            row.put("metric_std", ms[1]);
            row.put("per_seed", rs.stream().map(Result::metric).toList());
            if (!first.effectiveRanks().isEmpty()) row.put("effective_ranks", rs.stream().map(Result::effectiveRanks).toList());
            row.put("seconds", rs.stream().mapToDouble(Result::seconds).sum());
            rows.add(row);
            table.add(List.of(first.method().label, str(first.rank()), str(first.trainable()), str(Math.round(after[0])),
                    String.format("%.2f ± %.2f", 100 * ms[0], 100 * ms[1]),
                    first.effectiveRanks().isEmpty() ? "" : first.effectiveRanks().values().toString(),
                    String.format("%.1f", rs.stream().mapToDouble(Result::seconds).sum())));
        }
        json.put("rows", rows);
        Results.writeJson(dir.resolve("results.json"), json);
        plots(dir, firsts, "test accuracy");
        ctx.log().println();
        ctx.log().print(Results.table(List.of("method", "rank", "trainable", "after pruning", "accuracy %", "effective ranks (first seed)", "seconds"), table));
        ctx.log().println("wrote " + dir.resolve("results.json") + " and plots");
    }

    // ---------------------------------------------------------------- shared

    private static Result runWithProgress(ReproContext ctx, Method m, Methods.Task t, Methods.Settings s, long seed) {
        int total = s.steps();
        try (Progress p = Progress.start(m.label + " (seed " + seed + ")", total, ctx.log())) {
            return Methods.run(m, t, s, seed, (done, loss) -> p.step(Math.min(done, total), loss));
        }
    }

    private static Map<String, Object> header(String experiment, ReproContext ctx, long[] seeds) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("experiment", experiment);
        json.put("command", ctx.command());
        json.put("seeds", seeds);
        json.put("machine", Machine.describe());
        json.put("device", ctx.device().toString());
        return json;
    }

    private static void plots(Path dir, List<Result> results, String metric) throws Exception {
        List<Plots.Series> curves = new ArrayList<>();
        for (Result r : results) curves.add(Plots.smooth(r.method().label, r.losses(), 200));
        Plots.line(dir.resolve("loss.png"), "Training loss", "step", "loss", curves, true, false);
        for (Result r : results) {
            if (r.gateHistory().isEmpty() || r.method() != Method.SORA) continue;
            List<Plots.Series> gates = new ArrayList<>();
            for (String layer : r.gateHistory().get(0).keySet()) {
                double[] x = new double[r.gateHistory().size()], y = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    x[i] = i;
                    y[i] = r.gateHistory().get(i).get(layer);
                }
                gates.add(new Plots.Series(layer, x, y));
            }
            Plots.line(dir.resolve("sora_gates.png"), "SoRA: non-zero gates per matrix", "checkpoint (every 2% of training)",
                    "non-zero gates", gates, false, false);
        }
        for (Result r : results) {
            if (r.stages().isEmpty()) continue;
            double[] x = r.stages().stream().mapToDouble(st -> st.params()).toArray();
            double[] y = r.stages().stream().mapToDouble(Methods.Stage::metric).toArray();
            Plots.line(dir.resolve("sora_scheduler.png"), "SoRA sparsifying scheduler: parameters vs " + metric,
                    "non-zero adapter parameters", metric, List.of(new Plots.Series("stages", x, y)), false, true);
        }
    }

    private static String str(long v) {
        return Long.toString(v);
    }
}
