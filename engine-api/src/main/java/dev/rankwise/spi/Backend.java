package dev.rankwise.spi;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.ops.BinaryOp;
import dev.rankwise.ops.ReduceOp;
import dev.rankwise.ops.UnaryOp;

/// The small set of primitives a compute backend implements. Everything else (broadcasting, views,
/// autograd, composite ops) lives in engine-api and works unchanged on every backend.
///
/// Conventions for every method:
/// - Tensor arguments are views of this backend's storage with arbitrary strides (0 for broadcast
///   dims); `out` tensors are freshly allocated and contiguous unless stated otherwise.
/// - Shapes and dtypes have already been checked by the caller: inputs of an elementwise op share
///   `out`'s shape and dtype. Backends may assume this and need not re-validate.
/// - Elementwise ops may be called with `out` aliasing an input at the same positions (in-place).
///
/// Backends are found by [java.util.ServiceLoader]; see [Backends].
public interface Backend {
    /// Short name, e.g. `cpu-vector` or `cuda`.
    String name();

    /// The device kind this backend serves.
    Device.Kind kind();

    /// Null when usable, else the reason it is not (no driver, no GPU, missing library, ...).
    String unavailableReason();

    /// One line for humans: implementation, libraries and versions in use.
    String description();

    /// Among backends of one kind, the one with the highest priority is picked.
    default int priority() {
        return 0;
    }

    /// A zero-filled buffer.
    Storage allocate(Device device, DType dtype, long size);

    /// Copies host data into new storage. `data` is a `float[]`, `double[]` or `int[]` matching `dtype`.
    Storage upload(Device device, DType dtype, Object data);

    /// Copies the elements of `src` in row-major order into a new host array of its dtype
    /// (`float[]`, `double[]` or `int[]`).
    Object download(Tensor src);

    /// `dst[i] = src[i]` over one shape, converting dtype where they differ. `dst` may be strided.
    void copy(Tensor src, Tensor dst);

    /// Sets every element of `dst` (possibly strided) to `value`.
    void fill(Tensor dst, double value);

    /// Fills contiguous `dst` with Philox 4x32-10 numbers (see `dev.rankwise.random.Philox`): element i
    /// uses counter `counterOffset + i / 4`, word `i % 4`, so any backend gives identical values.
    void random(Tensor dst, Distribution dist, long seed, long counterOffset);

    void unary(UnaryOp op, Tensor x, Tensor out);

    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /// `out = cond != 0 ? a : b`; `cond` has out's shape and any dtype.
    void where(Tensor cond, Tensor a, Tensor b, Tensor out);

    /// Reduces `x` over the sorted distinct `dims` into `out`, whose shape is `x`'s with those dims set
    /// to 1. For ARGMAX/ARGMIN, `dims` has one element and `out` is I32.
    void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out);

    /// Batched matrix product: `a` is [..., M, K], `b` is [..., K, N] with identical batch dims (maybe
    /// stride 0), `out` is contiguous [..., M, N]. Transposed operands arrive as transposed views.
    void matmul(Tensor a, Tensor b, Tensor out);

    /// `out[i][j][k] = x[i][index[i][j][k]][k]` for dim = 1, and likewise for any dim and rank. `index`
    /// is I32 with out's shape (maybe strided); every index is already checked to be in range.
    void gather(Tensor x, int dim, Tensor index, Tensor out);

    /// `target[i][index[i][j][k]][k] += src[i][j][k]` for dim = 1, likewise for any dim; in place on
    /// `target` (contiguous). Repeated indices accumulate.
    void scatterAdd(Tensor target, int dim, Tensor index, Tensor src);

    /// Optional fused kernels; the default composes them from the primitives.
    default FusedKernels fused() {
        return FusedKernels.COMPOSED;
    }

    /// Dense linear algebra, or null where this backend has none (callers then fall back to the CPU).
    default LinalgKernels linalg() {
        return null;
    }
}
