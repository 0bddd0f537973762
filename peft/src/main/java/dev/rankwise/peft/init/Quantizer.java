package dev.rankwise.peft.init;

import dev.rankwise.Tensor;

/// A weight quantizer, applied as quantize-then-dequantize: the result has the input's shape and
/// dtype and holds the values the quantized weight represents. Block-wise quantizers split the
/// row-major flattened weight into blocks of `blockSize` (the last may be shorter), scale each by its
/// largest magnitude (absmax) and round to the nearest level of a fixed codebook on [−1, 1].
@FunctionalInterface
public interface Quantizer {
    Tensor quantize(Tensor w);

    /// No quantization: LQ-LoRA then recovers W exactly (Q absorbs what L₁L₂ misses).
    static Quantizer identity() {
        return w -> w;
    }

    /// Symmetric uniform `bits`-bit quantization: levels k/L for k = −L..L, L = 2^(bits−1) − 1.
    static Quantizer uniform(int bits, int blockSize) {
        if (bits < 2 || bits > 16) throw new IllegalArgumentException("quantizer: bits must be in [2, 16], got " + bits);
        int l = (1 << (bits - 1)) - 1;
        double[] levels = new double[2 * l + 1];
        for (int k = -l; k <= l; k++) levels[k + l] = (double) k / l;
        return codebook(levels, blockSize);
    }

    /// NF4 (QLoRA, arXiv 2305.14314, §3 and Appendix E): the 16 levels of the 4-bit NormalFloat
    /// codebook, normal quantiles normalized to [−1, 1] with an exact zero, as bitsandbytes tabulates them.
    static Quantizer nf4(int blockSize) {
        return codebook(Codebook.NF4, blockSize);
    }

    /// Block-wise absmax quantization onto `levels` (ascending, within [−1, 1]).
    static Quantizer codebook(double[] levels, int blockSize) {
        if (blockSize < 1) throw new IllegalArgumentException("quantizer: blockSize must be >= 1, got " + blockSize);
        double[] lv = levels.clone();
        return w -> Codebook.apply(w, lv, blockSize);
    }
}
