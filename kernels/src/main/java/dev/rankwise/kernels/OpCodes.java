package dev.rankwise.kernels;

/// The integer codes the kernels take for ops, dtypes and modes, mirroring the `#define`s of
/// `src/main/cuda/common.cuh` (a test compares the two), and the sizes of the by-value structs.
public final class OpCodes {
    private OpCodes() {}

    /// Dims of a walk after coalescing (RW_MAX_RANK) and operands of a Layout (RW_MAX_OPERANDS).
    public static final int RW_MAX_RANK = 8, RW_MAX_OPERANDS = 4;
    /// Bytes of `struct Layout` and `struct ReduceLayout`.
    public static final int LAYOUT_BYTES = 4 * (2 + RW_MAX_RANK + RW_MAX_OPERANDS * RW_MAX_RANK);
    public static final int REDUCE_LAYOUT_BYTES = 4 * (4 + 4 * RW_MAX_RANK);

    // dev.rankwise.ops.UnaryOp
    public static final int U_NEG = 0, U_EXP = 1, U_LOG = 2, U_SQRT = 3, U_RSQRT = 4, U_ABS = 5, U_SIGN = 6, U_RELU = 7,
            U_SIGMOID = 8, U_TANH = 9, U_GELU_TANH = 10, U_GELU_ERF = 11, U_SILU = 12, U_ERF = 13;
    // dev.rankwise.ops.BinaryOp
    public static final int B_ADD = 0, B_SUB = 1, B_MUL = 2, B_DIV = 3, B_POW = 4, B_MAX = 5, B_MIN = 6, B_GT = 7, B_GE = 8,
            B_LT = 9, B_LE = 10, B_EQ = 11;
    // dev.rankwise.ops.ReduceOp
    public static final int R_SUM = 0, R_MAX = 1, R_MIN = 2, R_ARGMAX = 3, R_ARGMIN = 4;
    // element types
    public static final int T_F32 = 0, T_F64 = 1, T_I32 = 2, T_F16 = 3, T_BF16 = 4;
    // triangle masks
    public static final int TRI_UPPER = 0, TRI_LOWER = 1, TRI_UNIT_LOWER = 2;
}
