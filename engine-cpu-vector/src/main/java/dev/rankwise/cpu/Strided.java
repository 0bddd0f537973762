package dev.rankwise.cpu;

import dev.rankwise.Tensor;

/// Loops over several same-shape strided operands at once.
///
/// The shape is first coalesced: size-1 dims vanish and neighbouring dims merge wherever every
/// operand's strides allow, so contiguous (and many broadcast) cases become one long row. The body
/// then sees one innermost row at a time: the operands' offsets of its first element, its length, and
/// the operands' inner strides (fixed for the whole loop). Rows are split over the pool when large.
final class Strided {
    /// Called per innermost row: `off[k]` is operand k's offset of the row's first element.
    interface Row {
        void run(int[] off, int len);
    }

    final int[] outer;        // coalesced outer dims (all but the innermost)
    final int[][] outerStrides;
    final int inner;          // length of the innermost dim
    final int[] innerStride;  // per operand
    final int[] base;         // per operand offset of element 0
    final long rows;

    Strided(int[] shape, Tensor... ops) {
        int n = ops.length;
        int r = shape.length;
        int[] dims = new int[r];
        int[][] st = new int[n][r];
        int k = 0;
        for (int i = 0; i < r; i++) {
            if (shape[i] == 1) continue;
            boolean merge = k > 0;
            for (int o = 0; merge && o < n; o++) {
                merge = st[o][k - 1] == ops[o].stridesRef()[i] * shape[i];
            }
            if (merge) {
                dims[k - 1] *= shape[i];
                for (int o = 0; o < n; o++) st[o][k - 1] = ops[o].stridesRef()[i];
            } else {
                dims[k] = shape[i];
                for (int o = 0; o < n; o++) st[o][k] = ops[o].stridesRef()[i];
                k++;
            }
        }
        base = new int[n];
        for (int o = 0; o < n; o++) base[o] = ops[o].offset();
        innerStride = new int[n];
        if (k == 0) {
            inner = 1;
            outer = new int[0];
            outerStrides = new int[n][0];
        } else {
            inner = dims[k - 1];
            for (int o = 0; o < n; o++) innerStride[o] = st[o][k - 1];
            outer = java.util.Arrays.copyOf(dims, k - 1);
            outerStrides = new int[n][];
            for (int o = 0; o < n; o++) outerStrides[o] = java.util.Arrays.copyOf(st[o], k - 1);
        }
        long rws = 1;
        for (int d : outer) rws *= d;
        rows = rws;
    }

    /// Runs `body` over every row; in parallel when `parallel` and the work is large enough.
    void forEach(Row body, boolean parallel) {
        long total = rows * inner;
        int grain = 1 << 15;
        if (!parallel || total < 2L * grain || Parallel.threads() == 1) {
            runRows(body, 0, rows);
        } else if (rows == 1) {
            int n = base.length;
            Parallel.forRange(inner, grain, (s, e) -> {
                int[] off = new int[n];
                for (int o = 0; o < n; o++) off[o] = base[o] + s * innerStride[o];
                body.run(off, e - s);
            });
        } else {
            int rowGrain = (int) Math.max(1, grain / Math.max(1, inner));
            Parallel.forRange((int) rows, rowGrain, (s, e) -> runRows(body, s, e));
        }
    }

    private void runRows(Row body, long from, long to) {
        int n = base.length;
        int d = outer.length;
        int[] idx = new int[d];
        int[] off = new int[n];
        // Decompose the first row index into the odometer.
        long rem = from;
        for (int i = d - 1; i >= 0; i--) {
            idx[i] = (int) (rem % outer[i]);
            rem /= outer[i];
        }
        for (int o = 0; o < n; o++) {
            int v = base[o];
            for (int i = 0; i < d; i++) v += idx[i] * outerStrides[o][i];
            off[o] = v;
        }
        for (long row = from; row < to; row++) {
            body.run(off, inner);
            for (int i = d - 1; i >= 0; i--) {
                idx[i]++;
                for (int o = 0; o < n; o++) off[o] += outerStrides[o][i];
                if (idx[i] < outer[i]) break;
                for (int o = 0; o < n; o++) off[o] -= outerStrides[o][i] * outer[i];
                idx[i] = 0;
            }
        }
    }
}
