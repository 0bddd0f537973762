package dev.rankwise.cpu.linalg;

/// Dense decompositions in F64 on row-major arrays. Inputs are never modified.
///
/// These are the straightforward, accurate classics (Golub & Van Loan, 4th ed.): one-sided Jacobi SVD
/// (§8.6.3), Householder QR (§5.2), cyclic Jacobi for the symmetric eigenproblem (§8.5), LU with partial
/// pivoting (§3.4), Cholesky (§4.2). Jacobi methods are slower than bidiagonalization for large n but
/// reach full relative accuracy, which the initializers' identity tests rely on.
public final class Dense {
    private Dense() {}

    private static final double EPS = 0x1p-52;
    private static final int MAX_SWEEPS = 60;

    /// Thin SVD of an m×n matrix with m ≥ n by one-sided Jacobi: returns {U [m·n], S [n], V [n·n]} with
    /// A = U·diag(S)·Vᵀ, S descending. Wide matrices are handled by the caller through the transpose.
    public static double[][] svdTall(double[] a, int m, int n, boolean computeUV) {
        if (m < n) throw new IllegalArgumentException("svdTall: needs m >= n, got " + m + "x" + n);
        double[] u = a.clone();
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        // Scale to avoid overflow/underflow in the column norms.
        double scale = 0;
        for (double x : u) scale = Math.max(scale, Math.abs(x));
        if (scale == 0) scale = 1;
        for (int i = 0; i < u.length; i++) u[i] /= scale;
        for (int sweep = 0; ; sweep++) {
            if (sweep == MAX_SWEEPS) throw new ArithmeticException("svd: one-sided Jacobi did not converge in " + MAX_SWEEPS + " sweeps");
            boolean rotated = false;
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < m; i++) {
                        double up = u[i * n + p], uq = u[i * n + q];
                        alpha += up * up;
                        beta += uq * uq;
                        gamma += up * uq;
                    }
                    if (Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta) || gamma == 0) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.sqrt(1 + t * t), s = c * t;
                    for (int i = 0; i < m; i++) {
                        double up = u[i * n + p], uq = u[i * n + q];
                        u[i * n + p] = c * up - s * uq;
                        u[i * n + q] = s * up + c * uq;
                    }
                    for (int i = 0; i < n; i++) {
                        double vp = v[i * n + p], vq = v[i * n + q];
                        v[i * n + p] = c * vp - s * vq;
                        v[i * n + q] = s * vp + c * vq;
                    }
                }
            }
            if (!rotated) break;
        }
        double[] s = new double[n];
        for (int j = 0; j < n; j++) {
            double norm = 0;
            for (int i = 0; i < m; i++) norm += u[i * n + j] * u[i * n + j];
            s[j] = Math.sqrt(norm);
        }
        // Sort descending, permuting U's and V's columns alike.
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (x, y) -> Double.compare(s[y], s[x]));
        double[] ss = new double[n];
        for (int j = 0; j < n; j++) ss[j] = s[order[j]] * scale;
        if (!computeUV) return new double[][] {null, ss, null};
        double[] uu = new double[m * n], vv = new double[n * n];
        for (int j = 0; j < n; j++) {
            int src = order[j];
            double sj = s[src];
            for (int i = 0; i < n; i++) vv[i * n + j] = v[i * n + src];
            if (sj > 0) {
                for (int i = 0; i < m; i++) uu[i * n + j] = u[i * n + src] / sj;
            }
        }
        completeOrthonormalColumns(uu, m, n, s, order);
        return new double[][] {uu, ss, vv};
    }

    /// Columns of U whose singular value is 0 (or numerically lost) are replaced by orthonormal vectors
    /// orthogonal to the others, so UᵀU = I holds for rank-deficient inputs too.
    private static void completeOrthonormalColumns(double[] u, int m, int n, double[] s, Integer[] order) {
        double smax = s[order[0]];
        for (int j = 0; j < n; j++) {
            if (s[order[j]] > smax * EPS * Math.max(m, n) && s[order[j]] > 0) continue;
            for (int trial = 0; trial < m; trial++) {
                double[] col = new double[m];
                col[(j + trial) % m] = 1;
                for (int pass = 0; pass < 2; pass++) {
                    for (int k = 0; k < n; k++) {
                        if (k == j) continue;
                        double dot = 0;
                        for (int i = 0; i < m; i++) dot += col[i] * u[i * n + k];
                        for (int i = 0; i < m; i++) col[i] -= dot * u[i * n + k];
                    }
                }
                double norm = 0;
                for (double x : col) norm += x * x;
                norm = Math.sqrt(norm);
                if (norm > 0.5) {
                    for (int i = 0; i < m; i++) u[i * n + j] = col[i] / norm;
                    break;
                }
            }
        }
    }

    /// Householder QR of m×n A: {Q, R} reduced (Q m×k, R k×n) or complete (Q m×m, R m×n), k = min(m, n).
    /// R's diagonal is made non-negative.
    public static double[][] qr(double[] a, int m, int n, boolean complete) {
        int k = Math.min(m, n);
        double[] r = a.clone();
        double[][] vs = new double[k][];
        double[] betas = new double[k];
        for (int j = 0; j < k; j++) {
            double norm = 0;
            for (int i = j; i < m; i++) norm += r[i * n + j] * r[i * n + j];
            norm = Math.sqrt(norm);
            double[] v = new double[m - j];
            if (norm == 0) {
                vs[j] = v;
                continue;
            }
            double x0 = r[j * n + j];
            double alpha = x0 >= 0 ? -norm : norm;
            for (int i = j; i < m; i++) v[i - j] = r[i * n + j];
            v[0] -= alpha;
            double vnorm2 = 0;
            for (double x : v) vnorm2 += x * x;
            double beta = vnorm2 == 0 ? 0 : 2 / vnorm2;
            for (int c = j; c < n; c++) {
                double dot = 0;
                for (int i = j; i < m; i++) dot += v[i - j] * r[i * n + c];
                dot *= beta;
                for (int i = j; i < m; i++) r[i * n + c] -= dot * v[i - j];
            }
            vs[j] = v;
            betas[j] = beta;
        }
        int qc = complete ? m : k;
        double[] q = new double[m * qc];
        for (int i = 0; i < Math.min(m, qc); i++) q[i * qc + i] = 1;
        for (int j = k - 1; j >= 0; j--) {
            double[] v = vs[j];
            if (betas[j] == 0) continue;
            for (int c = 0; c < qc; c++) {
                double dot = 0;
                for (int i = j; i < m; i++) dot += v[i - j] * q[i * qc + c];
                dot *= betas[j];
                for (int i = j; i < m; i++) q[i * qc + c] -= dot * v[i - j];
            }
        }
        int rr = complete ? m : k;
        double[] rOut = new double[rr * n];
        for (int i = 0; i < Math.min(rr, m); i++) {
            for (int c = i; c < n; c++) rOut[i * n + c] = r[i * n + c];
        }
        // Non-negative diagonal: flip the sign of R's row and Q's column together.
        for (int i = 0; i < k; i++) {
            if (rOut[i * n + i] < 0) {
                for (int c = 0; c < n; c++) rOut[i * n + c] = -rOut[i * n + c];
                for (int row = 0; row < m; row++) q[row * qc + i] = -q[row * qc + i];
            }
        }
        return new double[][] {q, rOut};
    }

    /// Symmetric eigendecomposition by cyclic Jacobi: {values ascending [n], vectors [n·n] as columns}.
    public static double[][] eigh(double[] a, int n) {
        double[] w = a.clone();
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        double scale = 0;
        for (double x : w) scale = Math.max(scale, Math.abs(x));
        if (scale == 0) scale = 1;
        for (int i = 0; i < w.length; i++) w[i] /= scale;
        for (int sweep = 0; ; sweep++) {
            double off = 0, diag = 0;
            for (int i = 0; i < n; i++) {
                diag += w[i * n + i] * w[i * n + i];
                for (int j = i + 1; j < n; j++) off += w[i * n + j] * w[i * n + j];
            }
            if (off <= EPS * EPS * (diag + off)) break;
            if (sweep == MAX_SWEEPS) throw new ArithmeticException("eigh: Jacobi did not converge in " + MAX_SWEEPS + " sweeps");
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = w[p * n + q];
                    if (apq == 0) continue;
                    double theta = (w[q * n + q] - w[p * n + p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) { // columns p, q
                        double wkp = w[k * n + p], wkq = w[k * n + q];
                        w[k * n + p] = c * wkp - s * wkq;
                        w[k * n + q] = s * wkp + c * wkq;
                    }
                    for (int k = 0; k < n; k++) { // rows p, q
                        double wpk = w[p * n + k], wqk = w[q * n + k];
                        w[p * n + k] = c * wpk - s * wqk;
                        w[q * n + k] = s * wpk + c * wqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k * n + p], vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = w[i * n + i];
        java.util.Arrays.sort(order, (x, y) -> Double.compare(d[x], d[y]));
        double[] vals = new double[n], vecs = new double[n * n];
        for (int j = 0; j < n; j++) {
            vals[j] = d[order[j]] * scale;
            for (int i = 0; i < n; i++) vecs[i * n + j] = v[i * n + order[j]];
        }
        return new double[][] {vals, vecs};
    }

    /// LU with partial pivoting of m×n A: {perm (as doubles) [m], L [m·k] unit lower, U [k·n]} with
    /// A[perm[i], :] = (L·U)[i, :]. A zero pivot column is skipped (U gets a zero diagonal entry).
    public static double[][] lu(double[] a, int m, int n) {
        int k = Math.min(m, n);
        double[] w = a.clone();
        int[] perm = new int[m];
        for (int i = 0; i < m; i++) perm[i] = i;
        for (int j = 0; j < k; j++) {
            int piv = j;
            for (int i = j + 1; i < m; i++) if (Math.abs(w[i * n + j]) > Math.abs(w[piv * n + j])) piv = i;
            if (piv != j) {
                for (int c = 0; c < n; c++) {
                    double t = w[j * n + c];
                    w[j * n + c] = w[piv * n + c];
                    w[piv * n + c] = t;
                }
                int t = perm[j];
                perm[j] = perm[piv];
                perm[piv] = t;
            }
            double d = w[j * n + j];
            if (d == 0) continue;
            for (int i = j + 1; i < m; i++) {
                double f = w[i * n + j] / d;
                w[i * n + j] = f;
                if (f != 0) for (int c = j + 1; c < n; c++) w[i * n + c] -= f * w[j * n + c];
            }
        }
        double[] l = new double[m * k], u = new double[k * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < Math.min(i, k); j++) l[i * k + j] = w[i * n + j];
            if (i < k) l[i * k + i] = 1;
        }
        for (int i = 0; i < k; i++) for (int c = i; c < n; c++) u[i * n + c] = w[i * n + c];
        double[] p = new double[m];
        for (int i = 0; i < m; i++) p[i] = perm[i];
        return new double[][] {p, l, u};
    }

    /// Lower Cholesky factor of a symmetric positive definite n×n matrix.
    public static double[] cholesky(double[] a, int n) {
        double[] l = new double[n * n];
        for (int j = 0; j < n; j++) {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
            if (!(d > 0)) {
                throw new ArithmeticException("cholesky: matrix is not positive definite (pivot " + j + " is " + d + ")");
            }
            double ljj = Math.sqrt(d);
            l[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = s / ljj;
            }
        }
        return l;
    }

    /// Solves A·X = B for triangular A [n·n] and B [n·r].
    public static double[] solveTriangular(double[] a, int n, double[] b, int r, boolean lower, boolean unit) {
        double[] x = b.clone();
        for (int step = 0; step < n; step++) {
            int i = lower ? step : n - 1 - step;
            double d = unit ? 1 : a[i * n + i];
            if (d == 0) throw new ArithmeticException("solveTriangular: zero on the diagonal at " + i);
            for (int c = 0; c < r; c++) {
                double s = x[i * r + c];
                if (lower) for (int k = 0; k < i; k++) s -= a[i * n + k] * x[k * r + c];
                else for (int k = i + 1; k < n; k++) s -= a[i * n + k] * x[k * r + c];
                x[i * r + c] = s / d;
            }
        }
        return x;
    }
}
