package dev.rankwise.cpu.linalg;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.linalg.Linalg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.function.Function;

import static dev.rankwise.cpu.linalg.LinalgCheck.*;
import static org.junit.jupiter.api.Assertions.*;

/// The hard inputs, for every decomposition and both dtypes: rank-deficient, ill-conditioned
/// (cond 1e8), zero, 1×1, values near the dtype's limits, repeated singular values. Each must keep its
/// identities (tolerances as in [LinalgCheck]) and return only finite numbers; inputs with NaN or Inf,
/// and singular systems that cannot be solved, must fail with an error naming the op and the shape.
class HardInputsTest {
    /// Every decomposition's identities at once; returns nothing, fails on the first broken one.
    static void allIdentities(Tensor a, String what) {
        DType dt = a.dtype();
        double tol = tol(dt);
        Linalg.Svd s = Linalg.svd(a);
        assertFinite(what + " svd", s.u(), s.s(), s.vh());
        assertBelow(rel(usv(s.u(), s.s(), s.vh()), a), tol, what + " ‖A − UΣVᵀ‖/‖A‖");
        assertBelow(orth(s.u()), tol, what + " ‖UᵀU − I‖");
        assertBelow(orth(s.vh().t()), tol, what + " ‖VᵀV − I‖");
        Linalg.Qr qr = Linalg.qr(a, false);
        assertFinite(what + " qr", qr.q(), qr.r());
        assertBelow(rel(f64(qr.q()).matmul(f64(qr.r())), a), tol, what + " ‖A − QR‖/‖A‖");
        assertBelow(orth(qr.q()), tol, what + " ‖QᵀQ − I‖");
        Linalg.Lu lu = Linalg.lu(a);
        assertFinite(what + " lu", lu.l(), lu.u());
        assertBelow(rel(f64(lu.p()).matmul(f64(lu.l())).matmul(f64(lu.u())), a), tol, what + " ‖A − PLU‖/‖A‖");
        if (a.size(0) == a.size(1)) {
            Tensor sym = a.add(a.t()).div(2);
            Linalg.Eigh e = Linalg.eigh(sym);
            assertFinite(what + " eigh", e.values(), e.vectors());
            Tensor v = f64(e.vectors());
            assertBelow(rel(f64(sym).matmul(v), v.mul(f64(e.values())), f64(sym)), tol, what + " ‖AV − VΛ‖/‖A‖");
            assertBelow(orth(e.vectors()), tol, what + " ‖VᵀV − I‖");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void rankDeficient(DType dt) {
        // Rank 3 in 60×40 (and its transpose): σ_4… are zero up to rounding, U and V stay orthonormal.
        Tensor a = withSingularValues(1, 60, 40, new double[] {5, 2, 1}, dt);
        for (Tensor m : new Tensor[] {a, a.t().contiguous()}) {
            allIdentities(m, "rank 3");
            double[] s = Linalg.svdvals(m).toDoubleArray();
            for (int i = 3; i < s.length; i++) assertBelow(s[i], tol(dt) * s[0], "σ_" + i + " of a rank-3 matrix");
        }
        Tensor sq = withSingularValues(2, 50, 50, new double[] {3, 2, 1, 1, 0.5}, dt);
        allIdentities(sq, "rank 5 square");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void illConditioned(DType dt) {
        int n = 40;
        double[] sv = new double[n];
        for (int i = 0; i < n; i++) sv[i] = Math.pow(10, -8.0 * i / (n - 1));
        Tensor a = withSingularValues(3, 70, n, sv, dt);
        allIdentities(a, "cond 1e8");
        // Absolute accuracy σ₁·tol for every singular value (the small ones are below F32 resolution).
        double[] got = Linalg.svdvals(a).toDoubleArray();
        for (int i = 0; i < n; i++) assertEquals(sv[i], got[i], tol(dt), "σ_" + i);
        Tensor sq = withSingularValues(4, n, n, sv, dt);
        allIdentities(sq, "cond 1e8 square");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void zeroMatrixAndOneByOne(DType dt) {
        for (int[] shape : new int[][] {{4, 3}, {3, 4}, {130, 130}, {1, 1}}) {
            Tensor z = Tensor.zeros(dt, shape);
            allIdentities(z, "zero " + shape[0] + "x" + shape[1]);
            assertEquals(0, Linalg.svdvals(z).abs().max().item());
        }
        Tensor one = Tensor.fromArray(new double[] {-3}, 1, 1).to(dt);
        allIdentities(one, "1x1");
        assertEquals(3, Linalg.svdvals(one).item());
        assertEquals(-3, Linalg.eigh(one).values().item());
        assertEquals(2, Linalg.cholesky(Tensor.fromArray(new double[] {4}, 1, 1).to(dt)).item());
        assertEquals(-1.5, Linalg.solve(one, Tensor.fromArray(new double[] {4.5}, 1).to(dt)).item(), 1e-6);
    }

    @ParameterizedTest
    @ValueSource(doubles = {1e37, 1e-37, 1e300, 1e-300})
    void valuesNearTheLimits(double scale) {
        DType dt = Math.abs(Math.log10(scale)) < 100 ? DType.F32 : DType.F64;
        Tensor base = gaussian(5, DType.F64, 30, 20);
        Tensor a = base.mul(scale).to(dt);
        allIdentities(a, "scale " + scale);
        allIdentities(a.t().contiguous(), "scale " + scale + " wide");
        Tensor sq = gaussian(6, DType.F64, 25, 25).mul(scale).to(dt);
        allIdentities(sq, "scale " + scale + " square");
        Tensor spd = spd(7, DType.F64, 20).mul(scale).to(dt);
        Tensor l = Linalg.cholesky(spd);
        assertFinite("cholesky scale " + scale, l);
        assertBelow(rel(f64(l).matmul(f64(l).t()), spd), tol(dt), "‖A − LLᵀ‖/‖A‖ at scale " + scale);
        Tensor b = gaussian(8, DType.F64, 25, 2).mul(scale).to(dt);
        Tensor x = Linalg.solve(sq, b);
        assertFinite("solve scale " + scale, x);
        assertBelow(rel(f64(sq).matmul(f64(x)), b), 100 * tol(dt), "‖AX − B‖/‖B‖ at scale " + scale);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void repeatedSingularValues(DType dt) {
        double[] sv = {3, 3, 3, 3, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5};
        Tensor a = withSingularValues(9, 30, 12, sv, dt);
        allIdentities(a, "repeated σ");
        double[] got = Linalg.svdvals(a).toDoubleArray();
        for (int i = 0; i < sv.length; i++) assertEquals(sv[i], got[i], 3 * tol(dt), "σ_" + i);
        // Orthogonal matrices: every singular value 1, and an identity with repeated eigenvalues.
        Tensor q = Linalg.qr(gaussian(10, dt, 130, 130), false).q();
        allIdentities(q, "orthogonal");
        allIdentities(Tensor.eye(130, dt), "identity");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void eigenvalueClustersForDivideAndConquer(DType dt) {
        // Wilkinson's W+ (n = 201): pairs of eigenvalues agreeing to many digits, the classic test of
        // deflation and of orthogonal vectors for close eigenvalues; then 20 copies of it glued by 1e-8,
        // and a dense matrix whose eigenvalues form tight clusters (1 ± 1e-10, 2, 3 ± 1e-12).
        int m = 100, n = 2 * m + 1;
        double[] w = new double[n * n];
        for (int i = 0; i < n; i++) {
            w[i * n + i] = Math.abs(m - i);
            if (i + 1 < n) w[i * n + i + 1] = w[(i + 1) * n + i] = 1;
        }
        allIdentities(Tensor.fromArray(w, n, n).to(dt), "Wilkinson W+ 201");
        int copies = 20, g = copies * 21;
        double[] glued = new double[g * g];
        for (int c = 0; c < copies; c++) {
            for (int i = 0; i < 21; i++) {
                int r = c * 21 + i;
                glued[r * g + r] = Math.abs(10 - i);
                if (i < 20) glued[r * g + r + 1] = glued[(r + 1) * g + r] = 1;
                else if (r + 1 < g) glued[r * g + r + 1] = glued[(r + 1) * g + r] = 1e-8;
            }
        }
        allIdentities(Tensor.fromArray(glued, g, g).to(dt), "glued Wilkinson 420");
        double[] lam = new double[150];
        for (int i = 0; i < lam.length; i++) lam[i] = i < 50 ? 1 + 1e-10 * i : i < 100 ? 2 : 3 + 1e-12 * i;
        Tensor q = Tensor.fromArray(orthonormal(new java.util.Random(12), 150, 150).data, 150, 150);
        Tensor clustered = q.mul(Tensor.fromArray(lam, 150)).matmul(q.t());
        allIdentities(clustered.add(clustered.t()).div(2).to(dt), "clustered eigenvalues");
    }

    @Test
    void nanOrInfInputsNameTheOpAndShape() {
        Tensor bad = Tensor.fromArray(new double[] {1, 2, Double.NaN, 4, 5, 6}, 2, 3);
        Tensor inf = Tensor.fromArray(new double[] {1, Double.NEGATIVE_INFINITY, 2, 3}, 2, 2).to(DType.F32);
        check("svd", () -> Linalg.svd(bad), "[2, 3]", "(0, 2)");
        check("svdvals", () -> Linalg.svdvals(bad), "[2, 3]", "NaN");
        check("qr", () -> Linalg.qr(bad, false), "[2, 3]", "NaN");
        check("lu", () -> Linalg.lu(bad), "[2, 3]", "NaN");
        check("eigh", () -> Linalg.eigh(inf), "[2, 2]", "Infinity");
        check("cholesky", () -> Linalg.cholesky(inf), "[2, 2]", "Infinity");
        check("solve", () -> Linalg.solve(inf, Tensor.ones(DType.F32, 2)), "[2, 2]", "(0, 1)");
        check("svdLowRank", () -> Linalg.svdLowRank(bad, 1, 1, new dev.rankwise.random.Generator(1)), "[2, 3]", "NaN");
        Tensor good = Tensor.eye(2, DType.F32);
        check("solve", () -> Linalg.solve(good, Tensor.fromArray(new float[] {1, Float.NaN}, 2)), "[2]", "NaN");
    }

    private static void check(String op, Runnable call, String... mustContain) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run, op);
        assertTrue(e.getMessage().startsWith(op + ":"), e.getMessage());
        for (String s : mustContain) assertTrue(e.getMessage().contains(s), "'" + e.getMessage() + "' should name " + s);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void singularSystemsAreClearErrors(DType dt) {
        Tensor singular = Tensor.fromArray(new double[] {1, 2, 3, 2, 4, 6, 1, 0, 1}, 3, 3).to(dt);
        Function<Runnable, String> msg = r -> assertThrows(ArithmeticException.class, r::run).getMessage();
        String s = msg.apply(() -> Linalg.solve(singular, Tensor.ones(dt, 3)));
        assertTrue(s.startsWith("solve:") && s.contains("[3, 3]") && s.contains("singular"), s);
        s = msg.apply(() -> Linalg.inv(singular));
        assertTrue(s.contains("[3, 3]") && s.contains("singular"), s);
        s = msg.apply(() -> Linalg.inv(Tensor.zeros(dt, 2, 2)));
        assertTrue(s.contains("singular"), s);
        Tensor notPd = Tensor.fromArray(new double[] {1, 2, 2, 1}, 2, 2).to(dt);
        s = msg.apply(() -> Linalg.cholesky(notPd));
        assertTrue(s.startsWith("cholesky:") && s.contains("[2, 2]") && s.contains("pivot 1"), s);
        s = msg.apply(() -> Linalg.cholesky(Tensor.zeros(dt, 3, 3)));
        assertTrue(s.contains("pivot 0"), s);
        Tensor zeroDiag = Tensor.fromArray(new double[] {1, 0, 5, 0}, 2, 2).to(dt);
        s = msg.apply(() -> Linalg.solveTriangular(zeroDiag, Tensor.ones(dt, 2), true, false));
        assertTrue(s.startsWith("solveTriangular:") && s.contains("[2, 2]") && s.contains("1"), s);
        // Singular but handled: lstsq and pinv of the same matrix give finite least-squares answers.
        Tensor x = Linalg.lstsq(singular, Tensor.ones(dt, 3));
        assertFinite("lstsq of a singular matrix", x, Linalg.pinv(singular));
        // LU itself handles a singular matrix (a zero pivot), as LAPACK does.
        Linalg.Lu lu = Linalg.lu(singular);
        assertBelow(rel(f64(lu.p()).matmul(f64(lu.l())).matmul(f64(lu.u())), singular), tol(dt), "LU of a singular matrix");
    }

    @Test
    void shapeAndTypeErrors() {
        assertThrows(IllegalArgumentException.class, () -> Linalg.svd(Tensor.zeros(DType.F64, 2, 2, 2)));
        assertThrows(IllegalArgumentException.class, () -> Linalg.eigh(Tensor.zeros(DType.F64, 2, 3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Linalg.eigh(Tensor.fromArray(new double[] {1, 2, 3, 4}, 2, 2)));
        assertTrue(e.getMessage().contains("not symmetric"), e.getMessage());
        // Symmetric within the relative tolerance (1e-6 for F32, Frobenius): accepted; beyond it: rejected.
        Tensor s = symmetric(31, DType.F64, 50), noise = gaussian(32, DType.F64, 50, 50);
        assertEquals(50, Linalg.eigh(s.add(noise.mul(1e-8)).to(DType.F32)).values().size(0));
        e = assertThrows(IllegalArgumentException.class, () -> Linalg.eigh(s.add(noise.mul(1e-4)).to(DType.F32)));
        assertTrue(e.getMessage().startsWith("eigh:") && e.getMessage().contains("[50, 50]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Linalg.solve(Tensor.eye(3, DType.F64), Tensor.ones(DType.F64, 2)));
        assertTrue(e.getMessage().contains("[2]") && e.getMessage().contains("[3, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Linalg.svd(Tensor.zeros(DType.I32, 2, 2)));
    }
}
