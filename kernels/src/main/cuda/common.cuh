// Shared definitions of Rankwise's kernels: the strided layout every elementwise-style kernel takes,
// the op codes (mirrored by dev.rankwise.kernels.OpCodes; a test compares the two), and small helpers.
#pragma once

// At most this many dims after the host coalesced them (size-1 dims dropped, mergeable neighbours
// merged); the host refuses more with a clear error.
#define RW_MAX_RANK 8
// Operands a Layout describes: out, then up to three inputs.
#define RW_MAX_OPERANDS 4

// The shape of an elementwise walk and each operand's strides (in elements) over it, row-major.
// Passed by value (168 bytes, 4-byte aligned): .param .align 4 .b8 L[168] in the PTX.
struct Layout {
    int rank;                                 // 1..RW_MAX_RANK
    int n;                                    // number of elements, < 2^31
    int shape[RW_MAX_RANK];
    int stride[RW_MAX_OPERANDS][RW_MAX_RANK];
};

// Offsets (in elements) of operands 0..count-1 for linear index i of the walk.
template <int COUNT>
__device__ __forceinline__ void layout_offsets(const Layout& L, unsigned i, long long* off) {
#pragma unroll
    for (int k = 0; k < COUNT; k++) off[k] = 0;
    if (L.rank == 1) {
#pragma unroll
        for (int k = 0; k < COUNT; k++) off[k] = (long long)i * L.stride[k][0];
        return;
    }
    for (int d = L.rank - 1; d >= 0; d--) {
        unsigned s = (unsigned)L.shape[d];
        unsigned c = i % s;
        i /= s;
#pragma unroll
        for (int k = 0; k < COUNT; k++) off[k] += (long long)c * L.stride[k][d];
    }
}

// Grid-stride loop over [0, n).
#define RW_FOR_EACH(i, n) \
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned)(n); i += gridDim.x * blockDim.x)

// ---------------------------------------------------------------- op codes

// dev.rankwise.ops.UnaryOp
#define U_NEG 0
#define U_EXP 1
#define U_LOG 2
#define U_SQRT 3
#define U_RSQRT 4
#define U_ABS 5
#define U_SIGN 6
#define U_RELU 7
#define U_SIGMOID 8
#define U_TANH 9
#define U_GELU_TANH 10
#define U_GELU_ERF 11
#define U_SILU 12
#define U_ERF 13

// dev.rankwise.ops.BinaryOp
#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_POW 4
#define B_MAX 5
#define B_MIN 6
#define B_GT 7
#define B_GE 8
#define B_LT 9
#define B_LE 10
#define B_EQ 11

// dev.rankwise.ops.ReduceOp
#define R_SUM 0
#define R_MAX 1
#define R_MIN 2
#define R_ARGMAX 3
#define R_ARGMIN 4

// Element types of copy/convert (dev.rankwise.DType)
#define T_F32 0
#define T_F64 1
#define T_I32 2
#define T_F16 3
#define T_BF16 4

// Triangle masks (tri_mask_*)
#define TRI_UPPER 0        // keep j >= i, zero the rest (R of QR, U of LU)
#define TRI_LOWER 1        // keep j <= i, zero the rest (Cholesky's L)
#define TRI_UNIT_LOWER 2   // keep j < i, 1 on the diagonal, zero above (L of LU)
