// nvcc-flags: -fmad=false
// Philox 4x32-10 random fills, the same numbers as the CPU for the same seed and counter (see
// philox.cuh). Compiled without fused multiply-add so every operation rounds as Java's does.
#include "common.cuh"
#include "philox.cuh"

// out [n] (contiguous, F32 or F64) = shift + scale · v_i, v_i element i of a Philox fill (uniform
// in (0, 1), or standard normal when `normal` != 0) that starts at block `counterOffset` with key
// `seed`. One thread per Philox block of four elements.
extern "C" __global__ void philox_fill(void* out, int outType, int n, unsigned long long seed,
                                       unsigned long long counterOffset, int normal, double shift, double scale) {
    unsigned blocks = ((unsigned)n + 3u) / 4u;
    RW_FOR_EACH(b, blocks) {
        unsigned long long blk = counterOffset + b;
        unsigned w[4];
        philox_block((unsigned)blk, (unsigned)(blk >> 32), 0u, 0u, (unsigned)seed, (unsigned)(seed >> 32), w);
        for (int lane = 0; lane < 4; lane++) {
            long long i = 4LL * b + lane;
            if (i >= n) break;
            double v = shift + scale * philox_element(w, lane, normal);
            if (outType == T_F32) ((float*)out)[i] = (float)v;
            else ((double*)out)[i] = v;
        }
    }
}
