package dev.rankwise.cpu.linalg;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.NormOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/// Measures for the decomposition tests, all computed in F64 from the results (so the check adds no
/// error of its own), and matrices with prescribed spectra built with EJML (independent of the code
/// under test).
///
/// Tolerances (the targets): 1e-5 for F32 and 1e-12 for F64, for relative residuals in the
/// Frobenius norm, ‖A − Â‖_F / ‖A‖_F, and for orthogonality in the spectral norm, ‖QᵀQ − I‖₂. Both
/// dtypes are decomposed in their own precision; backward-stable methods leave residuals of a small
/// multiple of √n·u (u = 2⁻²⁴ or 2⁻⁵³), far inside these bounds at the sizes tested (n ≤ 300).
final class LinalgCheck {
    private LinalgCheck() {}

    static double tol(DType dt) {
        return dt == DType.F32 ? 1e-5 : 1e-12;
    }

    static DMatrixRMaj ejml(Tensor t) {
        Tensor m = t.rank() == 1 ? t.unsqueeze(1) : t;
        return new DMatrixRMaj(m.size(0), m.size(1), true, m.toDoubleArray());
    }

    static Tensor f64(Tensor t) {
        return t.to(DType.F64);
    }

    /// ‖approx − exact‖_F / ‖exact‖_F (absolute when exact is zero).
    static double rel(Tensor approx, Tensor exact) {
        return rel(approx, exact, exact);
    }

    /// ‖approx − exact‖_F / ‖reference‖_F, all first divided by reference's largest magnitude so that
    /// matrices near F64's limits do not overflow the check itself (absolute when reference is zero).
    static double rel(Tensor approx, Tensor exact, Tensor reference) {
        double s = f64(reference).abs().max().item();
        if (s == 0) return f64(approx).sub(f64(exact)).norm().item();
        double num = f64(approx).div(s).sub(f64(exact).div(s)).norm().item();
        return num / f64(reference).div(s).norm().item();
    }

    /// ‖QᵀQ − I‖₂ for Q [m, k].
    static double orth(Tensor q) {
        Tensor g = f64(q).t().matmul(f64(q)).sub(Tensor.eye(q.size(1), DType.F64));
        return q.size(1) == 0 ? 0 : NormOps_DDRM.normP2(ejml(g));
    }

    /// U·diag(S)·Vh in F64.
    static Tensor usv(Tensor u, Tensor s, Tensor vh) {
        return f64(u).mul(f64(s)).matmul(f64(vh));
    }

    static void assertFinite(String what, Tensor... ts) {
        for (Tensor t : ts) {
            if (t == null) continue;
            for (double v : t.toDoubleArray()) if (!Double.isFinite(v)) fail(what + ": non-finite output " + v);
        }
    }

    static void assertBelow(double value, double bound, String what) {
        assertTrue(value <= bound, what + ": " + value + " > " + bound);
    }

    /// Singular values of A by EJML, in F64, descending.
    static double[] ejmlSingularValues(Tensor a) {
        var svd = DecompositionFactory_DDRM.svd(a.size(0), a.size(1), false, false, true);
        if (!svd.decompose(ejml(a).copy())) throw new IllegalStateException("EJML svd failed");
        double[] s = svd.getSingularValues().clone();
        java.util.Arrays.sort(s);
        double[] out = new double[Math.min(a.size(0), a.size(1))];
        for (int i = 0; i < out.length; i++) out[i] = s[s.length - 1 - i];
        return out;
    }

    /// An m×k matrix with orthonormal columns (EJML's QR of a Gaussian matrix).
    static DMatrixRMaj orthonormal(Random rnd, int m, int k) {
        DMatrixRMaj g = new DMatrixRMaj(m, k);
        for (int i = 0; i < g.data.length; i++) g.data[i] = rnd.nextGaussian();
        var qr = DecompositionFactory_DDRM.qr(m, k);
        qr.decompose(g);
        return qr.getQ(null, true);
    }

    /// U·diag(s)·Vᵀ with random orthonormal U [m, k], V [n, k], k = s.length, in dtype dt.
    static Tensor withSingularValues(long seed, int m, int n, double[] s, DType dt) {
        Random rnd = new Random(seed);
        DMatrixRMaj u = orthonormal(rnd, m, s.length), v = orthonormal(rnd, n, s.length);
        for (int i = 0; i < m; i++) for (int j = 0; j < s.length; j++) u.set(i, j, u.get(i, j) * s[j]);
        DMatrixRMaj a = new DMatrixRMaj(m, n);
        CommonOps_DDRM.multTransB(u, v, a);
        return Tensor.fromArray(a.data, m, n).to(dt);
    }

    static Tensor gaussian(long seed, DType dt, int m, int n) {
        Random rnd = new Random(seed);
        double[] x = new double[m * n];
        for (int i = 0; i < x.length; i++) x[i] = rnd.nextGaussian();
        return Tensor.fromArray(x, m, n).to(dt);
    }

    /// A symmetric positive definite n×n matrix, G·Gᵀ/n + I.
    static Tensor spd(long seed, DType dt, int n) {
        Tensor g = gaussian(seed, DType.F64, n, n);
        return g.matmul(g.t()).div(n).add(Tensor.eye(n, DType.F64)).to(dt);
    }

    static Tensor symmetric(long seed, DType dt, int n) {
        Tensor g = gaussian(seed, DType.F64, n, n);
        return g.add(g.t()).div(2).to(dt);
    }
}
