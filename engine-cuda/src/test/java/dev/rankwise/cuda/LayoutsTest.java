package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.kernels.OpCodes;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/// The structs the kernels walk, built on the host: for random views (transposes, narrows, broadcast
/// expansions), the offsets the kernel's index arithmetic computes from the packed words equal the
/// offsets the tensors' strides give, element by element. Runs without a GPU.
class LayoutsTest {
    /// Offset of row-major linear index i in a tensor of `shape` with `strides`.
    static long direct(int[] shape, int[] strides, long i) {
        long off = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            off += (i % shape[d]) * strides[d];
            i /= shape[d];
        }
        return off;
    }

    @Test
    void packedOffsetsEqualStridedOffsets() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            int rank = 1 + rnd.nextInt(5);
            int[] shape = new int[rank];
            for (int d = 0; d < rank; d++) shape[d] = 1 + rnd.nextInt(4);
            Tensor out = Tensor.zeros(DType.F32, shape);
            // a: a permuted, narrowed view; b: broadcast along random dims.
            int[] big = shape.clone();
            for (int d = 0; d < rank; d++) big[d] += rnd.nextInt(2);
            Tensor base = Tensor.zeros(DType.F32, big);
            for (int d = 0; d < rank; d++) base = base.narrow(d, big[d] - shape[d], shape[d]);
            Tensor a = rank >= 2 && rnd.nextBoolean() ? base.transpose(0, rank - 1).contiguous().transpose(0, rank - 1) : base;
            int[] small = shape.clone();
            for (int d = 0; d < rank; d++) if (rnd.nextBoolean()) small[d] = 1;
            Tensor b = Tensor.zeros(DType.F32, small).expand(shape);
            int[] words = Layouts.elementwise("test", out, a, b);
            assertEquals(OpCodes.LAYOUT_BYTES / 4, words.length);
            long n = out.numel();
            assertEquals(n, words[1]);
            for (int i = 0; i < n; i++) {
                long[] off = Layouts.offsets(words, 3, i);
                assertEquals(direct(shape, out.stridesRef(), i), off[0]);
                assertEquals(direct(shape, a.stridesRef(), i), off[1], "a at " + i);
                assertEquals(direct(shape, b.stridesRef(), i), off[2], "b at " + i);
            }
        }
    }

    @Test
    void contiguousAndBroadcastOperandsCoalesceToOneDim() {
        Tensor out = Tensor.zeros(DType.F32, 4, 5, 6);
        int[] w = Layouts.elementwise("add", out, Tensor.zeros(DType.F32, 4, 5, 6), Tensor.scalar(1, DType.F32).expand(4, 5, 6));
        assertEquals(1, w[0], "rank after coalescing");
        assertEquals(120, w[2]);
        Layouts.Walk walk = Layouts.coalesce(new int[] {4, 1, 5}, new int[] {5, 99, 1});
        assertArrayEquals(new int[] {20}, walk.shape());
    }

    @Test
    void reduceLayoutSplitsKeptAndReducedDims() {
        Tensor x = Tensor.zeros(DType.F32, 3, 4, 5).transpose(0, 2);    // [5, 4, 3], strides [1, 5, 20]
        int[] w = Layouts.reduce("sum", x, new int[] {1});
        int r = OpCodes.RW_MAX_RANK;
        assertEquals(15, w[2], "outputs");
        assertEquals(4, w[3], "elements per output");
        // Output o = (i, k) in row-major order of the kept dims [5, 3]; x offset i·1 + k·20.
        for (int o = 0; o < 15; o++) {
            long off = 0, rest = o;
            for (int d = w[0] - 1; d >= 0; d--) {
                off += (rest % w[4 + d]) * w[4 + r + d];
                rest /= w[4 + d];
            }
            assertEquals((o / 3) + (o % 3) * 20L, off, "output " + o);
        }
        assertEquals(5, w[4 + 3 * r], "inner stride is dim 1's");
    }

    @Test
    void tooManyDimsIsAClearError() {
        int[] shape = {2, 2, 2, 2, 2, 2, 2, 2, 2};
        Tensor t = Tensor.zeros(DType.F32, shape);
        int[] perm = {8, 7, 6, 5, 4, 3, 2, 1, 0};
        Tensor p = t.permute(perm);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Layouts.elementwise("exp", Tensor.zeros(DType.F32, shape), p));
        assertEquals(true, e.getMessage().startsWith("exp: 9 dims remain"), e.getMessage());
    }
}
