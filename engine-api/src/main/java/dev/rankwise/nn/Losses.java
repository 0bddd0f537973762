package dev.rankwise.nn;

import dev.rankwise.DType;
import dev.rankwise.Tensor;

/// Loss functions, composed from primitives.
public final class Losses {
    private Losses() {}

    public enum Reduction { MEAN, SUM }

    /// Cross-entropy of logits [N, C] against I32 class indices [N]: −log softmax(logits)[label].
    public static Tensor crossEntropy(Tensor logits, Tensor labels, Reduction reduction) {
        if (logits.rank() != 2 || labels.rank() != 1 || labels.size(0) != logits.size(0)) {
            throw new IllegalArgumentException("crossEntropy: logits " + java.util.Arrays.toString(logits.shape())
                    + " and labels " + java.util.Arrays.toString(labels.shape()) + " must be [N, C] and [N]");
        }
        if (labels.dtype() != DType.I32) throw new IllegalArgumentException("crossEntropy: labels must be I32, got " + labels.dtype());
        Tensor nll = logits.logSoftmax(1).gather(1, labels.reshape(-1, 1)).neg();
        return reduction == Reduction.MEAN ? nll.mean() : nll.sum();
    }

    /// Mean (or summed) squared error; shapes must match exactly (no silent broadcasting).
    public static Tensor mse(Tensor pred, Tensor target, Reduction reduction) {
        if (!java.util.Arrays.equals(pred.shape(), target.shape())) {
            throw new IllegalArgumentException("mse: prediction " + java.util.Arrays.toString(pred.shape())
                    + " and target " + java.util.Arrays.toString(target.shape()) + " differ");
        }
        Tensor sq = pred.sub(target).square();
        return reduction == Reduction.MEAN ? sq.mean() : sq.sum();
    }
}
