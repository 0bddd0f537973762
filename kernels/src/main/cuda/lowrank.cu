// The low-rank branch of LoRA/SoRA's linear, fused (arXiv 2106.09685 eq. 3; SoRA arXiv 2311.11696 eq. 3):
//
//   y = x·Wᵀ + bias + s·((x·Aᵀ) ⊙ g)·Bᵀ        x [N, d_in], W [d_out, d_in], A [r, d_in], B [d_out, r], g [r]
//
// The dense x·Wᵀ runs on cuBLAS; lowrank_fwd adds bias and the whole low-rank branch to y in one
// pass over x: per tile of TILE_ROWS rows it computes h = x·Aᵀ (the down-projection) in shared
// memory, gates and scales it (u = s·h⊙g), and accumulates u·Bᵀ (the up-projection) into y.
// lowrank_bwd is the row-wise part of the backward, reading dy once:
//
//   du = dy·B,  dh = s·du⊙g,  u = s·h⊙g,  dg = s·Σ_rows du⊙h    (then on cuBLAS: dB = dyᵀ·u,
//   dA = dhᵀ·x, dx += dh·A)
//
// All row-major and contiguous, F32 accumulation; lowrank_fwd_bf16x reads x as BF16 (half the bytes
// of the largest input) and computes in F32. Ranks up to MAX_RANK; g may be null (plain LoRA).
#include "common.cuh"
#include <cuda_bf16.h>

#define TILE_ROWS 32      // KernelCatalog.TILE_ROWS
#define MAX_RANK 64       // KernelCatalog.LOWRANK_MAX_RANK
#define KT 32             // reduction chunk staged in shared memory
#define THREADS 256       // Geometry.ROW_TILES
#define PER_THREAD ((TILE_ROWS * MAX_RANK + THREADS - 1) / THREADS)

__device__ __forceinline__ float ld(const float* p, long long i) { return p[i]; }
__device__ __forceinline__ float ld(const __nv_bfloat16* p, long long i) { return __bfloat162float(p[i]); }

// acc[q] += Σ_k X[row0 + rr][k] · M(j, k) for the (rr, j) pairs idx = tid + q·THREADS < TILE_ROWS·r,
// where X is [N, K] row-major and M(j, k) = M[j·msj + k·msk]. Stages KT columns at a time.
template <typename TX>
__device__ __forceinline__ void tile_times_mt(const TX* X, int N, int K, int row0, const float* M, long long msj, long long msk,
                                              int r, float* acc, float (*xs)[KT + 1], float (*ms)[KT + 1]) {
    int tid = threadIdx.x;
    for (int k0 = 0; k0 < K; k0 += KT) {
        for (int e = tid; e < TILE_ROWS * KT; e += THREADS) {
            int rr = e / KT, kk = e % KT;
            xs[rr][kk] = (row0 + rr < N && k0 + kk < K) ? ld(X, (long long)(row0 + rr) * K + k0 + kk) : 0.f;
        }
        // Consecutive threads read consecutive memory whichever of msj, msk is 1.
        for (int e = tid; e < r * KT; e += THREADS) {
            int j, kk;
            if (msk == 1) { j = e / KT; kk = e % KT; } else { kk = e / r; j = e % r; }
            ms[j][kk] = k0 + kk < K ? M[j * msj + (long long)(k0 + kk) * msk] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int q = 0; q < PER_THREAD; q++) {
            int idx = tid + q * THREADS;
            if (idx < TILE_ROWS * r) {
                int rr = idx / r, j = idx % r;
                float a = acc[q];
#pragma unroll 8
                for (int kk = 0; kk < KT; kk++) a += xs[rr][kk] * ms[j][kk];
                acc[q] = a;
            }
        }
        __syncthreads();
    }
}

template <typename TX>
__device__ void lowrank_fwd_body(float* y, const TX* x, const float* A, const float* B, const float* g, const float* bias,
                                 float* hOut, float s, int N, int din, int dout, int r) {
    __shared__ float xs[TILE_ROWS][KT + 1];
    __shared__ float ms[MAX_RANK][KT + 1];
    __shared__ float us[TILE_ROWS][MAX_RANK + 1];
    int row0 = blockIdx.x * TILE_ROWS;
    int tid = threadIdx.x;
    float acc[PER_THREAD];
#pragma unroll
    for (int q = 0; q < PER_THREAD; q++) acc[q] = 0.f;
    // Down-projection: h = x·Aᵀ for this tile.
    tile_times_mt(x, N, din, row0, A, din, 1, r, acc, xs, ms);
    // Gate and scale: u = s·h⊙g (h saved for the backward when asked).
#pragma unroll
    for (int q = 0; q < PER_THREAD; q++) {
        int idx = tid + q * THREADS;
        if (idx < TILE_ROWS * r) {
            int rr = idx / r, j = idx % r;
            if (hOut && row0 + rr < N) hOut[(long long)(row0 + rr) * r + j] = acc[q];
            us[rr][j] = s * acc[q] * (g ? g[j] : 1.f);
        }
    }
    __syncthreads();
    // Up-projection accumulated into y: y[row, o] += bias[o] + Σ_j u[row, j]·B[o, j].
    int rows = min(TILE_ROWS, N - row0);
    for (int o = tid; o < dout; o += THREADS) {
        float out[TILE_ROWS];
        float b0 = bias ? bias[o] : 0.f;
#pragma unroll
        for (int rr = 0; rr < TILE_ROWS; rr++) out[rr] = b0;
        for (int j = 0; j < r; j++) {
            float bv = B[(long long)o * r + j];
#pragma unroll
            for (int rr = 0; rr < TILE_ROWS; rr++) out[rr] += us[rr][j] * bv;
        }
        for (int rr = 0; rr < rows; rr++) y[(long long)(row0 + rr) * dout + o] += out[rr];
    }
}

// y [N, d_out] += bias + s·((x·Aᵀ) ⊙ g)·Bᵀ; writes h = x·Aᵀ [N, r] when hOut is not null.
extern "C" __global__ void __launch_bounds__(THREADS) lowrank_fwd_f32(float* y, const float* x, const float* A, const float* B, const float* g,
        const float* bias, float* hOut, float s, int N, int din, int dout, int r) {
    lowrank_fwd_body(y, x, A, B, g, bias, hOut, s, N, din, dout, r);
}

// As lowrank_fwd_f32 with x in BF16.
extern "C" __global__ void __launch_bounds__(THREADS) lowrank_fwd_bf16x(float* y, const __nv_bfloat16* x, const float* A, const float* B, const float* g,
        const float* bias, float* hOut, float s, int N, int din, int dout, int r) {
    lowrank_fwd_body(y, x, A, B, g, bias, hOut, s, N, din, dout, r);
}

// Row-wise backward for one tile: du = dy·B; writes u = s·h⊙g [N, r], dh = s·du⊙g [N, r], and this
// tile's dg = s·Σ_rows du⊙h into dgPartial [gridDim.x, r] (summed by the host, deterministically).
// h [N, r] is the forward's down-projection; g null means plain LoRA (no dg).
extern "C" __global__ void __launch_bounds__(THREADS) lowrank_bwd_f32(float* u, float* dh, float* dgPartial, const float* dy, const float* B,
        const float* g, const float* h, float s, int N, int dout, int r) {
    __shared__ float xs[TILE_ROWS][KT + 1];
    __shared__ float ms[MAX_RANK][KT + 1];
    __shared__ float dgs[TILE_ROWS][MAX_RANK + 1];
    int row0 = blockIdx.x * TILE_ROWS;
    int tid = threadIdx.x;
    float acc[PER_THREAD];
#pragma unroll
    for (int q = 0; q < PER_THREAD; q++) acc[q] = 0.f;
    // du = dy·B: M(j, o) = B[o·r + j].
    tile_times_mt(dy, N, dout, row0, B, 1, r, r, acc, xs, ms);
#pragma unroll
    for (int q = 0; q < PER_THREAD; q++) {
        int idx = tid + q * THREADS;
        if (idx < TILE_ROWS * r) {
            int rr = idx / r, j = idx % r;
            float contribution = 0.f;
            if (row0 + rr < N) {
                long long at = (long long)(row0 + rr) * r + j;
                float gj = g ? g[j] : 1.f, hv = h[at];
                u[at] = s * hv * gj;
                dh[at] = s * acc[q] * gj;
                contribution = s * acc[q] * hv;
            }
            dgs[rr][j] = contribution;
        }
    }
    __syncthreads();
    if (dgPartial && tid < r) {
        float sum = 0.f;
        for (int rr = 0; rr < TILE_ROWS; rr++) sum += dgs[rr][tid];
        dgPartial[(long long)blockIdx.x * r + tid] = sum;
    }
}
