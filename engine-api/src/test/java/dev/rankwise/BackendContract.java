package dev.rankwise;

import dev.rankwise.autograd.Anomaly;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/// The contract every backend honours, run by each backend's tests with its device (the CPU's here; a
/// GPU backend's suite subclasses this and skips without a device).
///
/// Every op of [OpCatalog] against F64 central differences ([GradCheck]) on random shapes with
/// broadcasting, size-1 and empty dims, each input contiguous, permuted, narrowed and expanded; every
/// op in F32 against the F64 path with a stated tolerance; autograd semantics, anomaly mode, bad input
/// and random fills.
public abstract class BackendContract {
    /// The device under test.
    protected abstract Device device();

    protected Tensor on(Tensor t) {
        return t.to(device());
    }

    private Tensor rnd(long seed, int... shape) {
        return on(Tensor.randn(new Generator(seed), DType.F64, shape));
    }

    /// Positive values in [0.5, 2.5), for log, sqrt, pow, div.
    private Tensor pos(long seed, int... shape) {
        return on(Tensor.rand(new Generator(seed), DType.F64, shape).mul(2).add(0.5));
    }

    // ---------------------------------------------------------------- the op catalog

    /// How a differentiable input is laid out in memory: the op sees the same logical shape, but the
    /// leaf is permuted (strides reversed), narrowed out of a wider tensor, or has a size-1 dim expanded
    /// with stride 0. The gradient must come back to the leaf through the view.
    enum Layout { CONTIGUOUS, PERMUTED, NARROWED, EXPANDED }

    private record Laid(Tensor leaf, UnaryOperator<Tensor> view) {}

    private Laid lay(OpCatalog.Input in, Layout layout, Random r, DType dt) {
        int[] s = in.shape();
        int rank = s.length;
        int[] leafShape = s.clone();
        UnaryOperator<Tensor> view = t -> t;
        switch (layout) {
            case PERMUTED -> {
                if (rank >= 2) {
                    int[] rev = new int[rank];
                    for (int i = 0; i < rank; i++) {
                        rev[i] = rank - 1 - i;
                        leafShape[i] = s[rank - 1 - i];
                    }
                    view = t -> t.permute(rev);
                }
            }
            case NARROWED -> {
                if (rank >= 1) {
                    leafShape[rank - 1] += 2;
                    view = t -> t.narrow(-1, 1, s[rank - 1]);
                }
            }
            case EXPANDED -> {
                for (int d = 0; d < rank; d++) {
                    if (s[d] > 1) {
                        leafShape[d] = 1;
                        view = t -> t.expand(s);
                        break;
                    }
                }
            }
            default -> { }
        }
        return new Laid(on(values(in.domain(), r.nextLong(), leafShape).to(dt)), view);
    }

    private static Tensor values(OpCatalog.Domain d, long seed, int[] shape) {
        Generator g = new Generator(seed);
        return switch (d) {
            case ANY -> Tensor.randn(g, DType.F64, shape);
            case POSITIVE -> Tensor.rand(g, DType.F64, shape).mul(2).add(0.5);
            case AWAY_FROM_ZERO -> {
                Tensor x = Tensor.randn(g, DType.F64, shape);
                yield x.add(x.sign().mul(0.2));
            }
        };
    }

    /// The function of the leaves: each leaf through its layout's view, then the op.
    private static Function<List<Tensor>, Tensor> throughViews(OpCatalog.Trial trial, List<Laid> laid) {
        return leaves -> {
            List<Tensor> args = new ArrayList<>();
            for (int i = 0; i < leaves.size(); i++) args.add(laid.get(i).view().apply(leaves.get(i)));
            return trial.f().apply(args);
        };
    }

    private static final int TRIALS = 4;

    private static Stream<DynamicTest> perCase(CaseCheck check) {
        List<OpCatalog.Case> cases = OpCatalog.cases();
        return IntStream.range(0, cases.size()).mapToObj(ci -> DynamicTest.dynamicTest(ci + " " + cases.get(ci).name(), () -> {
            for (int seed = 0; seed < TRIALS; seed++) check.run(cases.get(ci), new Random(1000L * ci + seed), seed);
        }));
    }

    private interface CaseCheck {
        void run(OpCatalog.Case c, Random r, int seed);
    }

    /// Every op of the catalog against F64 central differences ([GradCheck]): random shapes (with
    /// broadcasting, size-1 and empty dims), every input in every layout.
    @TestFactory
    Stream<DynamicTest> gradientOfEveryOp() {
        return perCase((c, r, seed) -> {
            OpCatalog.Trial trial = c.make().apply(r);
            for (Layout layout : Layout.values()) {
                List<Laid> laid = trial.inputs().stream().map(in -> lay(in, layout, r, DType.F64)).toList();
                try {
                    GradCheck.check(throughViews(trial, laid), laid.stream().map(Laid::leaf).toArray(Tensor[]::new));
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError(trial.what() + ", " + layout + " (seed " + seed + "): " + e.getMessage(), e);
                }
            }
        });
    }

    /// Every op in F32 against the F64 path on the same (F32-representable) inputs. Tolerance:
    /// |f32 − f64| ≤ (4 + 2·terms)·2⁻²³·(1 + max|f64|): a few ulps for an elementwise op (the vector
    /// transcendental functions are within 4 ulps) plus one rounding per summed term for reductions,
    /// matmul and the composites built on them (terms = the summed extent).
    @TestFactory
    Stream<DynamicTest> f32AgreesWithF64ForEveryOp() {
        return perCase((c, r, seed) -> {
            OpCatalog.Trial trial = c.make().apply(r);
            Layout layout = Layout.values()[seed % Layout.values().length];
            List<Laid> laid = trial.inputs().stream().map(in -> lay(in, layout, r, DType.F32)).toList();
            Function<List<Tensor>, Tensor> f = throughViews(trial, laid);
            List<Tensor> in32 = laid.stream().map(Laid::leaf).toList();
            Tensor got = f.apply(in32), ref = f.apply(in32.stream().map(t -> t.to(DType.F64)).toList());
            String what = trial.what() + ", " + layout + " (seed " + seed + ")";
            assertEquals(DType.F32, got.dtype(), what);
            assertArrayEquals(ref.shape(), got.shape(), what);
            double[] g = got.toDoubleArray(), e = ref.toDoubleArray();
            double scale = 1;
            for (double v : e) if (Double.isFinite(v)) scale = Math.max(scale, 1 + Math.abs(v));
            double tol = (4 + 2.0 * trial.terms()) * 0x1p-23 * scale;
            for (int i = 0; i < e.length; i++) {
                if (Double.isNaN(e[i])) assertTrue(Double.isNaN(g[i]), what + ": element " + i + " should be NaN");
                else assertEquals(e[i], g[i], tol, what + ": element " + i);
            }
        });
    }

    /// Public `Tensor` methods that are not differentiable ops, or are checked elsewhere, with why.
    private static final Map<String, String> NOT_IN_CATALOG = Map.ofEntries(
            Map.entry("zeros", "creation"), Map.entry("ones", "creation"), Map.entry("full", "creation"),
            Map.entry("scalar", "creation"), Map.entry("arange", "creation"), Map.entry("eye", "creation"),
            Map.entry("fromArray", "creation"), Map.entry("uniform", "creation"), Map.entry("rand", "creation"),
            Map.entry("normal", "creation"), Map.entry("randn", "creation"),
            Map.entry("grad", "autograd state"), Map.entry("requiresGrad", "autograd state"),
            Map.entry("retainGrad", "autograd state"), Map.entry("detach", "autograd state"),
            Map.entry("to", "dtype conversion: dtypeConversionPassesTheGradientBack"),
            Map.entry("gt", "comparison, no gradient: ViewPropertiesTest's broadcasting property"), Map.entry("ge", "comparison"),
            Map.entry("lt", "comparison"), Map.entry("le", "comparison"), Map.entry("eq", "comparison"),
            Map.entry("argmax", "integer result"), Map.entry("argmin", "integer result"),
            Map.entry("addInPlace", "in place, outside the graph: optimizer tests"), Map.entry("subInPlace", "in place"),
            Map.entry("mulInPlace", "in place"), Map.entry("copyFrom", "in place"), Map.entry("fill", "in place"),
            Map.entry("zero", "in place"));

    /// A public op added to `Tensor` without a catalog case (or a stated reason) fails here.
    @Test
    void everyTensorOpHasACase() {
        Set<String> covered = new HashSet<>();
        for (OpCatalog.Case c : OpCatalog.cases()) covered.add(c.name());
        Set<String> missing = new TreeSet<>();
        for (Method m : Tensor.class.getDeclaredMethods()) {
            Class<?> rt = m.getReturnType();
            boolean op = rt == Tensor.class || rt == Tensor.ValuesIndices.class || rt == List.class;
            if (Modifier.isPublic(m.getModifiers()) && op && !covered.contains(m.getName()) && !NOT_IN_CATALOG.containsKey(m.getName())) {
                missing.add(m.getName());
            }
        }
        assertTrue(missing.isEmpty(), "ops without a gradient-check case: " + missing);
    }

    @Test
    void dtypeConversionPassesTheGradientBack() {
        Tensor x = rnd(38, 2, 3).requiresGrad(true);
        x.to(DType.F32).mul(2.0).sum().backward();
        assertEquals(DType.F64, x.grad().dtype());
        assertArrayEquals(new double[] {2, 2, 2, 2, 2, 2}, x.grad().toDoubleArray());
    }

    /// Empty tensors flow through ops and backward with correctly shaped (empty) gradients; a product
    /// over an empty k is zeros; reducing a dim of size 1 changes nothing (it once summed whole rows).
    @Test
    void emptyAndSizeOneEdges() {
        Tensor col = on(Tensor.fromArray(new double[] {1, -2, 3}, 3, 1));
        assertArrayEquals(new double[] {1, -2, 3}, col.sum(1, false).toDoubleArray());
        assertArrayEquals(new double[] {1, -2, 3}, col.amax(-1, true).toDoubleArray());
        assertArrayEquals(new double[] {1, -2, 3}, col.narrow(0, 0, 3).unsqueeze(0).sum(new int[] {0, 2}, false).toDoubleArray());
        assertArrayEquals(new double[] {2}, col.sum(new int[] {0, 1}, false).toDoubleArray());
        Tensor empty = on(Tensor.zeros(DType.F64, 0, 3)).requiresGrad(true);
        Tensor s = empty.exp().sum();
        assertEquals(0.0, s.item());
        s.backward();
        assertArrayEquals(new int[] {0, 3}, empty.grad().shape());
        assertEquals(0, on(Tensor.zeros(DType.F64, 2, 0)).matmul(on(Tensor.zeros(DType.F64, 0, 3))).abs().max().item());
        assertArrayEquals(new int[] {0, 4}, on(Tensor.zeros(DType.F64, 0, 3)).matmul(on(Tensor.zeros(DType.F64, 3, 4))).shape());
    }

    /// Large tensors exercise the parallel and vector paths; small strided ones the scalar path. Both
    /// dtypes, every layout, against the F64 scalar definition.
    @Test
    void kernelPathsAgree() {
        Tensor big = rnd(36, 300, 400);
        Tensor bigT = big.t();                         // strided
        Tensor row = rnd(37, 400);                     // broadcast along rows
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Tensor b = big.to(dt), bt = bigT.to(dt).t(), r = row.to(dt);
            assertEquals(0, b.add(r).sub(bt.add(r)).abs().max().item(), 1e-6);
            assertEquals(0, b.mul(2.0).sub(b.add(b)).abs().max().item(), 1e-6);
            assertEquals(0, b.exp().sub(bt.exp()).abs().max().item(), 1e-4);
            Tensor sum0 = b.sum(0, false), sum0t = bt.contiguous().sum(0, false);
            assertEquals(0, sum0.sub(sum0t).abs().max().item(), 1e-3);
            Tensor sum1 = b.sum(1, false).to(DType.F64), ref = big.sum(1, false);
            assertEquals(0, sum1.sub(ref).abs().max().item(), dt == DType.F32 ? 1e-3 : 1e-10);
        }
        int[] am = on(Tensor.fromArray(new double[] {1, 3, 3, 0, Double.NaN, 2}, 2, 3)).argmax(1, false).toIntArray();
        assertArrayEquals(new int[] {1, 1}, am, "first maximum; NaN wins");
    }

    @Test
    void autogradSemantics() {
        Tensor w = on(Tensor.fromArray(new double[] {1, 2, 3}, 3)).requiresGrad(true);
        w.mul(w).sum().backward();
        w.mul(w).sum().backward();
        assertArrayEquals(new double[] {4, 8, 12}, w.grad().toDoubleArray(), "accumulates over backward calls");
        w.zeroGrad();
        assertNull(w.grad());
        Tensor y = w.mul(w);
        Tensor loss = y.sum();
        loss.backward(on(Tensor.scalar(1, DType.F64)), true);
        loss.backward(on(Tensor.scalar(1, DType.F64)), false);
        assertArrayEquals(new double[] {4, 8, 12}, w.grad().toDoubleArray(), "retain graph allows a second backward");
        IllegalStateException freed = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(freed.getMessage().contains("retainGraph") && freed.getMessage().contains("'sum'"), freed.getMessage());
        w.zeroGrad();
        Tensor mid = w.mul(3.0).retainGrad();
        mid.sum().backward();
        assertArrayEquals(new double[] {1, 1, 1}, mid.grad().toDoubleArray(), "retained gradient of a non-leaf");
        assertArrayEquals(new double[] {3, 3, 3}, w.grad().toDoubleArray());
        try (var ignored = GradMode.noGrad()) {
            assertFalse(w.mul(2.0).requiresGrad());
            try (var inner = GradMode.enableGrad()) {
                assertTrue(w.mul(2.0).requiresGrad());
            }
            assertFalse(w.mul(2.0).requiresGrad(), "scopes nest");
        }
        assertTrue(w.mul(2.0).requiresGrad(), "recording again after the scope");
        // detach: same storage, no gradient through it.
        w.zeroGrad();
        Tensor d = w.detach();
        assertFalse(d.requiresGrad());
        assertSame(w.storage(), d.storage());
        d.mul(w).sum().backward();
        assertArrayEquals(new double[] {1, 2, 3}, w.grad().toDoubleArray(), "only the attached factor gets a gradient");
        // A leaf that is its own output.
        Tensor leaf = on(Tensor.scalar(2, DType.F64)).requiresGrad(true);
        leaf.backward();
        assertEquals(1, leaf.grad().item());
        assertThrows(IllegalStateException.class, () -> w.mul(2.0).requiresGrad(false), "a non-leaf cannot stop requiring grad");
        assertThrows(IllegalArgumentException.class, () -> on(Tensor.fromArray(new int[] {1}, 1)).requiresGrad(true));
        IllegalStateException noGraph = assertThrows(IllegalStateException.class, () -> on(Tensor.ones(DType.F64, 1)).sum().backward());
        assertTrue(noGraph.getMessage().contains("does not require grad"), noGraph.getMessage());
    }

    /// A non-scalar output needs the gradient of the loss with respect to it; without one backward
    /// says so, with the wrong shape it names both shapes.
    @Test
    void backwardOfNonScalarsTakesAnExplicitGradient() {
        Tensor w = on(Tensor.fromArray(new double[] {1, 2, 3}, 3)).requiresGrad(true);
        Tensor y = w.mul(on(Tensor.fromArray(new double[] {4, 5, 6}, 3)));
        IllegalStateException none = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(none.getMessage().contains("[3]") && none.getMessage().contains("upstream gradient"), none.getMessage());
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> y.backward(on(Tensor.ones(DType.F64, 2))));
        assertTrue(wrong.getMessage().contains("[2]") && wrong.getMessage().contains("[3]"), wrong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> y.backward(on(Tensor.fromArray(new int[] {1, 1, 1}, 3))));
        y.backward(on(Tensor.fromArray(new float[] {1, 0, -1}, 3)), false);   // F32 upstream for an F64 graph
        assertEquals(DType.F64, w.grad().dtype());
        assertArrayEquals(new double[] {4, 0, -6}, w.grad().toDoubleArray());
    }

    /// Backward walks the graph iteratively: a chain of 100 000 ops runs on a thread with a 256 KB stack.
    @Test
    void deepGraphsDoNotOverflowTheStack() throws Exception {
        Throwable[] failure = new Throwable[1];
        double[] grad = new double[1];
        Thread t = new Thread(null, () -> {
            try {
                Tensor z = on(Tensor.scalar(1, DType.F64)).requiresGrad(true);
                Tensor acc = z;
                for (int i = 0; i < 100_000; i++) acc = acc.add(z);
                acc.backward();
                grad[0] = z.grad().item();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "small-stack", 256 * 1024);
        t.start();
        t.join();
        assertNull(failure[0], () -> "failed: " + failure[0]);
        assertEquals(100_001, grad[0]);
    }

    /// Anomaly mode names the first op whose output has a NaN or Inf, in the forward (any op,
    /// reductions and conversions included) or in a backward rule.
    @Test
    void anomalyModeNamesTheFirstOffendingOp() {
        Tensor x = on(Tensor.fromArray(new double[] {1, 2}, 2)).requiresGrad(true);
        try (var ignored = Anomaly.detect()) {
            Anomaly.AnomalyException fwd = assertThrows(Anomaly.AnomalyException.class, () -> x.mul(2.0).sub(5.0).sqrt().exp());
            assertEquals("sqrt", fwd.op(), "the first op with a NaN, not a later one");
            assertTrue(fwd.getMessage().contains("sqrt") && fwd.getMessage().contains("[2]"), fwd.getMessage());
            assertEquals("log", assertThrows(Anomaly.AnomalyException.class, () -> x.sub(3.0).log()).op());
            Tensor huge = on(Tensor.full(3e38, DType.F32, 4));
            assertEquals("sum", assertThrows(Anomaly.AnomalyException.class, huge::sum).op());
            assertEquals("matmul", assertThrows(Anomaly.AnomalyException.class, () -> huge.reshape(1, 4).matmul(huge.reshape(4, 1))).op());
            assertEquals("to", assertThrows(Anomaly.AnomalyException.class, () -> on(Tensor.full(1e300, DType.F64, 1)).to(DType.F32)).op());
            Tensor zero = on(Tensor.fromArray(new double[] {0, 1}, 2)).requiresGrad(true);
            Tensor s = zero.sqrt().sum();
            Anomaly.AnomalyException bwd = assertThrows(Anomaly.AnomalyException.class, s::backward);
            assertEquals("sqrt", bwd.op(), "sqrt's backward divides by sqrt(0)");
            assertTrue(bwd.getMessage().contains("backward"), bwd.getMessage());
            try (var nested = Anomaly.detect()) {
                assertThrows(Anomaly.AnomalyException.class, () -> x.sub(3.0).log());
            }
            assertThrows(Anomaly.AnomalyException.class, () -> x.sub(3.0).log(), "the outer scope is still on");
        }
        assertTrue(Double.isNaN(x.sub(3.0).log().toDoubleArray()[0]), "outside anomaly mode NaN just flows");
    }

    /// max/min along a dim give the first extreme's index (I32) with its value; the gradient goes to
    /// that one element, also when others tie.
    @Test
    void maxAndMinWithIndices() {
        Tensor x = on(Tensor.fromArray(new double[] {1, 5, 3, 7, 2, 7}, 2, 3)).requiresGrad(true);
        Tensor.ValuesIndices mx = x.max(1, false), mn = x.min(0, true);
        assertArrayEquals(new double[] {5, 7}, mx.values().toDoubleArray());
        assertArrayEquals(new int[] {1, 0}, mx.indices().toIntArray(), "the first of the tied 7s");
        assertEquals(DType.I32, mx.indices().dtype());
        assertArrayEquals(new int[] {1, 3}, mn.values().shape());
        assertArrayEquals(new double[] {1, 2, 3}, mn.values().toDoubleArray());
        assertArrayEquals(new int[] {0, 1, 0}, mn.indices().toIntArray());
        assertArrayEquals(mx.indices().toIntArray(), x.argmax(1, false).toIntArray());
        assertArrayEquals(mn.indices().toIntArray(), x.argmin(0, true).toIntArray());
        assertArrayEquals(mx.values().toDoubleArray(), x.gather(1, mx.indices().unsqueeze(1)).reshape(-1).toDoubleArray());
        mx.values().sum().backward();
        assertArrayEquals(new double[] {0, 1, 0, 1, 0, 0}, x.grad().toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> on(Tensor.zeros(DType.F64, 2, 0)).max(1, false));
    }

    @Test
    void badInputsNameTheOpAndShapes() {
        Tensor a = rnd(40, 2, 3), b = rnd(41, 4, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertTrue(e.getMessage().startsWith("add") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.matmul(b));
        assertTrue(e.getMessage().startsWith("matmul") && e.getMessage().contains("not aligned"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> on(Tensor.fromArray(new int[] {1}, 1)).exp());
        assertTrue(e.getMessage().contains("I32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.sum(2, false));
        assertThrows(IndexOutOfBoundsException.class, () -> a.narrow(1, 2, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> a.gather(1, on(Tensor.fromArray(new int[] {0, 3}, 2, 1))));
        assertThrows(IllegalArgumentException.class, () -> a.reshape(4, 2));
        assertThrows(IllegalArgumentException.class, () -> a.permute(0, 0));
        Tensor p = rnd(42, 2).requiresGrad(true);
        IllegalStateException inPlace = assertThrows(IllegalStateException.class, () -> p.addInPlace(rnd(43, 2)));
        assertTrue(inPlace.getMessage().contains("noGrad"), inPlace.getMessage());
    }

    @Test
    void randomFillsAreReproducibleAndWellDistributed() {
        Tensor u = Tensor.rand(new Generator(5), DType.F64, 100_000);
        Tensor u2 = Tensor.rand(new Generator(5), DType.F64, 100_000);
        assertArrayEquals(u.toDoubleArray(), u2.toDoubleArray());
        assertEquals(0.5, u.mean().item(), 0.005);                   // σ/√n ≈ 0.0009
        assertEquals(1.0 / 12, u.var(new int[] {0}, true, false).item(), 0.002);
        Tensor n = Tensor.randn(new Generator(6), DType.F32, 100_000).to(DType.F64);
        assertEquals(0, n.mean().item(), 0.01);
        assertEquals(1, n.var(new int[] {0}, true, false).item(), 0.02);
        Generator g = new Generator(7);
        Tensor first = Tensor.rand(g, DType.F32, 5), second = Tensor.rand(g, DType.F32, 5);
        assertNotEquals(first.toDoubleArray()[0], second.toDoubleArray()[0], "successive fills differ");
        float[] f32 = Tensor.rand(new Generator(8), DType.F32, 9).toFloatArray();
        double[] f64 = Tensor.rand(new Generator(8), DType.F64, 9).toDoubleArray();
        for (int i = 0; i < 9; i++) assertEquals(f32[i], (float) f64[i], "F32 and F64 fills share values");
    }
}
