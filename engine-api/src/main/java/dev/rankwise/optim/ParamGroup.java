package dev.rankwise.optim;

import dev.rankwise.Tensor;

import java.util.List;

/// Parameters that share a learning rate and weight decay. `lr` is mutable so schedules can set it.
public final class ParamGroup {
    private final String name;
    private final List<Tensor> params;
    private double lr;
    private final double weightDecay;

    public ParamGroup(String name, List<Tensor> params, double lr, double weightDecay) {
        this.name = name;
        this.params = List.copyOf(params);
        this.lr = lr;
        this.weightDecay = weightDecay;
    }

    public ParamGroup(List<Tensor> params, double lr) {
        this("default", params, lr, 0);
    }

    public String name() { return name; }
    public List<Tensor> params() { return params; }
    public double lr() { return lr; }
    public void setLr(double lr) { this.lr = lr; }
    public double weightDecay() { return weightDecay; }
}
