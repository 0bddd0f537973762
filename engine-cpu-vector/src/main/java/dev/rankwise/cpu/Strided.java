package dev.rankwise.cpu;

import dev.rankwise.Tensor;

/// Loops over several same-shape strided operands at once.
///
/// The shape is first coalesced: size-1 dims vanish and neighbouring dims merge wherever every
/// operand's strides allow, so contiguous (and many broadcast) cases become one long row. The body
/// then sees one innermost row (or a column range of it) at a time: the operands' offsets of its first
/// element, its length, and the operands' inner strides (fixed for the whole loop).
///
/// Work is split over the pool in contiguous ranges chosen from the sizes alone; kernels make each
/// element's result independent of the split, so results never depend on the thread count.
final class Strided {
    /// Called per innermost row: `off[k]` is operand k's offset of the row's first element.
    interface Row {
        void run(int[] off, int len);
    }

    /// Elements below which a loop stays on the calling thread.
    static final int GRAIN = 1 << 15;

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

    /// True when every operand is contiguous with the same number of elements: then one row of that
    /// length, from each operand's offset, covers everything (the fast path of small tensors).
    static boolean allContiguous(Tensor... ops) {
        long n = ops[0].numel();
        for (Tensor t : ops) if (t.numel() != n || !t.isContiguous()) return false;
        return true;
    }

    /// Elementwise loops: every element is written by exactly one call. Many rows are split over the
    /// pool; a few long ones are split into column ranges.
    void forEach(Row body) {
        long total = rows * inner;
        int threads = Parallel.threads();
        if (total < 2L * GRAIN || threads == 1) {
            runRows(body, 0, rows, 0, inner);
        } else if (rows >= 4L * threads || inner < 2 * GRAIN) {
            int rowGrain = Math.max(1, GRAIN / Math.max(1, inner));
            Parallel.forRange((int) rows, rowGrain, (s, e) -> runRows(body, s, e, 0, inner));
        } else {
            forEachColumns(body);
        }
    }

    /// On the calling thread, rows in order.
    void forEachSequential(Row body) {
        runRows(body, 0, rows, 0, inner);
    }

    /// Parallel over runs of `group` consecutive rows that write the same outputs (a reduction whose
    /// reduced dims did not coalesce); each run stays on one thread, in order.
    void forEachGroup(Row body, long group) {
        long groups = rows / group;
        if (rows * inner < 2L * GRAIN || Parallel.threads() == 1 || groups < 2) {
            runRows(body, 0, rows, 0, inner);
            return;
        }
        int grain = (int) Math.max(1, GRAIN / Math.max(1, group * inner));
        Parallel.forRange((int) groups, grain, (s, e) -> runRows(body, s * group, e * group, 0, inner));
    }

    /// True when operand `o` has stride 0 along every outer dim: all rows map onto one row of it.
    boolean oneOutputRow(int o) {
        for (int s : outerStrides[o]) if (s != 0) return false;
        return true;
    }

    /// Rows [from, to), whole, on the calling thread, in order.
    void forEachRowsOf(long from, long to, Row body) {
        runRows(body, from, to, 0, inner);
    }

    /// Parallel over column ranges of the innermost dim; each task runs every row, in order, over its
    /// columns (rows that accumulate into the same outputs column by column).
    void forEachColumns(Row body) {
        if (rows * inner < 2L * GRAIN || Parallel.threads() == 1 || inner < 2 * 512) {
            runRows(body, 0, rows, 0, inner);
            return;
        }
        // Column ranges start on 64-element boundaries and span at least 512 columns, so every row's
        // piece still streams from memory.
        int chunks = (inner + 63) / 64;
        int grain = (int) Math.max(8, GRAIN / Math.max(1, rows * 64));
        Parallel.forRange(chunks, grain, (s, e) -> runRows(body, 0, rows, s * 64, Math.min(inner, e * 64)));
    }

    private void runRows(Row body, long from, long to, int colFrom, int colTo) {
        if (from >= to || colFrom >= colTo) return;   // nothing to do (and an empty dim must not be divided by)
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
            int v = base[o] + colFrom * innerStride[o];
            for (int i = 0; i < d; i++) v += idx[i] * outerStrides[o][i];
            off[o] = v;
        }
        int len = colTo - colFrom;
        for (long row = from; row < to; row++) {
            body.run(off, len);
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
