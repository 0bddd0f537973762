package dev.rankwise.peft.init;

import dev.rankwise.Tensor;

/// Block-wise absmax rounding onto a codebook, the arithmetic behind [Quantizer].
final class Codebook {
    private Codebook() {}

    /// bitsandbytes' NF4 table (`create_normal_map(offset = 0.9677083)`), also QLoRA's Appendix E.
    static final double[] NF4 = {
            -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
            -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
            0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
            0.7229568362236023, 1.0};

    static Tensor apply(Tensor w, double[] levels, int blockSize) {
        double[] x = w.toDoubleArray();
        double[] out = new double[x.length];
        for (int start = 0; start < x.length; start += blockSize) {
            int end = Math.min(x.length, start + blockSize);
            double absmax = 0;
            for (int i = start; i < end; i++) absmax = Math.max(absmax, Math.abs(x[i]));
            if (absmax == 0) continue;
            for (int i = start; i < end; i++) out[i] = nearest(levels, x[i] / absmax) * absmax;
        }
        return Tensor.fromArray(out, w.shape()).to(w.dtype()).to(w.device());
    }

    /// The level closest to v (ties to the lower level); `levels` ascending.
    static double nearest(double[] levels, double v) {
        int lo = 0, hi = levels.length - 1;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (levels[mid] <= v) lo = mid;
            else hi = mid;
        }
        return Math.abs(v - levels[lo]) <= Math.abs(levels[hi] - v) ? levels[lo] : levels[hi];
    }
}
