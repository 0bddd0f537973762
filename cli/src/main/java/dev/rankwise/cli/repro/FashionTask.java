package dev.rankwise.cli.repro;

import dev.rankwise.DType;
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

    static Methods.Settings settings(boolean quick) {
        int steps = quick ? 300 : 1200;
        return new Methods.Settings(8, 2, 16, steps, 128, 5e-4, 2e-3, 0.0, 1e-2, 0.05, new double[0], 0);
    }

    private final Net pretrained;
    private final Tensor trainX, trainY, testX, testY;

    private FashionTask(Net pretrained, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY) {
        this.pretrained = pretrained;
        this.trainX = trainX;
        this.trainY = trainY;
        this.testX = testX;
        this.testY = testY;
    }

    /// Loads the data, pretrains on classes 0–4 with `seed`, and returns the transfer task to 5–9.
    static FashionTask load(Path dir, Config cfg, long seed, PrintStream log) throws Exception {
        FashionMnist.Split train = FashionMnist.train(dir), test = FashionMnist.test(dir);
        Tensor[] src = select(train, 0, cfg.trainPerTask()), srcTest = select(test, 0, cfg.testPerTask());
        Tensor[] dst = select(train, 5, cfg.trainPerTask()), dstTest = select(test, 5, cfg.testPerTask());
        Generator gen = new Generator(seed).derive("fashion");
        Net net = new Net(cfg.hidden(), gen);
        long t0 = System.nanoTime();
        Trainer.train(net, src[0], src[1], FashionTask::crossEntropy,
                List.of(new AdamW(List.of(new ParamGroup("all", net.parameters(), 1e-3, 0)))), cfg.pretrainSteps(), 128, gen, (s, l) -> { });
        double srcAcc = accuracy(net, srcTest[0], srcTest[1]), dstAcc = accuracy(net, dstTest[0], dstTest[1]);
        log.printf("  pretrained (seed %d) in %.1fs: accuracy %.2f%% on classes 0-4, %.2f%% on 5-9 before adaptation%n",
                seed, (System.nanoTime() - t0) / 1e9, 100 * srcAcc, 100 * dstAcc);
        net.freeze();
        return new FashionTask(net, dst[0], dst[1], dstTest[0], dstTest[1]);
    }

    /// Up to `limit` images of classes first .. first+4, labels shifted to 0–4: {x [N, 784], y I32 [N]}.
    private static Tensor[] select(FashionMnist.Split s, int first, int limit) {
        int n = 0;
        int[] idx = new int[s.count()];
        for (int i = 0; i < s.count() && n < limit; i++) if (s.labels()[i] >= first && s.labels()[i] < first + 5) idx[n++] = i;
        float[] x = new float[n * 784];
        int[] y = new int[n];
        for (int j = 0; j < n; j++) {
            System.arraycopy(s.images(), idx[j] * 784, x, j * 784, 784);
            y[j] = s.labels()[idx[j]] - first;
        }
        return new Tensor[] {Tensor.fromArray(x, n, 784), Tensor.fromArray(y, n)};
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
        Net copy = new Net(pretrained.hidden, new Generator(0));
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
    public Tensor trainX() {
        return trainX;
    }

    @Override
    public Tensor trainY() {
        return trainY;
    }

    @Override
    public Trainer.Loss loss() {
        return FashionTask::crossEntropy;
    }

    @Override
    public double metric(Module model) {
        return accuracy(model, testX, testY);
    }

    @Override
    public String metricName() {
        return "test_accuracy";
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
