package dev.rankwise.optim;

import java.util.ArrayList;
import java.util.List;

/// Learning-rate schedule as a multiplier of each group's base rate: linear warmup from 0 over
/// `warmup` steps, then linear or cosine decay to `floor` at `total` steps.
public final class LrSchedule {
    public enum Decay { CONSTANT, LINEAR, COSINE }

    private final int warmup, total;
    private final Decay decay;
    private final double floor;
    private final List<Double> base = new ArrayList<>();

    public LrSchedule(Optimizer optimizer, int warmup, int total, Decay decay, double floor) {
        if (warmup < 0 || total < warmup) throw new IllegalArgumentException("lr schedule: need 0 <= warmup <= total");
        this.warmup = warmup;
        this.total = total;
        this.decay = decay;
        this.floor = floor;
        for (ParamGroup g : optimizer.groups()) base.add(g.lr());
    }

    /// The multiplier at `step` (0-based).
    public double factor(int step) {
        if (step < warmup) return (step + 1.0) / warmup;
        if (decay == Decay.CONSTANT || total == warmup) return 1;
        double t = Math.min(1, (double) (step - warmup) / (total - warmup));
        double f = decay == Decay.LINEAR ? 1 - t : 0.5 * (1 + Math.cos(Math.PI * t));
        return floor + (1 - floor) * f;
    }

    /// Sets every group's lr for `step`.
    public void apply(Optimizer optimizer, int step) {
        double f = factor(step);
        List<ParamGroup> groups = optimizer.groups();
        for (int i = 0; i < groups.size(); i++) groups.get(i).setLr(base.get(i) * f);
    }
}
