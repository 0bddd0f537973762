// Reductions (sum, max, min, argmax, argmin) over any set of dims, and row softmax. The host splits
// x's dims into kept ("outer", in the output's row-major order) and reduced ("inner") ones.
// Deterministic: each thread folds a fixed subset in order, then a fixed tree combines the threads.
#include "common.cuh"

// x's kept dims (outer) and reduced dims (inner), each with x's strides; the output is contiguous
// with `outer` elements. 144 bytes, 4-byte aligned.
struct ReduceLayout {
    int outerRank, innerRank;
    int outer, inner;                      // element counts, both < 2^31
    int outerShape[RW_MAX_RANK], outerStride[RW_MAX_RANK];
    int innerShape[RW_MAX_RANK], innerStride[RW_MAX_RANK];
};

__device__ __forceinline__ long long walk(int rank, const int* shape, const int* stride, unsigned i) {
    long long off = 0;
    for (int d = rank - 1; d >= 0; d--) {
        unsigned s = (unsigned)shape[d];
        off += (long long)(i % s) * stride[d];
        i /= s;
    }
    return off;
}

// Running state of a reduction: a value and, for argmax/argmin, its index along the reduced dim.
template <typename T> struct Acc {
    T v;
    int i;
};

template <typename T> __device__ __forceinline__ Acc<T> acc_init(int op) {
    Acc<T> a;
    a.i = 0x7fffffff;
    a.v = op == R_SUM ? T(0) : (op == R_MAX || op == R_ARGMAX) ? T(-INFINITY) : T(INFINITY);
    return a;
}

// NaN wins (propagates); among equal values the first index wins, as the CPU kernels.
template <typename T> __device__ __forceinline__ Acc<T> combine(int op, Acc<T> a, Acc<T> b) {
    if (op == R_SUM) {
        a.v += b.v;
        return a;
    }
    bool an = isnan(a.v), bn = isnan(b.v);
    if (an || bn) {
        if (an && bn) return a.i <= b.i ? a : b;
        return an ? a : b;
    }
    bool wantMax = op == R_MAX || op == R_ARGMAX;
    if (a.v == b.v) return a.i <= b.i ? a : b;
    return (a.v > b.v) == wantMax ? a : b;
}

template <typename T> __device__ __forceinline__ void write_out(void* out, int op, unsigned o, Acc<T> a) {
    if (op == R_ARGMAX || op == R_ARGMIN) ((int*)out)[o] = a.i;
    else ((T*)out)[o] = a.v;
}

// One block (blockDim.x a power of two, <= 1024) per output element.
template <typename T> __device__ void reduce_block_body(void* out, const T* x, const ReduceLayout& R, int op) {
    extern __shared__ unsigned char smem[];
    T* sv = (T*)smem;
    int* si = (int*)(sv + blockDim.x);
    unsigned o = blockIdx.x;
    long long base = walk(R.outerRank, R.outerShape, R.outerStride, o);
    Acc<T> a = acc_init<T>(op);
    for (unsigned j = threadIdx.x; j < (unsigned)R.inner; j += blockDim.x) {
        Acc<T> e;
        e.v = x[base + walk(R.innerRank, R.innerShape, R.innerStride, j)];
        e.i = (int)j;
        a = combine(op, a, e);
    }
    sv[threadIdx.x] = a.v;
    si[threadIdx.x] = a.i;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            Acc<T> p = {sv[threadIdx.x], si[threadIdx.x]}, q = {sv[threadIdx.x + s], si[threadIdx.x + s]};
            Acc<T> r = combine(op, p, q);
            sv[threadIdx.x] = r.v;
            si[threadIdx.x] = r.i;
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        Acc<T> r = {sv[0], si[0]};
        write_out(out, op, o, r);
    }
}

// One thread per output element: for many outputs with short reductions.
template <typename T> __device__ void reduce_thread_body(void* out, const T* x, const ReduceLayout& R, int op) {
    RW_FOR_EACH(o, R.outer) {
        long long base = walk(R.outerRank, R.outerShape, R.outerStride, o);
        Acc<T> a = acc_init<T>(op);
        for (unsigned j = 0; j < (unsigned)R.inner; j++) {
            Acc<T> e;
            e.v = x[base + walk(R.innerRank, R.innerShape, R.innerStride, j)];
            e.i = (int)j;
            a = combine(op, a, e);
        }
        write_out(out, op, o, a);
    }
}

// out (T, or I32 for argmax/argmin) [outer] = op over the inner elements of x. Shared memory:
// blockDim.x * (sizeof(T) + 4) bytes.
extern "C" __global__ void reduce_block_f32(void* out, const float* x, ReduceLayout R, int op) { reduce_block_body(out, x, R, op); }
extern "C" __global__ void reduce_block_f64(void* out, const double* x, ReduceLayout R, int op) { reduce_block_body(out, x, R, op); }
extern "C" __global__ void reduce_thread_f32(void* out, const float* x, ReduceLayout R, int op) { reduce_thread_body(out, x, R, op); }
extern "C" __global__ void reduce_thread_f64(void* out, const double* x, ReduceLayout R, int op) { reduce_thread_body(out, x, R, op); }

// ---------------------------------------------------------------- softmax over contiguous rows

template <typename T> __device__ __forceinline__ T block_reduce(T v, bool isMax, T* shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            T a = shared[threadIdx.x], b = shared[threadIdx.x + s];
            shared[threadIdx.x] = isMax ? (isnan(a) || a > b ? a : b) : a + b;
        }
        __syncthreads();
    }
    T r = shared[0];
    __syncthreads();
    return r;
}

// y [rows, cols] = softmax (or log-softmax when `log` != 0) of x [rows, cols] along the last dim,
// both contiguous: e = exp(x − max), y = e / Σe, or y = x − max − log Σe. One block per row;
// shared memory blockDim.x * sizeof(T).
template <typename T> __device__ void softmax_body(T* y, const T* x, int cols, int log) {
    extern __shared__ unsigned char smem[];
    T* sh = (T*)smem;
    const T* xr = x + (long long)blockIdx.x * cols;
    T* yr = y + (long long)blockIdx.x * cols;
    T m = T(-INFINITY);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) m = isnan(m) || m > xr[j] ? m : xr[j];
    m = block_reduce(m, true, sh);
    T s = T(0);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += exp(xr[j] - m);
    s = block_reduce(s, false, sh);
    if (log) {
        T ls = ::log(s);
        for (int j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = xr[j] - m - ls;
    } else {
        for (int j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = exp(xr[j] - m) / s;
    }
}

extern "C" __global__ void softmax_rows_f32(float* y, const float* x, int cols, int log) { softmax_body(y, x, cols, log); }
extern "C" __global__ void softmax_rows_f64(double* y, const double* x, int cols, int log) { softmax_body(y, x, cols, log); }
