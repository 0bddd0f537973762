package dev.rankwise.cpu.linalg;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.linalg.Linalg;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.rankwise.cpu.linalg.LinalgCheck.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// Every decomposition by its defining identities, on shapes that take every code path (unblocked and
/// blocked panels, QR-first tall SVD, wide through the transpose, and from n ≈ 260 the splits over two
/// threads when the pool has them), in F32 and F64, and compared with
/// EJML on the same input. Tolerances: see [LinalgCheck]. Values compared with EJML's are checked to
/// `tol·‖A‖_F`: by Weyl's inequality a backward error of `tol·‖A‖_F` moves each singular value or
/// eigenvalue by at most that much.
class DecompositionIdentitiesTest {
    @ParameterizedTest
    @CsvSource({"1,1,F64", "7,5,F64", "5,7,F32", "40,12,F32", "12,40,F64", "150,150,F32", "150,150,F64",
            "260,140,F32", "140,160,F64", "300,40,F64", "33,300,F32", "280,280,F64"})
    void svd(int m, int n, DType dt) {
        Tensor a = gaussian(m * 131L + n, dt, m, n);
        double tol = tol(dt), scale = f64(a).norm().item();
        Linalg.Svd s = Linalg.svd(a);
        int k = Math.min(m, n);
        assertEquals(dt, s.u().dtype());
        assertBelow(rel(usv(s.u(), s.s(), s.vh()), a), tol, "‖A − UΣVᵀ‖/‖A‖");
        assertBelow(orth(s.u()), tol, "‖UᵀU − I‖");
        assertBelow(orth(s.vh().t()), tol, "‖VᵀV − I‖");
        double[] sv = s.s().toDoubleArray(), ref = ejmlSingularValues(a), vals = Linalg.svdvals(a).toDoubleArray();
        for (int i = 0; i < k; i++) {
            assertTrue(sv[i] >= 0 && (i == 0 || sv[i - 1] >= sv[i]), "non-negative, descending");
            assertEquals(ref[i], sv[i], tol * scale, "σ_" + i + " vs EJML");
            assertEquals(ref[i], vals[i], tol * scale, "svdvals σ_" + i + " vs EJML");
        }
    }

    @ParameterizedTest
    @CsvSource({"1,1,F32", "9,6,F64", "6,9,F32", "100,100,F32", "200,70,F64", "70,130,F64", "300,33,F32", "320,280,F32"})
    void qrReducedAndComplete(int m, int n, DType dt) {
        Tensor a = gaussian(m * 7L + n, dt, m, n);
        double tol = tol(dt), scale = f64(a).norm().item();
        int k = Math.min(m, n);
        for (boolean complete : new boolean[] {false, true}) {
            Linalg.Qr qr = Linalg.qr(a, complete);
            int qc = complete ? m : k;
            assertEquals(m, qr.q().size(0));
            assertEquals(qc, qr.q().size(1));
            assertEquals(qc, qr.r().size(0));
            assertBelow(rel(f64(qr.q()).matmul(f64(qr.r())), a), tol, "‖A − QR‖/‖A‖");
            assertBelow(orth(qr.q()), tol, "‖QᵀQ − I‖");
            double[] r = qr.r().toDoubleArray();
            for (int i = 0; i < qc; i++) {
                for (int j = 0; j < Math.min(i, n); j++) assertEquals(0, r[i * n + j], 0.0, "R below the diagonal");
                if (i < k) assertTrue(r[i * n + i] >= 0, "R's diagonal is non-negative");
            }
            // EJML's R, rows signed like ours.
            var ref = DecompositionFactory_DDRM.qr(m, n);
            ref.decompose(ejml(a).copy());
            DMatrixRMaj rr = ref.getR(null, true);
            for (int i = 0; i < k; i++) {
                double sign = Math.signum(rr.get(i, i)) == 0 ? 1 : Math.signum(rr.get(i, i));
                for (int j = i; j < n; j++) assertEquals(sign * rr.get(i, j), r[i * n + j], tol * scale, "R vs EJML");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"1,F64", "8,F32", "150,F32", "150,F64", "260,F64", "420,F32"})
    void eigh(int n, DType dt) {
        Tensor a = symmetric(n * 3L, dt, n);
        double tol = tol(dt), scale = f64(a).norm().item();
        Linalg.Eigh e = Linalg.eigh(a);
        Tensor v = f64(e.vectors());
        assertBelow(f64(a).matmul(v).sub(v.mul(f64(e.values()))).norm().item() / scale, tol, "‖AV − VΛ‖/‖A‖");
        assertBelow(orth(e.vectors()), tol, "‖VᵀV − I‖");
        var ref = DecompositionFactory_DDRM.eig(n, false, true);
        assertTrue(ref.decompose(ejml(a).copy()));
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) expected[i] = ref.getEigenvalue(i).real;
        java.util.Arrays.sort(expected);
        double[] got = e.values().toDoubleArray();
        for (int i = 0; i < n; i++) {
            assertTrue(i == 0 || got[i - 1] <= got[i], "ascending");
            assertEquals(expected[i], got[i], tol * scale, "λ_" + i + " vs EJML");
        }
    }

    /// The eigh path splits pieces over the second thread by size (the divide and conquer's halves and
    /// merges, the back-transformation's column bands, from n = 512 the reduction's SYMVs): on one and
    /// on two threads both results satisfy the identities and their eigenvalues agree to `tol·‖A‖` (the
    /// summation orders differ, so the bits may not).
    @ParameterizedTest
    @CsvSource({"300,F64", "800,F32", "1100,F64"})
    void eighOnOneAndTwoThreads(int n, DType dt) {
        Tensor a = symmetric(n * 5L, dt, n);
        double tol = tol(dt), scale = f64(a).norm().item();
        int threads = dev.rankwise.cpu.Parallel.threads();
        Linalg.Eigh[] e = new Linalg.Eigh[2];
        try {
            for (int t = 0; t < 2; t++) {
                dev.rankwise.cpu.Parallel.setThreads(t + 1);
                e[t] = Linalg.eigh(a);
                Tensor v = f64(e[t].vectors());
                assertBelow(f64(a).matmul(v).sub(v.mul(f64(e[t].values()))).norm().item() / scale, tol, "‖AV − VΛ‖/‖A‖, " + (t + 1) + " threads");
                assertBelow(orth(e[t].vectors()), tol, "‖VᵀV − I‖, " + (t + 1) + " threads");
            }
        } finally {
            dev.rankwise.cpu.Parallel.setThreads(threads);
        }
        double[] one = e[0].values().toDoubleArray(), two = e[1].values().toDoubleArray();
        for (int i = 0; i < n; i++) assertEquals(one[i], two[i], tol * scale, "λ_" + i + " on 1 vs 2 threads");
    }

    @ParameterizedTest
    @CsvSource({"1,1,F64", "7,7,F64", "9,6,F32", "6,9,F64", "200,200,F32", "200,200,F64", "150,100,F64", "100,170,F32"})
    void luAndLdu(int m, int n, DType dt) {
        Tensor a = gaussian(m * 17L + n, dt, m, n);
        double tol = tol(dt), scale = f64(a).norm().item();
        int k = Math.min(m, n);
        Linalg.Lu lu = Linalg.lu(a);
        assertBelow(rel(f64(lu.p()).matmul(f64(lu.l())).matmul(f64(lu.u())), a), tol, "‖A − PLU‖/‖A‖");
        double[] l = lu.l().toDoubleArray(), u = lu.u().toDoubleArray();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < k; j++) {
                if (j > i) assertEquals(0, l[i * k + j], "L above the diagonal");
                else if (j == i) assertEquals(1, l[i * k + j], "L's unit diagonal");
                else assertTrue(Math.abs(l[i * k + j]) <= 1, "partial pivoting bounds |L| by 1");
            }
        }
        for (int i = 0; i < k; i++) for (int j = 0; j < Math.min(i, n); j++) assertEquals(0, u[i * n + j], "U below the diagonal");
        // EJML pivots the same way (largest magnitude), so P, L and U agree.
        var ref = DecompositionFactory_DDRM.lu(m, n);
        assertTrue(ref.decompose(ejml(a).copy()));
        DMatrixRMaj ru = ref.getUpper(null);
        for (int i = 0; i < k; i++) for (int j = i; j < n; j++) assertEquals(ru.get(i, j), u[i * n + j], 10 * tol * scale, "U vs EJML");
        Linalg.Ldu ldu = Linalg.ldu(a);
        Tensor rebuilt = f64(ldu.p()).matmul(f64(ldu.l())).matmul(f64(ldu.u()).mul(f64(ldu.d()).unsqueeze(1)));
        assertBelow(rel(rebuilt, a), tol, "‖A − PLDU‖/‖A‖");
        double[] uu = ldu.u().toDoubleArray();
        for (int i = 0; i < k; i++) assertEquals(1, uu[i * n + i], 4 * tol, "unit diagonal of U in LDU");
    }

    @ParameterizedTest
    @CsvSource({"1,F32", "6,F64", "200,F32", "200,F64", "301,F64"})
    void cholesky(int n, DType dt) {
        Tensor a = spd(n, dt, n);
        double tol = tol(dt);
        Tensor l = Linalg.cholesky(a);
        assertBelow(rel(f64(l).matmul(f64(l).t()), a), tol, "‖A − LLᵀ‖/‖A‖");
        double[] lv = l.toDoubleArray();
        for (int i = 0; i < n; i++) {
            assertTrue(lv[i * n + i] > 0, "positive diagonal");
            for (int j = i + 1; j < n; j++) assertEquals(0, lv[i * n + j], "L above the diagonal");
        }
        var ref = DecompositionFactory_DDRM.chol(n, true);
        assertTrue(ref.decompose(ejml(a).copy()));
        DMatrixRMaj rl = ref.getT(null);
        double scale = Math.sqrt(f64(a).norm().item());
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) assertEquals(rl.get(i, j), lv[i * n + j], 10 * tol * scale, "L vs EJML");
    }

    @ParameterizedTest
    @CsvSource({"1,3,F64", "5,2,F32", "130,7,F64", "130,60,F32"})
    void triangularSolves(int n, int r, DType dt) {
        // Well-conditioned triangles: the Cholesky factor of an SPD matrix, and its transpose.
        Tensor lower = Linalg.cholesky(spd(n + 1, dt, n)), b = gaussian(n + r, dt, n, r);
        double tol = tol(dt);
        for (boolean isLower : new boolean[] {true, false}) {
            Tensor t = isLower ? lower : lower.t().contiguous();
            Tensor x = Linalg.solveTriangular(t, b, isLower, false);
            assertBelow(rel(f64(t).matmul(f64(x)), b), 10 * tol, "‖TX − B‖/‖B‖");
            Tensor unit = t.sub(Tensor.eye(n, dt).mul(Linalg.diagonal(t).unsqueeze(1))).add(Tensor.eye(n, dt));
            Tensor xu = Linalg.solveTriangular(t, b, isLower, true);
            assertBelow(rel(f64(unit).matmul(f64(xu)), b), 100 * tol, "unit-diagonal solve");
        }
        Tensor v = Linalg.solveTriangular(lower, b.select(1, 0), true, false);
        assertEquals(1, v.rank());
    }
}
