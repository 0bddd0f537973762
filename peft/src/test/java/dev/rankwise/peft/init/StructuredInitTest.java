package dev.rankwise.peft.init;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.ops.Special;
import dev.rankwise.optim.AdamW;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.peft.AdapterLayer;
import dev.rankwise.peft.LoraConfig;
import dev.rankwise.peft.Part;
import dev.rankwise.peft.Peft;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static dev.rankwise.peft.init.SvdInitTest.maxDiff;
import static org.junit.jupiter.api.Assertions.*;

/// LaMDA, FedSVD and LQ-LoRA with its quantizers (METHODS.md §3).
class StructuredInitTest {
    private final Generator gen = new Generator(61);
    private final Tensor w = Tensor.randn(gen, DType.F64, 12, 9);

    private static Module single(Linear lin) {
        return new Module() {
            {
                registerModule("layer", lin);
            }

            @Override
            public Tensor forward(Tensor x) {
                return module("layer").forward(x);
            }
        };
    }

    @Test
    void lamdaStartsAtWWithAFrozenAAndACore() {
        Factors f = Lamda.init(w, 3, 2.0);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12);
        Linear lin = new Linear(9, 12, false, gen, DType.F64);
        Module m = single(lin);
        Peft.attach(m, "l", List.of("layer"), (p, wt) -> Lamda.init(wt, 3, 2.0));
        AdapterLayer l = Peft.adapterLayers(m).get("layer");
        assertEquals(Set.of(Part.A), l.spec("l").frozen());
        assertEquals(12 * 3 + 3 * 3, m.trainableCount(), "B and the r×r core train");
        assertEquals(0, Lamda.frozenColumnsAt(0, 10, 3));
        assertEquals(1, Lamda.frozenColumnsAt(4, 10, 3));
        assertEquals(3, Lamda.frozenColumnsAt(50, 10, 3));
    }

    /// Frozen columns of B keep their values through optimizer steps (which do move the rest), and
    /// once all are frozen B leaves the parameters.
    @Test
    void lamdaFreezesColumnsOfB() {
        Linear lin = new Linear(9, 12, true, gen, DType.F64);
        Module m = single(lin);
        Peft.attach(m, "l", List.of("layer"), (p, wt) -> Lamda.init(wt, 3, 1.0));
        AdapterLayer l = Peft.adapterLayers(m).get("layer");
        AdamW opt = new AdamW(List.of(new ParamGroup("all", m.trainableParameters(), 1e-2, 0.1)));
        Tensor x = Tensor.randn(gen, DType.F64, 8, 9);
        Lamda.applySchedule(m, "l", 4, 10);
        assertEquals(1, l.frozenColumns("l"));
        Tensor b0 = l.effectiveB("l").copy();
        for (int i = 0; i < 3; i++) {
            opt.zeroGrad();
            m.forward(x).square().sum().backward();
            assertEquals(0, l.loraB("l").grad().narrow(1, 0, 1).abs().max().item(), "no gradient reaches a frozen column");
            opt.step();
        }
        Tensor b1 = l.effectiveB("l");
        assertEquals(0, maxDiff(b1.narrow(1, 0, 1), b0.narrow(1, 0, 1)), "column 0 is frozen");
        assertTrue(maxDiff(b1.narrow(1, 1, 2), b0.narrow(1, 1, 2)) > 1e-4, "the others train");
        Tensor y = noGrad(() -> m.forward(x));
        Lamda.applySchedule(m, "l", 10, 10);
        assertEquals(3 * 3, m.trainableCount(), "all of B frozen: only the core trains");
        assertTrue(maxDiff(noGrad(() -> m.forward(x)), y) < 1e-12, "freezing does not change the function");
    }

    /// The authors' code freezes ⌊iteration/(η·T·accumulation)⌋ columns: one per 0.3·T steps for η = 0.3,
    /// capped at r; with accumulation the count runs over micro-batches. Values by hand for T = 100, off the
    /// exact boundaries (0.3·100 is 30.000000000000004 in binary, in Python as here).
    @Test
    void lamdaAuthorsCodeFreezesOneColumnPerEtaT() {
        int[][] cases = {{29, 1, 0}, {31, 1, 1}, {59, 1, 1}, {61, 1, 2}, {91, 1, 3}, {100, 1, 3}, {119, 4, 0}, {121, 4, 1}, {361, 4, 3}};
        for (int[] c : cases) assertEquals(c[2], Lamda.frozenColumnsAuthorsCode(c[0], 100, c[1], 0.3, 8), "iteration " + c[0] + ", accumulation " + c[1]);
        assertEquals(2, Lamda.frozenColumnsAuthorsCode(91, 100, 1, 0.3, 2), "capped at r");
        Module m = single(new Linear(9, 12, true, gen, DType.F64));
        Peft.attach(m, "l", List.of("layer"), (p, wt) -> Lamda.init(wt, 4, 1.0));
        Lamda.applyAuthorsCodeSchedule(m, "l", 61, 100, 1, 0.3);
        assertEquals(2, Peft.adapterLayers(m).get("layer").frozenColumns("l"));
        assertThrows(IllegalArgumentException.class, () -> Lamda.frozenColumnsAuthorsCode(1, 100, 1, 0, 4));
    }

    @Test
    void fedsvdRefactorizationKeepsTheProductWithOrthonormalA() {
        Tensor bMean = Tensor.randn(gen, DType.F64, 12, 3), a = Tensor.randn(gen, DType.F64, 3, 9);
        Tensor[] ab = FedSvd.refactor(bMean, a);
        assertTrue(maxDiff(ab[1].matmul(ab[0]), bMean.matmul(a)) < 1e-12, "B_new·A_new = B̄·A");
        assertTrue(maxDiff(ab[0].matmul(ab[0].t()), Tensor.eye(3, DType.F64)) < 1e-12, "A_new·A_newᵀ = I");
        double[] bNorms = ab[1].square().sum(0, false).sqrt().toDoubleArray(), sv = Linalg.svdvals(bMean.matmul(a)).toDoubleArray();
        for (int i = 0; i < 3; i++) assertEquals(sv[i], bNorms[i], 1e-12, "B_new = U_rΣ_r");
    }

    @Test
    void fedsvdRoundOverClientModels() {
        Linear base = new Linear(9, 12, false, gen, DType.F64);
        List<Module> clients = new ArrayList<>();
        Module server = single(copyOf(base));
        Peft.attach(server, "f", LoraConfig.lora(3, List.of("layer")), new Generator(1));
        FedSvd.freezeA(server, "f");
        Tensor a = Peft.adapterLayers(server).get("layer").loraA("f");
        Tensor sum = Tensor.zeros(DType.F64, 12, 3);
        for (int c = 0; c < 3; c++) {
            Module client = single(copyOf(base));
            Peft.attach(client, "f", LoraConfig.lora(3, List.of("layer")), new Generator(1)); // same seed: the same A
            FedSvd.freezeA(client, "f");
            assertEquals(12 * 3, client.trainableCount(), "clients train B only");
            Tensor b = Tensor.randn(new Generator(10 + c), DType.F64, 12, 3);
            try (var ignored = GradMode.noGrad()) {
                Peft.adapterLayers(client).get("layer").loraB("f").copyFrom(b);
            }
            sum = sum.add(b);
            clients.add(client);
        }
        Tensor product = sum.div(3.0).matmul(a);
        FedSvd.aggregate(server, clients, "f");
        AdapterLayer s = Peft.adapterLayers(server).get("layer");
        assertTrue(maxDiff(s.loraB("f").matmul(s.loraA("f")), product) < 1e-12);
        for (Module c : clients) {
            AdapterLayer cl = Peft.adapterLayers(c).get("layer");
            assertEquals(0, maxDiff(cl.loraA("f"), s.loraA("f")));
            assertEquals(0, maxDiff(cl.loraB("f"), s.loraB("f")));
        }
    }

    private static Linear copyOf(Linear l) {
        Linear c = new Linear(l.inFeatures(), l.outFeatures(), false, new Generator(0), l.weight().dtype());
        c.setParameter("weight", l.weight());
        return c;
    }

    @Test
    void lqLoraWithTheIdentityQuantizerHasZeroError() {
        LqLora.Result r = LqLora.decompose(w, 3, Quantizer.identity(), 10);
        assertTrue(r.errors()[r.errors().length - 1] < 1e-12);
        assertTrue(maxDiff(r.q().add(r.l1().matmul(r.l2())), w) < 1e-12);
        Factors f = r.factors(2.0);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12);
    }

    @Test
    void lqLoraStopsWhenTheErrorRisesAndKeepsTheBest() {
        Tensor big = Tensor.randn(gen, DType.F64, 32, 24);
        LqLora.Result r = LqLora.decompose(big, 4, Quantizer.nf4(64), 30);
        double[] e = r.errors();
        for (int i = 1; i < e.length - 1; i++) assertTrue(e[i] <= e[i - 1], "non-increasing until the stop");
        double kept = big.sub(r.q()).sub(r.l1().matmul(r.l2())).norm().item();
        double best = java.util.Arrays.stream(e).min().orElseThrow();
        assertEquals(best, kept, 1e-12, "the kept decomposition has the smallest error");
        double quantOnly = big.sub(Quantizer.nf4(64).quantize(big)).norm().item();
        assertTrue(kept < quantOnly, "the low-rank part absorbs quantization error: " + kept + " vs " + quantOnly);
    }

    /// NF4's table is the normalized normal-quantile construction of bitsandbytes' create_normal_map:
    /// Φ⁻¹ at 8 evenly spaced points from 0.9677083 to 0.5 (positive side) and 7 (negative), plus 0.
    @Test
    void nf4LevelsAreNormalQuantiles() {
        double offset = 0.9677083;
        List<Double> v = new ArrayList<>();
        for (int i = 0; i < 8; i++) v.add(inverseNormal(offset + i * (0.5 - offset) / 8));
        for (int i = 0; i < 7; i++) v.add(-inverseNormal(offset + i * (0.5 - offset) / 7));
        v.add(0.0);
        double max = v.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        double[] levels = v.stream().mapToDouble(d -> d / max).sorted().toArray();
        assertArrayEquals(levels, Codebook.NF4, 1e-6, "bitsandbytes computes in F32");
    }

    private static double inverseNormal(double p) {
        double lo = -10, hi = 10;
        for (int i = 0; i < 200; i++) {
            double mid = (lo + hi) / 2;
            if (0.5 * (1 + Special.erf(mid / Math.sqrt(2))) < p) lo = mid;
            else hi = mid;
        }
        return (lo + hi) / 2;
    }

    /// Rounding to the nearest of levels k/L moves each value by at most half a step of its block's absmax.
    @Test
    void uniformQuantizerErrorIsAtMostHalfAStep() {
        Tensor x = Tensor.randn(gen, DType.F64, 10, 13);
        Tensor q = Quantizer.uniform(4, 16).quantize(x);
        double[] xv = x.toDoubleArray(), qv = q.toDoubleArray();
        for (int start = 0; start < xv.length; start += 16) {
            double absmax = 0;
            for (int i = start; i < Math.min(xv.length, start + 16); i++) absmax = Math.max(absmax, Math.abs(xv[i]));
            for (int i = start; i < Math.min(xv.length, start + 16); i++) {
                assertTrue(Math.abs(xv[i] - qv[i]) <= absmax / 7 / 2 + 1e-15);
                double level = qv[i] / absmax * 7;
                assertEquals(Math.rint(level), level, 1e-9, "on the grid k/7");
            }
        }
    }

    private static Tensor noGrad(java.util.function.Supplier<Tensor> f) {
        try (var ignored = GradMode.noGrad()) {
            return f.get();
        }
    }
}
