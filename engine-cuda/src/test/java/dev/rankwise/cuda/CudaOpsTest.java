package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.ops.UnaryOp;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// Each primitive on the GPU against the CPU backend on the same inputs (the CPU's F64 path is the
/// reference), across layouts the kernels must handle: contiguous, transposed, narrowed, broadcast.
/// Tolerances: F64 results within 1e-13 relative (CUDA's F64 transcendentals are within 2 ulps);
/// F32 within 2e-6 relative to the value's scale (both backends compute F32 elementwise ops in F64
/// and round once, so they differ by at most an F32 ulp); exact ops (copies, comparisons, max/min,
/// gathers, Philox) exactly. Where the result cancels, the bound is scaled by what cancels: a unary
/// op's argument (GELU's 1 + tanh(z): one ulp of tanh is an error of about |x|·2⁻⁵³), a sum's Σ|x|,
/// a product's Σ|a||b| (the two backends add in different orders; each sum of n terms is within
/// n·u·Σ|x| of the exact one).
class CudaOpsTest {
    static final Device GPU = Gpu.DEVICE;

    @BeforeEach
    void gpu() {
        Gpu.assume();
    }

    private static Tensor rnd(long seed, DType dt, int... shape) {
        return Tensor.randn(new Generator(seed), dt, shape);
    }

    private static void close(Tensor want, Tensor got, double rel, String what) {
        assertEquals(Device.cpu(), want.device());
        assertEquals(GPU, got.device(), what + " ran on the GPU");
        assertArrayEquals(want.shape(), got.shape(), what);
        double[] w = want.toDoubleArray(), g = got.to(Device.cpu()).toDoubleArray();
        double scale = 1;
        for (double v : w) if (Double.isFinite(v)) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < w.length; i++) {
            if (Double.isNaN(w[i])) {
                assertTrue(Double.isNaN(g[i]), what + " element " + i + ": want NaN, got " + g[i]);
                continue;
            }
            assertEquals(w[i], g[i], rel * Math.max(Math.abs(w[i]), 1e-3 * scale) + 1e-300, what + " element " + i);
        }
    }

    /// Runs `f` on CPU inputs and on their GPU copies and compares.
    private static void same(String what, double rel, Function<List<Tensor>, Tensor> f, Tensor... in) {
        List<Tensor> cpu = List.of(in), gpu = cpu.stream().map(t -> t.to(GPU)).toList();
        close(f.apply(cpu), f.apply(gpu), rel, what);
    }

    /// As [#same], each element within `rel` times the same element of `bound` (a CPU tensor of
    /// the result's shape: what the result's rounding error scales with where it cancels).
    private static void sameWithin(String what, double rel, Tensor bound, Function<List<Tensor>, Tensor> f, Tensor... in) {
        List<Tensor> cpu = List.of(in), gpu = cpu.stream().map(t -> t.to(GPU)).toList();
        Tensor want = f.apply(cpu), got = f.apply(gpu);
        assertEquals(GPU, got.device(), what + " ran on the GPU");
        assertArrayEquals(want.shape(), got.shape(), what);
        double[] w = want.toDoubleArray(), g = got.to(Device.cpu()).toDoubleArray(), b = bound.to(DType.F64).toDoubleArray();
        for (int i = 0; i < w.length; i++) assertEquals(w[i], g[i], rel * b[i] + 1e-300, what + " element " + i);
    }

    @Test
    void philoxFillsAreTheCpusNumbersBitForBit() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            for (int n : new int[] {1, 3, 4, 5, 1001, 65_537}) {
                Generator a = new Generator(11 + n), b = new Generator(11 + n);
                Tensor cpuN = Tensor.randn(a, dt, n), gpuN = Tensor.randn(b, dt, GPU, n);
                Tensor cpuU = Tensor.rand(a, dt, n), gpuU = Tensor.rand(b, dt, GPU, n);
                assertArrayEquals(cpuN.toDoubleArray(), gpuN.toDoubleArray(), dt + " normal, n = " + n);
                assertArrayEquals(cpuU.toDoubleArray(), gpuU.toDoubleArray(), dt + " uniform, n = " + n);
            }
        }
    }

    @Test
    void unaryOpsMatchTheCpu() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            double rel = dt == DType.F64 ? 1e-13 : 2e-6;
            Tensor x = rnd(1, dt, 37, 29).mul(3.0), p = x.abs().add(0.1);
            for (UnaryOp op : UnaryOp.values()) {
                boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT;
                Tensor in = positive ? p : x;
                List<Function<Tensor, Tensor>> views = List.of(t -> t.narrow(0, 3, 20), t -> t, Tensor::t);
                String[] names = {"narrowed", "plain", "transposed"};
                for (int v = 0; v < views.size(); v++) {
                    Function<Tensor, Tensor> view = views.get(v);
                    Tensor arg = view.apply(in), want = unary(op, arg);
                    // The error of |f(x)| or, where f cancels, of |x| (GELU), floored at 1e-3 of the largest value.
                    Tensor bound = want.abs().maximum(arg.abs()).maximum(Tensor.scalar(1e-3 * Math.max(1, want.abs().max().item()), dt));
                    sameWithin(op + " " + dt + " " + names[v], rel, bound, t -> unary(op, view.apply(t.get(0))), in);
                }
            }
            Tensor special = Tensor.fromArray(new double[] {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -2, 2}, 7).to(dt);
            same("sign/relu/abs specials " + dt, 0, t -> t.get(0).sign().add(t.get(0).relu()).add(t.get(0).abs()), special);
        }
    }

    private static Tensor unary(UnaryOp op, Tensor t) {
        return switch (op) {
            case NEG -> t.neg();
            case EXP -> t.exp();
            case LOG -> t.log();
            case SQRT -> t.sqrt();
            case RSQRT -> t.rsqrt();
            case ABS -> t.abs();
            case SIGN -> t.sign();
            case RELU -> t.relu();
            case SIGMOID -> t.sigmoid();
            case TANH -> t.tanh();
            case GELU_TANH -> t.gelu();
            case GELU_ERF -> t.geluExact();
            case SILU -> t.silu();
            case ERF -> t.erf();
        };
    }

    @Test
    void binaryOpsWithBroadcastingAndViews() {
        List<BiFunction<Tensor, Tensor, Tensor>> ops = List.of(Tensor::add, Tensor::sub, Tensor::mul, Tensor::div, Tensor::maximum,
                Tensor::minimum, Tensor::gt, Tensor::ge, Tensor::lt, Tensor::le, Tensor::eq, (a, b) -> a.abs().add(0.5).pow(b));
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            double rel = dt == DType.F64 ? 1e-13 : 2e-6;
            Tensor a = rnd(2, dt, 4, 5, 6), b = rnd(3, dt, 5, 1), c = rnd(4, dt, 6, 5);
            for (int i = 0; i < ops.size(); i++) {
                var op = ops.get(i);
                same("binary " + i + " " + dt, rel, t -> op.apply(t.get(0), t.get(1)), a, b);
                same("binary " + i + " " + dt + " transposed", rel, t -> op.apply(t.get(0), t.get(1).t()), a, c);
            }
            Tensor nanA = Tensor.fromArray(new double[] {Double.NaN, 1, 2}, 3).to(dt), nanB = Tensor.fromArray(new double[] {3, Double.NaN, 0}, 3).to(dt);
            same("max/min propagate NaN " + dt, 0, t -> t.get(0).maximum(t.get(1)).add(t.get(0).minimum(t.get(1))), nanA, nanB);
            same("pow corner cases " + dt, rel, t -> t.get(0).pow(t.get(1)),
                    Tensor.fromArray(new double[] {1, -1, 1, 2, 0}, 5).to(dt), Tensor.fromArray(new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.5, 0}, 5).to(dt));
            Tensor cond = rnd(5, dt, 4, 1, 6).gt(0.0);
            same("where " + dt, 0, t -> Tensor.where(t.get(0), t.get(1), t.get(2)), cond, a, b.t().expand(6, 5).t().expand(4, 5, 6).contiguous());
        }
    }

    @Test
    void reductionsOverEveryDimSet() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            double rel = dt == DType.F64 ? 1e-12 : 1e-5;
            Tensor x = rnd(6, dt, 7, 300, 5);
            for (int[] dims : new int[][] {{0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}}) {
                sameWithin("sum " + java.util.Arrays.toString(dims), rel, x.abs().sum(dims, true), t -> t.get(0).sum(dims, true), x);
                sameWithin("sum transposed " + java.util.Arrays.toString(dims), rel, x.transpose(0, 2).abs().sum(dims, false),
                        t -> t.get(0).transpose(0, 2).sum(dims, false), x);
            }
            for (int d = 0; d < 3; d++) {
                int dim = d;
                same("amax " + d, 0, t -> t.get(0).amax(dim, false), x);
                same("amin " + d, 0, t -> t.get(0).amin(dim, true), x);
                same("argmax " + d, 0, t -> t.get(0).argmax(dim, false).to(DType.F64), x);
                same("argmin " + d, 0, t -> t.get(0).argmin(dim, false).to(DType.F64), x);
            }
            Tensor ties = Tensor.fromArray(new double[] {1, 3, 3, 0, Double.NaN, 2, 5, Double.NaN, Double.NaN}, 3, 3).to(dt);
            same("argmax: first maximum, NaN wins " + dt, 0, t -> t.get(0).argmax(1, false).to(DType.F64), ties);
            same("max propagates NaN " + dt, 0, t -> t.get(0).amax(1, false), ties);
            same("softmax rows " + dt, rel, t -> t.get(0).softmax(2), x);
            same("log-softmax rows " + dt, rel, t -> t.get(0).logSoftmax(2), x);
            same("softmax middle dim " + dt, rel, t -> t.get(0).softmax(1), x);
        }
    }

    /// Products within 2·k·u·Σ|a||b| (u = 2⁻²⁴ for F32, 2⁻⁵³ for F64; k ≤ 129 here): each backend's
    /// sum of k products is within k·u·Σ|a||b| of the exact one, whatever its order.
    @Test
    void matmulThroughCublas() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            double rel = dt == DType.F64 ? 1e-13 : 2e-5;
            List<BiFunction<Tensor, Tensor, Tensor>> products = List.of(Tensor::matmul, (a, b) -> a.t().matmul(b.t()), Tensor::matmul,
                    (a, b) -> a.narrow(1, 1, 8).matmul(b));
            Tensor[][] operands = {{rnd(7, dt, 65, 129), rnd(8, dt, 129, 33)}, {rnd(9, dt, 129, 65), rnd(10, dt, 33, 129)},
                    {rnd(11, dt, 2, 1, 7, 9), rnd(12, dt, 3, 9, 4)}, {rnd(13, dt, 6, 10), rnd(14, dt, 8, 5)}};
            String[] names = {"matmul", "matmul transposed", "batched broadcast", "strided operand"};
            for (int i = 0; i < products.size(); i++) {
                var product = products.get(i);
                Tensor bound = product.apply(operands[i][0].abs(), operands[i][1].abs());
                sameWithin(names[i] + " " + dt, rel, bound, t -> product.apply(t.get(0), t.get(1)), operands[i]);
            }
            same("k = 0 " + dt, 0, t -> t.get(0).matmul(t.get(1)), Tensor.zeros(dt, 3, 0), Tensor.zeros(dt, 0, 4));
        }
    }

    @Test
    void copiesConversionsGathersAndScatters() {
        Tensor x = rnd(15, DType.F64, 6, 7).mul(1e3);
        same("F64 -> F32 -> F64", 0, t -> t.get(0).to(DType.F32).to(DType.F64), x);
        same("F64 -> I32 (truncation)", 0, t -> t.get(0).t().to(DType.I32).to(DType.F64), x);
        same("NaN and overflow to I32", 0, t -> t.get(0).to(DType.I32).to(DType.F64),
                Tensor.fromArray(new double[] {Double.NaN, 1e12, -1e12, -2.7}, 4));
        same("strided copy", 0, t -> t.get(0).permute(1, 0).contiguous(), x);
        same("concat", 0, t -> Tensor.concat(List.of(t.get(0), t.get(0).narrow(1, 2, 3)), 1), x);
        Tensor idx = Tensor.fromArray(new int[] {0, 6, 2, 2, 1, 0, 5, 5, 3, 4, 6, 6}, 6, 2);
        same("gather F64", 0, t -> t.get(0).gather(1, t.get(1)), x, idx);
        same("gather F32", 0, t -> t.get(0).to(DType.F32).gather(1, t.get(1)), x, idx);
        same("gather I32", 0, t -> t.get(1).to(DType.F64).to(DType.I32).gather(0, t.get(1).narrow(0, 0, 3)).to(DType.F64), x, idx);
        same("scatterAdd with repeats", 1e-12, t -> t.get(0).scatterAdd(1, t.get(1), t.get(0).narrow(1, 0, 2)), x, idx);
        same("indexSelect", 0, t -> t.get(0).indexSelect(0, t.get(1).narrow(1, 0, 1).reshape(6)), x, idx);
    }

    @Test
    void mixingDevicesIsAClearError() {
        Tensor cpu = rnd(16, DType.F32, 3), gpu = rnd(17, DType.F32, 3).to(GPU);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.add(gpu));
        assertTrue(e.getMessage().contains("different devices") && e.getMessage().contains("cuda:0") && e.getMessage().contains("cpu"), e.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> cpu.to(Device.cuda(64)));
        assertTrue(missing.getMessage().contains("cuda:64 does not exist"), missing.getMessage());
    }
}
