package dev.rankwise;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/// Checks autograd against F64 central finite differences.
public final class GradCheck {
    private GradCheck() {}

    /// For a function of F64 inputs that returns any tensor, compares d(Σ w⊙f)/d input (with fixed
    /// random weights w, so every output element matters) from backward with central differences.
    /// Tolerance: |analytic − numeric| ≤ atol + rtol·|numeric| with step h = 1e-6; truncation error
    /// is O(h²) ≈ 1e-12 and rounding O(ε/h) ≈ 1e-10, so 1e-6 leaves a wide margin.
    public static void check(Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        check(f, 1e-6, 1e-5, inputs);
    }

    public static void check(Function<List<Tensor>, Tensor> f, double atol, double rtol, Tensor... inputs) {
        List<Tensor> leaves = new java.util.ArrayList<>();
        for (Tensor t : inputs) leaves.add(t.detach().to(DType.F64).contiguous().copy().detach().requiresGrad(true));
        Tensor out = f.apply(leaves);
        double[] w = new double[(int) out.numel()];
        java.util.Random rnd = new java.util.Random(7);
        for (int i = 0; i < w.length; i++) w[i] = 0.5 + rnd.nextDouble();
        Tensor wt = Tensor.fromArray(w, out.shape()).to(out.device());
        out.mul(wt).sum().backward();
        for (int k = 0; k < leaves.size(); k++) {
            Tensor leaf = leaves.get(k);
            double[] x = leaf.toDoubleArray();
            double[] analytic = leaf.grad() == null ? new double[x.length] : leaf.grad().toDoubleArray();
            for (int i = 0; i < x.length; i++) {
                double h = 1e-6 * Math.max(1, Math.abs(x[i]));
                double plus = eval(f, leaves, k, x, i, x[i] + h, wt);
                double minus = eval(f, leaves, k, x, i, x[i] - h, wt);
                double numeric = (plus - minus) / (2 * h);
                assertEquals(numeric, analytic[i], atol + rtol * Math.abs(numeric),
                        "gradient of input " + k + " at flat index " + i);
            }
        }
    }

    private static double eval(Function<List<Tensor>, Tensor> f, List<Tensor> leaves, int k, double[] x, int i, double v, Tensor w) {
        double[] y = x.clone();
        y[i] = v;
        List<Tensor> args = new java.util.ArrayList<>();
        for (int j = 0; j < leaves.size(); j++) {
            args.add(j == k ? Tensor.fromArray(y, leaves.get(j).shape()).to(leaves.get(j).device()) : leaves.get(j).detach());
        }
        try (var ignored = dev.rankwise.autograd.GradMode.noGrad()) {
            return f.apply(args).mul(w).sum().item();
        }
    }
}
