package dev.rankwise.cpu.linalg;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.rankwise.cpu.linalg.LinalgCheck.*;
import static org.junit.jupiter.api.Assertions.*;

/// `svdLowRank` (Halko, Martinsson & Tropp 2011, Alg. 4.4) against the optimal rank-q error
/// √(Σ_{i>q} σ_i²) (Eckart–Young). The stated factor: with niter ≥ 2 power iterations the Frobenius
/// error is within 1.1× the optimum on spectra decaying at least like σ_i = 0.9^i or i^-2, and within
/// 1.5× on the slow decay i^-1 (HMT §10.4: each power iteration raises the decay rate the range finder
/// sees, σ_i^(2·niter+1)). Without oversampling this is `torch.svd_lowrank(A, q, niter)`.
class RandomizedSvdTest {
    private static double optimal(double[] sv, int q) {
        double s = 0;
        for (int i = q; i < sv.length; i++) s += sv[i] * sv[i];
        return Math.sqrt(s);
    }

    @ParameterizedTest
    @CsvSource({"geometric,F64,1.1", "geometric,F32,1.1", "quadratic,F64,1.1", "harmonic,F64,1.5", "harmonic,F32,1.5"})
    void errorWithinAStatedFactorOfOptimal(String decay, DType dt, double factor) {
        int m = 300, n = 200, q = 12;
        double[] sv = new double[n];
        for (int i = 0; i < n; i++) {
            sv[i] = switch (decay) {
                case "geometric" -> Math.pow(0.9, i);
                case "quadratic" -> 1.0 / ((i + 1.0) * (i + 1.0));
                default -> 1.0 / (i + 1.0);
            };
        }
        Tensor a = withSingularValues(21, m, n, sv, dt);
        Linalg.Svd r = Linalg.svdLowRank(a, q, 2, new Generator(1));
        assertEquals(m, r.u().size(0));
        assertEquals(q, r.u().size(1));
        assertEquals(q, r.vh().size(0));
        double err = f64(a).sub(usv(r.u(), r.s(), r.vh())).norm().item();
        assertBelow(err, factor * optimal(sv, q), decay + " decay: ‖A − Â_q‖_F vs optimal " + optimal(sv, q));
        assertBelow(orth(r.u()), tol(dt), "‖UᵀU − I‖");
        assertBelow(orth(r.vh().t()), tol(dt), "‖VᵀV − I‖");
        double[] s = r.s().toDoubleArray();
        for (int i = 0; i < q; i++) {
            assertTrue(s[i] <= sv[i] * (1 + 10 * tol(dt)), "a projection never exceeds the true σ_" + i);
            assertTrue(i == 0 || s[i - 1] >= s[i], "descending");
        }
    }

    /// The same call gives the same bits before and after the JIT compiles it: the first calls run
    /// interpreted, later ones C2-compiled, and a lane sum whose order differs between the two
    /// (`reduceLanes`) changed the last bits after a few dozen calls.
    @Test
    void sameBitsBeforeAndAfterTheJitCompiles() {
        Tensor a = Tensor.randn(new Generator(1), DType.F64, 22, 150);
        double[] first = Linalg.svdLowRank(a, 8, 1, new Generator(5)).s().toDoubleArray();
        for (int call = 1; call < 400; call++) {
            double[] s = Linalg.svdLowRank(a, 8, 1, new Generator(5)).s().toDoubleArray();
            assertArrayEquals(first, s, "call " + call + " differs from the first");
        }
    }

    @Test
    void seededAndMorePowerIterationsHelp() {
        double[] sv = new double[100];
        for (int i = 0; i < sv.length; i++) sv[i] = 1.0 / (i + 1);
        Tensor a = withSingularValues(22, 150, 100, sv, DType.F64);
        Linalg.Svd r1 = Linalg.svdLowRank(a, 8, 1, new Generator(5)), r2 = Linalg.svdLowRank(a, 8, 1, new Generator(5));
        assertArrayEquals(r1.s().toDoubleArray(), r2.s().toDoubleArray(), "same seed, same result");
        double e0 = f64(a).sub(Linalg.svdLowRank(a, 8, 0, new Generator(5)).reconstruct()).norm().item();
        double e4 = f64(a).sub(Linalg.svdLowRank(a, 8, 4, new Generator(5)).reconstruct()).norm().item();
        double e4over = f64(a).sub(Linalg.svdLowRank(a, 8, 4, 8, new Generator(5)).reconstruct()).norm().item();
        assertTrue(e4 < e0, "power iterations reduce the error: " + e4 + " vs " + e0);
        assertTrue(e4over <= e4 * 1.0001, "oversampling does not hurt: " + e4over + " vs " + e4);
        assertBelow(e4over, 1.02 * optimal(sv, 8), "4 iterations + oversampling: near optimal");
        // q = min(m, n) is an exact SVD.
        Linalg.Svd full = Linalg.svdLowRank(a.narrow(1, 0, 10).contiguous(), 10, 1, new Generator(3));
        assertBelow(rel(full.reconstruct(), a.narrow(1, 0, 10)), 1e-12, "full-rank svdLowRank reconstructs");
        // Values near F32's limit: the sketch would overflow, so A is scaled first; S comes back unscaled.
        Tensor huge = withSingularValues(23, 60, 40, new double[] {3, 2, 1}, DType.F64).mul(1e37).to(DType.F32);
        Linalg.Svd h = Linalg.svdLowRank(huge, 3, 2, new Generator(4));
        assertFinite("svdLowRank at 1e37", h.u(), h.s(), h.vh());
        assertArrayEquals(new double[] {3e37, 2e37, 1e37}, h.s().toDoubleArray(), 1e32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Linalg.svdLowRank(a, 101, 1, new Generator(1)));
        assertTrue(e.getMessage().contains("[150, 100]"), e.getMessage());
    }
}
