package dev.rankwise.cli.repro;

import dev.rankwise.cli.ReproContext;
import dev.rankwise.cli.Reproduction;
import dev.rankwise.cli.data.FashionMnist;

import java.nio.file.Path;
import java.util.function.Function;

/// `rankwise repro sora`: the claims of SoRA (arXiv 2311.11696) at laptop scale.
///
/// 1. Planted rank ([PlantedExperiment]): adapting a frozen network to a target that differs by a known
///    low-rank change per matrix, SoRA's proximal gate must close exactly the ranks that are not needed —
///    its effective rank per matrix must equal the planted rank — while reaching LoRA r_max's test error
///    with the parameters of the planted ranks only.
/// 2. Fashion-MNIST transfer ([FashionExperiment]): a network pretrained on classes 0–4 is adapted to
///    classes 5–9 with full fine-tuning, LoRA, SoRA and PiSSA at matched r_max, over several seeds. Runs
///    when the IDX files are found (`--data DIR`, or Debian's `dataset-fashion-mnist`); otherwise the run
///    says how to get them and does experiment 1 only.
public final class SoraReproduction implements Reproduction {
    private final Function<Boolean, PlantedExperiment.Setup> planted;
    private final Function<Boolean, FashionExperiment.Setup> fashion;

    public SoraReproduction() {
        this(PlantedExperiment::setup, FashionExperiment::setup);
    }

    /// With other configurations than the defaults (tests use small ones); each function gets `quick`.
    SoraReproduction(Function<Boolean, PlantedExperiment.Setup> planted, Function<Boolean, FashionExperiment.Setup> fashion) {
        this.planted = planted;
        this.fashion = fashion;
    }

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
        long start = System.nanoTime();
        ctx.log().println("SoRA reproduction" + (ctx.quick() ? " (quick)" : "") + " on " + ctx.device() + "; results under " + ctx.out());
        // Find the data first: a wrong --data should fail before minutes of experiment 1, not after.
        Path data = FashionMnist.locate(ctx.data(), ctx.dataSearch());
        PlantedExperiment.Outcome outcome = PlantedExperiment.run(ctx, planted.apply(ctx.quick()));
        if (data == null) {
            ctx.log().println();
            ctx.log().println("Experiment 2 (Fashion-MNIST) skipped: " + FashionMnist.howToGet());
        } else {
            FashionExperiment.run(ctx, data, fashion.apply(ctx.quick()));
        }
        ctx.log().println();
        if (outcome.recovered() < outcome.seeds()) {
            ctx.log().printf("NOTE: SoRA missed a planted rank on %d of %d seeds (see the table above).%n",
                    outcome.seeds() - outcome.recovered(), outcome.seeds());
        }
        ctx.log().printf("Done in %.1f s; results under %s%n", (System.nanoTime() - start) / 1e9, ctx.out());
        return 0;
    }
}
