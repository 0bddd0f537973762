package dev.rankwise.cli.repro;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
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
///
/// The training loss is the MSE divided by the pretrained model's training MSE: it starts near 1 whatever
/// the configuration, so SoRA's λ means the same thing across sizes. Reported metrics are plain test MSE.
public final class PlantedRankTask implements Methods.Task {
    /// Sizes of the task. `plantedRanks` has one entry per adapted matrix (fc1, fc2, fc3).
    public record Config(int dIn, int hidden, int[] plantedRanks, int trainSize, int testSize, double noise) {}

    public static final List<String> ADAPTED = List.of("fc1", "fc2", "fc3");
    private static final double SPREAD = 0.5, STRENGTH = 0.5;

    private final Config config;
    private final Device device;
    private final Heads pretrained;
    private final Heads target;
    private final Map<String, Tensor> deltas = new LinkedHashMap<>();
    public final Tensor trainX, trainY, testX, testY;
    private final double pretrainedTrainMse;

    public PlantedRankTask(Config config, long seed) {
        this(config, seed, Device.CPU);
    }

    /// The task with its data and models on `device` (generated on the CPU, so the same on every device).
    public PlantedRankTask(Config config, long seed, Device device) {
        this.config = config;
        this.device = device;
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
            Tensor trX = Tensor.randn(data, DType.F32, config.trainSize(), config.dIn());
            Tensor teX = Tensor.randn(data, DType.F32, config.testSize(), config.dIn());
            Tensor trY = target.forward(trX).add(Tensor.randn(data, DType.F32, config.trainSize(), 3 * config.hidden()).mul(config.noise()));
            Tensor teY = target.forward(teX);
            trainX = trX.to(device);
            trainY = trY.to(device);
            testX = teX.to(device);
            testY = teY.to(device);
        }
        pretrained.freeze();
        target.freeze();
        Placement.place(pretrained, device);
        pretrainedTrainMse = Trainer.evaluate(pretrained, trainX, trainY, PlantedRankTask::mse);
    }

    static Tensor mse(Tensor prediction, Tensor target) {
        return prediction.sub(target).square().mean();
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
        Heads copy = Placement.place(new Heads(config.dIn(), config.hidden(), new Generator(0)), device);
        copy.loadStateDict(pretrained.stateDict(), true);
        return copy;
    }

    /// The planted change of each adapted matrix.
    public Map<String, Tensor> deltas() {
        return deltas;
    }

    /// Test MSE of the pretrained network (what adaptation starts from).
    public double pretrainedTestMse() {
        return metric(pretrained);
    }

    /// Test MSE of the closest weights a method's form can express: per matrix the Frobenius-nearest
    /// (Eckart–Young) among
    /// - LoRA of rank r: `W + ΔW` with rank ΔW ≤ r — the truncated SVD of the planted change;
    /// - PiSSA of rank r: `W_res + M` with rank M ≤ r and W_res = W minus its top-r singular part frozen —
    ///   the truncated SVD of `W_top-r + Δ`, which has rank up to r + k, so a rank-r PiSSA adapter can
    ///   express the planted change only by giving up some of W's principal part.
    ///
    /// Returns 0 where the planted change is expressible exactly. The inputs are isotropic, so weight
    /// error and output error go together; through the tanh the trained optimum can be a little lower.
    public double bestFitTestMse(int rank, boolean pissa) {
        Module fit = pretrainedCopy();
        boolean exact = true;
        try (var ignored = GradMode.noGrad()) {
            for (String name : ADAPTED) {
                Linear layer = (Linear) fit.module(name);
                Tensor w = layer.weight().to(DType.F64), delta = deltas.get(name).to(DType.F64);
                Tensor frozen = w, wanted = delta;
                if (pissa) {
                    Tensor top = truncate(Linalg.svd(w), rank);
                    frozen = w.sub(top);
                    wanted = top.add(delta);
                }
                Linalg.Svd svd = Linalg.svd(wanted);
                double[] s = svd.s().toDoubleArray();
                // The change is stored in F32, so "rank k" means singular values beyond k at F32 rounding (~1e-7·σ₁).
                if (rank < s.length && s[rank] > 1e-5 * s[0]) exact = false;
                layer.weight().copyFrom(frozen.add(truncate(svd, Math.min(rank, s.length))).to(layer.weight().dtype()));
            }
        }
        return exact ? 0 : metric(fit);
    }

    private static Tensor truncate(Linalg.Svd svd, int r) {
        return svd.u().narrow(1, 0, r).mul(svd.s().narrow(0, 0, r)).matmul(svd.vh().narrow(0, 0, r));
    }

    // ---------------------------------------------------------------- Methods.Task

    @Override
    public Module freshModel() {
        return pretrainedCopy();
    }

    @Override
    public List<String> targets() {
        return ADAPTED;
    }

    @Override
    public Methods.Examples train() {
        return new Methods.Examples(trainX, trainY);
    }

    @Override
    public Trainer.Loss loss() {
        double scale = pretrainedTrainMse;
        return (p, y) -> mse(p, y).div(scale);
    }

    @Override
    public double metric(Module model) {
        return Trainer.evaluate(model, testX, testY, PlantedRankTask::mse);
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
