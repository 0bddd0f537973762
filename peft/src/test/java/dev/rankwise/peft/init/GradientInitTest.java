package dev.rankwise.peft.init;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.peft.AdapterLayer;
import dev.rankwise.peft.LoraConfig;
import dev.rankwise.peft.Peft;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.rankwise.peft.init.SvdInitTest.maxDiff;
import static dev.rankwise.peft.init.SvdInitTest.svdPart;
import static org.junit.jupiter.api.Assertions.*;

/// LoRA-GA and LoRA-SB (METHODS.md §3) and the autograd pass that feeds them.
class GradientInitTest {
    private final Generator gen = new Generator(51);
    private final Tensor w = Tensor.randn(gen, DType.F64, 12, 10), g = Tensor.randn(gen, DType.F64, 12, 10);

    /// A single bias-free Linear "layer" fed x [N, 10]: loss = mean((x Wᵀ − y)²) has the closed-form
    /// gradient ∂L/∂W = 2/(N·m)·(x Wᵀ − y)ᵀ x.
    private static final class Net extends Module {
        Net(Tensor w) {
            Linear l = registerModule("layer", new Linear(w.size(1), w.size(0), false, new Generator(0), w.dtype()));
            l.setParameter("weight", w);
        }

        @Override
        public Tensor forward(Tensor x) {
            return module("layer").forward(x);
        }
    }

    @Test
    void accumulatesTheWeightGradientsAndRestoresTheModel() {
        Net net = new Net(w);
        Peft.attach(net, "a", LoraConfig.lora(2, List.of("layer")), new Generator(1)); // base frozen, adapters trainable
        Tensor bA = net.trainableParameters().get(0);
        List<Tensor[]> batches = List.of(new Tensor[] {Tensor.randn(gen, DType.F64, 7, 10), Tensor.randn(gen, DType.F64, 7, 12)},
                new Tensor[] {Tensor.randn(gen, DType.F64, 5, 10), Tensor.randn(gen, DType.F64, 5, 12)});
        GradientInit.Gradients grads = GradientInit.accumulate(net, List.of("layer"), batches,
                b -> net.forward(b[0]).sub(b[1]).square().mean());
        Tensor expected = Tensor.zeros(DType.F64, 12, 10);
        for (Tensor[] b : batches) {
            expected = expected.add(b[0].matmul(w.t()).sub(b[1]).t().matmul(b[0]).mul(2.0 / (b[0].size(0) * 12)));
        }
        assertEquals(2, grads.batches());
        assertTrue(maxDiff(grads.sum().get("layer"), expected) < 1e-12, "Σ over batches of the closed-form gradient");
        assertTrue(maxDiff(grads.mean().get("layer"), expected.div(2.0)) < 1e-12);
        AdapterLayer layer = Peft.adapterLayers(net).get("layer");
        assertFalse(layer.baseWeight().requiresGrad(), "the base is frozen again");
        assertNull(layer.baseWeight().grad());
        assertTrue(bA.requiresGrad());
        assertNull(bA.grad(), "adapter parameters got no gradient from the pass");
    }

    @Test
    void loraGaKeepsTheWeightAndSpansTheTopGradientDirections() {
        Factors f = GradientInit.loraGa(w, g, 3, 2.0, null, -1, null);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12, "W_res + s·B·A = W₀");
        // With unit scaling, A = V_rᵀ, B = U_{r+1..2r}: G·AᵀA + B·Bᵀ·G is the rank-2r truncation of G.
        Tensor twoR = g.matmul(f.a().t()).matmul(f.a()).add(f.b().matmul(f.b().t()).matmul(g));
        assertTrue(maxDiff(twoR, svdPart(g, 0, 6)) < 1e-12);
        // That sum cannot tell A ← V_{1..r} from A ← V_{r+1..2r}; the projectors do (sign-free). The authors'
        // default direction "ArB2r": A = V[:r]ᵀ, B = U[:, r:2r].
        Linalg.Svd svd = Linalg.svd(g);
        Tensor vTop = svd.vh().narrow(0, 0, 3), uNext = svd.u().narrow(1, 3, 3);
        assertTrue(maxDiff(f.a().t().matmul(f.a()), vTop.t().matmul(vTop)) < 1e-12, "rows of A span the top r right singular vectors");
        assertTrue(maxDiff(f.b().matmul(f.b().t()), uNext.matmul(uNext.t())) < 1e-12, "columns of B span left singular vectors r+1..2r");
        Factors stable = GradientInit.loraGa(w, g, 3, 2.0, 16.0, -1, null);
        double factor = Math.pow(12, 0.25) / 4;
        assertTrue(maxDiff(stable.a(), f.a().mul(factor)) < 1e-12, "stable scaling m^¼/√γ");
        assertTrue(maxDiff(stable.b(), f.b().mul(factor)) < 1e-12);
        assertTrue(maxDiff(stable.effectiveWeight(null), w) < 1e-12);
        assertThrows(IllegalArgumentException.class, () -> GradientInit.loraGa(w, g, 6, 1, null, -1, null), "needs 2r <= k");
    }

    /// The authors' randomized SVD (q = 4r, 4 power iterations) finds the same subspaces when G has a
    /// clear spectral gap.
    @Test
    void randomizedLoraGaMatchesTheExactOneOnAGappedGradient() {
        Tensor u = Linalg.qr(Tensor.randn(gen, DType.F64, 40, 6), false).q(), v = Linalg.qr(Tensor.randn(gen, DType.F64, 30, 6), false).q();
        Tensor gg = u.mul(Tensor.fromArray(new double[] {60, 50, 40, 30, 20, 10}, 6)).matmul(v.t())
                .add(Tensor.randn(gen, DType.F64, 40, 30).mul(1e-3));
        Tensor ww = Tensor.randn(gen, DType.F64, 40, 30);
        Factors exact = GradientInit.loraGa(ww, gg, 3, 1, null, -1, null), rand = GradientInit.loraGa(ww, gg, 3, 1, null, 4, new Generator(2));
        // Singular vectors are unique up to sign: compare the projectors AᵀA and BBᵀ.
        assertTrue(maxDiff(rand.a().t().matmul(rand.a()), exact.a().t().matmul(exact.a())) < 1e-6);
        assertTrue(maxDiff(rand.b().matmul(rand.b().t()), exact.b().matmul(exact.b().t())) < 1e-6);
    }

    @Test
    void loraSbFactorsTheFirstStep() {
        Factors f = GradientInit.loraSb(w, g, 3, 0.5, 0.01);
        assertNull(f.residual(), "W₀ is not modified");
        assertTrue(maxDiff(f.b().t().matmul(f.b()), Tensor.eye(3, DType.F64)) < 1e-12, "BᵀB = I");
        assertTrue(maxDiff(f.a().matmul(f.a().t()), Tensor.eye(3, DType.F64)) < 1e-12, "AAᵀ = I");
        Tensor step = g.sign().mul(-0.01);
        assertTrue(maxDiff(f.update(), svdPart(step, 0, 3)) < 1e-12, "s·B·R·A is the best rank-r approximation of −η·sign(G)");
        double rest = Math.sqrt(Linalg.svdvals(step).narrow(0, 3, 7).square().sum().item());
        assertEquals(rest, step.sub(f.update()).norm().item(), 1e-12, "Eckart–Young: the error is the tail's norm");
    }

    @Test
    void attachFromBatchesOnAModel() {
        Tensor x = Tensor.randn(gen, DType.F64, 16, 10), y = Tensor.randn(gen, DType.F64, 16, 12);
        Net ga = new Net(w);
        Tensor before = noGrad(() -> ga.forward(x));
        GradientInit.attachLoraGa(ga, "ga", List.of("layer"), 2, 4, List.of(x), in -> ga.forward(in).sub(y).square().mean(), new Generator(3));
        assertTrue(maxDiff(noGrad(() -> ga.forward(x)), before) < 1e-10, "LoRA-GA starts at the base output");
        assertEquals(2 * (10 + 12), ga.trainableCount());

        Net sb = new Net(w);
        GradientInit.attachLoraSb(sb, "sb", List.of("layer"), 2, 2, 0.01, List.of(x, x), in -> sb.forward(in).sub(y).square().mean());
        assertEquals(4, sb.trainableCount(), "only the 2×2 core trains");
        Tensor grad = x.matmul(w.t()).sub(y).t().matmul(x).mul(2.0 / (16 * 12)).mul(2.0);
        Tensor expected = x.matmul(w.add(svdPart(grad.sign().mul(-0.01), 0, 2)).t());
        assertTrue(maxDiff(noGrad(() -> sb.forward(x)), expected) < 1e-10, "LoRA-SB starts one step in");
    }

    private static Tensor noGrad(java.util.function.Supplier<Tensor> f) {
        try (var ignored = GradMode.noGrad()) {
            return f.get();
        }
    }
}
