package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.kernels.OpCodes;
import dev.rankwise.spi.LinalgKernels;

import java.util.ArrayList;
import java.util.List;

/// Decompositions through cuSOLVER, on row-major tensors.
///
/// LAPACK is column-major. The buffer of a contiguous row-major [p, q] tensor, read column-major, is
/// its transpose (q×p, leading dimension q); every routine below states which matrix it hands to
/// cuSOLVER and how it reads the factors back ([#fromColMajor] turns a column-major buffer into a
/// row-major tensor). Triangles are cut with the `tri_mask` kernels.
final class CudaLinalg implements LinalgKernels {
    private final CudaBackend be;

    CudaLinalg(CudaBackend be) {
        this.be = be;
    }

    /// Scratch buffers of one solver call (workspaces and `devInfo`), released when it ends.
    private final class Scratch implements DenseLibrary.Workspace, AutoCloseable {
        final CudaDevice d;
        final DType dtype;
        final List<CudaStorage> held = new ArrayList<>();
        final CudaStorage info;

        Scratch(CudaDevice d, DType dtype) {
            this.d = d;
            this.dtype = dtype;
            this.info = keep(d.allocate(be, DType.I32, 1, true));
        }

        private CudaStorage keep(CudaStorage s) {
            held.add(s);
            return s;
        }

        @Override
        public long work(long elements) {
            return keep(d.allocate(be, dtype, Math.max(1, elements), false)).address(0);
        }

        @Override
        public long info() {
            return info.address(0);
        }

        @Override
        public int readInfo() {
            int[] v = new int[1];
            d.sync();
            Cu.check(jcuda.driver.JCudaDriver.cuMemcpyDtoH(jcuda.Pointer.to(v), Cu.ptr(info.address(0)), 4), "cuMemcpyDtoH(devInfo)");
            return v[0];
        }

        @Override
        public void close() {
            d.sync();            // the stream is done with the scratch before it returns to the pool
            for (CudaStorage s : held) s.release();
        }
    }

    private static long addr(Tensor t) {
        return CudaStorage.of(t).address(t.offset());
    }

    /// A row-major [rows, cols] tensor of the column-major rows×cols matrix in `buf` (contiguous).
    private Tensor fromColMajor(Tensor buf, int rows, int cols) {
        Tensor asRowMajorT = new Tensor(buf.storage(), new int[] {cols, rows}, new int[] {rows, 1}, buf.offset());
        return be.contiguousCopy(asRowMajorT.t());
    }

    /// The column-major buffer of `a` [m, n] (leading dimension m): a contiguous copy of aᵀ.
    private Tensor toColMajor(Tensor a) {
        return be.contiguousCopy(a.t());
    }

    private void mask(Tensor t, int mode) {
        CudaDevice d = CudaStorage.of(t).device;
        int rows = t.size(0), cols = t.size(1);
        if ((long) rows * cols == 0) return;
        d.launch("tri_mask_" + CudaBackend.suffix(t), (long) rows * cols, new KernelArgs().ptr(t).i32(rows).i32(cols).i32(mode));
    }

    private static boolean f64(Tensor t) {
        return t.dtype() == DType.F64;
    }

    @Override
    public Tensor[] svd(Tensor a, boolean computeUV) {
        CudaDevice d = CudaBackend.on("svd", a);
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        DType dt = a.dtype();
        if (k == 0) {
            return new Tensor[] {computeUV ? be.emptyZero(d, dt, m, 0) : null, be.emptyZero(d, dt, 0), computeUV ? be.emptyZero(d, dt, 0, n) : null};
        }
        // cuSOLVER sees X = Aᵀ (n×m): A's row-major buffer. X = U'·S·V'ᵀ gives A = V'·S·U'ᵀ.
        Tensor x = be.contiguousCopy(a);
        Tensor s = be.empty(d, dt, k), up = be.empty(d, dt, k, n), vp = be.empty(d, dt, k, m);
        DenseLibrary lib = d.dense();
        int info;
        try (Scratch ws = new Scratch(d, dt)) {
            info = lib.gesvdj(f64(a), computeUV, n, m, addr(x), n, addr(s), addr(up), n, addr(vp), m, ws);
        }
        if (info != 0) return svdByQrIteration(a, computeUV);
        if (!computeUV) return new Tensor[] {null, s, null};
        // U' (n×k column-major) read row-major as [k, n] is U'ᵀ = Vh; V' (m×k column-major) is U.
        return new Tensor[] {fromColMajor(vp, m, k), s, up};
    }

    /// `gesvd` (QR iteration), when Jacobi did not converge. It needs rows >= cols, so it factors
    /// X = Aᵀ when n >= m and A itself (a column-major copy) otherwise.
    private Tensor[] svdByQrIteration(Tensor a, boolean computeUV) {
        CudaDevice d = CudaStorage.of(a).device;
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        DType dt = a.dtype();
        boolean tall = n >= m;                 // X = Aᵀ is n×m
        int rows = tall ? n : m, cols = tall ? m : n;
        Tensor x = tall ? be.contiguousCopy(a) : toColMajor(a);
        Tensor s = be.empty(d, dt, k), u = be.empty(d, dt, k, rows), vt = be.empty(d, dt, cols, k);
        char job = computeUV ? 'S' : 'N';
        int info;
        try (Scratch ws = new Scratch(d, dt)) {
            info = d.dense().gesvd(f64(a), job, job, rows, cols, addr(x), rows, addr(s), addr(u), rows, addr(vt), k, ws);
        }
        if (info != 0) throw new ArithmeticException("svd: cuSOLVER gesvdj and gesvd did not converge (info " + info + ")");
        if (!computeUV) return new Tensor[] {null, s, null};
        // U (rows×k) and VT (k×cols), column-major.
        if (tall) {
            // Aᵀ = U S VT, so A = VTᵀ S Uᵀ: U_A = VTᵀ (m×k) is VT's buffer read row-major as [m, k];
            // Vh_A = Uᵀ (k×n) is U's buffer read row-major as [k, n].
            return new Tensor[] {new Tensor(vt.storage(), new int[] {m, k}, new int[] {k, 1}, 0), s, new Tensor(u.storage(), new int[] {k, n}, new int[] {n, 1}, 0)};
        }
        return new Tensor[] {fromColMajor(u, m, k), s, fromColMajor(vt, k, n)};
    }

    @Override
    public Tensor[] qr(Tensor a, boolean complete) {
        CudaDevice d = CudaBackend.on("qr", a);
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        DType dt = a.dtype();
        Tensor buf = toColMajor(a);                       // A column-major, ld m
        Tensor tau = be.empty(d, dt, Math.max(1, k));
        DenseLibrary lib = d.dense();
        try (Scratch ws = new Scratch(d, dt)) {
            check("qr (geqrf)", lib.geqrf(f64(a), m, n, addr(buf), m, addr(tau), ws));
        }
        Tensor full = fromColMajor(buf, m, n);           // R above the diagonal, reflectors below
        Tensor r = complete ? full : be.contiguousCopy(full.narrow(0, 0, k));
        mask(r, OpCodes.TRI_UPPER);
        int qc = complete ? m : k;
        Tensor qbuf = buf;
        if (qc > n) {                                    // complete Q of a tall A: room for m columns
            qbuf = be.emptyZero(d, dt, m, m);
            be.copy(new Tensor(buf.storage(), new int[] {m * n}, new int[] {1}, 0), new Tensor(qbuf.storage(), new int[] {m * n}, new int[] {1}, 0));
        }
        try (Scratch ws = new Scratch(d, dt)) {
            check("qr (orgqr)", lib.orgqr(f64(a), m, qc, k, addr(qbuf), m, addr(tau), ws));
        }
        Tensor q = fromColMajor(new Tensor(qbuf.storage(), new int[] {m * qc}, new int[] {1}, 0), m, qc);
        return new Tensor[] {q, r};
    }

    @Override
    public Tensor[] eigh(Tensor a) {
        CudaDevice d = CudaBackend.on("eigh", a);
        int n = a.size(0);
        DType dt = a.dtype();
        Tensor buf = be.contiguousCopy(a);               // symmetric: row- and column-major agree
        Tensor w = be.empty(d, dt, n);
        try (Scratch ws = new Scratch(d, dt)) {
            check("eigh (syevd)", d.dense().syevd(f64(a), true, n, addr(buf), n, addr(w), ws));
        }
        return new Tensor[] {w, fromColMajor(buf, n, n)};   // eigenvectors in columns
    }

    @Override
    public Tensor[] lu(Tensor a) {
        CudaDevice d = CudaBackend.on("lu", a);
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        DType dt = a.dtype();
        Tensor buf = toColMajor(a);
        Tensor ipiv = be.empty(d, DType.I32, Math.max(1, k));
        try (Scratch ws = new Scratch(d, dt)) {
            // info > 0 flags an exactly zero pivot: the factorization is still valid (A singular).
            int info = d.dense().getrf(f64(a), m, n, addr(buf), m, addr(ipiv), ws);
            if (info < 0) check("lu (getrf)", info);
        }
        int[] piv = k == 0 ? new int[0] : java.util.Arrays.copyOf(ipiv.toIntArray(), k);
        int[] perm = new int[m];
        for (int i = 0; i < m; i++) perm[i] = i;
        for (int i = 0; i < k; i++) {                    // LAPACK's row swaps, 1-based, applied in order
            int j = piv[i] - 1, t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        Tensor f = fromColMajor(buf, m, n);
        Tensor l = be.contiguousCopy(f.narrow(1, 0, k)), u = be.contiguousCopy(f.narrow(0, 0, k));
        mask(l, OpCodes.TRI_UNIT_LOWER);
        mask(u, OpCodes.TRI_UPPER);
        return new Tensor[] {Tensor.fromArray(perm, m).to(a.device()), l, u};
    }

    @Override
    public Tensor cholesky(Tensor a) {
        CudaDevice d = CudaBackend.on("cholesky", a);
        int n = a.size(0);
        Tensor buf = be.contiguousCopy(a);
        // Column-major, the buffer is A too; factoring its upper triangle (A = UᵀU) leaves U there,
        // and U's buffer read row-major is Uᵀ = L. The other triangle still holds A: cut it off.
        try (Scratch ws = new Scratch(d, a.dtype())) {
            int info = d.dense().potrf(f64(a), true, n, addr(buf), n, ws);
            if (info > 0) throw new ArithmeticException("cholesky: matrix is not positive definite (leading minor of order " + info + ")");
            check("cholesky (potrf)", info);
        }
        mask(buf, OpCodes.TRI_LOWER);
        return buf;
    }

    @Override
    public Tensor solveTriangular(Tensor a, Tensor b, boolean lower, boolean unitDiagonal) {
        CudaDevice d = CudaBackend.on("solveTriangular", a, b);
        int n = a.size(0), r = b.size(1);
        Tensor x = be.contiguousCopy(b);                 // X [n, r] row-major = Xᵀ (r×n) column-major
        if ((long) n * r == 0) return x;
        Tensor am = a.isContiguous() ? a : be.contiguousCopy(a);
        // A·X = B  <=>  Xᵀ·Aᵀ = Bᵀ; A's buffer column-major is Aᵀ, upper when A is lower.
        synchronized (d) {
            d.enter();
            d.dense().trsm(f64(a), true, lower, false, unitDiagonal, r, n, 1.0, addr(am), n, addr(x), r);
        }
        java.lang.ref.Reference.reachabilityFence(am);
        return x;
    }

    private static void check(String what, int info) {
        if (info != 0) throw new ArithmeticException(what + ": cuSOLVER reported info " + info);
    }
}
