package dev.rankwise.linalg;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.random.Generator;
import dev.rankwise.spi.Backends;
import dev.rankwise.spi.LinalgKernels;

import java.util.function.BiFunction;

/// Dense linear algebra on 2-D F32/F64 tensors.
///
/// Decompositions run on the tensor's backend when it provides [LinalgKernels], otherwise on the CPU
/// with the results moved back. Inputs are checked here (rank, dtype, finiteness), so every backend
/// sees valid matrices. Decompositions are not differentiable: calling one on a tensor that requires
/// grad while the graph is recorded is an error (use `GradMode.noGrad()` or `detach()`); the
/// initializers that use them (PiSSA, LoRA-GA, …) run outside the graph anyway.
public final class Linalg {
    private Linalg() {}

    /// Thin SVD `A = U·diag(S)·Vh`: U [m, k], S [k] descending and non-negative, Vh [k, n], k = min(m, n).
    public record Svd(Tensor u, Tensor s, Tensor vh) {
        /// `U·diag(S)·Vh`, the reconstruction.
        public Tensor reconstruct() {
            return u.mul(s).matmul(vh);
        }
    }

    /// `A = Q·R`: reduced Q [m, k], R [k, n]; complete Q [m, m], R [m, n].
    public record Qr(Tensor q, Tensor r) {}

    /// `A = V·diag(values)·Vᵀ` with values ascending and the eigenvectors as columns of V [n, n].
    public record Eigh(Tensor values, Tensor vectors) {}

    /// `A[perm[i], :] = (L·U)[i, :]`: perm I32 [m], L [m, k] unit lower, U [k, n] upper.
    public record Lu(Tensor perm, Tensor l, Tensor u) {
        /// The permutation matrix P [m, m] with `A = P·L·U`.
        public Tensor p() {
            int[] perm = this.perm.toIntArray();
            int m = perm.length;
            double[] p = new double[m * m];
            for (int i = 0; i < m; i++) p[perm[i] * m + i] = 1;
            return Tensor.fromArray(p, m, m).to(l.dtype()).to(l.device());
        }
    }

    /// `A = P·L·diag(D)·U` with L unit lower [m, k], D [k], U unit upper [k, n] (LoLDU, arXiv 2410.13618).
    public record Ldu(Tensor perm, Tensor l, Tensor d, Tensor u) {
        public Tensor p() {
            return new Lu(perm, l, u).p();
        }
    }

    // ---------------------------------------------------------------- decompositions

    /// Thin SVD of A [m, n]: U [m, k], S [k] descending, Vh [k, n], k = min(m, n) (PiSSA, MiLoRA,
    /// GaLore, … start here). U and V are orthonormal to about √k·u of the dtype (u = 2⁻²⁴ or 2⁻⁵³).
    public static Svd svd(Tensor a) {
        Tensor[] r = run("svd", (k, t) -> k.svd(t[0], true), checked("svd", a));
        return new Svd(r[0], r[1], r[2]);
    }

    /// Singular values only, S [k] descending, k = min(m, n); cheaper than [#svd] (no vectors).
    public static Tensor svdvals(Tensor a) {
        return run("svdvals", (k, t) -> k.svd(t[0], false), checked("svdvals", a))[1];
    }

    /// Randomized truncated SVD (Halko, Martinsson & Tropp 2011, Alg. 4.4 with re-orthonormalization
    /// after every product): a Gaussian sketch of `q + oversample` columns, `niter` power iterations,
    /// then the exact SVD of the small projected matrix, truncated to q. With `oversample = 0` this is
    /// the algorithm of `torch.svd_lowrank(A, q, niter)`; a few extra columns (5–10) cost little, since
    /// every product is bound by reading A, and bring the error closer to the optimal rank-q error.
    /// U [m, q], S [q], Vh [q, n].
    ///
    /// A is read 2·niter + 2 times, always in its own layout (Aᵀ·Q is formed as (Qᵀ·A)ᵀ). Its finiteness
    /// is checked on the first sketch, A·Ω, rather than by a separate pass: a NaN or an infinity in A
    /// makes that row of the sketch non-finite, and only then is A scanned to name the element.
    public static Svd svdLowRank(Tensor a, int q, int niter, int oversample, Generator gen) {
        checkedShape("svdLowRank", a);
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        if (q < 1 || q > k) throw new IllegalArgumentException("svdLowRank: q = " + q + " must be in [1, " + k + "] for shape " + Shape.str(a.shape()));
        if (niter < 0 || oversample < 0) throw new IllegalArgumentException("svdLowRank: niter and oversample must be >= 0");
        int l = Math.min(k, q + oversample);
        try (var ignored = GradMode.noGrad()) {
            Tensor omega = Tensor.randn(gen, a.dtype(), n, l).to(a.device());
            Tensor y = a.matmul(omega);
            double scale = 1;
            if (!Double.isFinite(y.sum().item())) {
                requireFinite("svdLowRank", "input", a);
                // Finite but so large that the sketch overflowed: work on A scaled into [0.5, 1).
                double amax = a.abs().max().item();
                scale = Math.scalb(1.0, -Math.getExponent(amax) - 1);
                a = a.mul(scale);
                y = a.matmul(omega);
            }
            Tensor qm = qr(y, false).q();
            for (int i = 0; i < niter; i++) {
                Tensor z = qr(qm.t().matmul(a).t(), false).q();
                qm = qr(a.matmul(z), false).q();
            }
            Svd small = svd(qm.t().matmul(a));
            Tensor u = qm.matmul(small.u());
            Tensor s = small.s().narrow(0, 0, q).contiguous();
            return new Svd(u.narrow(1, 0, q).contiguous(), scale == 1 ? s : s.div(scale), small.vh().narrow(0, 0, q).contiguous());
        }
    }

    /// [#svdLowRank(Tensor, int, int, int, Generator)] without oversampling: `torch.svd_lowrank(A, q, niter)`.
    public static Svd svdLowRank(Tensor a, int q, int niter, Generator gen) {
        return svdLowRank(a, q, niter, 0, gen);
    }

    /// Householder QR of A [m, n]: reduced Q [m, k], R [k, n] or complete Q [m, m], R [m, n] (OLoRA),
    /// with R's diagonal non-negative, so the factors are unique for full-rank A.
    public static Qr qr(Tensor a, boolean complete) {
        Tensor[] r = run("qr", (k, t) -> k.qr(t[0], complete), checked("qr", a));
        int kk = Math.min(a.size(0), a.size(1));
        if (kk == 0) return new Qr(r[0], r[1]);
        try (var ignored = GradMode.noGrad()) {
            // Backends choose their own signs (LAPACK's leave R's diagonal of either sign).
            Tensor d = diagonal(r[1]);
            if (d.min().item() >= 0) return new Qr(r[0], r[1]);
            Tensor flip = Tensor.where(d.lt(0.0), Tensor.full(-1, d.dtype(), kk).to(d.device()), Tensor.ones(d.dtype(), kk).to(d.device()));
            int rows = r[1].size(0), cols = r[0].size(1);
            Tensor rowSign = rows == kk ? flip : Tensor.concat(java.util.List.of(flip, Tensor.ones(d.dtype(), rows - kk).to(d.device())), 0);
            Tensor colSign = cols == kk ? flip : Tensor.concat(java.util.List.of(flip, Tensor.ones(d.dtype(), cols - kk).to(d.device())), 0);
            return new Qr(r[0].mul(colSign).contiguous(), r[1].mul(rowSign.unsqueeze(1)).contiguous());
        }
    }

    /// Symmetric eigendecomposition of A [n, n]: values [n] ascending, vectors [n, n] as columns (EoRA,
    /// LoRA-Pro's Sylvester route). A must be symmetric within a relative 1e-6 (F32) or 1e-10 (F64),
    /// measured in the Frobenius norm.
    public static Eigh eigh(Tensor a) {
        checkSquare("eigh", checked("eigh", a));
        checkSymmetric("eigh", a);
        Tensor[] r = run("eigh", (k, t) -> k.eigh(t[0]), a);
        return new Eigh(r[0], r[1]);
    }

    /// LU with partial pivoting of A [m, n]: `A[perm[i], :] = (L·U)[i, :]`, L [m, k] unit lower with
    /// |L| ≤ 1, U [k, n] upper. A singular A is not an error here (U gets a zero pivot); [#solve] checks.
    public static Lu lu(Tensor a) {
        Tensor[] r = run("lu", (k, t) -> k.lu(t[0]), checked("lu", a));
        return new Lu(r[0], r[1], r[2]);
    }

    /// LU split into unit-triangular factors and a diagonal: U = diag(D)·Ũ. A zero pivot gives D_i = 0
    /// and row i of Ũ is taken from U unscaled (so P·L·diag(D)·Ũ still equals A).
    public static Ldu ldu(Tensor a) {
        Lu lu = lu(a);
        try (var ignored = GradMode.noGrad()) {
            int k = lu.u().size(0);
            Tensor d = diagonal(lu.u());
            Tensor safe = Tensor.where(d.eq(0.0), Tensor.ones(d.dtype(), k).to(d.device()), d);
            return new Ldu(lu.perm(), lu.l(), d, lu.u().div(safe.unsqueeze(1)));
        }
    }

    /// Lower Cholesky factor, A = L·Lᵀ; a matrix that is not positive definite is an error naming
    /// the failing pivot.
    public static Tensor cholesky(Tensor a) {
        checkSquare("cholesky", checked("cholesky", a));
        checkSymmetric("cholesky", a);
        return run("cholesky", (k, t) -> new Tensor[] {k.cholesky(t[0])}, a)[0];
    }

    /// Solves A·X = B for triangular A [n, n] and B [n, r] (or [n]).
    public static Tensor solveTriangular(Tensor a, Tensor b, boolean lower, boolean unitDiagonal) {
        checkSquare("solveTriangular", checked("solveTriangular", a));
        Tensor b2 = asMatrix("solveTriangular", a, b);
        Tensor x = run("solveTriangular", (k, t) -> new Tensor[] {k.solveTriangular(t[0], t[1], lower, unitDiagonal)}, a, b2.to(a.device()))[0];
        return b.rank() == 1 ? x.reshape(-1) : x;
    }

    // ---------------------------------------------------------------- solvers built on them

    /// Solves A·X = B for square A through LU with partial pivoting; a singular A is an error.
    public static Tensor solve(Tensor a, Tensor b) {
        checkSquare("solve", checked("solve", a));
        Tensor b2 = asMatrix("solve", a, b);
        Lu lu = lu(a);
        Tensor d = diagonal(lu.u()).abs();
        double maxPivot = d.max().item();
        double minPivot = d.min().item();
        if (!(minPivot > maxPivot * eps(a.dtype()) * a.size(0))) {
            throw new ArithmeticException("solve: matrix of shape " + Shape.str(a.shape()) + " is singular to working precision"
                    + " (smallest pivot " + minPivot + ", largest " + maxPivot + ")");
        }
        try (var ignored = GradMode.noGrad()) {
            Tensor pb = b2.indexSelect(0, lu.perm());
            Tensor y = solveTriangular(lu.l(), pb, true, true);
            Tensor x = solveTriangular(lu.u(), y, false, false);
            return b.rank() == 1 ? x.reshape(-1) : x;
        }
    }

    /// A⁻¹ for square A [n, n] (for small matrices; prefer [#solve]); a singular A is an error.
    public static Tensor inv(Tensor a) {
        checkSquare("inv", checked("inv", a));
        return solve(a, Tensor.eye(a.size(0), a.dtype()).to(a.device()));
    }

    /// Moore–Penrose pseudo-inverse through the SVD; singular values ≤ rcond·σ₁ count as zero.
    public static Tensor pinv(Tensor a, double rcond) {
        Svd s = svd(a);
        try (var ignored = GradMode.noGrad()) {
            double cutoff = rcond * (s.s().numel() == 0 ? 0 : s.s().max().item());
            Tensor keep = s.s().gt(cutoff);
            Tensor inv = Tensor.where(keep, s.s().maximum(Tensor.scalar(Double.MIN_NORMAL, a.dtype())).pow(-1.0), s.s().mul(0.0));
            return s.vh().t().mul(inv).matmul(s.u().t());
        }
    }

    public static Tensor pinv(Tensor a) {
        return pinv(a, Math.max(a.size(0), a.size(1)) * eps(a.dtype()));
    }

    /// Least-squares solution of min ‖A·X − B‖: QR for tall full-rank A, the pseudo-inverse otherwise.
    public static Tensor lstsq(Tensor a, Tensor b) {
        checked("lstsq", a);
        Tensor b2 = asMatrix("lstsq", a, b);
        try (var ignored = GradMode.noGrad()) {
            Tensor x;
            if (a.size(0) >= a.size(1)) {
                Qr qr = qr(a, false);
                Tensor d = diagonal(qr.r()).abs();
                boolean fullRank = d.numel() > 0 && d.min().item() > d.max().item() * eps(a.dtype()) * Math.max(a.size(0), a.size(1));
                x = fullRank ? solveTriangular(qr.r(), qr.q().t().matmul(b2), false, false) : pinv(a).matmul(b2);
            } else {
                x = pinv(a).matmul(b2);
            }
            return b.rank() == 1 ? x.reshape(-1) : x;
        }
    }

    /// Solves the Sylvester equation A·X + X·B = C for A [m, m], B [n, n], C [m, n].
    ///
    /// Symmetric A and B (LoRA-Pro's case: Gram matrices) use their eigendecompositions,
    /// X = Q_A·[(Q_Aᵀ C Q_B)_ij / (λ_i + μ_j)]·Q_Bᵀ. Otherwise the equation is solved as the Kronecker
    /// system (I⊗A + Bᵀ⊗I)·vec(X) = vec(C), limited to m·n ≤ 1024. A singular system is an error.
    public static Tensor sylvester(Tensor a, Tensor b, Tensor c) {
        checkSquare("sylvester", checked("sylvester", a));
        checkSquare("sylvester", checked("sylvester", b));
        checked("sylvester", c);
        int m = a.size(0), n = b.size(0);
        if (c.size(0) != m || c.size(1) != n) {
            throw new IllegalArgumentException("sylvester: C of shape " + Shape.str(c.shape()) + " does not match A "
                    + Shape.str(a.shape()) + " and B " + Shape.str(b.shape()));
        }
        try (var ignored = GradMode.noGrad()) {
            if (isSymmetric(a) && isSymmetric(b)) {
                Eigh ea = eigh(a), eb = eigh(b);
                Tensor denom = ea.values().unsqueeze(1).add(eb.values().unsqueeze(0));
                double smallest = denom.abs().min().item();
                double scale = Math.max(ea.values().abs().max().item(), eb.values().abs().max().item());
                if (!(smallest > scale * eps(a.dtype()) * (m + n))) {
                    throw new ArithmeticException("sylvester: A and −B share an eigenvalue (|λ_i + μ_j| = " + smallest + "); no unique solution");
                }
                Tensor ct = ea.vectors().t().matmul(c).matmul(eb.vectors());
                return ea.vectors().matmul(ct.div(denom)).matmul(eb.vectors().t());
            }
            if ((long) m * n > 1024) {
                throw new IllegalArgumentException("sylvester: non-symmetric A, B with m·n = " + (long) m * n
                        + " > 1024 are not supported (Kronecker solve)");
            }
            double[] av = a.toDoubleArray(), bv = b.toDoubleArray(), cv = c.toDoubleArray();
            int size = m * n;
            double[] k = new double[size * size];
            double[] rhs = new double[size];
            // vec(X) row-major: index i*n + j. (A X)_ij = Σ_p A_ip X_pj; (X B)_ij = Σ_q X_iq B_qj.
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    int row = i * n + j;
                    rhs[row] = cv[row];
                    for (int p = 0; p < m; p++) k[row * size + p * n + j] += av[i * m + p];
                    for (int q = 0; q < n; q++) k[row * size + i * n + q] += bv[q * n + j];
                }
            }
            Tensor x = solve(Tensor.fromArray(k, size, size), Tensor.fromArray(rhs, size));
            return x.reshape(m, n).to(a.dtype()).to(a.device());
        }
    }

    // ---------------------------------------------------------------- norms

    /// ‖A‖_F, accumulated in F64.
    public static double normFrobenius(Tensor a) {
        try (var ignored = GradMode.noGrad()) {
            return a.to(DType.F64).norm().item();
        }
    }

    /// ‖A‖₂, the largest singular value.
    public static double normSpectral(Tensor a) {
        Tensor s = svdvals(a);
        return s.numel() == 0 ? 0 : s.narrow(0, 0, 1).item();
    }

    /// ‖A‖_*, the sum of the singular values.
    public static double normNuclear(Tensor a) {
        try (var ignored = GradMode.noGrad()) {
            return svdvals(a).to(DType.F64).sum().item();
        }
    }

    // ---------------------------------------------------------------- helpers

    /// The main diagonal of a 2-D tensor, as a copy.
    public static Tensor diagonal(Tensor a) {
        int k = Math.min(a.size(0), a.size(1));
        int[] idx = new int[k];
        for (int i = 0; i < k; i++) idx[i] = i;
        Tensor index = Tensor.fromArray(idx, k, 1).to(a.device());
        return a.narrow(0, 0, k).gather(1, index).reshape(k);
    }

    static double eps(DType dtype) {
        return dtype == DType.F32 ? 0x1p-23 : 0x1p-52;
    }

    private static Tensor checked(String op, Tensor a) {
        requireFinite(op, "input", checkedShape(op, a));
        return a;
    }

    /// Rank, dtype and gradient checks, without the finiteness pass.
    private static Tensor checkedShape(String op, Tensor a) {
        if (a.rank() != 2) throw new IllegalArgumentException(op + ": expects a 2-D matrix, got shape " + Shape.str(a.shape()));
        if (!a.dtype().isCompute()) throw new IllegalArgumentException(op + ": expects F32 or F64, got " + a.dtype());
        if (a.requiresGrad() && GradMode.enabled()) {
            throw new IllegalStateException(op + ": decompositions are not differentiable; call it under GradMode.noGrad() or on a.detach()");
        }
        return a;
    }

    /// Fails, naming the op, the shape and the first bad element, when `t` holds a NaN or an infinity.
    private static void requireFinite(String op, String what, Tensor t) {
        if (t.numel() == 0) return;
        try (var ignored = GradMode.noGrad()) {
            // A finite sum proves every element finite (one reduction on the tensor's own backend); a
            // NaN or an infinity makes it non-finite, and so, rarely, does overflow, hence the scan.
            if (Double.isFinite(t.sum().item())) return;
        }
        double[] v = t.toDoubleArray();
        int cols = t.rank() == 2 ? t.size(1) : 1;
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                String at = t.rank() == 2 ? "(" + i / cols + ", " + i % cols + ")" : "(" + i + ")";
                throw new IllegalArgumentException(op + ": " + what + " of shape " + Shape.str(t.shape()) + " contains " + v[i] + " at " + at);
            }
        }
    }

    private static void checkSquare(String op, Tensor a) {
        if (a.size(0) != a.size(1)) throw new IllegalArgumentException(op + ": expects a square matrix, got shape " + Shape.str(a.shape()));
    }

    /// Whether ‖(A − Aᵀ)·x‖ ≤ tol·(‖A·x‖ + ‖Aᵀ·x‖) for two fixed Gaussian probes x: for Gaussian x
    /// these estimate ‖A − Aᵀ‖_F and ‖A‖_F, so this is symmetry within a relative tol (1e-6 for F32,
    /// 1e-10 for F64) in the Frobenius norm, at the cost of two skinny products in A's own layout
    /// instead of an elementwise pass over a transposed view.
    private static boolean isSymmetric(Tensor a) {
        int n = a.size(0);
        if (n != a.size(1)) return false;
        if (n == 0) return true;
        try (var ignored = GradMode.noGrad()) {
            Tensor x = Tensor.randn(new Generator(0x5EED), a.dtype(), n, 2).to(a.device());
            Tensor ax = a.matmul(x), atx = x.t().matmul(a).t();
            double diff = ax.sub(atx).to(DType.F64).norm().item();
            double scale = ax.to(DType.F64).norm().item() + atx.to(DType.F64).norm().item();
            return diff <= scale * (a.dtype() == DType.F32 ? 1e-6 : 1e-10);
        }
    }

    private static void checkSymmetric(String op, Tensor a) {
        if (a.numel() > 0 && !isSymmetric(a)) throw new IllegalArgumentException(op + ": matrix of shape " + Shape.str(a.shape()) + " is not symmetric");
    }

    private static Tensor asMatrix(String op, Tensor a, Tensor b) {
        Tensor b2 = b.rank() == 1 ? b.unsqueeze(1) : b;
        if (b2.rank() != 2 || b2.size(0) != a.size(0)) {
            throw new IllegalArgumentException(op + ": right-hand side of shape " + Shape.str(b.shape())
                    + " does not match A of shape " + Shape.str(a.shape()));
        }
        if (b2.dtype() != a.dtype()) b2 = b2.to(a.dtype());
        requireFinite(op, "right-hand side", b);
        return b2;
    }

    /// Runs a kernel on the first input's backend, or on the CPU with the results moved back.
    private static Tensor[] run(String op, BiFunction<LinalgKernels, Tensor[], Tensor[]> call, Tensor... inputs) {
        Device device = inputs[0].device();
        LinalgKernels k = inputs[0].backend().linalg();
        if (k != null) return call.apply(k, inputs);
        LinalgKernels cpu = Backends.forDevice(Device.cpu()).linalg();
        if (cpu == null || device.kind() == Device.Kind.CPU) {
            throw new IllegalStateException(op + ": no backend provides linear algebra (is engine-cpu-vector on the class path?)");
        }
        Tensor[] onCpu = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) onCpu[i] = inputs[i].to(Device.cpu());
        Tensor[] out = call.apply(cpu, onCpu);
        for (int i = 0; i < out.length; i++) if (out[i] != null) out[i] = out[i].to(device);
        return out;
    }
}
