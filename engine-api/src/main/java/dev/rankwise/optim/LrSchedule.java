package dev.rankwise.optim;

/// Learning-rate schedule as a multiplier of each group's initial rate ([ParamGroup#initialLr]):
/// linear warmup over `warmup` steps, then linear or cosine decay to `floor` (a fraction of the
/// initial rate) at `total` steps, and `floor` after.
///
/// Steps count from 0 and step 0 already trains: warmup gives (step + 1)/warmup, reaching 1 at step
/// warmup − 1. (Hugging Face's `get_linear_schedule_with_warmup` gives step/warmup, so its first step
/// has lr 0; otherwise the curves agree.)
public final class LrSchedule {
    public enum Decay { CONSTANT, LINEAR, COSINE }

    private final int warmup, total;
    private final Decay decay;
    private final double floor;

    public LrSchedule(int warmup, int total, Decay decay, double floor) {
        if (!(floor >= 0 && floor <= 1)) throw new IllegalArgumentException("lr schedule: floor must be in [0, 1], got " + floor);
        if (warmup < 0 || total < warmup) {
            throw new IllegalArgumentException("lr schedule: need 0 <= warmup <= total, got warmup " + warmup + " and total " + total);
        }
        this.warmup = warmup;
        this.total = total;
        this.decay = decay;
        this.floor = floor;
    }

    /// The same; the optimizer is not needed (kept for callers that pass it).
    public LrSchedule(Optimizer optimizer, int warmup, int total, Decay decay, double floor) {
        this(warmup, total, decay, floor);
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
        for (ParamGroup g : optimizer.groups()) g.setLr(g.initialLr() * f);
    }
}
