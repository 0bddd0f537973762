package dev.rankwise.cli.repro;

import dev.rankwise.cli.ReproContext;
import dev.rankwise.cli.report.Machine;
import dev.rankwise.cli.report.Plots;
import dev.rankwise.cli.repro.Methods.GatePoint;
import dev.rankwise.cli.repro.Methods.Result;
import dev.rankwise.cli.repro.Methods.Stage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleFunction;

/// What both experiments report: one results.json row and one table row per method (aggregated over
/// seeds), the file header, and the plots drawn from the first seed's curves.
final class Summary {
    private Summary() {}

    /// The results.json header: `experiment`, `command`, `seeds`, `machine`, then `planted_ranks` when
    /// given, then the settings.
    static Map<String, Object> header(String experiment, ReproContext ctx, Map<String, Integer> plantedRanks, Recipe recipe) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("experiment", experiment);
        json.put("command", ctx.command());
        json.put("seeds", ctx.seeds());
        Map<String, Object> machine = Machine.describe();
        machine.put("device", ctx.device().toString());
        json.put("machine", machine);
        if (plantedRanks != null) json.put("planted_ranks", plantedRanks);
        json.put("settings", recipe.describe());
        return json;
    }

    /// One method's row: the fields every results.json row has (`method`, `rank`, `trainable_params`,
    /// `params_after_pruning`, `metric`, `metric_mean`, `metric_std`, SoRA's `effective_ranks` as
    /// {matrix: [rank per seed]}, `seconds` per run), then `lr`, `per_seed`, and the scheduler's `stages`.
    static Map<String, Object> row(List<Result> rs, String metricName) {
        Result first = rs.get(0);
        double[] metric = Methods.meanStd(rs.stream().map(Result::metric).toList());
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("method", first.method().label);
        row.put("rank", first.method() == Method.FULL ? null : first.rank());
        row.put("trainable_params", first.trainable());
        row.put("params_after_pruning", Math.round(mean(rs, r -> r.afterPruning())));
        row.put("metric", metricName);
        row.put("metric_mean", metric[0]);
        row.put("metric_std", metric[1]);
        if (!first.effectiveRanks().isEmpty()) row.put("effective_ranks", ranksPerMatrix(rs));
        row.put("seconds", mean(rs, Result::seconds));
        row.put("lr", first.lr());
        List<Map<String, Object>> perSeed = new ArrayList<>();
        for (Result r : rs) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("seed", r.seed());
            s.put("metric", r.metric());
            s.put("params_after_pruning", r.afterPruning());
            if (!r.effectiveRanks().isEmpty()) s.put("effective_ranks", r.effectiveRanks());
            if (!r.stages().isEmpty()) s.put("stages", stages(r.stages()));
            s.put("seconds", r.seconds());
            perSeed.add(s);
        }
        row.put("per_seed", perSeed);
        return row;
    }

    private static List<Map<String, Object>> stages(List<Stage> stages) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Stage st : stages) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lambda", st.lambda());
            m.put("xi", st.xi());
            m.put("effective_ranks", st.gates());
            m.put("params_after_pruning", st.paramsAfterPruning());
            m.put("metric", st.metric());
            out.add(m);
        }
        return out;
    }

    /// {matrix: [rank on seed 1, seed 2, …]}.
    static Map<String, List<Integer>> ranksPerMatrix(List<Result> rs) {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        for (Result r : rs) r.effectiveRanks().forEach((k, v) -> out.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        return out;
    }

    /// One method's table row: method, rank, trainable, after pruning, metric (mean ± std, by `format`),
    /// the `extra` cells, effective ranks, learning rate, seconds per run.
    static List<String> cells(List<Result> rs, DoubleFunction<String> format, String... extra) {
        Result first = rs.get(0);
        double[] m = Methods.meanStd(rs.stream().map(Result::metric).toList());
        List<String> cells = new ArrayList<>();
        cells.add(first.method().label);
        cells.add(first.method() == Method.FULL ? "-" : Integer.toString(first.rank()));
        cells.add(Long.toString(first.trainable()));
        cells.add(Long.toString(Math.round(mean(rs, r -> r.afterPruning()))));
        cells.add(rs.size() > 1 ? format.apply(m[0]) + " ± " + format.apply(m[1]) : format.apply(m[0]));
        cells.addAll(List.of(extra));
        cells.add(ranksCell(rs));
        cells.add(String.format("%.0e", first.lr()));
        cells.add(String.format("%.1f", mean(rs, Result::seconds)));
        return cells;
    }

    /// SoRA's effective ranks over seeds: `[1, 3, 6]` when every seed agrees (`×3` for three seeds), else each seed's.
    static String ranksCell(List<Result> rs) {
        if (rs.get(0).effectiveRanks().isEmpty()) return "";
        List<String> each = rs.stream().map(r -> r.effectiveRanks().values().toString()).toList();
        if (each.stream().distinct().count() == 1) return each.get(0) + (each.size() > 1 ? " ×" + each.size() : "");
        return String.join(" ", each);
    }

    static double mean(List<Result> rs, java.util.function.ToDoubleFunction<Result> f) {
        return rs.stream().mapToDouble(f).average().orElse(Double.NaN);
    }

    /// Writes loss.png, and for SoRA sora_gates.png and sora_scheduler.png, from each method's first seed.
    ///
    /// @param planted  the planted rank per matrix (drawn as dashed references), or empty
    /// @param lossName what the training loss is, for the y axis
    static void plots(Path dir, String experiment, Recipe recipe, Map<Method, List<Result>> byMethod, String lossName,
                      String metricName, boolean logMetric, Map<String, Integer> planted, long plantedParams) throws Exception {
        List<Plots.Series> curves = new ArrayList<>();
        int color = 0;
        for (List<Result> rs : byMethod.values()) {
            Result r = rs.get(0);
            // the scheduler continues SoRA's run: SoRA's colour, dashed
            if (r.method() == Method.SORA_SCHEDULED) curves.add(Plots.smooth(r.method().label, r.losses(), 100, color - 1).dashed());
            else curves.add(Plots.smooth(r.method().label, r.losses(), 100, color++));
        }
        long seed = byMethod.values().iterator().next().get(0).seed();
        Plots.write(dir.resolve("loss.png"), new Plots.Chart(experiment + ": training loss per method (seed " + seed
                + ", means of 1% windows)", "step", lossName, true, curves));

        List<Result> sora = byMethod.get(Method.SORA);
        if (sora == null) return;
        List<Result> scheduled = byMethod.get(Method.SORA_SCHEDULED);
        Result gated = scheduled != null ? scheduled.get(0) : sora.get(0);
        List<Plots.Series> gates = new ArrayList<>();
        List<String> matrices = new ArrayList<>(gated.gates().get(0).nonZero().keySet());
        double[] steps = gated.gates().stream().mapToDouble(GatePoint::step).toArray();
        for (int i = 0; i < matrices.size(); i++) {
            String name = matrices.get(i);
            double[] y = gated.gates().stream().mapToDouble(p -> p.nonZero().get(name)).toArray();
            gates.add(Plots.Series.line(name, steps, y, i).steps());
            Integer k = planted.get(name);
            if (k != null) {
                gates.add(Plots.Series.line(name + " planted rank", new double[] {0, steps[steps.length - 1]}, new double[] {k, k}, i).dashed());
            }
        }
        List<Plots.Marker> markers = scheduled != null
                ? List.of(new Plots.Marker(sora.get(0).losses().size(), "scheduler stages begin"))
                : List.of();
        Plots.write(dir.resolve("sora_gates.png"), new Plots.Chart(experiment + ": SoRA's non-zero gates per matrix (seed " + gated.seed() + ")",
                "step", "non-zero gates (effective rank)", false, true, gates, markers, List.of()));

        if (scheduled == null) return;
        List<Plots.Series> trade = new ArrayList<>();
        List<Plots.Label> labels = new ArrayList<>();
        for (int i = 0; i < scheduled.size(); i++) {
            Result r = scheduled.get(i);
            Result main = sora.get(i);
            int n = r.stages().size() + 1;
            double[] x = new double[n], y = new double[n];
            x[0] = main.afterPruning();
            y[0] = main.metric();
            for (int j = 1; j < n; j++) {
                x[j] = r.stages().get(j - 1).paramsAfterPruning();
                y[j] = r.stages().get(j - 1).metric();
            }
            trade.add(Plots.Series.line("seed " + r.seed(), x, y, i).withMarkers());
            if (i == 0) {
                // Labels centre on their position: beside the point, to the right unless that leaves the plot.
                double max = java.util.Arrays.stream(x).max().orElse(0), min = java.util.Arrays.stream(x).min().orElse(0);
                double shift = 0.08 * Math.max(max - min, 0.3 * max);
                for (int j = 0; j < n; j++) {
                    String text = j == 0 ? String.format("main run, λ %.3g", recipe.gateLambda())
                            : String.format("λ %.3g", r.stages().get(j - 1).lambda());
                    labels.add(new Plots.Label(x[j] + shift <= max ? x[j] + shift : x[j] - shift, y[j], text));
                }
            }
        }
        List<Plots.Marker> ref = plantedParams > 0 ? List.of(new Plots.Marker(plantedParams, "planted ranks")) : List.of();
        Plots.write(dir.resolve("sora_scheduler.png"), new Plots.Chart(experiment + ": sparsifying scheduler, one point per stage",
                "parameters after pruning", metricName, logMetric, false, trade, ref, labels));
    }

    /// The scheduler's stages on the first seed as a small table (nothing without a scheduler row).
    static void printStages(ReproContext ctx, Recipe recipe, Map<Method, List<Result>> byMethod, DoubleFunction<String> format) {
        List<Result> scheduled = byMethod.get(Method.SORA_SCHEDULED);
        if (scheduled == null) return;
        Result r = scheduled.get(0), main = byMethod.get(Method.SORA).get(0);
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("main run", String.format("%.3g", recipe.gateLambda()), String.format("%.2e", recipe.gateLr() * recipe.gateLambda()),
                main.effectiveRanks().values().toString(), Long.toString(main.afterPruning()), format.apply(main.metric())));
        int i = 1;
        for (Stage st : r.stages()) {
            rows.add(List.of("stage " + i++, String.format("%.3g", st.lambda()), String.format("%.2e", st.xi()), st.gates().values().toString(),
                    Long.toString(st.paramsAfterPruning()), format.apply(st.metric())));
        }
        ctx.log().printf("SoRA's sparsifying scheduler, seed %d: λ raised stage by stage, %d steps each at %.1f× the peak learning "
                + "rates; ξ = η·λ at the stage's peak η; ranks closed stay closed%n", r.seed(), recipe.stageSteps(), recipe.stageLr());
        ctx.log().print(dev.rankwise.cli.report.Results.table(
                List.of("", "lambda", "xi", "effective ranks", "after pruning", "metric"), rows));
    }
}
