package dev.rankwise.cpu.linalg;

/// Thin SVD of a row-major F32 matrix: Householder bidiagonalization ([BidiagonalF32]), the singular
/// vectors of the bidiagonal by divide and conquer ([BidiagonalDcF32], LAPACK's dbdsdc), and Q's and
/// P's reflectors applied to them in blocks (dormbr): the LAPACK dgesdd path. The values-only path
/// and the reference path (`dc` false) use the implicit bidiagonal QR iteration ([BidiagonalQr]),
/// the latter with its rotations applied in cache-sized batches ([RotationsF32]) to the explicitly
/// formed Q and P (dgesvd with dorgbr and dbdsqr). Matrices with many more rows than columns are first
/// reduced by QR (Chan 1982), which shortens the bidiagonalization and the vectors. Wide matrices are
/// solved through their transpose. The matrix is scaled by a power of two into [0.5, 1) first, so
/// values near the dtype's limits neither overflow nor underflow. GENERATED from `SvdF64.java` by `GenerateF32Linalg` (tests); do not edit.
final class SvdF32 {
    private SvdF32() {}

    /// Whether the vectors come from the bidiagonal divide and conquer ([BidiagonalDcF32]) by default.
    static final boolean DIVIDE_AND_CONQUER = true;
    /// Rows per column above which the QR comes first.
    static final /*keep*/double QR_FIRST_RATIO = 1.2;
    private static final /*keep*/double EPS = Math.ulp((float) 1) / 2;

    /// A [m, n] row-major → {U [m, k], S [k] descending, Vh [k, n]}, row-major, k = min(m, n); with
    /// `vectors` false, {null, S, null}.
    static float[][] svd(float[] a, int m, int n, boolean vectors) {
        return svd(a, m, n, vectors, DIVIDE_AND_CONQUER);
    }

    /// As [#svd(float[], int, int, boolean)]; `dc` false takes the QR iteration's vectors (the
    /// reference the divide and conquer is tested against).
    static float[][] svd(float[] a, int m, int n, boolean vectors, boolean dc) {
        boolean tall = m >= n;
        int bigM = Math.max(m, n), bigN = Math.min(m, n);
        // T (bigM×bigN, column-major) is A for a tall A and Aᵀ for a wide one: the row-major A's array
        // already is Aᵀ column-major.
        float[] t = new float[bigM * bigN];
        if (tall) BlasF32.transpose(m, n, a, 0, n, t, 0, m);
        else System.arraycopy(a, 0, t, 0, t.length);
        int exp = Scalars.scaleExponent(BlasF32.maxAbs(t));
        BlasF32.scale(t, exp);

        boolean qrFirst = bigM >= QR_FIRST_RATIO * bigN && bigN > 1;
        float[] qrTau = null, w = t;
        int wm = bigM;
        if (qrFirst) {
            qrTau = new float[bigN];
            HouseholderF32.geqrf(bigM, bigN, t, 0, bigM, qrTau);
            w = new float[bigN * bigN];
            for (int j = 0; j < bigN; j++) System.arraycopy(t, j * bigM, w, j * bigN, j + 1);
            wm = bigN;
        }
        BidiagonalF32.Result b = BidiagonalF32.gebrd(wm, bigN, w, wm);
        /*keep*/double[] d = b.d(), e = b.e();
        if (!vectors) {
            BidiagonalQr.iterate(d, e, bigN, EPS, null, null);
            float[] s = new float[bigN];
            int[] order = Scalars.descendingAbs(d);
            for (int i = 0; i < bigN; i++) s[i] = (float) Math.scalb(Math.abs(d[order[i]]), -exp);
            return new float[][] {null, s, null};
        }
        float[] u, v;
        if (dc) {
            // B = U_B·S·V_Bᵀ by divide and conquer, then U = Q·U_B and V = P·V_B with Q's and P's
            // reflectors applied to U_B and V_B directly, in blocks (dormbr).
            float[][] uv = BidiagonalDcF32.solve(d, e, bigN, EPS);
            u = new float[wm * bigN];
            for (int j = 0; j < bigN; j++) System.arraycopy(uv[0], j * bigN, u, j * wm, bigN);
            HouseholderF32.applyQ(wm, bigN, bigN, w, 0, wm, b.tauq(), 0, u, 0, wm, false);
            v = uv[1];
            if (bigN > 1) {
                int k = bigN - 1;
                HouseholderF32.applyQ(k, bigN, k, rightReflectors(bigN, w, wm), 0, k, b.taup(), 0, v, 1, bigN, false);
            }
        } else {
            u = HouseholderF32.formQ(wm, bigN, bigN, w, 0, wm, b.tauq(), 0);
            v = formP(bigN, w, wm, b.taup());
            qrIteration(d, e, bigN, u, wm, v);
        }
        float[] uFull = u;
        if (qrFirst) {
            // U = Q_qr·[U_R; 0].
            uFull = new float[bigM * bigN];
            for (int j = 0; j < bigN; j++) System.arraycopy(u, j * bigN, uFull, j * bigM, bigN);
            HouseholderF32.applyQ(bigM, bigN, bigN, t, 0, bigM, qrTau, 0, uFull, 0, bigM, false);
        }
        int[] order = Scalars.descendingAbs(d);
        float[] s = new float[bigN];
        for (int i = 0; i < bigN; i++) s[i] = (float) Math.scalb(d[order[i]], -exp);
        // Tall: A = U·S·Vᵀ with U = uFull (bigM×k), V = v. Wide: Aᵀ = U'·S·V'ᵀ, so A's U is V' and A's
        // Vh is U'ᵀ. Either way one factor is transposed into row-major and the other's columns are
        // already the rows of the row-major result.
        float[] left = tall ? uFull : v, right = tall ? v : uFull;
        int leftLen = tall ? bigM : bigN, rightLen = tall ? bigN : bigM;
        float[] uOut = new float[leftLen * bigN], vh = new float[bigN * rightLen];
        float[] permuted = new float[left.length];
        for (int c = 0; c < bigN; c++) {
            System.arraycopy(left, order[c] * leftLen, permuted, c * leftLen, leftLen);
            System.arraycopy(right, order[c] * rightLen, vh, c * rightLen, rightLen);
        }
        BlasF32.transpose(bigN, leftLen, permuted, 0, leftLen, uOut, 0, bigN);
        return new float[][] {uOut, s, vh};
    }

    /// The QR iteration's vectors (the reference path): U (um×n) and V (n×n) start as Q and P and take
    /// the rotations; d's negative entries are flipped with their V columns.
    private static void qrIteration(/*keep*/double[] d, /*keep*/double[] e, int n, float[] u, int um, float[] v) {
        // On several threads the logs apply asynchronously: U's and V's batches each on a worker while
        // the scalar iteration goes on recording the next ones.
        RotationLog uLog = new RotationLog(Scalars.logCapacity(n), log -> RotationsF32.apply(log, u, um, n, um), true);
        RotationLog vLog = new RotationLog(Scalars.logCapacity(n), log -> RotationsF32.apply(log, v, n, n, n), true);
        try {
            BidiagonalQr.iterate(d, e, n, EPS, uLog, vLog);
            uLog.flush();
            vLog.flush();
        } finally {
            uLog.await();
            vLog.await();
        }
        BidiagonalDcF32.flipNegative(d, n, v, n);
    }

    /// The right reflectors gebrd left in the rows of w, copied into the columns of a (n−1)×(n−1)
    /// matrix stored like a QR's: P = diag(1, P') with P' that matrix's Q.
    private static float[] rightReflectors(int n, float[] w, int ldw) {
        int k = n - 1;
        float[] r = new float[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = i; j < k; j++) r[i * k + j] = w[(j + 1) * ldw + i];
        }
        return r;
    }

    /// P = G_0⋯G_{n−2} (n×n, column-major) from the right reflectors gebrd left in the rows of w.
    static float[] formP(int n, float[] w, int ldw, float[] taup) {
        float[] p = new float[n * n];
        p[0] = 1;
        if (n == 1) return p;
        int k = n - 1;
        float[] pp = HouseholderF32.formQ(k, k, k, rightReflectors(n, w, ldw), 0, k, taup, 0);
        for (int j = 0; j < k; j++) System.arraycopy(pp, j * k, p, (j + 1) * n + 1, k);
        return p;
    }
}
