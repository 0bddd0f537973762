package dev.rankwise.cuda;

import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.kernels.OpCodes;

import java.util.Arrays;

/// Builds the by-value structs the kernels walk (`Layout`, `ReduceLayout` in common.cuh / reduce.cu).
///
/// Dims are coalesced first, as the CPU backend does: size-1 dims vanish and a dim merges with the
/// next inner one when every operand's strides allow it, so contiguous and most broadcast operands
/// become a single dim and the kernel's index arithmetic is one multiply.
final class Layouts {
    private Layouts() {}

    private static final int R = OpCodes.RW_MAX_RANK;

    /// Dims after coalescing: shape and, per operand, strides (outermost first).
    record Walk(int[] shape, int[][] strides) {
        long numel() {
            long n = 1;
            for (int s : shape) n *= s;
            return n;
        }
    }

    /// Coalesces `shape` walked by operands with the given strides (each over `shape`).
    static Walk coalesce(int[] shape, int[]... strides) {
        int ops = strides.length;
        int[] s = new int[shape.length];
        int[][] st = new int[ops][shape.length];
        int n = 0;
        for (int d = shape.length - 1; d >= 0; d--) {        // innermost first
            if (shape[d] == 1) continue;
            if (n > 0) {
                boolean merge = true;
                for (int k = 0; k < ops && merge; k++) merge = strides[k][d] == (long) st[k][n - 1] * s[n - 1];
                if (merge) {
                    s[n - 1] *= shape[d];
                    continue;
                }
            }
            s[n] = shape[d];
            for (int k = 0; k < ops; k++) st[k][n] = strides[k][d];
            n++;
        }
        int rank = Math.max(1, n);
        int[] outShape = new int[rank];
        int[][] outStrides = new int[ops][rank];
        if (n == 0) outShape[0] = 1;
        for (int i = 0; i < n; i++) {                         // back to outermost first
            outShape[i] = s[n - 1 - i];
            for (int k = 0; k < ops; k++) outStrides[k][i] = st[k][n - 1 - i];
        }
        return new Walk(outShape, outStrides);
    }

    /// The `Layout` struct words for an elementwise walk of `out`'s shape over `operands` (out
    /// first), each of that shape (broadcast operands as stride-0 views).
    static int[] elementwise(String op, Tensor... operands) {
        int[] shape = operands[0].shapeRef();
        int[][] strides = new int[operands.length][];
        for (int k = 0; k < operands.length; k++) {
            if (!Arrays.equals(operands[k].shapeRef(), shape)) {
                throw new IllegalArgumentException(op + ": operand " + k + " has shape " + Shape.str(operands[k].shapeRef())
                        + ", expected " + Shape.str(shape));
            }
            strides[k] = operands[k].stridesRef();
        }
        return words(op, coalesce(shape, strides), Shape.numel(shape));
    }

    static int[] words(String op, Walk w, long numel) {
        int ops = w.strides().length;
        if (ops > OpCodes.RW_MAX_OPERANDS) throw new IllegalArgumentException(op + ": " + ops + " operands, kernels take at most 4");
        checkRank(op, w.shape());
        if (numel >= Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": " + numel + " elements; the CUDA kernels take fewer than 2^31");
        int[] words = new int[OpCodes.LAYOUT_BYTES / 4];
        words[0] = w.shape().length;
        words[1] = (int) numel;
        System.arraycopy(w.shape(), 0, words, 2, w.shape().length);
        for (int k = 0; k < ops; k++) System.arraycopy(w.strides()[k], 0, words, 2 + R + k * R, w.shape().length);
        return words;
    }

    private static void checkRank(String op, int[] shape) {
        if (shape.length > R) {
            throw new IllegalArgumentException(op + ": " + shape.length + " dims remain after merging (shape " + Shape.str(shape)
                    + "); the CUDA kernels take at most " + R + "; make the tensor contiguous first");
        }
    }

    /// The `ReduceLayout` words for reducing `x` over the sorted `dims`: kept dims (outer, in the
    /// output's row-major order) and reduced dims (inner), each coalesced on its own.
    static int[] reduce(String op, Tensor x, int[] dims) {
        int r = x.rank();
        boolean[] reduced = new boolean[r];
        for (int d : dims) reduced[d] = true;
        int no = 0, ni = 0;
        for (int d = 0; d < r; d++) if (reduced[d]) ni++; else no++;
        int[] os = new int[no], ost = new int[no], is = new int[ni], ist = new int[ni];
        for (int d = 0, a = 0, b = 0; d < r; d++) {
            if (reduced[d]) {
                is[b] = x.shapeRef()[d];
                ist[b++] = x.stridesRef()[d];
            } else {
                os[a] = x.shapeRef()[d];
                ost[a++] = x.stridesRef()[d];
            }
        }
        Walk outer = coalesce(os, ost), inner = coalesce(is, ist);
        checkRank(op, outer.shape());
        checkRank(op, inner.shape());
        long outerN = outer.numel(), innerN = inner.numel();
        if (outerN >= Integer.MAX_VALUE || innerN >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": shape " + Shape.str(x.shapeRef()) + " is too large for the CUDA kernels");
        }
        int[] words = new int[OpCodes.REDUCE_LAYOUT_BYTES / 4];
        words[0] = outer.shape().length;
        words[1] = inner.shape().length;
        words[2] = (int) outerN;
        words[3] = (int) innerN;
        System.arraycopy(outer.shape(), 0, words, 4, outer.shape().length);
        System.arraycopy(outer.strides()[0], 0, words, 4 + R, outer.shape().length);
        System.arraycopy(inner.shape(), 0, words, 4 + 2 * R, inner.shape().length);
        System.arraycopy(inner.strides()[0], 0, words, 4 + 3 * R, inner.shape().length);
        return words;
    }

    /// Offsets (in elements) of every operand at linear index `i`, computed exactly as
    /// `layout_offsets` in common.cuh does; lets tests check the packing against the strides.
    static long[] offsets(int[] words, int operands, int i) {
        int rank = words[0];
        long[] off = new long[operands];
        int rest = i;
        for (int d = rank - 1; d >= 0; d--) {
            int s = words[2 + d];
            int c = rest % s;
            rest /= s;
            for (int k = 0; k < operands; k++) off[k] += (long) c * words[2 + R + k * R + d];
        }
        return off;
    }
}
