// Elementwise kernels over strided, broadcast operands: fill, copy with dtype conversion, unary and
// binary ops, where. Each walks a Layout (common.cuh) with a grid-stride loop; operand 0 is the
// output. Each op's scalar definition mirrors dev.rankwise.ops.UnaryOp / BinaryOp (the CPU reference).
//
// F32 ops compute in F64 and round once, as the CPU backend does ((float) op.apply(x)). For + − × ÷
// and comparisons that gives exactly the F32 operation's bits (F64 has more than 2·24 + 2 bits, so
// rounding twice equals rounding once); for the transcendental ops it keeps the CPU's accuracy
// where the F32 formula cancels (GELU's 1 + tanh(z) for negative x loses every bit of the tail).
#include "common.cuh"
#include <cuda_fp16.h>
#include <cuda_bf16.h>

// ---------------------------------------------------------------- element access by dtype code

__device__ __forceinline__ double load_as_double(const void* p, int type, long long i) {
    switch (type) {
        case T_F32: return (double)((const float*)p)[i];
        case T_F64: return ((const double*)p)[i];
        case T_I32: return (double)((const int*)p)[i];
        case T_F16: return (double)__half2float(((const __half*)p)[i]);
        default:    return (double)__bfloat162float(((const __nv_bfloat16*)p)[i]);
    }
}

// Java's conversions: (float) rounds to nearest, (int) truncates, saturates and maps NaN to 0
// (cvt.rzi.s32.f64 does exactly that).
__device__ __forceinline__ void store_from_double(void* p, int type, long long i, double v) {
    switch (type) {
        case T_F32: ((float*)p)[i] = (float)v; break;
        case T_F64: ((double*)p)[i] = v; break;
        case T_I32: ((int*)p)[i] = (int)v; break;
        case T_F16: ((__half*)p)[i] = __float2half_rn((float)v); break;
        default:    ((__nv_bfloat16*)p)[i] = __float2bfloat16_rn((float)v); break;
    }
}

// ---------------------------------------------------------------- scalar definitions

template <typename T> __device__ __forceinline__ T rw_exp(T x);
template <> __device__ __forceinline__ float rw_exp(float x) { return expf(x); }
template <> __device__ __forceinline__ double rw_exp(double x) { return exp(x); }

template <typename T> __device__ __forceinline__ T sigmoid_of(T x) {
    // Split by sign so neither branch overflows exp (as UnaryOp.SIGMOID).
    if (x >= T(0)) return T(1) / (T(1) + rw_exp(-x));
    T e = rw_exp(x);
    return e / (T(1) + e);
}

template <typename T> __device__ T unary_op(int op, T x) {
    switch (op) {
        case U_NEG: return -x;
        case U_EXP: return rw_exp(x);
        case U_LOG: return log(x);
        case U_SQRT: return sqrt(x);
        case U_RSQRT: return T(1) / sqrt(x);
        case U_ABS: return fabs(x);
        case U_SIGN: return x > T(0) ? T(1) : x < T(0) ? T(-1) : x;   // keeps NaN and signed zeros
        case U_RELU: return x > T(0) ? x : T(0) * x;                   // keeps NaN, -0.0 for x <= 0
        case U_SIGMOID: return sigmoid_of(x);
        case U_TANH: return tanh(x);
        case U_GELU_TANH: {
            const T c = T(0.79788456080286535588);                     // sqrt(2/pi)
            return T(0.5) * x * (T(1) + tanh(c * (x + T(0.044715) * x * x * x)));
        }
        case U_GELU_ERF: return T(0.5) * x * (T(1) + erf(x * T(0.70710678118654752440)));
        case U_SILU: return x * sigmoid_of(x);
        case U_ERF: return erf(x);
        default: return x - x + T(NAN);                                // unknown op: poison, never silent
    }
}

template <typename T> __device__ T java_pow(T a, T b) {
    // Math.pow differs from C's pow in two corners: pow(x, NaN) is NaN even for x = 1, and
    // pow(±1, ±inf) is NaN.
    if (isnan(b)) return b;
    if (fabs(a) == T(1) && isinf(b)) return T(NAN);
    return pow(a, b);
}

template <typename T> __device__ T binary_op(int op, T a, T b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_POW: return java_pow(a, b);
        case B_MAX: return isnan(a) || isnan(b) ? T(NAN) : fmax(a, b);
        case B_MIN: return isnan(a) || isnan(b) ? T(NAN) : fmin(a, b);
        case B_GT: return a > b ? T(1) : T(0);
        case B_GE: return a >= b ? T(1) : T(0);
        case B_LT: return a < b ? T(1) : T(0);
        case B_LE: return a <= b ? T(1) : T(0);
        case B_EQ: return a == b ? T(1) : T(0);
        default: return T(NAN);
    }
}

// ---------------------------------------------------------------- kernels

// out[i] = value, out of any dtype (strided).
extern "C" __global__ void ew_fill(void* out, int outType, Layout L, double value) {
    RW_FOR_EACH(i, L.n) {
        long long off[1];
        layout_offsets<1>(L, i, off);
        store_from_double(out, outType, off[0], value);
    }
}

// out[i] = (outType) in[i]; operands: 0 = out, 1 = in. Exact for every F32 and I32 value.
extern "C" __global__ void ew_copy(void* out, int outType, const void* in, int inType, Layout L) {
    RW_FOR_EACH(i, L.n) {
        long long off[2];
        layout_offsets<2>(L, i, off);
        store_from_double(out, outType, off[0], load_as_double(in, inType, off[1]));
    }
}

// T is the storage type; every op computes in F64 (see the top of this file).
template <typename T> __device__ void unary_body(T* out, const T* x, const Layout& L, int op) {
    RW_FOR_EACH(i, L.n) {
        long long off[2];
        layout_offsets<2>(L, i, off);
        out[off[0]] = (T)unary_op<double>(op, (double)x[off[1]]);
    }
}

template <typename T> __device__ void binary_body(T* out, const T* a, const T* b, const Layout& L, int op) {
    RW_FOR_EACH(i, L.n) {
        long long off[3];
        layout_offsets<3>(L, i, off);
        out[off[0]] = (T)binary_op<double>(op, (double)a[off[1]], (double)b[off[2]]);
    }
}

template <typename T> __device__ void where_body(T* out, const void* cond, int condType, const T* a, const T* b, const Layout& L) {
    RW_FOR_EACH(i, L.n) {
        long long off[4];
        layout_offsets<4>(L, i, off);
        out[off[0]] = load_as_double(cond, condType, off[1]) != 0.0 ? a[off[2]] : b[off[3]];
    }
}

// out = op(x); operands 0 = out, 1 = x. out may alias x at the same positions.
extern "C" __global__ void ew_unary_f32(float* out, const float* x, Layout L, int op) { unary_body(out, x, L, op); }
extern "C" __global__ void ew_unary_f64(double* out, const double* x, Layout L, int op) { unary_body(out, x, L, op); }

// out = op(a, b); operands 0 = out, 1 = a, 2 = b.
extern "C" __global__ void ew_binary_f32(float* out, const float* a, const float* b, Layout L, int op) { binary_body(out, a, b, L, op); }
extern "C" __global__ void ew_binary_f64(double* out, const double* a, const double* b, Layout L, int op) { binary_body(out, a, b, L, op); }

// out = cond != 0 ? a : b; operands 0 = out, 1 = cond (any dtype), 2 = a, 3 = b.
extern "C" __global__ void ew_where_f32(float* out, const void* cond, int condType, const float* a, const float* b, Layout L) {
    where_body(out, cond, condType, a, b, L);
}
extern "C" __global__ void ew_where_f64(double* out, const void* cond, int condType, const double* a, const double* b, Layout L) {
    where_body(out, cond, condType, a, b, L);
}
