package dev.rankwise.random;

/// An explicit, seeded source of random numbers. Each fill takes the next blocks of the Philox
/// counter stream, so successive fills differ and a seed replays the same sequence of fills.
public final class Generator {
    private final long seed;
    private long nextBlock;

    public Generator(long seed) {
        this.seed = seed;
    }

    public long seed() {
        return seed;
    }

    /// Reserves the blocks for `elements` numbers and returns the first block's counter.
    public synchronized long take(long elements) {
        long start = nextBlock;
        nextBlock += (elements + 3) / 4;
        return start;
    }

    /// The counter the next fill will start at.
    public synchronized long position() {
        return nextBlock;
    }

    /// A generator for an independent stream derived from this seed and a label (e.g. a layer name),
    /// so adding a layer does not shift the numbers of the others.
    public Generator derive(String label) {
        long h = seed ^ 0x9E3779B97F4A7C15L;
        for (int i = 0; i < label.length(); i++) {
            h = (h ^ label.charAt(i)) * 0x100000001B3L;
            h ^= h >>> 29;
        }
        return new Generator(h);
    }
}
