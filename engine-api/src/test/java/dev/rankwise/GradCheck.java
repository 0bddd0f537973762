package dev.rankwise;

import dev.rankwise.autograd.GradMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/// Checks autograd against F64 central finite differences.
public final class GradCheck {
    private GradCheck() {}

    /// For a function of F64 inputs that returns any tensor, compares d(Σ w⊙f)/d input (with fixed
    /// random weights w, so every output element matters) from backward with central differences.
    ///
    /// Tolerance: |analytic − numeric| ≤ 1e-6 + 1e-5·|numeric|, step h = 1e-6·max(1, |x|). The
    /// truncation error is O(h²·f''') ≈ 1e-12 and the rounding error O(ε·|f|/h) ≈ 1e-10 for the O(1)
    /// functions checked here, so the bound leaves four orders of magnitude for curvature.
    public static void check(Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        check(f, 1e-6, 1e-5, inputs);
    }

    public static void check(Function<List<Tensor>, Tensor> f, double atol, double rtol, Tensor... inputs) {
        List<Tensor> leaves = new ArrayList<>();
        for (Tensor t : inputs) leaves.add(t.detach().to(DType.F64).contiguous().copy().detach().requiresGrad(true));
        Tensor out = f.apply(leaves);
        double[] w = new double[(int) out.numel()];
        java.util.Random rnd = new java.util.Random(7);
        for (int i = 0; i < w.length; i++) w[i] = 0.5 + rnd.nextDouble();
        Tensor wt = Tensor.fromArray(w, out.shape()).to(out.device());
        Tensor loss = out.mul(wt).sum();
        if (loss.requiresGrad()) loss.backward();
        double[] recorded = out.toDoubleArray();
        double[] plain = evalPlain(f, leaves, -1, null, 0, 0).toDoubleArray();
        assertArrayEquals(plain, recorded, "recording the graph must not change the values");
        for (int k = 0; k < leaves.size(); k++) {
            Tensor leaf = leaves.get(k);
            double[] x = leaf.toDoubleArray();
            double[] analytic;
            if (leaf.grad() == null) {
                analytic = new double[x.length];
            } else {
                assertArrayEquals(leaf.shape(), leaf.grad().shape(), "gradient shape of input " + k);
                analytic = leaf.grad().toDoubleArray();
            }
            for (int i = 0; i < x.length; i++) {
                double h = 1e-6 * Math.max(1, Math.abs(x[i]));
                double plus = weighted(f, leaves, k, x, i, x[i] + h, wt);
                double minus = weighted(f, leaves, k, x, i, x[i] - h, wt);
                double numeric = (plus - minus) / (2 * h);
                assertEquals(numeric, analytic[i], atol + rtol * Math.abs(numeric),
                        "gradient of input " + k + " " + Arrays.toString(leaf.shape()) + " at flat index " + i);
            }
        }
    }

    private static double weighted(Function<List<Tensor>, Tensor> f, List<Tensor> leaves, int k, double[] x, int i, double v, Tensor w) {
        Tensor y = evalPlain(f, leaves, k, x, i, v);
        try (var ignored = GradMode.noGrad()) {
            return y.mul(w).sum().item();
        }
    }

    /// f on detached copies of the leaves, with element i of leaf k set to v (k = −1: unchanged).
    private static Tensor evalPlain(Function<List<Tensor>, Tensor> f, List<Tensor> leaves, int k, double[] x, int i, double v) {
        List<Tensor> args = new ArrayList<>();
        for (int j = 0; j < leaves.size(); j++) {
            Tensor leaf = leaves.get(j);
            if (j == k) {
                double[] y = x.clone();
                y[i] = v;
                args.add(Tensor.fromArray(y, leaf.shape()).to(leaf.device()));
            } else {
                args.add(leaf.detach());
            }
        }
        try (var ignored = GradMode.noGrad()) {
            Tensor out = f.apply(args);
            assertNotNull(out);
            return out;
        }
    }
}
