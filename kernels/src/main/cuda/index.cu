// Indexing kernels: gather, scatter-add, and the triangle masks the decompositions use to cut L, U
// and R out of LAPACK-style factors.
#include "common.cuh"

// out[p] = x[p with coordinate `dim` replaced by index[p]] for every position p of out's shape.
// Operands: 0 = out, 1 = index (I32), 2 = x with its `dim` stride set to 0; `step` is x's stride
// along dim. Elements are moved as raw 32- or 64-bit words, so one kernel serves F32 and I32.
extern "C" __global__ void gather_b32(unsigned* out, const int* index, const unsigned* x, Layout L, int step) {
    RW_FOR_EACH(i, L.n) {
        long long off[3];
        layout_offsets<3>(L, i, off);
        out[off[0]] = x[off[2] + (long long)index[off[1]] * step];
    }
}

extern "C" __global__ void gather_b64(unsigned long long* out, const int* index, const unsigned long long* x, Layout L, int step) {
    RW_FOR_EACH(i, L.n) {
        long long off[3];
        layout_offsets<3>(L, i, off);
        out[off[0]] = x[off[2] + (long long)index[off[1]] * step];
    }
}

// target[p with coordinate `dim` replaced by index[p]] += src[p] over the index's shape. Operands:
// 0 = target with its `dim` stride set to 0, 1 = index (I32), 2 = src; `step` is target's stride
// along dim. Repeated indices accumulate through atomics (summation order may vary between runs).
extern "C" __global__ void scatter_add_f32(float* target, const int* index, const float* src, Layout L, int step) {
    RW_FOR_EACH(i, L.n) {
        long long off[3];
        layout_offsets<3>(L, i, off);
        atomicAdd(target + off[0] + (long long)index[off[1]] * step, src[off[2]]);
    }
}

extern "C" __global__ void scatter_add_f64(double* target, const int* index, const double* src, Layout L, int step) {
    RW_FOR_EACH(i, L.n) {
        long long off[3];
        layout_offsets<3>(L, i, off);
        atomicAdd(target + off[0] + (long long)index[off[1]] * step, src[off[2]]);
    }
}

template <typename T> __device__ void tri_body(T* a, int rows, int cols, int mode) {
    RW_FOR_EACH(t, (long long)rows * cols) {
        int i = t / cols, j = t % cols;
        bool keep = mode == TRI_UPPER ? j >= i : mode == TRI_LOWER ? j <= i : j < i;
        if (mode == TRI_UNIT_LOWER && i == j) a[t] = T(1);
        else if (!keep) a[t] = T(0);
    }
}

// In place on a contiguous row-major matrix a [rows, cols] (rows * cols < 2^31).
extern "C" __global__ void tri_mask_f32(float* a, int rows, int cols, int mode) { tri_body(a, rows, cols, mode); }
extern "C" __global__ void tri_mask_f64(double* a, int rows, int cols, int mode) { tri_body(a, rows, cols, mode); }
