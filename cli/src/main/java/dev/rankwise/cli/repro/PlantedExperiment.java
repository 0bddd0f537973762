package dev.rankwise.cli.repro;

import dev.rankwise.cli.ReproContext;
import dev.rankwise.cli.report.Results;
import dev.rankwise.cli.repro.Methods.Result;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// Experiment 1: planted ranks. A frozen network, a target that differs from it by a change of known rank
/// in each adapted matrix ([PlantedRankTask]), and every method adapting to it. SoRA's effective rank per
/// matrix is reported next to the planted rank, and each method's test MSE next to the best its form can
/// reach.
final class PlantedExperiment {
    private PlantedExperiment() {}

    static final List<Method> METHODS = List.of(Method.FULL, Method.LORA_MAX, Method.LORA_SMALL, Method.SORA, Method.PISSA);

    /// The task, the recipe and the methods of one configuration.
    record Setup(PlantedRankTask.Config task, Recipe recipe, List<Method> methods) {}

    static Setup setup(boolean quick) {
        PlantedRankTask.Config task = new PlantedRankTask.Config(32, 32, new int[] {1, 3, 6}, 4096, 2048, 0.0);
        return new Setup(task, quick ? recipe(1500, 3, 150) : recipe(3000, 6, 300), METHODS);
    }

    /// The recipe, from sweeps on seeds 10–19 (never the reported seeds 0–2), 3000 steps unless said:
    /// - learning rates over {1e-3, 3e-3, 1e-2}: every method's test MSE was lowest or level at 1e-2
    ///   (full fine-tuning 3e-17, LoRA r_max 9e-10; LoRA small r and PiSSA r_max sit at their best fit
    ///   whatever the rate), so every method gets 1e-2;
    /// - SoRA (η_gate, λ) over {2e-2, 5e-2} × {0.1, 0.15, 0.2} with weight decay 0.1 (the authors'
    ///   setting): λ = 0.15 found the planted ranks on 10 of 10 seeds by a quarter of the run at 3000
    ///   steps and on 8 of 8 at 1500; λ = 0.1 also on 8 of 8 but later; η_gate = 5e-2 missed one;
    /// - the scheduler's stages raise λ geometrically from 2λ to 64λ at 0.3× the peak learning rates
    ///   (300 steps each): the planted ranks held to about 32λ on seeds 11, 15, 17 while the fit worsened
    ///   (the L1 term's bias), and began to close at 64λ; at the full peak rate the first stage already
    ///   closed a needed rank on 3 of 10 seeds.
    static Recipe recipe(int steps, int stages, int stageSteps) {
        return Recipe.standard(Recipe.sameLr(METHODS, 1e-2), steps, 0.15, 64, stages, stageSteps);
    }

    /// What the experiment found: every method's results by seed, and on how many seeds SoRA's effective
    /// ranks equalled the planted ranks.
    record Outcome(Map<Method, List<Result>> byMethod, int recovered, int seeds) {}

    static Outcome run(ReproContext ctx, Setup setup) throws Exception {
        PlantedRankTask.Config cfg = setup.task();
        Recipe recipe = setup.recipe();
        Map<String, Integer> planted = plantedRanks(cfg);
        var log = ctx.log();
        log.printf("%nExperiment 1: planted ranks %s; three tanh heads %d -> %d, r_max %d, %d training / %d test inputs; "
                        + "%d steps per method; seeds %s%n", describe(planted), cfg.dIn(), cfg.hidden(), recipe.rMax(), cfg.trainSize(), cfg.testSize(),
                recipe.steps(), Arrays.toString(ctx.seeds()));
        Map<Method, List<Result>> byMethod = new LinkedHashMap<>();
        Map<Method, List<Double>> bestFit = new EnumMap<>(Method.class);
        List<Double> pretrained = new ArrayList<>();
        for (long seed : ctx.seeds()) {
            PlantedRankTask task = new PlantedRankTask(cfg, seed, ctx.device());
            pretrained.add(task.pretrainedTestMse());
            for (Method m : setup.methods()) {
                for (Result r : Methods.runWithProgress(ctx, m, task, recipe, seed)) byMethod.computeIfAbsent(r.method(), k -> new ArrayList<>()).add(r);
            }
            for (Method m : setup.methods()) {
                double fit = task.bestFitTestMse(expressibleRank(m, recipe, cfg), m == Method.PISSA);
                bestFit.computeIfAbsent(m, k -> new ArrayList<>()).add(fit);
                if (m == Method.SORA) bestFit.computeIfAbsent(Method.SORA_SCHEDULED, k -> new ArrayList<>()).add(fit);
            }
        }

        int recovered = 0;
        for (Result r : byMethod.getOrDefault(Method.SORA, List.of())) if (r.effectiveRanks().equals(planted)) recovered++;
        int seeds = ctx.seeds().length;

        Map<String, Object> json = Summary.header("planted", ctx, planted, recipe);
        json.put("task", Map.of("d_in", cfg.dIn(), "hidden", cfg.hidden(), "heads", PlantedRankTask.ADAPTED.size(),
                "train_size", cfg.trainSize(), "test_size", cfg.testSize(), "noise", cfg.noise()));
        json.put("pretrained_test_mse", Methods.meanStd(pretrained)[0]);
        json.put("sora_recovered_seeds", recovered);
        List<Map<String, Object>> rows = new ArrayList<>();
        List<List<String>> table = new ArrayList<>();
        for (var e : byMethod.entrySet()) {
            List<Result> rs = e.getValue();
            Map<String, Object> row = Summary.row(rs, "test_mse");
            double fit = bestFit(e.getKey(), bestFit);
            row.put("best_fit_test_mse", fit);
            rows.add(row);
            table.add(Summary.cells(rs, v -> String.format("%.2e", v), fit == 0 ? "0" : String.format("%.2e", fit)));
        }
        json.put("rows", rows);
        Path dir = ctx.out().resolve("planted");
        Results.writeJson(dir.resolve("results.json"), json);
        long plantedParams = 0;
        for (int k : cfg.plantedRanks()) plantedParams += (long) k * (cfg.dIn() + cfg.hidden());
        Summary.plots(dir, "Planted ranks", recipe, byMethod, "training loss (MSE / pretrained MSE)", "test MSE", true, planted, plantedParams);

        log.println();
        log.printf("Experiment 1 — planted ranks %s, %d seed%s (test MSE mean ± std over seeds; pretrained model: %.2e)%n",
                planted.values(), seeds, seeds == 1 ? "" : "s", Methods.meanStd(pretrained)[0]);
        log.print(Results.table(List.of("method", "rank", "trainable", "after pruning", "test MSE", "best-fit MSE",
                "effective ranks", "lr", "seconds"), table));
        log.println("best-fit MSE: the test MSE of the nearest weights the method's form can express (0: the planted change fits).");
        log.println("  PiSSA r_max freezes W minus its top-" + recipe.rMax() + " singular part, so its rank-" + recipe.rMax()
                + " adapter must hold that part and the planted change (rank " + recipe.rMax() + " + k) at once.");
        Summary.printStages(ctx, recipe, byMethod, v -> String.format("%.3e", v));
        log.printf("SoRA found the planted ranks %s on %d of %d seed%s.%n", planted.values(), recovered, seeds, seeds == 1 ? "" : "s");
        log.println("wrote " + dir.resolve("results.json") + " and plots (loss.png, sora_gates.png, sora_scheduler.png)");
        return new Outcome(byMethod, recovered, seeds);
    }

    /// `fc1: 1, fc2: 3, fc3: 6`.
    static String describe(Map<String, Integer> ranks) {
        return String.join(", ", ranks.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList());
    }

    static Map<String, Integer> plantedRanks(PlantedRankTask.Config cfg) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < PlantedRankTask.ADAPTED.size(); i++) m.put(PlantedRankTask.ADAPTED.get(i), cfg.plantedRanks()[i]);
        return m;
    }

    private static double bestFit(Method m, Map<Method, List<Double>> computed) {
        return Methods.meanStd(computed.get(m))[0];
    }

    /// The largest rank of the update `m` can express per matrix (full fine-tuning: any).
    private static int expressibleRank(Method m, Recipe r, PlantedRankTask.Config cfg) {
        return switch (m) {
            case FULL -> Math.min(cfg.dIn(), cfg.hidden());
            case LORA_SMALL -> r.rSmall();
            default -> r.rMax();
        };
    }
}
