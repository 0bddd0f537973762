package dev.rankwise.peft.init;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/// The defining identities of the decomposition initializers (METHODS.md §3), in F64: errors of a few
/// ulps of ‖W‖ are expected, so 1e-12 on entries of order 1 leaves a wide margin.
class SvdInitTest {
    private final Tensor w = Tensor.randn(new Generator(41), DType.F64, 12, 9);

    static double maxDiff(Tensor a, Tensor b) {
        return a.to(DType.F64).sub(b.to(DType.F64)).abs().max().item();
    }

    /// U Σ_{[from, to)} Vᵀ, the part of the SVD between two indices.
    static Tensor svdPart(Tensor m, int from, int to) {
        Linalg.Svd s = Linalg.svd(m);
        return s.u().narrow(1, from, to - from).mul(s.s().narrow(0, from, to - from)).matmul(s.vh().narrow(0, from, to - from));
    }

    @Test
    void pissaSplitsOffThePrincipalPart() {
        Factors f = SvdInit.pissa(w, 3, 2.0, -1, null);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12, "W_res + s·B·A = W");
        double[] full = Linalg.svdvals(w).toDoubleArray(), res = Linalg.svdvals(f.residual()).toDoubleArray();
        for (int i = 0; i < full.length - 3; i++) assertEquals(full[i + 3], res[i], 1e-12, "σ(W_res) = σ_{r+1..k}");
        for (int i = full.length - 3; i < full.length; i++) assertEquals(0, res[i], 1e-12);
        assertTrue(maxDiff(f.update(), svdPart(w, 0, 3)) < 1e-12, "s·B·A is the top-r part");
        // A and B share √(σ/s): rows of A and columns of B have equal norms, σ_i/s.
        assertTrue(maxDiff(f.a().square().sum(1, false), f.b().square().sum(0, false)) < 1e-12);
        assertTrue(maxDiff(f.a().square().sum(1, false), Linalg.svdvals(w).narrow(0, 0, 3).div(2.0)) < 1e-12);
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
        assertTrue(maxDiff(f.update(), svdPart(w, 6, 9)) < 1e-12, "s·B·A is the bottom-r part");
    }

    @Test
    void oloraIsTheLeadingQrBlock() {
        Factors f = SvdInit.olora(w, 4, 1.5);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12);
        assertTrue(maxDiff(f.b().t().matmul(f.b()), Tensor.eye(4, DType.F64)) < 1e-12, "B has orthonormal columns");
        Linalg.Qr qr = Linalg.qr(w, false);
        assertTrue(maxDiff(f.a(), qr.r().narrow(0, 0, 4)) < 1e-12, "A = R[:r, :], upper triangular");
        assertThrows(IllegalArgumentException.class, () -> SvdInit.olora(w, 10, 1));
    }

    @Test
    void svfitTrainsOnlyTheTopSingularValues() {
        Factors f = SvdInit.svfit(w, 3, 0.5);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12, "W_e + s·U_r diag(σ') V_rᵀ = W");
        assertTrue(maxDiff(f.gate(), Linalg.svdvals(w).narrow(0, 0, 3).div(0.5)) < 1e-12, "σ' starts at σ_{1..r}/s");
        assertTrue(maxDiff(f.b().t().matmul(f.b()), Tensor.eye(3, DType.F64)) < 1e-12);
        assertTrue(maxDiff(f.a().matmul(f.a().t()), Tensor.eye(3, DType.F64)) < 1e-12);
        assertTrue(maxDiff(f.residual(), svdPart(w, 3, 9)) < 1e-12, "W_e is the tail");
    }

    @Test
    void lolduKeepsWAndReconstructsAtFullRank() {
        Factors f = SvdInit.loldu(w, 4, 2.0);
        assertTrue(maxDiff(f.effectiveWeight(null), w) < 1e-12, "W' = W at init");
        Linalg.Lu lu = Linalg.lu(w);
        assertTrue(maxDiff(f.gate(), Linalg.diagonal(lu.u()).narrow(0, 0, 4)) < 1e-12, "z = diag(U)[:r]");
        assertTrue(maxDiff(Linalg.diagonal(f.a()), Tensor.ones(DType.F64, 4)) < 1e-12, "U_r is unit upper triangular");
        Factors full = SvdInit.loldu(w, 9, 1.0);
        assertTrue(maxDiff(full.update(), w) < 1e-12, "r = k: P·L·diag(z)·U = W");
        assertTrue(full.residual().abs().max().item() < 1e-12, "and W_res = 0");
        // A rank-deficient weight (a zero column) gives a zero pivot: guarded, nothing infinite.
        Tensor wz = w.mul(Tensor.fromArray(new double[] {1, 1, 0, 1, 1, 1, 1, 1, 1}, 9));
        Factors g = SvdInit.loldu(wz, 9, 1.0);
        assertTrue(g.a().allFinite() && g.gate().allFinite());
        assertTrue(maxDiff(g.effectiveWeight(null), wz) < 1e-12);
    }

    @Test
    void eoraWithIdentityCovarianceIsThePlainSvd() {
        Tensor q = w.add(Tensor.randn(new Generator(43), DType.F64, 12, 9).mul(0.1));
        Tensor x = Linalg.qr(Tensor.randn(new Generator(44), DType.F64, 40, 9), false).q().mul(Math.sqrt(40));
        Factors f = SvdInit.eora(w, q, x, 3, 2.0);
        assertTrue(maxDiff(f.update(), svdPart(w.sub(q), 0, 3)) < 1e-10, "C = I: s·B·A = SVD_r(W − Ŵ)");
        assertEquals(0, maxDiff(f.residual(), q), "the residual is Ŵ");
    }

    /// EoRA minimizes the activation-weighted error ‖(ΔW − s·B·A)·Xᵀ‖, so it beats the plain SVD there.
    @Test
    void eoraWeightedErrorIsAtMostThePlainSvds() {
        Generator g = new Generator(45);
        Tensor q = w.add(Tensor.randn(g, DType.F64, 12, 9).mul(0.1));
        Tensor x = Tensor.randn(g, DType.F64, 200, 9).mul(Tensor.fromArray(new double[] {5, 3, 2, 1, 1, 0.5, 0.3, 0.2, 0.1}, 9));
        Tensor delta = w.sub(q);
        Factors f = SvdInit.eora(w, q, x, 3, 1.0);
        double eora = delta.sub(f.update()).matmul(x.t()).norm().item();
        double plain = delta.sub(svdPart(delta, 0, 3)).matmul(x.t()).norm().item();
        assertTrue(eora <= plain * (1 + 1e-12), "EoRA " + eora + " vs plain SVD " + plain);
        assertTrue(eora < 0.95 * plain, "and strictly better on anisotropic inputs");
        // Optimal, not just better: ‖(ΔW − M)Xᵀ‖ over rank-r M is at least the tail of σ(ΔW·Xᵀ) (M·Xᵀ has
        // rank ≤ r; Eckart–Young), a bound reached by M = U_rU_rᵀΔW, and EoRA reaches it.
        double[] sv = Linalg.svdvals(delta.matmul(x.t())).toDoubleArray();
        double tail = 0;
        for (int i = 3; i < sv.length; i++) tail += sv[i] * sv[i];
        assertEquals(Math.sqrt(tail), eora, 1e-9 * eora, "EoRA attains the weighted Eckart–Young bound");
    }
}
