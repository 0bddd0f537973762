package dev.rankwise.peft;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.peft.init.FedSvd;
import dev.rankwise.peft.init.GradientInit;
import dev.rankwise.peft.init.Lamda;
import dev.rankwise.peft.init.LqLora;
import dev.rankwise.peft.init.Quantizer;
import dev.rankwise.peft.init.SvdInit;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.rankwise.peft.Models.*;
import static org.junit.jupiter.api.Assertions.*;

/// Every method as an adapter on a model: the model's output at initialization, merged against
/// unmerged outputs, which parts train, and finite-difference gradients through the adapted model.
class InitializedAdapterTest {
    private static final List<String> TARGETS = List.of("q_proj", "out");
    private static final double SCALE = 1.5;

    /// Attaches `method` to both Linear layers of `net` (r = 2, s = 1.5, where the method has a scale).
    static void attach(Module net, Method method) {
        Generator gen = new Generator(77);
        switch (method) {
            case LORA, DORA, SORA -> Peft.attach(net, "m", new LoraConfig(method.kind(), 2, 3, false, 0, LoraConfig.Init.DEFAULT, TARGETS), gen);
            case FEDSVD -> {
                Peft.attach(net, "m", new LoraConfig(LoraConfig.AdapterKind.LORA, 2, 3, false, 0, LoraConfig.Init.DEFAULT, TARGETS), gen);
                FedSvd.freezeA(net, "m");
            }
            case SALT -> SaltLinear.attach(net, TARGETS, 0.5, 1, gen);
            default -> Peft.attach(net, "m", TARGETS, (p, w) -> switch (method) {
                case PISSA -> SvdInit.pissa(w, 2, SCALE, -1, null);
                case MILORA -> SvdInit.milora(w, 2, SCALE);
                case OLORA -> SvdInit.olora(w, 2, SCALE);
                case SVFIT -> SvdInit.svfit(w, 2, SCALE);
                case LOLDU -> SvdInit.loldu(w, 2, SCALE);
                case LAMDA -> Lamda.init(w, 2, SCALE);
                case LORA_GA -> GradientInit.loraGa(w, Tensor.randn(gen.derive(p), w.dtype(), w.shape()), 2, SCALE, 16.0, -1, null);
                case LORA_SB -> GradientInit.loraSb(w, Tensor.randn(gen.derive(p), w.dtype(), w.shape()), 2, SCALE, 0.05);
                case EORA -> SvdInit.eora(w, w.mul(0.9), Tensor.randn(gen.derive(p), w.dtype(), 20, w.size(1)), 2, SCALE);
                case LQ_LORA -> LqLora.decompose(w, 2, Quantizer.identity(), 5).factors(SCALE);
                default -> throw new AssertionError(method);
            });
        }
    }

    /// "Init equals the base output" (PEFT's test, 1e-6 in F64) for every method that promises it:
    /// LoRA-SB starts one step in and EoRA at Ŵ + its correction, by design.
    @ParameterizedTest
    @EnumSource(value = Method.class, mode = EnumSource.Mode.EXCLUDE, names = {"LORA_SB", "EORA"})
    void initialOutputEqualsTheBaseOutput(Method method) {
        Net net = new Net(DType.F64, new Generator(1));
        Tensor x = Tensor.randn(new Generator(2), DType.F64, 9, 6);
        Tensor before = noGrad(() -> net.forward(x));
        attach(net, method);
        assertTrue(maxDiff(noGrad(() -> net.forward(x)), before) < 1e-6, method.id());
        assertTrue(net.trainableCount() > 0);
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void mergedEqualsUnmergedInF32(Method method) {
        Net net = new Net(DType.F32, new Generator(3));
        attach(net, method);
        perturb(net, 4);
        Tensor x = Tensor.randn(new Generator(5), DType.F32, 9, 6);
        Tensor unmerged = noGrad(() -> net.forward(x));
        Peft.mergeAndUnload(net);
        assertInstanceOf(Linear.class, net.module("q_proj"));
        assertInstanceOf(Linear.class, net.module("out"));
        assertTrue(maxDiff(noGrad(() -> net.forward(x)), unmerged) < 1e-4, method.id());
    }

    /// DoRA is checked in [AdapterTest#doraGradientTreatsTheNormAsConstant]: its detached norm makes
    /// autograd differ from finite differences of the full function, by design.
    @ParameterizedTest
    @EnumSource(value = Method.class, mode = EnumSource.Mode.EXCLUDE, names = "DORA")
    void gradientsMatchFiniteDifferences(Method method) {
        Net net = new Net(DType.F64, new Generator(6));
        attach(net, method);
        perturb(net, 7);
        if (method == Method.LAMDA) Lamda.applySchedule(net, "m", 1, 2); // one of two columns of B frozen
        Tensor x = Tensor.randn(new Generator(8), DType.F64, 5, 6);
        gradCheck(net, () -> net.forward(x));
    }

    /// The trainable count is what each paper states, per layer of d_in n, d_out m and rank r = 2.
    @Test
    void trainableCountsPerMethod() {
        int[][] layers = {{6, 5}, {5, 4}}; // {n, m}
        for (Method method : Method.values()) {
            Net net = new Net(DType.F64, new Generator(9));
            attach(net, method);
            long expected = 0;
            for (int[] nm : layers) {
                int n = nm[0], m = nm[1], r = 2, k = Math.min(m, n);
                expected += switch (method) {
                    case SVFIT, LOLDU -> r;                          // σ' or z
                    case LORA_SB -> (long) r * r;                    // R
                    case LAMDA -> (long) m * r + r * r;              // B and S (A frozen)
                    case FEDSVD -> (long) m * r;                     // B only
                    case SORA -> (long) r * (m + n) + r;             // A, B, gate
                    case DORA -> (long) r * (m + n) + m;             // A, B, magnitude
                    case SALT -> {
                        int rs = Math.max(1, (int) Math.floor(k * 0.5)), q = 1;
                        yield 2L * rs + 2L * q * (k - rs);            // α, β, X, Y
                    }
                    default -> (long) r * (m + n);                   // A, B
                };
            }
            assertEquals(expected, net.trainableCount(), method.id());
            if (!Set.of(Method.SALT).contains(method)) {
                for (AdapterLayer l : Peft.adapterLayers(net).values()) {
                    Set<Part> frozen = l.spec("m").frozen();
                    for (var e : l.adapterParts("m").entrySet()) {
                        assertEquals(!frozen.contains(e.getKey()), e.getValue().requiresGrad(), method.id() + " " + e.getKey());
                    }
                }
            }
        }
    }

    /// An initializer on an Embedding sees the table transposed ([d, V], y = W x orientation) and its
    /// residual goes back in the table's layout.
    @Test
    void initializersOnAnEmbedding() {
        for (Method method : new Method[] {Method.PISSA, Method.SVFIT, Method.LOLDU}) {
            TokenNet net = new TokenNet(DType.F64, new Generator(16));
            Tensor ids = ids(0, 6, 3, 3, 5);
            Tensor before = noGrad(() -> net.forward(ids));
            Peft.attach(net, "m", List.of("embed"), (p, w) -> {
                assertArrayEquals(new int[] {6, 7}, w.shape(), "[d, V]");
                return switch (method) {
                    case PISSA -> SvdInit.pissa(w, 3, SCALE, -1, null);
                    case SVFIT -> SvdInit.svfit(w, 3, SCALE);
                    default -> SvdInit.loldu(w, 3, SCALE);
                };
            });
            assertTrue(maxDiff(noGrad(() -> net.forward(ids)), before) < 1e-12, method.id());
            perturb(net, 17);
            Tensor adapted = noGrad(() -> net.forward(ids));
            gradCheck(net, () -> net.forward(ids));
            Peft.mergeAndUnload(net);
            assertTrue(maxDiff(noGrad(() -> net.forward(ids)), adapted) < 1e-12, method.id() + " merged");
        }
    }

    /// SVFit: ∂L/∂σ'_i = s·u_iᵀ G v_i, with G = ∂L/∂W' = (∂L/∂y)ᵀ x for y = x W'ᵀ + b.
    @Test
    void svfitGateGradientIsTheProjectedWeightGradient() {
        Linear lin = new Linear(7, 5, true, new Generator(10), DType.F64);
        Module net = AdapterTest.wrap(lin);
        Peft.attach(net, "m", List.of("l"), (p, w) -> SvdInit.svfit(w, 3, SCALE));
        AdapterLayer l = Peft.adapterLayers(net).get("l");
        Tensor x = Tensor.randn(new Generator(11), DType.F64, 6, 7), dy = Tensor.randn(new Generator(12), DType.F64, 6, 5);
        net.forward(x).mul(dy).sum().backward();
        Tensor g = dy.t().matmul(x);
        Tensor u = l.loraB("m"), vh = l.loraA("m");
        double[] got = l.gate("m").grad().toDoubleArray();
        for (int i = 0; i < 3; i++) {
            double expected = SCALE * u.narrow(1, i, 1).t().matmul(g).matmul(vh.narrow(0, i, 1).t()).item();
            assertEquals(expected, got[i], 1e-12);
        }
        assertNull(l.loraA("m").grad());
        assertNull(l.loraB("m").grad());
    }

    @Test
    void saltStartsAtWAndUnloadsToW() {
        Linear lin = new Linear(7, 5, true, new Generator(13), DType.F64);
        SaltLinear salt = new SaltLinear(lin, 2, 2, new Generator(14));
        assertTrue(maxDiff(noGrad(salt::weight), lin.weight()) < 1e-12, "W' = W at init");
        Tensor x = Tensor.randn(new Generator(15), DType.F64, 4, 7);
        assertTrue(maxDiff(noGrad(() -> salt.forward(x)), noGrad(() -> lin.forward(x))) < 1e-12);
        assertEquals(2 * 2 + 2 * 2 * (5 - 2), salt.trainableCount());
        assertThrows(IllegalArgumentException.class, () -> new SaltLinear(lin, 6, 1, new Generator(1)));
        assertThrows(IllegalArgumentException.class, () -> new SaltLinear(lin, 2, 4, new Generator(1)));
        assertEquals(5, SaltLinear.rankFor(10, 0.5));
        assertEquals(1, SaltLinear.rankFor(10, 0.01));
    }

    /// W' = U·ReLU(Σ')·Vᵀ with ReLU over the whole k×k Σ' (as the published layers do), checked against
    /// Σ' built entry by entry: a shift that drives σ₁ negative removes that direction, and negative
    /// entries of the tail block, off-diagonal ones included, are clipped. The forward pass, which never
    /// forms W', gives x W'ᵀ + b.
    @Test
    void saltClipsTheWholeModifiedSpectrum() {
        Linear lin = new Linear(7, 5, true, new Generator(18), DType.F64);
        SaltLinear salt = new SaltLinear(lin, 2, 2, new Generator(19));
        Map<String, Tensor> t = salt.tensors();
        double[] s = t.get("salt_S").toDoubleArray();
        try (var ignored = dev.rankwise.autograd.GradMode.noGrad()) {
            t.get("salt_beta").copyFrom(Tensor.fromArray(new double[] {-2 * s[0], 0.3}, 2));
            t.get("salt_alpha").copyFrom(Tensor.fromArray(new double[] {1.0, 0.5}, 2));
            t.get("salt_X").copyFrom(Tensor.randn(new Generator(20), DType.F64, 3, 2));
            t.get("salt_Y").copyFrom(Tensor.randn(new Generator(21), DType.F64, 2, 3));
        }
        double[][] sigma = new double[5][5];
        sigma[0][0] = s[0] - 2 * s[0];
        sigma[1][1] = 0.5 * s[1] + 0.3;
        double[] xy = noGrad(() -> t.get("salt_X").matmul(t.get("salt_Y"))).toDoubleArray();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) sigma[2 + i][2 + j] = (i == j ? s[2 + i] : 0) + xy[3 * i + j];
        double[] flat = new double[25];
        int negatives = 0;
        for (int i = 0; i < 5; i++) for (int j = 0; j < 5; j++) {
            if (sigma[i][j] < 0) negatives++;
            flat[5 * i + j] = Math.max(0, sigma[i][j]);
        }
        assertTrue(negatives >= 2, "the case exercises the clipping");
        Tensor expected = t.get("salt_U").matmul(Tensor.fromArray(flat, 5, 5)).matmul(t.get("salt_Vh"));
        assertTrue(maxDiff(noGrad(salt::weight), expected) < 1e-12);
        Tensor x = Tensor.randn(new Generator(22), DType.F64, 4, 7);
        assertTrue(maxDiff(noGrad(() -> salt.forward(x)), x.matmul(expected.t()).add(lin.bias())) < 1e-12);
    }
}
