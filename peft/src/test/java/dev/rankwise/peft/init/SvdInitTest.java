package dev.rankwise.peft.init;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/// The defining identities of the SVD/QR initializers (METHODS.md §3), in F64.
class SvdInitTest {
    private final Tensor w = Tensor.randn(new Generator(41), DType.F64, 12, 9);

    private static double maxDiff(Tensor a, Tensor b) {
        return a.sub(b).abs().max().item();
    }

    @Test
    void pissaSplitsOffThePrincipalPart() {
        Factors f = SvdInit.pissa(w, 3, 2.0, -1, null);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12, "W_res + s·B·A = W");
        double[] full = Linalg.svdvals(w).toDoubleArray(), res = Linalg.svdvals(f.residual()).toDoubleArray();
        for (int i = 0; i < full.length - 3; i++) assertEquals(full[i + 3], res[i], 1e-12, "σ(W_res) = σ_{r+1..k}");
        for (int i = full.length - 3; i < full.length; i++) assertEquals(0, res[i], 1e-12);
        // A and B share √(σ/s): A Aᵀ = B Bᵀ... as diagonal matrices: rows of A and columns of B have equal norms.
        assertTrue(maxDiff(f.a().square().sum(1, false), f.b().square().sum(0, false)) < 1e-12);
    }

    @Test
    void randomizedPissaIsCloseOnALowRankPlusNoiseWeight() {
        Generator g = new Generator(42);
        Tensor lowRank = Tensor.randn(g, DType.F64, 30, 3).matmul(Tensor.randn(g, DType.F64, 3, 20)).mul(3)
                .add(Tensor.randn(g, DType.F64, 30, 20).mul(0.01));
        Factors exact = SvdInit.pissa(lowRank, 3, 1, -1, null), rand = SvdInit.pissa(lowRank, 3, 1, 4, new Generator(1));
        assertTrue(maxDiff(rand.effectiveWeight(null), lowRank) < 1e-12, "still exact: W_res absorbs the rest");
        double e1 = exact.residual().norm().item(), e2 = rand.residual().norm().item();
        assertTrue(e2 <= 1.01 * e1, "randomized residual " + e2 + " vs exact " + e1);
    }

    @Test
    void miloraUsesTheMinorSubspace() {
        Factors f = SvdInit.milora(w, 3, 1.0);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12);
        Linalg.Svd s = Linalg.svd(w);
        Tensor up = s.u().narrow(1, 0, 6), vp = s.vh().narrow(0, 0, 6).t();
        assertTrue(up.t().matmul(f.b()).abs().max().item() < 1e-12, "U_pᵀ B = 0");
        assertTrue(f.a().matmul(vp).abs().max().item() < 1e-12, "A V_p = 0");
    }

    @Test
    void oloraIsTheLeadingQrBlock() {
        Factors f = SvdInit.olora(w, 4, 1.5);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12);
        assertTrue(maxDiff(f.b().t().matmul(f.b()), Tensor.eye(4, DType.F64)) < 1e-12, "B has orthonormal columns");
        assertThrows(IllegalArgumentException.class, () -> SvdInit.olora(w, 10, 1));
    }
}
