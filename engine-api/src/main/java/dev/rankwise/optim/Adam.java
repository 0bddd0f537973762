package dev.rankwise.optim;

import java.util.List;

/// Adam (Kingma & Ba 2015) with PyTorch's coupled L2 weight decay (g ← g + λθ before the moments).
/// For decoupled decay use [AdamW].
public class Adam extends AdamW {
    public Adam(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        super(groups, beta1, beta2, eps, true);
    }

    public Adam(List<ParamGroup> groups) {
        this(groups, 0.9, 0.999, 1e-8);
    }
}
