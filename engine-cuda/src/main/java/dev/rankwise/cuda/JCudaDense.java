package dev.rankwise.cuda;

import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcusolver.JCusolver;
import jcuda.jcusolver.JCusolverDn;
import jcuda.jcusolver.cusolverDnHandle;
import jcuda.jcusolver.gesvdjInfo;
import jcuda.runtime.cudaStream_t;

/// [DenseLibrary] through JCublas2 12.6.0 and JCusolver (jar 11.7.0, natives 12.6.0), which link
/// CUDA 12's `libcublas.so.12` and `libcusolver.so.11`. Fails to open (UnsatisfiedLinkError) where
/// those libraries are absent, e.g. on a machine with only CUDA 13 libraries.
final class JCudaDense implements DenseLibrary {
    private final cublasHandle blas = new cublasHandle();
    private final cusolverDnHandle solver = new cusolverDnHandle();
    private final gesvdjInfo svdjParams = new gesvdjInfo();
    private final String description;

    JCudaDense(CudaDevice device) {
        JCublas2.setExceptionsEnabled(false);
        JCusolver.setExceptionsEnabled(false);
        device.enter();
        blas(JCublas2.cublasCreate(blas), "cublasCreate");
        cudaStream_t stream = new cudaStream_t(device.stream);
        blas(JCublas2.cublasSetStream(blas, stream), "cublasSetStream");
        solver(JCusolverDn.cusolverDnCreate(solver), "cusolverDnCreate");
        solver(JCusolverDn.cusolverDnSetStream(solver, stream), "cusolverDnSetStream");
        solver(JCusolverDn.cusolverDnCreateGesvdjInfo(svdjParams), "cusolverDnCreateGesvdjInfo");
        int[] bv = new int[1], sv = new int[1];
        blas(JCublas2.cublasGetVersion(blas, bv), "cublasGetVersion");
        solver(JCusolver.cusolverGetVersion(sv), "cusolverGetVersion");
        description = "jcuda binding: JCublas2 " + jcuda.JCudaVersion.get() + " on libcublas.so.12 (cuBLAS " + ForeignDense.cublasVersion(bv[0])
                + "), JCusolver 11.7.0 jar + natives " + jcuda.JCudaVersion.get() + " on libcusolver.so.11 (cuSOLVER " + ForeignDense.cusolverVersion(sv[0]) + ")";
    }

    private static void blas(int rc, String call) {
        if (rc != 0) throw new CudaException(call + " failed: " + jcuda.jcublas.cublasStatus.stringFor(rc) + " (" + rc + ")");
    }

    private static void solver(int rc, String call) {
        if (rc != 0) throw new CudaException(call + " failed: " + jcuda.jcusolver.cusolverStatus.stringFor(rc) + " (" + rc + ")");
    }

    private static Pointer p(long address) {
        return Cu.ptr(address);
    }

    private static Pointer scalar(boolean f64, double v) {
        return f64 ? Pointer.to(new double[] {v}) : Pointer.to(new float[] {(float) v});
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void setTf32(boolean on) {
        blas(JCublas2.cublasSetMathMode(blas, on ? 3 : 0), "cublasSetMathMode");
    }

    @Override
    public void gemmStridedBatched(boolean f64, boolean transA, boolean transB, int m, int n, int k, double alpha,
                                   long a, int lda, long strideA, long b, int ldb, long strideB, double beta, long c, int ldc, long strideC, int batch) {
        int ta = transA ? 1 : 0, tb = transB ? 1 : 0;
        if (f64) {
            blas(JCublas2.cublasDgemmStridedBatched(blas, ta, tb, m, n, k, scalar(true, alpha), p(a), lda, strideA, p(b), ldb, strideB,
                    scalar(true, beta), p(c), ldc, strideC, batch), "cublasDgemmStridedBatched(m=" + m + ", n=" + n + ", k=" + k + ", batch=" + batch + ")");
        } else {
            blas(JCublas2.cublasSgemmStridedBatched(blas, ta, tb, m, n, k, scalar(false, alpha), p(a), lda, strideA, p(b), ldb, strideB,
                    scalar(false, beta), p(c), ldc, strideC, batch), "cublasSgemmStridedBatched(m=" + m + ", n=" + n + ", k=" + k + ", batch=" + batch + ")");
        }
    }

    @Override
    public void trsm(boolean f64, boolean right, boolean upper, boolean transA, boolean unitDiag, int m, int n, double alpha, long a, int lda, long b, int ldb) {
        int side = right ? 1 : 0, fill = upper ? 1 : 0, op = transA ? 1 : 0, diag = unitDiag ? 1 : 0;
        if (f64) blas(JCublas2.cublasDtrsm(blas, side, fill, op, diag, m, n, scalar(true, alpha), p(a), lda, p(b), ldb), "cublasDtrsm");
        else blas(JCublas2.cublasStrsm(blas, side, fill, op, diag, m, n, scalar(false, alpha), p(a), lda, p(b), ldb), "cublasStrsm");
    }

    @Override
    public int gesvdj(boolean f64, boolean vectors, int m, int n, long a, int lda, long s, long u, int ldu, long v, int ldv, Workspace ws) {
        int jobz = vectors ? 1 : 0;
        int[] lwork = new int[1];
        if (f64) {
            solver(JCusolverDn.cusolverDnDgesvdj_bufferSize(solver, jobz, 1, m, n, p(a), lda, p(s), p(u), ldu, p(v), ldv, lwork, svdjParams), "cusolverDnDgesvdj_bufferSize");
            solver(JCusolverDn.cusolverDnDgesvdj(solver, jobz, 1, m, n, p(a), lda, p(s), p(u), ldu, p(v), ldv, p(ws.work(lwork[0])), lwork[0], p(ws.info()), svdjParams), "cusolverDnDgesvdj");
        } else {
            solver(JCusolverDn.cusolverDnSgesvdj_bufferSize(solver, jobz, 1, m, n, p(a), lda, p(s), p(u), ldu, p(v), ldv, lwork, svdjParams), "cusolverDnSgesvdj_bufferSize");
            solver(JCusolverDn.cusolverDnSgesvdj(solver, jobz, 1, m, n, p(a), lda, p(s), p(u), ldu, p(v), ldv, p(ws.work(lwork[0])), lwork[0], p(ws.info()), svdjParams), "cusolverDnSgesvdj");
        }
        return ws.readInfo();
    }

    @Override
    public int gesvd(boolean f64, char jobu, char jobvt, int m, int n, long a, int lda, long s, long u, int ldu, long vt, int ldvt, Workspace ws) {
        int[] lwork = new int[1];
        long rwork = ws.work(Math.max(1, Math.min(m, n)));   // superdiagonal of the bidiagonal form (unused output)
        if (f64) {
            solver(JCusolverDn.cusolverDnDgesvd_bufferSize(solver, m, n, lwork), "cusolverDnDgesvd_bufferSize");
            solver(JCusolverDn.cusolverDnDgesvd(solver, jobu, jobvt, m, n, p(a), lda, p(s), p(u), ldu, p(vt), ldvt, p(ws.work(lwork[0])), lwork[0], p(rwork), p(ws.info())), "cusolverDnDgesvd");
        } else {
            solver(JCusolverDn.cusolverDnSgesvd_bufferSize(solver, m, n, lwork), "cusolverDnSgesvd_bufferSize");
            solver(JCusolverDn.cusolverDnSgesvd(solver, jobu, jobvt, m, n, p(a), lda, p(s), p(u), ldu, p(vt), ldvt, p(ws.work(lwork[0])), lwork[0], p(rwork), p(ws.info())), "cusolverDnSgesvd");
        }
        return ws.readInfo();
    }

    @Override
    public int syevd(boolean f64, boolean vectors, int n, long a, int lda, long w, Workspace ws) {
        int jobz = vectors ? 1 : 0, lower = 0;
        int[] lwork = new int[1];
        if (f64) {
            solver(JCusolverDn.cusolverDnDsyevd_bufferSize(solver, jobz, lower, n, p(a), lda, p(w), lwork), "cusolverDnDsyevd_bufferSize");
            solver(JCusolverDn.cusolverDnDsyevd(solver, jobz, lower, n, p(a), lda, p(w), p(ws.work(lwork[0])), lwork[0], p(ws.info())), "cusolverDnDsyevd");
        } else {
            solver(JCusolverDn.cusolverDnSsyevd_bufferSize(solver, jobz, lower, n, p(a), lda, p(w), lwork), "cusolverDnSsyevd_bufferSize");
            solver(JCusolverDn.cusolverDnSsyevd(solver, jobz, lower, n, p(a), lda, p(w), p(ws.work(lwork[0])), lwork[0], p(ws.info())), "cusolverDnSsyevd");
        }
        return ws.readInfo();
    }

    @Override
    public int geqrf(boolean f64, int m, int n, long a, int lda, long tau, Workspace ws) {
        int[] lwork = new int[1];
        if (f64) {
            solver(JCusolverDn.cusolverDnDgeqrf_bufferSize(solver, m, n, p(a), lda, lwork), "cusolverDnDgeqrf_bufferSize");
            solver(JCusolverDn.cusolverDnDgeqrf(solver, m, n, p(a), lda, p(tau), p(ws.work(lwork[0])), lwork[0], p(ws.info())), "cusolverDnDgeqrf");
        } else {
            solver(JCusolverDn.cusolverDnSgeqrf_bufferSize(solver, m, n, p(a), lda, lwork), "cusolverDnSgeqrf_bufferSize");
            solver(JCusolverDn.cusolverDnSgeqrf(solver, m, n, p(a), lda, p(tau), p(ws.work(lwork[0])), lwork[0], p(ws.info())), "cusolverDnSgeqrf");
        }
        return ws.readInfo();
    }

    @Override
    public int orgqr(boolean f64, int m, int n, int k, long a, int lda, long tau, Workspace ws) {
        int[] lwork = new int[1];
        if (f64) {
            solver(JCusolverDn.cusolverDnDorgqr_bufferSize(solver, m, n, k, p(a), lda, p(tau), lwork), "cusolverDnDorgqr_bufferSize");
            solver(JCusolverDn.cusolverDnDorgqr(solver, m, n, k, p(a), lda, p(tau), p(ws.work(lwork[0])), lwork[0], p(ws.info())), "cusolverDnDorgqr");
        } else {
            solver(JCusolverDn.cusolverDnSorgqr_bufferSize(solver, m, n, k, p(a), lda, p(tau), lwork), "cusolverDnSorgqr_bufferSize");
            solver(JCusolverDn.cusolverDnSorgqr(solver, m, n, k, p(a), lda, p(tau), p(ws.work(lwork[0])), lwork[0], p(ws.info())), "cusolverDnSorgqr");
        }
        return ws.readInfo();
    }

    @Override
    public int getrf(boolean f64, int m, int n, long a, int lda, long ipiv, Workspace ws) {
        int[] lwork = new int[1];
        if (f64) {
            solver(JCusolverDn.cusolverDnDgetrf_bufferSize(solver, m, n, p(a), lda, lwork), "cusolverDnDgetrf_bufferSize");
            solver(JCusolverDn.cusolverDnDgetrf(solver, m, n, p(a), lda, p(ws.work(lwork[0])), p(ipiv), p(ws.info())), "cusolverDnDgetrf");
        } else {
            solver(JCusolverDn.cusolverDnSgetrf_bufferSize(solver, m, n, p(a), lda, lwork), "cusolverDnSgetrf_bufferSize");
            solver(JCusolverDn.cusolverDnSgetrf(solver, m, n, p(a), lda, p(ws.work(lwork[0])), p(ipiv), p(ws.info())), "cusolverDnSgetrf");
        }
        return ws.readInfo();
    }

    @Override
    public int potrf(boolean f64, boolean upper, int n, long a, int lda, Workspace ws) {
        int[] lwork = new int[1];
        int fill = upper ? 1 : 0;
        if (f64) {
            solver(JCusolverDn.cusolverDnDpotrf_bufferSize(solver, fill, n, p(a), lda, lwork), "cusolverDnDpotrf_bufferSize");
            solver(JCusolverDn.cusolverDnDpotrf(solver, fill, n, p(a), lda, p(ws.work(lwork[0])), lwork[0], p(ws.info())), "cusolverDnDpotrf");
        } else {
            solver(JCusolverDn.cusolverDnSpotrf_bufferSize(solver, fill, n, p(a), lda, lwork), "cusolverDnSpotrf_bufferSize");
            solver(JCusolverDn.cusolverDnSpotrf(solver, fill, n, p(a), lda, p(ws.work(lwork[0])), lwork[0], p(ws.info())), "cusolverDnSpotrf");
        }
        return ws.readInfo();
    }

    @Override
    public void close() {
        JCusolverDn.cusolverDnDestroyGesvdjInfo(svdjParams);
        JCusolverDn.cusolverDnDestroy(solver);
        JCublas2.cublasDestroy(blas);
    }
}
