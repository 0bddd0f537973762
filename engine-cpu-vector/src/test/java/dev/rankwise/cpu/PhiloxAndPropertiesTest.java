package dev.rankwise.cpu;

import dev.rankwise.DType;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;
import dev.rankwise.random.Philox;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/// Philox against Random123's known-answer vectors; broadcasting and views against index-level
/// references as properties.
class PhiloxAndPropertiesTest {
    private static int[] block(int c0, int c1, int c2, int c3, int k0, int k1) {
        int[] out = new int[4];
        Philox.block(c0, c1, c2, c3, k0, k1, out);
        return out;
    }

    /// Random123's `kat_vectors` for philox4x32_10.
    @Test
    void philoxKnownAnswers() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, block(0, 0, 0, 0, 0, 0));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, block(-1, -1, -1, -1, -1, -1));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    @Test
    void fillsDoNotDependOnThreadCount() {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            double[] one = Tensor.randn(new Generator(3), DType.F64, 100_003).toDoubleArray();
            Parallel.setThreads(2);
            double[] two = Tensor.randn(new Generator(3), DType.F64, 100_003).toDoubleArray();
            assertArrayEquals(one, two);
            double[] part = new double[10];
            Philox.fill(part, 10, 50_000, Philox.Kind.NORMAL, 3, 0);
            for (int i = 0; i < 10; i++) assertEquals(one[50_000 + i], part[i], "any split of a fill gives the same values");
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static int[] randomShape(Random r, int rank) {
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) s[i] = 1 + r.nextInt(4);
        return s;
    }

    /// The result of a broadcast add equals, element by element, the sum at the broadcast indices.
    @Property(tries = 60)
    void broadcastingMatchesIndexReference(@ForAll @IntRange(min = 0, max = 1_000_000) int seed) {
        Random r = new Random(seed);
        int rank = 1 + r.nextInt(4);
        int[] out = randomShape(r, rank);
        int[] sa = out.clone(), sb = java.util.Arrays.copyOfRange(out, r.nextInt(rank), rank);
        for (int i = 0; i < sa.length; i++) if (r.nextBoolean()) sa[i] = 1;
        for (int i = 0; i < sb.length; i++) if (r.nextBoolean()) sb[i] = 1;
        Tensor a = Tensor.randn(new Generator(seed), DType.F64, sa), b = Tensor.randn(new Generator(seed + 1), DType.F64, sb);
        Tensor c = a.add(b);
        assertArrayEquals(Shape.broadcast("add", sa, sb), c.shape());
        double[] av = a.toDoubleArray(), bv = b.toDoubleArray(), cv = c.toDoubleArray();
        int[] idx = new int[rank];
        out = c.shape();
        for (int flat = 0; flat < cv.length; flat++) {
            int rem = flat;
            for (int d = rank - 1; d >= 0; d--) {
                idx[d] = rem % out[d];
                rem /= out[d];
            }
            assertEquals(av[offset(idx, sa)] + bv[offset(idx, sb)], cv[flat], 1e-15);
        }
    }

    /// Row-major offset of the broadcast index `idx` (aligned at the right) in a tensor of `shape`.
    private static int offset(int[] idx, int[] shape) {
        int off = 0, lead = idx.length - shape.length;
        for (int d = 0; d < shape.length; d++) off = off * shape[d] + (shape[d] == 1 ? 0 : idx[lead + d]);
        return off;
    }

    /// permute, narrow and reshape compose as index maps; views share storage; contiguous keeps values.
    @Property(tries = 60)
    void viewsAreIndexMaps(@ForAll @IntRange(min = 0, max = 1_000_000) int seed) {
        Random r = new Random(seed);
        int[] shape = randomShape(r, 3);
        Tensor x = Tensor.arange(0, (int) Shape.numel(shape), 1, DType.F64).reshape(shape);
        int[] perm = {2, 0, 1};
        Tensor p = x.permute(perm);
        assertSame(x.storage(), p.storage(), "permute is a view");
        int start = r.nextInt(shape[0]), len = 1 + r.nextInt(shape[0] - start);
        Tensor n = x.narrow(0, start, len);
        assertSame(x.storage(), n.storage(), "narrow is a view");
        double[] pv = p.contiguous().toDoubleArray(), nv = n.contiguous().toDoubleArray();
        int k = 0;
        for (int c = 0; c < shape[2]; c++) for (int a = 0; a < shape[0]; a++) for (int b = 0; b < shape[1]; b++) {
            assertEquals((a * shape[1] + b) * shape[2] + c, pv[k++]);
        }
        k = 0;
        for (int a = start; a < start + len; a++) for (int b = 0; b < shape[1]; b++) for (int c = 0; c < shape[2]; c++) {
            assertEquals((a * shape[1] + b) * shape[2] + c, nv[k++]);
        }
        assertArrayEquals(x.toDoubleArray(), p.permute(1, 2, 0).contiguous().toDoubleArray(), "permute back");
        assertArrayEquals(x.toDoubleArray(), x.reshape(-1).reshape(shape).toDoubleArray());
        Tensor e = x.narrow(1, 0, 1).expand(shape[0], 3, shape[2]);
        assertEquals(0, e.strides()[1], "expand uses stride 0");
    }
}
