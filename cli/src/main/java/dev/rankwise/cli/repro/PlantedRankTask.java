package dev.rankwise.cli.repro;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.random.Generator;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// The planted-rank task: a frozen "pretrained" MLP, and a target network that equals it plus a
/// low-rank change of a known rank in each adapted matrix. An adapter that finds the target must
/// learn, per matrix, an update of exactly that rank — so SoRA's gates should keep exactly that many
/// ranks open.
///
/// The network has three parallel heads, `y = [tanh(fc1 x), tanh(fc2 x), tanh(fc3 x)]`, each fc_i
/// [h, d_in]. Parallel heads make each matrix's change identifiable on its own and put every gate on the
/// same scale: in a deep stack a narrow later layer hides part of an earlier layer's change, and a
/// single sparsity weight λ then cannot suit every layer (we measured that: a 3-layer MLP left SoRA one
/// rank off in some layer for most seeds). The planted change of matrix i is
/// `Δ_i = c · U_i·diag(σ)·V_iᵀ` with orthonormal U_i, V_i of k_i columns and σ spread over [1, 1.5],
/// scaled to a fixed fraction of the weight's norm, so every planted direction matters to the loss.
public final class PlantedRankTask {
    /// Sizes of the task. `plantedRanks` has one entry per adapted matrix (fc1, fc2, fc3).
    public record Config(int dIn, int hidden, int[] plantedRanks, int trainSize, int testSize, double noise) {}

    public static final List<String> ADAPTED = List.of("fc1", "fc2", "fc3");
    private static final double SPREAD = 0.5, STRENGTH = 0.5;

    private final Config config;
    private final Heads pretrained;
    private final Heads target;
    private final Map<String, Tensor> deltas = new LinkedHashMap<>();
    public final Tensor trainX, trainY, testX, testY;

    public PlantedRankTask(Config config, long seed) {
        this.config = config;
        Generator gen = new Generator(seed);
        pretrained = new Heads(config.dIn(), config.hidden(), gen.derive("pretrained"));
        target = new Heads(config.dIn(), config.hidden(), gen.derive("pretrained"));
        Generator planted = gen.derive("planted");
        try (var ignored = GradMode.noGrad()) {
            for (int i = 0; i < ADAPTED.size(); i++) {
                Linear layer = (Linear) target.module(ADAPTED.get(i));
                Tensor delta = plantedDelta(layer.weight(), config.plantedRanks()[i], planted);
                deltas.put(ADAPTED.get(i), delta);
                layer.weight().copyFrom(layer.weight().add(delta));
            }
            Generator data = gen.derive("data");
            trainX = Tensor.randn(data, DType.F32, config.trainSize(), config.dIn());
            testX = Tensor.randn(data, DType.F32, config.testSize(), config.dIn());
            trainY = target.forward(trainX).add(Tensor.randn(data, DType.F32, config.trainSize(), 3 * config.hidden()).mul(config.noise()));
            testY = target.forward(testX);
        }
        pretrained.freeze();
        target.freeze();
    }

    /// A rank-k matrix of W's shape with singular values spread over [1, 1.5]·c, where c makes its
    /// Frobenius norm 0.5·‖W‖_F·√(k / k_max) (k_max = 8): large enough to matter, small enough to keep
    /// the network in the same regime.
    static Tensor plantedDelta(Tensor w, int k, Generator gen) {
        int m = w.size(0), n = w.size(1);
        Tensor u = orthonormalColumns(Tensor.randn(gen, DType.F64, m, k));
        Tensor v = orthonormalColumns(Tensor.randn(gen, DType.F64, n, k));
        double[] s = new double[k];
        for (int i = 0; i < k; i++) s[i] = k == 1 ? 1 : 1 + SPREAD * (1 - (double) i / (k - 1));
        Tensor sigma = Tensor.fromArray(s, k);
        Tensor delta = u.mul(sigma).matmul(v.t());
        double scale = STRENGTH * w.to(DType.F64).norm().item() * Math.sqrt(k / 8.0) / delta.norm().item();
        return delta.mul(scale).to(w.dtype());
    }

    /// Gram–Schmidt (twice, for stability) on the columns of a tall matrix.
    static Tensor orthonormalColumns(Tensor a) {
        int m = a.size(0), k = a.size(1);
        double[] x = a.toDoubleArray();
        for (int pass = 0; pass < 2; pass++) {
            for (int j = 0; j < k; j++) {
                for (int p = 0; p < j; p++) {
                    double dot = 0;
                    for (int i = 0; i < m; i++) dot += x[i * k + j] * x[i * k + p];
                    for (int i = 0; i < m; i++) x[i * k + j] -= dot * x[i * k + p];
                }
                double norm = 0;
                for (int i = 0; i < m; i++) norm += x[i * k + j] * x[i * k + j];
                norm = Math.sqrt(norm);
                for (int i = 0; i < m; i++) x[i * k + j] /= norm;
            }
        }
        return Tensor.fromArray(x, m, k);
    }

    public Config config() {
        return config;
    }

    /// A fresh trainable copy of the pretrained network (all parameters trainable; adapters freeze it).
    public Heads pretrainedCopy() {
        Heads copy = new Heads(config.dIn(), config.hidden(), new Generator(0));
        copy.loadStateDict(pretrained.stateDict(), true);
        return copy;
    }

    /// The planted change of each adapted matrix.
    public Map<String, Tensor> deltas() {
        return deltas;
    }

    /// The task's network: three parallel tanh heads fc1, fc2, fc3 [h, d_in], outputs concatenated [N, 3h].
    public static final class Heads extends Module {
        public Heads(int dIn, int hidden, Generator gen) {
            for (String name : ADAPTED) registerModule(name, new Linear(dIn, hidden, true, gen, DType.F32));
        }

        @Override
        public Tensor forward(Tensor x) {
            return Tensor.concat(ADAPTED.stream().map(n -> module(n).forward(x).tanh()).toList(), 1);
        }
    }
}
