/* Stand-ins for the cuBLAS and cuSOLVER C functions ForeignDense calls, declared exactly as
 * cublas_api.h and cusolverDn.h declare them (handles and enums written as void* and int). Each
 * records its arguments in a log, reading host scalars (alpha, beta) through their pointers as
 * the real library does, so ForeignDenseStubTest can check the argument order, the scalar types
 * and the enum values that reach C. Device pointers are opaque numbers here.
 * Built twice: -DPART_BLAS gives the cuBLAS half, -DPART_SOLVER the cuSOLVER half. */
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

static char log_buf[1 << 16];
static size_t log_len;
#define LOG(...) (log_len += (size_t)snprintf(log_buf + log_len, sizeof log_buf - log_len, __VA_ARGS__))
#define P(p) ((unsigned long long)(uintptr_t)(p))

const char *stub_log(void) { return log_buf; }
void stub_reset(void) { log_len = 0; log_buf[0] = 0; }

#ifdef PART_BLAS
int cublasCreate_v2(void **h) { *h = (void *)0xB1A5; LOG("cublasCreate_v2\n"); return 0; }
int cublasDestroy_v2(void *h) { LOG("cublasDestroy_v2 %llx\n", P(h)); return 0; }
int cublasSetStream_v2(void *h, void *s) { LOG("cublasSetStream_v2 %llx %llx\n", P(h), P(s)); return 0; }
int cublasGetVersion_v2(void *h, int *v) { *v = 130102; LOG("cublasGetVersion_v2 %llx\n", P(h)); return 0; }
int cublasSetMathMode(void *h, int mode) { LOG("cublasSetMathMode %llx %d\n", P(h), mode); return 0; }

#define GEMM(T, C)                                                                                              \
    int cublas##C##gemmStridedBatched(void *h, int ta, int tb, int m, int n, int k, const T *alpha, const T *A,  \
                                      int lda, long long sA, const T *B, int ldb, long long sB, const T *beta,   \
                                      T *Cm, int ldc, long long sC, int batch) {                                 \
        LOG("cublas" #C "gemmStridedBatched %llx %d %d %d %d %d %g %llx %d %lld %llx %d %lld %g %llx %d %lld %d\n", \
            P(h), ta, tb, m, n, k, (double)*alpha, P(A), lda, sA, P(B), ldb, sB, (double)*beta, P(Cm), ldc, sC,  \
            batch);                                                                                              \
        return 0;                                                                                                \
    }                                                                                                            \
    int cublas##C##trsm_v2(void *h, int side, int uplo, int trans, int diag, int m, int n, const T *alpha,       \
                           const T *A, int lda, T *B, int ldb) {                                                 \
        LOG("cublas" #C "trsm_v2 %llx %d %d %d %d %d %d %g %llx %d %llx %d\n", P(h), side, uplo, trans, diag, m,  \
            n, (double)*alpha, P(A), lda, P(B), ldb);                                                            \
        return 0;                                                                                                \
    }
GEMM(float, S)
GEMM(double, D)
#endif

#ifdef PART_SOLVER
int cusolverDnCreate(void **h) { *h = (void *)0x5017; LOG("cusolverDnCreate\n"); return 0; }
int cusolverDnDestroy(void *h) { LOG("cusolverDnDestroy %llx\n", P(h)); return 0; }
int cusolverDnSetStream(void *h, void *s) { LOG("cusolverDnSetStream %llx %llx\n", P(h), P(s)); return 0; }
int cusolverDnCreateGesvdjInfo(void **p) { *p = (void *)0x5DF; LOG("cusolverDnCreateGesvdjInfo\n"); return 0; }
int cusolverDnDestroyGesvdjInfo(void *p) { LOG("cusolverDnDestroyGesvdjInfo %llx\n", P(p)); return 0; }
int cusolverGetVersion(int *v) { *v = 12004; LOG("cusolverGetVersion\n"); return 0; }

/* Each _bufferSize answers a different lwork, so the test sees which one sized which workspace. */
#define SOLVER(T, C, W)                                                                                          \
    int cusolverDn##C##gesvdj_bufferSize(void *h, int jobz, int econ, int m, int n, const T *A, int lda,         \
                                         const T *S, const T *U, int ldu, const T *V, int ldv, int *lwork,       \
                                         void *params) {                                                         \
        *lwork = W + 1;                                                                                          \
        LOG("cusolverDn" #C "gesvdj_bufferSize %llx %d %d %d %d %llx %d %llx %llx %d %llx %d %llx\n", P(h), jobz,  \
            econ, m, n, P(A), lda, P(S), P(U), ldu, P(V), ldv, P(params));                                      \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##gesvdj(void *h, int jobz, int econ, int m, int n, T *A, int lda, T *S, T *U, int ldu,     \
                              T *V, int ldv, T *work, int lwork, int *info, void *params) {                      \
        LOG("cusolverDn" #C "gesvdj %llx %d %d %d %d %llx %d %llx %llx %d %llx %d %llx %d %llx %llx\n", P(h),     \
            jobz, econ, m, n, P(A), lda, P(S), P(U), ldu, P(V), ldv, P(work), lwork, P(info), P(params));        \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##gesvd_bufferSize(void *h, int m, int n, int *lwork) {                                     \
        *lwork = W + 2;                                                                                          \
        LOG("cusolverDn" #C "gesvd_bufferSize %llx %d %d\n", P(h), m, n);                                       \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##gesvd(void *h, signed char jobu, signed char jobvt, int m, int n, T *A, int lda, T *S,    \
                             T *U, int ldu, T *VT, int ldvt, T *work, int lwork, T *rwork, int *info) {          \
        LOG("cusolverDn" #C "gesvd %llx %c %c %d %d %llx %d %llx %llx %d %llx %d %llx %d %llx %llx\n", P(h),     \
            jobu, jobvt, m, n, P(A), lda, P(S), P(U), ldu, P(VT), ldvt, P(work), lwork, P(rwork), P(info));      \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##syevd_bufferSize(void *h, int jobz, int uplo, int n, const T *A, int lda, const T *W_,    \
                                        int *lwork) {                                                            \
        *lwork = W + 3;                                                                                          \
        LOG("cusolverDn" #C "syevd_bufferSize %llx %d %d %d %llx %d %llx\n", P(h), jobz, uplo, n, P(A), lda,     \
            P(W_));                                                                                              \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##syevd(void *h, int jobz, int uplo, int n, T *A, int lda, T *W_, T *work, int lwork,       \
                             int *info) {                                                                        \
        LOG("cusolverDn" #C "syevd %llx %d %d %d %llx %d %llx %llx %d %llx\n", P(h), jobz, uplo, n, P(A), lda,   \
            P(W_), P(work), lwork, P(info));                                                                     \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##geqrf_bufferSize(void *h, int m, int n, T *A, int lda, int *lwork) {                      \
        *lwork = W + 4;                                                                                          \
        LOG("cusolverDn" #C "geqrf_bufferSize %llx %d %d %llx %d\n", P(h), m, n, P(A), lda);                    \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##geqrf(void *h, int m, int n, T *A, int lda, T *tau, T *work, int lwork, int *info) {      \
        LOG("cusolverDn" #C "geqrf %llx %d %d %llx %d %llx %llx %d %llx\n", P(h), m, n, P(A), lda, P(tau),       \
            P(work), lwork, P(info));                                                                            \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##orgqr_bufferSize(void *h, int m, int n, int k, const T *A, int lda, const T *tau,         \
                                        int *lwork) {                                                            \
        *lwork = W + 5;                                                                                          \
        LOG("cusolverDn" #C "orgqr_bufferSize %llx %d %d %d %llx %d %llx\n", P(h), m, n, k, P(A), lda, P(tau));  \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##orgqr(void *h, int m, int n, int k, T *A, int lda, const T *tau, T *work, int lwork,      \
                             int *info) {                                                                        \
        LOG("cusolverDn" #C "orgqr %llx %d %d %d %llx %d %llx %llx %d %llx\n", P(h), m, n, k, P(A), lda, P(tau),  \
            P(work), lwork, P(info));                                                                            \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##getrf_bufferSize(void *h, int m, int n, T *A, int lda, int *lwork) {                      \
        *lwork = W + 6;                                                                                          \
        LOG("cusolverDn" #C "getrf_bufferSize %llx %d %d %llx %d\n", P(h), m, n, P(A), lda);                    \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##getrf(void *h, int m, int n, T *A, int lda, T *work, int *ipiv, int *info) {              \
        LOG("cusolverDn" #C "getrf %llx %d %d %llx %d %llx %llx %llx\n", P(h), m, n, P(A), lda, P(work),        \
            P(ipiv), P(info));                                                                                   \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##potrf_bufferSize(void *h, int uplo, int n, T *A, int lda, int *lwork) {                   \
        *lwork = W + 7;                                                                                          \
        LOG("cusolverDn" #C "potrf_bufferSize %llx %d %d %llx %d\n", P(h), uplo, n, P(A), lda);                 \
        return 0;                                                                                                \
    }                                                                                                            \
    int cusolverDn##C##potrf(void *h, int uplo, int n, T *A, int lda, T *work, int lwork, int *info) {           \
        LOG("cusolverDn" #C "potrf %llx %d %d %llx %d %llx %d %llx\n", P(h), uplo, n, P(A), lda, P(work), lwork,  \
            P(info));                                                                                            \
        return 0;                                                                                                \
    }
SOLVER(float, S, 100)
SOLVER(double, D, 200)
#endif
