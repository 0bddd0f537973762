package dev.rankwise.cpu.linalg;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.linalg.Linalg;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.NormOps_DDRM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.rankwise.cpu.linalg.LinalgCheck.*;
import static org.junit.jupiter.api.Assertions.*;

/// The solvers composed on the decompositions (solve, inv, pinv, lstsq, Sylvester) and the norms,
/// against EJML on the same inputs. Solutions are compared in the forward sense, so their tolerance
/// carries the problem's condition number: cond·tol with cond ≤ ~10³ for these random matrices.
class SolversTest {
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void solveAndInverse(DType dt) {
        int n = 120;
        Tensor a = gaussian(1, dt, n, n), b = gaussian(2, dt, n, 3);
        double tol = tol(dt);
        Tensor x = Linalg.solve(a, b);
        assertBelow(rel(f64(a).matmul(f64(x)), b), 100 * tol, "‖AX − B‖/‖B‖");
        DMatrixRMaj ref = new DMatrixRMaj(n, 3);
        assertTrue(CommonOps_DDRM.solve(ejml(a), ejml(b), ref));
        assertBelow(rel(x, Tensor.fromArray(ref.data, n, 3)), 1e4 * tol, "X vs EJML");
        Tensor inv = Linalg.inv(a);
        assertBelow(rel(f64(a).matmul(f64(inv)), Tensor.eye(n, DType.F64)), 1e3 * tol, "‖A·A⁻¹ − I‖/‖I‖");
        Tensor v = Linalg.solve(a, b.select(1, 0));
        assertEquals(1, v.rank());
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void pseudoInverseAndLeastSquares(DType dt) {
        double tol = tol(dt);
        // Tall full rank: the least-squares solution satisfies the normal equations Aᵀ(AX − B) = 0.
        Tensor a = gaussian(3, dt, 80, 30), b = gaussian(4, dt, 80, 2);
        Tensor x = Linalg.lstsq(a, b);
        Tensor residual = f64(a).matmul(f64(x)).sub(f64(b));
        assertBelow(f64(a).t().matmul(residual).norm().item() / (f64(a).norm().item() * f64(b).norm().item()), 10 * tol, "normal equations");
        DMatrixRMaj ref = new DMatrixRMaj(30, 2);
        assertTrue(CommonOps_DDRM.solve(ejml(a), ejml(b), ref));
        assertBelow(rel(x, Tensor.fromArray(ref.data, 30, 2)), 100 * tol, "lstsq vs EJML");
        // pinv: the four Penrose conditions, for a tall, a wide and a rank-deficient matrix, and EJML's
        // pinv for the full-rank ones (EJML's cutoff is F64's, so it would invert F32 rounding noise).
        Tensor deficient = withSingularValues(5, 40, 25, new double[] {4, 2, 1, 0.5}, dt);
        for (Tensor m : new Tensor[] {a, a.t().contiguous(), deficient}) {
            Tensor am = f64(m), p = f64(Linalg.pinv(m));
            assertBelow(rel(am.matmul(p).matmul(am), am), 10 * tol, "A·A⁺·A = A");
            assertBelow(rel(p.matmul(am).matmul(p), p), 10 * tol, "A⁺·A·A⁺ = A⁺");
            Tensor ap = am.matmul(p), pa = p.matmul(am);
            assertBelow(rel(ap.t(), ap), 10 * tol, "A·A⁺ symmetric");
            assertBelow(rel(pa.t(), pa), 10 * tol, "A⁺·A symmetric");
            if (m != deficient) {
                DMatrixRMaj pr = new DMatrixRMaj(m.size(1), m.size(0));
                CommonOps_DDRM.pinv(ejml(m), pr);
                assertBelow(rel(p, Tensor.fromArray(pr.data, m.size(1), m.size(0))), 100 * tol, "pinv vs EJML");
            }
        }
        // Rank-deficient and wide: the minimum-norm solution, pinv(A)·B.
        Tensor bd = gaussian(6, dt, 40, 1);
        assertBelow(rel(Linalg.lstsq(deficient, bd), f64(Linalg.pinv(deficient)).matmul(f64(bd))), 100 * tol, "rank-deficient lstsq");
        Tensor wide = gaussian(7, dt, 10, 30), bw = gaussian(8, dt, 10, 1);
        Tensor xw = Linalg.lstsq(wide, bw);
        assertBelow(rel(f64(wide).matmul(f64(xw)), bw), 100 * tol, "wide lstsq solves exactly");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void sylvester(DType dt) {
        double tol = tol(dt);
        Tensor x0 = gaussian(9, dt, 6, 4);
        // Symmetric positive definite A and B (LoRA-Pro's Gram matrices): the eigendecomposition route.
        Tensor a = spd(10, dt, 6), b = spd(11, dt, 4);
        Tensor c = f64(a).matmul(f64(x0)).add(f64(x0).matmul(f64(b))).to(dt);
        assertBelow(rel(Linalg.sylvester(a, b, c), x0), 100 * tol, "symmetric Sylvester");
        // General A and B: the Kronecker route.
        Tensor ga = gaussian(12, dt, 6, 6).add(Tensor.eye(6, dt).mul(4)), gb = gaussian(13, dt, 4, 4);
        Tensor gc = f64(ga).matmul(f64(x0)).add(f64(x0).matmul(f64(gb))).to(dt);
        Tensor x = Linalg.sylvester(ga, gb, gc);
        assertEquals(dt, x.dtype());
        assertBelow(rel(x, x0), 1000 * tol, "general Sylvester");
        // A and −B sharing an eigenvalue: no unique solution.
        Tensor i2 = Tensor.eye(2, dt);
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> Linalg.sylvester(i2, i2.neg(), i2));
        assertTrue(e.getMessage().startsWith("sylvester:"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void norms(DType dt) {
        Tensor a = gaussian(14, dt, 50, 30);
        DMatrixRMaj e = ejml(a);
        double tol = tol(dt);
        assertEquals(NormOps_DDRM.normF(e), Linalg.normFrobenius(a), tol * NormOps_DDRM.normF(e));
        assertEquals(NormOps_DDRM.normP2(e), Linalg.normSpectral(a), tol * NormOps_DDRM.normF(e));
        double nuclear = 0;
        for (double s : ejmlSingularValues(a)) nuclear += s;
        assertEquals(nuclear, Linalg.normNuclear(a), tol * nuclear);
        assertEquals(0, Linalg.normSpectral(Tensor.zeros(dt, 3, 2)));
    }

    @Test
    void gradientTrackingInputsAreRejected() {
        Tensor a = Tensor.eye(3, DType.F64).requiresGrad(true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Linalg.svd(a));
        assertTrue(e.getMessage().contains("not differentiable"), e.getMessage());
        try (var ignored = dev.rankwise.autograd.GradMode.noGrad()) {
            assertEquals(1, Linalg.svdvals(a).max().item(), 1e-15);
        }
    }
}
