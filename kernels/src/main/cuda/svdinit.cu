// Pieces of SVD-based adapter initialization (PiSSA arXiv 2404.02948, MiLoRA arXiv 2406.09044,
// LoRA-GA arXiv 2407.05000) that cuBLAS and cuSOLVER do not fuse, for a batch of matrices at once.
//
// Randomized range finder (Halko, Martinsson & Tropp 2011) with CholeskyQR orthonormalization:
// Y [batch, m, l] (l <= MAX_L) becomes Q = Y·R⁻¹ with RᵀR = YᵀY. The Gram matrix and its Cholesky
// factor are computed in F64 whatever Y's type, and the first pass adds a small diagonal shift, so
// three passes (shifted CholeskyQR3, Fukaya et al. 2020) orthonormalize even ill-conditioned Y.
// The Gaussian sketch itself is philox_fill over the whole batch (random.cu), in place.
//
// The √σ split: with U [m, q], S [q], Vh [q, n] of one matrix and the r triplets from `first`,
// B = U_r·diag(√(S_r/s)) and A = diag(√(S_r/s))·Vh_r, so s·B·A = U_r·diag(S_r)·Vh_r and
// W_res = W − s·B·A (a cuBLAS GEMM with alpha = −s, beta = 1).
#include "common.cuh"

#define MAX_L 64
#define GRAM_ROWS 32
#define THREADS 256
#define GRAM_PER_THREAD ((MAX_L * (MAX_L + 1) / 2 + THREADS - 1) / THREADS)

// G [batch, l, l] (F64) = Yᵀ·Y for Y [batch, m, l] row-major; one block per matrix. Rows of Y are
// staged GRAM_ROWS at a time; each thread owns fixed (i <= j) entries and mirrors them at the end.
template <typename T> __device__ void gram_body(double* G, const T* Y, int m, int l) {
    __shared__ double ys[GRAM_ROWS][MAX_L + 1];
    const T* y = Y + (long long)blockIdx.x * m * l;
    double* g = G + (long long)blockIdx.x * l * l;
    int pairs = l * (l + 1) / 2;
    double acc[GRAM_PER_THREAD];
    int ii[GRAM_PER_THREAD], jj[GRAM_PER_THREAD];
#pragma unroll
    for (int q = 0; q < GRAM_PER_THREAD; q++) {
        acc[q] = 0;
        int p = threadIdx.x + q * THREADS, i = 0;
        while (p >= l - i && i < l) { p -= l - i; i++; }      // p-th pair of the upper triangle
        ii[q] = i;
        jj[q] = i + p;
    }
    for (int r0 = 0; r0 < m; r0 += GRAM_ROWS) {
        for (int e = threadIdx.x; e < GRAM_ROWS * l; e += THREADS) {
            int rr = e / l, c = e % l;
            ys[rr][c] = r0 + rr < m ? (double)y[(long long)(r0 + rr) * l + c] : 0.0;
        }
        __syncthreads();
#pragma unroll
        for (int q = 0; q < GRAM_PER_THREAD; q++) {
            if (threadIdx.x + q * THREADS < pairs) {
                double a = acc[q];
                for (int rr = 0; rr < GRAM_ROWS; rr++) a += ys[rr][ii[q]] * ys[rr][jj[q]];
                acc[q] = a;
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int q = 0; q < GRAM_PER_THREAD; q++) {
        if (threadIdx.x + q * THREADS < pairs) {
            g[ii[q] * l + jj[q]] = acc[q];
            g[jj[q] * l + ii[q]] = acc[q];
        }
    }
}

extern "C" __global__ void __launch_bounds__(THREADS) cholqr_gram_f32(double* G, const float* Y, int m, int l) { gram_body(G, Y, m, l); }
extern "C" __global__ void __launch_bounds__(THREADS) cholqr_gram_f64(double* G, const double* Y, int m, int l) { gram_body(G, Y, m, l); }

// In place: G [batch, l, l] (F64, symmetric positive definite) becomes R, upper triangular with
// RᵀR = G + shift·I; below the diagonal becomes 0. With `shifted`, shift = 11·(m·l + l·(l+1))·2⁻⁵³·tr(G)
// (Fukaya et al.'s bound with the trace for the norm). info[b] = 0, or k + 1 when pivot k was not
// positive (R is then unusable). One block per matrix; right-looking, the trailing update in parallel.
extern "C" __global__ void __launch_bounds__(THREADS) cholqr_factor(double* G, int* info, int m, int l, int shifted) {
    __shared__ double a[MAX_L][MAX_L + 1];
    __shared__ int bad;
    double* g = G + (long long)blockIdx.x * l * l;
    for (int e = threadIdx.x; e < l * l; e += THREADS) a[e / l][e % l] = g[e];
    if (threadIdx.x == 0) bad = 0;
    __syncthreads();
    if (shifted) {
        __shared__ double shift;
        if (threadIdx.x == 0) {
            double tr = 0;
            for (int i = 0; i < l; i++) tr += a[i][i];
            shift = 11.0 * ((double)m * l + (double)l * (l + 1)) * 0x1p-53 * tr;
        }
        __syncthreads();
        if (threadIdx.x < l) a[threadIdx.x][threadIdx.x] += shift;
        __syncthreads();
    }
    for (int k = 0; k < l; k++) {
        if (threadIdx.x == 0) {
            double d = a[k][k];
            if (!(d > 0) && bad == 0) bad = k + 1;
            a[k][k] = d > 0 ? sqrt(d) : 1.0;
        }
        __syncthreads();
        double rkk = a[k][k];
        for (int j = k + 1 + threadIdx.x; j < l; j += THREADS) a[k][j] /= rkk;   // row k of R
        __syncthreads();
        for (int e = threadIdx.x; e < (l - k - 1) * (l - k - 1); e += THREADS) {
            int i = k + 1 + e / (l - k - 1), j = k + 1 + e % (l - k - 1);
            if (j >= i) a[i][j] -= a[k][i] * a[k][j];                            // trailing upper triangle
        }
        __syncthreads();
    }
    for (int e = threadIdx.x; e < l * l; e += THREADS) {
        int i = e / l, j = e % l;
        g[e] = j >= i ? a[i][j] : 0.0;
    }
    if (threadIdx.x == 0) info[blockIdx.x] = bad;
}

// In place: every row y of Y [batch, m, l] becomes x with x·R = y (R [batch, l, l] upper, F64), so
// Y ← Y·R⁻¹. One thread per row (work = batch·m), forward substitution in F64.
template <typename T> __device__ void apply_body(T* Y, const double* R, int m, int l, int batch) {
    RW_FOR_EACH(t, (long long)batch * m) {
        int b = t / m;
        T* y = Y + (long long)t * l;
        const double* r = R + (long long)b * l * l;
        double x[MAX_L];
        for (int j = 0; j < l; j++) {
            double v = (double)y[j];
            for (int i = 0; i < j; i++) v -= x[i] * r[i * l + j];
            x[j] = v / r[j * l + j];
        }
        for (int j = 0; j < l; j++) y[j] = (T)x[j];
    }
}

extern "C" __global__ void cholqr_apply_f32(float* Y, const double* R, int m, int l, int batch) { apply_body(Y, R, m, l, batch); }
extern "C" __global__ void cholqr_apply_f64(double* Y, const double* R, int m, int l, int batch) { apply_body(Y, R, m, l, batch); }

// B [batch, m, r] = U[:, first:first+r]·diag(√(S/s)), A [batch, r, n] = diag(√(S/s))·Vh[first:first+r, :]
// for U [batch, m, q], S [batch, q], Vh [batch, q, n]; work = batch·(m·r + r·n) elements.
template <typename T> __device__ void split_body(T* B, T* A, const T* U, const T* S, const T* Vh, int m, int n, int q, int r, int first,
                                                 double invScale, int batch) {
    long long perB = (long long)m * r, perA = (long long)r * n, per = perB + perA;
    RW_FOR_EACH(t, batch * per) {
        long long b = t / per, e = t % per;
        if (e < perB) {
            long long i = e / r, j = e % r;
            T root = (T)sqrt((double)S[b * q + first + j] * invScale);
            B[b * perB + e] = U[(b * m + i) * q + first + j] * root;
        } else {
            e -= perB;
            long long i = e / n, j = e % n;
            T root = (T)sqrt((double)S[b * q + first + i] * invScale);
            A[b * perA + e] = Vh[(b * q + first + i) * n + j] * root;
        }
    }
}

extern "C" __global__ void svd_split_f32(float* B, float* A, const float* U, const float* S, const float* Vh, int m, int n, int q, int r,
                                         int first, double invScale, int batch) {
    split_body(B, A, U, S, Vh, m, n, q, r, first, invScale, batch);
}
extern "C" __global__ void svd_split_f64(double* B, double* A, const double* U, const double* S, const double* Vh, int m, int n, int q, int r,
                                         int first, double invScale, int batch) {
    split_body(B, A, U, S, Vh, m, n, q, r, first, invScale, batch);
}
