package dev.rankwise.cli.repro;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.cli.data.FashionMnist;
import dev.rankwise.nn.Linear;
import dev.rankwise.nn.Module;
import dev.rankwise.optim.AdamW;
import dev.rankwise.optim.ParamGroup;
import dev.rankwise.random.Generator;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/// Fashion-MNIST transfer: an MLP 784-h-h-5 pretrained on classes 0–4 (T-shirt … Coat), then adapted
/// to classes 5–9 (Sandal … Ankle boot) relabelled 0–4, with the same 5-way head. Every Linear layer
/// but the head (fc1, fc2) is adapted; the head fc3 is trained in full by every method.
final class FashionTask implements Methods.Task {
    /// Sizes: training images per task, pretraining steps, hidden width.
    record Config(int trainPerTask, int testPerTask, int pretrainSteps, int hidden) {
        static Config full() {
            return new Config(30000, 5000, 1500, 256);
        }

        static Config quick() {
            return new Config(6000, 2000, 300, 128);
        }

        String describe() {
            return String.format("MLP 784-%d-%d-5, %d training / %d test images per task, %d pretraining steps",
                    hidden, hidden, trainPerTask, testPerTask, pretrainSteps);
        }
    }

    private final Net pretrained;
    private final Tensor trainX, trainY, testX, testY;
    final double pretrainedAccuracy;

    private FashionTask(Net pretrained, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY, double pretrainedAccuracy) {
        this.pretrained = pretrained;
        this.pretrainedAccuracy = pretrainedAccuracy;
        this.trainX = trainX;
        this.trainY = trainY;
        this.testX = testX;
        this.testY = testY;
    }

    /// The two tasks' images and labels: classes 0–4 (pretraining) and 5–9 (adaptation), each relabelled
    /// 0–4, as {x [N, 784], y I32 [N]} pairs.
    record Data(Tensor[] source, Tensor[] sourceTest, Tensor[] target, Tensor[] targetTest) {
        static Data load(Path dir, Config cfg, Device device) throws java.io.IOException {
            FashionMnist.Split train = FashionMnist.train(dir), test = FashionMnist.test(dir);
            return new Data(select(train, 0, cfg.trainPerTask(), device), select(test, 0, cfg.testPerTask(), device),
                    select(train, 5, cfg.trainPerTask(), device), select(test, 5, cfg.testPerTask(), device));
        }
    }

    /// Pretrains on classes 0–4 with `seed` (AdamW, lr 1e-3, cosine schedule) and returns the transfer
    /// task to classes 5–9. `pretrainedAccuracy` is the source-task test accuracy reached.
    static FashionTask pretrain(Data data, Config cfg, long seed, PrintStream log) {
        Generator gen = new Generator(seed).derive("fashion");
        Net net = Placement.place(new Net(cfg.hidden(), gen), data.source()[0].device());
        long t0 = System.nanoTime();
        Trainer.train(net, data.source()[0], data.source()[1], FashionTask::crossEntropy,
                List.of(new AdamW(List.of(new ParamGroup("all", net.parameters(), 1e-3, 0)))), Trainer.Schedule.cosine(cfg.pretrainSteps()),
                128, gen, (s, l) -> { });
        double srcAcc = accuracy(net, data.sourceTest()[0], data.sourceTest()[1]);
        log.printf("  pretrained on classes 0-4 (seed %d, %d steps, %.1fs): test accuracy %.2f%%%n",
                seed, cfg.pretrainSteps(), (System.nanoTime() - t0) / 1e9, 100 * srcAcc);
        net.freeze();
        return new FashionTask(net, data.target()[0], data.target()[1], data.targetTest()[0], data.targetTest()[1], srcAcc);
    }

    /// Up to `limit` images of classes first .. first+4, labels shifted to 0–4: {x [N, 784], y I32 [N]}.
    private static Tensor[] select(FashionMnist.Split s, int first, int limit, Device device) {
        int n = 0;
        int[] idx = new int[s.count()];
        for (int i = 0; i < s.count() && n < limit; i++) if (s.labels()[i] >= first && s.labels()[i] < first + 5) idx[n++] = i;
        float[] x = new float[n * 784];
        int[] y = new int[n];
        for (int j = 0; j < n; j++) {
            System.arraycopy(s.images(), idx[j] * 784, x, j * 784, 784);
            y[j] = s.labels()[idx[j]] - first;
        }
        return new Tensor[] {Tensor.fromArray(x, n, 784).to(device), Tensor.fromArray(y, n).to(device)};
    }

    /// Mean cross-entropy of logits [N, C] against I32 labels [N].
    static Tensor crossEntropy(Tensor logits, Tensor labels) {
        return logits.logSoftmax(1).gather(1, labels.reshape(-1, 1)).mean().neg();
    }

    static double accuracy(Module m, Tensor x, Tensor y) {
        try (var ignored = GradMode.noGrad()) {
            m.train(false);
            int[] pred = m.forward(x).argmax(1, false).toIntArray();
            int[] truth = y.toIntArray();
            int ok = 0;
            for (int i = 0; i < pred.length; i++) if (pred[i] == truth[i]) ok++;
            return (double) ok / pred.length;
        }
    }

    @Override
    public Module freshModel() {
        Net copy = Placement.place(new Net(pretrained.hidden, new Generator(0)), trainX.device());
        copy.loadStateDict(pretrained.stateDict(), true);
        return copy;
    }

    @Override
    public List<String> targets() {
        return List.of("fc1", "fc2");
    }

    /// The 5-way head is new to the task, so every method trains it in full.
    @Override
    public List<String> fullyTrained() {
        return List.of("fc3");
    }

    @Override
    public Methods.Examples train() {
        return new Methods.Examples(trainX, trainY);
    }

    @Override
    public Trainer.Loss loss() {
        return FashionTask::crossEntropy;
    }

    @Override
    public double metric(Module model) {
        return accuracy(model, testX, testY);
    }

    /// fc3(relu(fc2(relu(fc1(x))))) with a 5-way head.
    static final class Net extends Module {
        final int hidden;

        Net(int hidden, Generator gen) {
            this.hidden = hidden;
            registerModule("fc1", new Linear(784, hidden, true, gen, DType.F32));
            registerModule("fc2", new Linear(hidden, hidden, true, gen, DType.F32));
            registerModule("fc3", new Linear(hidden, 5, true, gen, DType.F32));
        }

        @Override
        public Tensor forward(Tensor x) {
            return module("fc3").forward(module("fc2").forward(module("fc1").forward(x).relu()).relu());
        }
    }
}
