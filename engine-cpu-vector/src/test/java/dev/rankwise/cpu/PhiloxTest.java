package dev.rankwise.cpu;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;
import dev.rankwise.random.Philox;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/// Philox against Random123's known-answer vectors, and fills that do not depend on the thread count.
class PhiloxTest {
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
}
