package dev.rankwise.kernels;

/// How a kernel is launched: threads per block and how many blocks a piece of work needs. Each
/// kernel's catalog entry names its rule; the launcher computes the grid from it and the work size.
public enum Geometry {
    /// A grid-stride loop over `work` items (elements, or Philox blocks of four elements): 256
    /// threads per block, ⌈work / 256⌉ blocks capped at 65,536 (the loop covers the rest).
    ELEMENTS(256),
    /// One block of 256 threads per output element or row: `work` blocks. The block's threads split
    /// the reduction and combine in shared memory.
    BLOCK_PER_OUTPUT(256),
    /// One block of 256 threads per tile of [KernelCatalog#TILE_ROWS] rows: ⌈work / TILE_ROWS⌉ blocks,
    /// `work` being the number of rows.
    ROW_TILES(256),
    /// One block of 256 threads per item: a matrix of a batch, or a chunk of a tensor list (the
    /// multi-tensor optimizer steps): `work` blocks.
    BLOCK_PER_ITEM(256);

    private final int threads;

    Geometry(int threads) {
        this.threads = threads;
    }

    /// Threads per block.
    public int threads() {
        return threads;
    }

    /// Blocks for `work` items under this rule (at least 1).
    public int blocks(long work) {
        if (work < 0) throw new IllegalArgumentException("negative work " + work);
        long b = switch (this) {
            case ELEMENTS -> Math.min((work + threads - 1) / threads, 65_536);
            case BLOCK_PER_OUTPUT, BLOCK_PER_ITEM -> work;
            case ROW_TILES -> (work + KernelCatalog.TILE_ROWS - 1) / KernelCatalog.TILE_ROWS;
        };
        if (b > Integer.MAX_VALUE) throw new IllegalArgumentException(this + ": " + work + " items need more than 2^31 blocks");
        return (int) Math.max(1, b);
    }
}
