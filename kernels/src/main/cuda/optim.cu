// Optimizer steps over many tensors in one launch (the multi-tensor scheme of PyTorch's fused
// optimizers): the host passes a table of tensors and a list of chunks; one block updates one chunk
// of CHUNK elements of one tensor.
//
// table: 5 words per tensor, {param, grad, m, v, n}: four device addresses (m, v may be 0 where the
// rule has no moments) and the element count. chunks: 2 ints per block, {tensor index, first element}.
//
// Every operation is rounded as the CPU's tensor ops round it (__f*_rn: no fused multiply-add), in
// the same order as dev.rankwise.optim.AdamW and dev.rankwise.peft.SoraGateOptimizer, so the GPU's
// F32 steps equal the CPU's bit for bit. Scalars arrive already rounded to F32 by the host, as the
// CPU's constant tensors are.
#include "common.cuh"

#define CHUNK 2048
#define THREADS 256

struct Entry {
    float *p, *g, *m, *v;
    long long n;
};

__device__ __forceinline__ Entry entry(const unsigned long long* table, int t) {
    Entry e;
    e.p = (float*)table[5 * t];
    e.g = (float*)table[5 * t + 1];
    e.m = (float*)table[5 * t + 2];
    e.v = (float*)table[5 * t + 3];
    e.n = (long long)table[5 * t + 4];
    return e;
}

// AdamW (Loshchilov & Hutter 2019), torch.optim.AdamW's update as AdamW.java writes it:
//   p ← p·decay                      (decay = 1 − lr·λ; skipped when the host passes 1)
//   m ← m·β₁ + g·(1 − β₁)            v ← v·β₂ + (g·g)·(1 − β₂)
//   p ← p − m / (√(v / bc2) + ε) · (lr / bc1)      bc_i = 1 − β_iᵗ
extern "C" __global__ void __launch_bounds__(THREADS) adamw_multi_f32(const unsigned long long* table, const int* chunks, float decay,
        float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2, float bc2, float eps, float lrOverBc1) {
    int t = chunks[2 * blockIdx.x];
    long long start = chunks[2 * blockIdx.x + 1];
    Entry e = entry(table, t);
    long long end = min(start + CHUNK, e.n);
    for (long long i = start + threadIdx.x; i < end; i += THREADS) {
        float p = e.p[i], g = e.g[i];
        if (decay != 1.f) p = __fmul_rn(p, decay);
        float m = __fadd_rn(__fmul_rn(e.m[i], beta1), __fmul_rn(g, oneMinusBeta1));
        float v = __fadd_rn(__fmul_rn(e.v[i], beta2), __fmul_rn(__fmul_rn(g, g), oneMinusBeta2));
        float denom = __fadd_rn(__fsqrt_rn(__fdiv_rn(v, bc2)), eps);
        e.p[i] = __fsub_rn(p, __fmul_rn(__fdiv_rn(m, denom), lrOverBc1));
        e.m[i] = m;
        e.v[i] = v;
    }
}

__device__ __forceinline__ float sign_of(float z) { return z > 0.f ? 1.f : z < 0.f ? -1.f : z; }

// SoRA's gate step (arXiv 2311.11696 §3.2), both rules of SoraGateOptimizer, with the number of
// non-zero gates of each tensor counted in the same pass (atomically added into nnz[tensor]).
//   rule 0, proximal (the paper):  g ← T_ξ(g − lr·∇g),  T_ξ(z) = sign(z)·relu(|z| − ξ),  ξ = lr·λ
//   rule 1, the authors' code:    Adam moments as above (no decay), g ← g − m/(√v + ε)·step,
//                                 then shrink |g| > ξ by ξ and zero |g| < ξ, ξ = λ (0: no threshold)
extern "C" __global__ void __launch_bounds__(THREADS) sora_gate_multi_f32(const unsigned long long* table, const int* chunks, int* nnz, int rule,
        float lr, float xi, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2, float eps, float step) {
    __shared__ int count[THREADS];
    int t = chunks[2 * blockIdx.x];
    long long start = chunks[2 * blockIdx.x + 1];
    Entry e = entry(table, t);
    long long end = min(start + CHUNK, e.n);
    int mine = 0;
    for (long long i = start + threadIdx.x; i < end; i += THREADS) {
        float g = e.p[i], grad = e.g[i], out;
        if (rule == 0) {
            float z = __fsub_rn(g, __fmul_rn(grad, lr));
            float shrunk = __fsub_rn(fabsf(z), xi);
            out = __fmul_rn(sign_of(z), shrunk > 0.f ? shrunk : __fmul_rn(0.f, shrunk));
        } else {
            float m = __fadd_rn(__fmul_rn(e.m[i], beta1), __fmul_rn(grad, oneMinusBeta1));
            float v = __fadd_rn(__fmul_rn(e.v[i], beta2), __fmul_rn(__fmul_rn(grad, grad), oneMinusBeta2));
            e.m[i] = m;
            e.v[i] = v;
            float z = __fsub_rn(g, __fmul_rn(__fdiv_rn(m, __fadd_rn(__fsqrt_rn(v), eps)), step));
            if (xi > 0.f) {
                float shrunk = fabsf(z) > xi ? __fsub_rn(z, __fmul_rn(sign_of(z), xi)) : z;
                z = fabsf(shrunk) < xi ? 0.f : shrunk;                      // +0, as the CPU's zeros tensor
            }
            out = z;
        }
        e.p[i] = out;
        mine += out != 0.f;
    }
    count[threadIdx.x] = mine;
    __syncthreads();
    for (int s = THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) count[threadIdx.x] += count[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0 && nnz) atomicAdd(nnz + t, count[0]);
}
