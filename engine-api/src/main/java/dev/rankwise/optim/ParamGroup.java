package dev.rankwise.optim;

import dev.rankwise.Tensor;

import java.util.List;

/// Parameters that share a learning rate and weight decay. `lr` is mutable so schedules can set it;
/// `initialLr` keeps the rate the group was made with, which every schedule scales.
public final class ParamGroup {
    private final String name;
    private final List<Tensor> params;
    private final double initialLr;
    private double lr;
    private final double weightDecay;

    public ParamGroup(String name, List<Tensor> params, double lr, double weightDecay) {
        if (!(lr >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("param group '" + name + "': lr and weight decay must be >= 0, got " + lr + " and " + weightDecay);
        }
        this.name = name;
        this.params = List.copyOf(params);
        this.initialLr = lr;
        this.lr = lr;
        this.weightDecay = weightDecay;
    }

    public ParamGroup(List<Tensor> params, double lr) {
        this("default", params, lr, 0);
    }

    public String name() { return name; }
    public List<Tensor> params() { return params; }
    public double lr() { return lr; }
    public double initialLr() { return initialLr; }
    public void setLr(double lr) { this.lr = lr; }
    public double weightDecay() { return weightDecay; }
}
