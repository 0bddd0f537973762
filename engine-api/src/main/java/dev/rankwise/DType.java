package dev.rankwise;

/// Element types. F32 is the working type and F64 the numerical reference; both run every op.
/// I32 holds indices (labels, argmax results, gather/scatter indices). F16 and BF16 exist for
/// reading and writing files: tensors of those types are converted to F32 on load.
public enum DType {
    F32(4, true),
    F64(8, true),
    I32(4, false),
    F16(2, true),
    BF16(2, true);

    private final int bytes;
    private final boolean floating;

    DType(int bytes, boolean floating) {
        this.bytes = bytes;
        this.floating = floating;
    }

    /// Size of one element in bytes.
    public int bytes() {
        return bytes;
    }

    public boolean isFloating() {
        return floating;
    }

    /// True for the types the compute kernels implement (F32, F64).
    public boolean isCompute() {
        return this == F32 || this == F64;
    }

    /// The type of a binary op's result: F64 if either side is F64, else F32.
    public static DType promote(DType a, DType b) {
        if (a == b) return a;
        if (a == F64 || b == F64) return F64;
        return F32;
    }
}
