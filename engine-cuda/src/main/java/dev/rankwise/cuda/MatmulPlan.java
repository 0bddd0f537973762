package dev.rankwise.cuda;

import dev.rankwise.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/// Turns a row-major batched product `out [..., M, N] = a [..., M, K] · b [..., K, N]` into cuBLAS's
/// column-major strided-batched GEMM calls.
///
/// A row-major matrix is the transpose of the same memory read column-major, so
/// `outᵀ (N×M) = bᵀ (N×K) · aᵀ (K×M)`: cuBLAS's first operand is b, its second a. A row-major
/// operand (unit column stride) is already that transpose (op N, leading dimension = row stride); a
/// transposed view (unit row stride) is read as itself and needs op T (leading dimension = column
/// stride). Batch dims, with stride 0 where broadcast, are merged where the three operands' strides
/// allow; the innermost remaining batch dim is cuBLAS's batch and the others are looped over.
/// Offsets and strides are in elements.
final class MatmulPlan {
    private MatmulPlan() {}

    /// One `cublas?gemmStridedBatched` call (column-major terms: C = op(A)·op(B)).
    record Call(boolean transA, boolean transB, int m, int n, int k, long offA, int lda, long strideA,
                long offB, int ldb, long strideB, long offC, int ldc, long strideC, int batch) {}

    /// True when a matrix operand (last two dims) is row- or column-contiguous, so cuBLAS can read it.
    static boolean readable(Tensor t) {
        return rowMajor(t) || colMajor(t);
    }

    private static boolean rowMajor(Tensor t) {
        int r = t.rank(), rows = t.shapeRef()[r - 2], cols = t.shapeRef()[r - 1];
        int sr = t.stridesRef()[r - 2], sc = t.stridesRef()[r - 1];
        return (sc == 1 || cols == 1) && (sr >= Math.max(1, cols) || rows == 1);
    }

    private static boolean colMajor(Tensor t) {
        int r = t.rank(), rows = t.shapeRef()[r - 2], cols = t.shapeRef()[r - 1];
        int sr = t.stridesRef()[r - 2], sc = t.stridesRef()[r - 1];
        return (sr == 1 || rows == 1) && (sc >= Math.max(1, rows) || cols == 1);
    }

    /// The calls computing `out = a · b`; a and b must be [#readable], out contiguous. Offsets
    /// include each tensor's own offset.
    static List<Call> plan(Tensor a, Tensor b, Tensor out) {
        int r = out.rank();
        int m = out.shapeRef()[r - 2], n = out.shapeRef()[r - 1], k = a.shapeRef()[r - 1];
        // cuBLAS's A is our b (N×K after op), its B is our a (K×M after op).
        boolean bRow = rowMajor(b), aRow = rowMajor(a);
        boolean transA = !bRow, transB = !aRow;
        int ldA = bRow ? Math.max(b.stridesRef()[r - 2], Math.max(1, n)) : Math.max(b.stridesRef()[r - 1], Math.max(1, k));
        int ldB = aRow ? Math.max(a.stridesRef()[r - 2], Math.max(1, k)) : Math.max(a.stridesRef()[r - 1], Math.max(1, m));
        int[] batchShape = Arrays.copyOf(out.shapeRef(), r - 2);
        Layouts.Walk w = Layouts.coalesce(batchShape, Arrays.copyOf(b.stridesRef(), r - 2), Arrays.copyOf(a.stridesRef(), r - 2),
                Arrays.copyOf(out.stridesRef(), r - 2));
        int[] shape = w.shape();
        int inner = shape.length - 1;
        int batch = shape[inner];
        long sA = w.strides()[0][inner], sB = w.strides()[1][inner], sC = w.strides()[2][inner];
        List<Call> calls = new ArrayList<>();
        int outerCount = 1;
        for (int d = 0; d < inner; d++) outerCount *= shape[d];
        int[] idx = new int[inner];
        for (int o = 0; o < outerCount; o++) {
            long oA = b.offset(), oB = a.offset(), oC = out.offset();
            for (int d = 0; d < inner; d++) {
                oA += (long) idx[d] * w.strides()[0][d];
                oB += (long) idx[d] * w.strides()[1][d];
                oC += (long) idx[d] * w.strides()[2][d];
            }
            calls.add(new Call(transA, transB, n, m, k, oA, ldA, sA, oB, ldB, sB, oC, Math.max(1, n), sC, batch));
            for (int d = inner - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return calls;
    }
}
