package dev.rankwise.cpu.linalg;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.random.Generator;
import org.ejml.simple.SimpleMatrix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/// Each decomposition checked by its defining identity, and singular/eigen values against EJML.
/// Tolerances: relative 1e-12 in F64 (a few hundred ulps of backward error for n ≤ 60) and 1e-5 in
/// F32 (results are computed in F64 and rounded once, so the error is a few F32 ulps of the norm).
class LinalgIdentitiesTest {
    private static double rel(Tensor a, Tensor b) {
        double denom = Math.max(b.to(DType.F64).norm().item(), 1e-300);
        return a.to(DType.F64).sub(b.to(DType.F64)).norm().item() / denom;
    }

    private static double orth(Tensor q) {
        int k = q.size(1);
        return q.t().matmul(q).to(DType.F64).sub(Tensor.eye(k, DType.F64)).norm().item();
    }

    @ParameterizedTest
    @CsvSource({"7,5,F64", "5,7,F64", "30,30,F64", "40,12,F32", "1,1,F64", "12,40,F32"})
    void svdReconstructsWithOrthonormalFactors(int m, int n, DType dt) {
        Tensor a = Tensor.randn(new Generator(m * 31L + n), dt, m, n);
        Linalg.Svd s = Linalg.svd(a);
        double tol = dt == DType.F64 ? 1e-12 : 1e-5;
        assertTrue(rel(s.reconstruct(), a) < tol, "reconstruction");
        assertTrue(orth(s.u()) < tol * 10 && orth(s.vh().t()) < tol * 10, "orthonormal");
        double[] sv = s.s().toDoubleArray();
        for (int i = 1; i < sv.length; i++) assertTrue(sv[i - 1] >= sv[i], "descending");
        double[] ref = new SimpleMatrix(m, n, true, a.toDoubleArray()).svd(true).getSingularValues();
        java.util.Arrays.sort(ref);
        for (int i = 0; i < sv.length; i++) assertEquals(ref[ref.length - 1 - i], sv[i], tol * 10 * ref[ref.length - 1]);
    }

    @Test
    void svdOfRankDeficientAndZeroMatrices() {
        Generator g = new Generator(3);
        Tensor u = Tensor.randn(g, DType.F64, 20, 3), v = Tensor.randn(g, DType.F64, 3, 15);
        Tensor a = u.matmul(v);
        Linalg.Svd s = Linalg.svd(a);
        assertTrue(rel(s.reconstruct(), a) < 1e-12);
        assertTrue(orth(s.u()) < 1e-10);
        assertTrue(s.s().toDoubleArray()[3] < 1e-12 * s.s().toDoubleArray()[0]);
        Linalg.Svd z = Linalg.svd(Tensor.zeros(DType.F64, 4, 3));
        assertEquals(0, z.s().abs().max().item());
        assertTrue(orth(z.u()) < 1e-12);
    }

    @Test
    void svdIllConditioned() {
        // cond = 1e8: singular values 1 .. 1e-8 on random orthogonal factors.
        Generator g = new Generator(9);
        int n = 12;
        Tensor q1 = Linalg.qr(Tensor.randn(g, DType.F64, n, n), false).q(), q2 = Linalg.qr(Tensor.randn(g, DType.F64, n, n), false).q();
        double[] sv = new double[n];
        for (int i = 0; i < n; i++) sv[i] = Math.pow(10, -8.0 * i / (n - 1));
        Tensor a = q1.mul(Tensor.fromArray(sv, n)).matmul(q2.t());
        double[] got = Linalg.svd(a).s().toDoubleArray();
        for (int i = 0; i < n; i++) assertEquals(sv[i], got[i], 1e-14 + 1e-9 * sv[i]);
    }

    @Test
    void qrEighLuCholeskyIdentities() {
        Generator g = new Generator(5);
        Tensor a = Tensor.randn(g, DType.F64, 9, 6);
        Linalg.Qr qr = Linalg.qr(a, false);
        assertTrue(rel(qr.q().matmul(qr.r()), a) < 1e-13);
        assertTrue(orth(qr.q()) < 1e-13);
        Linalg.Qr full = Linalg.qr(a, true);
        assertEquals(9, full.q().size(1));
        assertTrue(rel(full.q().matmul(full.r()), a) < 1e-13 && orth(full.q()) < 1e-13);

        Tensor spd = a.t().matmul(a).add(Tensor.eye(6, DType.F64));
        Linalg.Eigh e = Linalg.eigh(spd);
        assertTrue(rel(spd.matmul(e.vectors()), e.vectors().mul(e.values())) < 1e-12);
        double[] ev = e.values().toDoubleArray();
        for (int i = 1; i < ev.length; i++) assertTrue(ev[i - 1] <= ev[i]);

        Tensor l = Linalg.cholesky(spd);
        assertTrue(rel(l.matmul(l.t()), spd) < 1e-13);

        Tensor sq = Tensor.randn(g, DType.F64, 7, 7);
        Linalg.Lu lu = Linalg.lu(sq);
        assertTrue(rel(lu.p().matmul(lu.l()).matmul(lu.u()), sq) < 1e-13);
        Linalg.Ldu ldu = Linalg.ldu(sq);
        assertTrue(rel(ldu.p().matmul(ldu.l()).matmul(ldu.u().mul(ldu.d().unsqueeze(1))), sq) < 1e-13);

        Tensor b = Tensor.randn(g, DType.F64, 7, 2);
        Tensor x = Linalg.solve(sq, b);
        assertTrue(rel(sq.matmul(x), b) < 1e-12);
        assertTrue(rel(sq.matmul(Linalg.inv(sq)), Tensor.eye(7, DType.F64)) < 1e-12);
    }

    @Test
    void randomizedSvdIsNearOptimalOnDecayingSpectra() {
        Generator g = new Generator(11);
        int m = 120, n = 80, q = 10;
        Tensor u = Linalg.qr(Tensor.randn(g, DType.F64, m, n), false).q(), v = Linalg.qr(Tensor.randn(g, DType.F64, n, n), false).q();
        double[] sv = new double[n];
        for (int i = 0; i < n; i++) sv[i] = Math.pow(0.8, i);
        Tensor a = u.mul(Tensor.fromArray(sv, n)).matmul(v.t());
        double optimal = 0;
        for (int i = q; i < n; i++) optimal += sv[i] * sv[i];
        optimal = Math.sqrt(optimal);
        Linalg.Svd r = Linalg.svdLowRank(a, q, 2, new Generator(1));
        double err = a.sub(r.reconstruct()).norm().item();
        // With 2 power iterations the Frobenius error is within a few percent of optimal (Halko et al. §10).
        assertTrue(err <= 1.1 * optimal, "error " + err + " vs optimal " + optimal);
    }

    @Test
    void sylvesterSymmetricAndGeneral() {
        Generator g = new Generator(13);
        Tensor x0 = Tensor.randn(g, DType.F64, 4, 3);
        Tensor pa = Tensor.randn(g, DType.F64, 4, 4), pb = Tensor.randn(g, DType.F64, 3, 3);
        Tensor a = pa.matmul(pa.t()).add(Tensor.eye(4, DType.F64)), b = pb.matmul(pb.t());
        Tensor c = a.matmul(x0).add(x0.matmul(b));
        assertTrue(rel(Linalg.sylvester(a, b, c), x0) < 1e-10);
        Tensor ga = pa.add(Tensor.eye(4, DType.F64).mul(5)), gb = pb;
        Tensor gc = ga.matmul(x0).add(x0.matmul(gb));
        assertTrue(rel(Linalg.sylvester(ga, gb, gc), x0) < 1e-10);
    }

    @Test
    void badInputsRaiseClearErrors() {
        Tensor nan = Tensor.fromArray(new double[] {1, Double.NaN, 0, 1}, 2, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Linalg.svd(nan));
        assertTrue(e.getMessage().contains("svd") && e.getMessage().contains("(0, 1)"), e.getMessage());
        Tensor singular = Tensor.fromArray(new double[] {1, 2, 2, 4}, 2, 2);
        assertThrows(ArithmeticException.class, () -> Linalg.solve(singular, Tensor.ones(DType.F64, 2)));
        Tensor notPd = Tensor.fromArray(new double[] {1, 2, 2, 1}, 2, 2);
        ArithmeticException c = assertThrows(ArithmeticException.class, () -> Linalg.cholesky(notPd));
        assertTrue(c.getMessage().contains("pivot 1"), c.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Linalg.svd(Tensor.zeros(DType.F64, 2, 2, 2)));
    }
}
