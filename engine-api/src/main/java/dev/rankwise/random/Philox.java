package dev.rankwise.random;

/// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
/// counter-based generator of cuRAND and PyTorch's CUDA backend.
///
/// Rankwise's rule, which every backend follows so a seed gives the same numbers anywhere and for any
/// thread count: the key is the 64-bit seed (low word first), the counter of block `c` is
/// `(c_lo, c_hi, 0, 0)`, and element `i` of a fill that starts at block `offset` reads word `i % 4` of
/// block `offset + i / 4`.
/// - uniform: `u = ((word >>> 8) + 0.5) · 2⁻²⁴`, in (0, 1), exact in F32 (F64 fills get the same values);
/// - normal: Box–Muller on the word pairs (0, 1) and (2, 3) of the block: elements `i % 4 = 0, 2` take
///   `r·cos θ`, elements 1, 3 take `r·sin θ`, with `r = √(−2 ln u₀)`, `θ = 2π u₁`.
public final class Philox {
    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private Philox() {}

    /// The four output words of one block, written to `out[0..3]`.
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /// A word mapped to (0, 1) with 24 random bits.
    public static double uniform(int word) {
        return ((word >>> 8) + 0.5) * 0x1p-24;
    }

    /// Fills `out[0..n)` with the values of elements `start .. start + n` of a fill that begins at block
    /// `counterOffset`. Any split of a fill into such ranges gives the same values as one call.
    public static void fill(double[] out, int n, long start, Kind kind, long seed, long counterOffset) {
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        int[] w = new int[4];
        long lastBlock = -1;
        for (int j = 0; j < n; j++) {
            long i = start + j;
            long blk = counterOffset + (i >>> 2);
            if (blk != lastBlock) {
                block((int) blk, (int) (blk >>> 32), 0, 0, k0, k1, w);
                lastBlock = blk;
            }
            int lane = (int) (i & 3);
            if (kind == Kind.UNIFORM) {
                out[j] = uniform(w[lane]);
            } else {
                int pair = lane & 2;
                // StrictMath (fdlibm) rather than Math: its results are specified to the bit, so the
                // GPU's port of the same algorithms (kernels/philox.cuh) gives identical numbers.
                double r = Math.sqrt(-2 * StrictMath.log(uniform(w[pair])));
                double theta = 2 * Math.PI * uniform(w[pair + 1]);
                out[j] = (lane & 1) == 0 ? r * StrictMath.cos(theta) : r * StrictMath.sin(theta);
            }
        }
    }

    /// The standard distribution a fill draws before scaling: uniform on (0, 1) or standard normal.
    public enum Kind { UNIFORM, NORMAL }
}
