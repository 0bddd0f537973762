package dev.rankwise.cli;

import dev.rankwise.Device;
import dev.rankwise.cli.data.FashionMnist;
import dev.rankwise.cli.repro.SoraReproduction;
import dev.rankwise.spi.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/// `rankwise repro NAME|list`.
@Command(name = "repro", description = "Reproduce a paper's experiment (`repro list` names them).", mixinStandardHelpOptions = true)
final class ReproCommand implements Callable<Integer> {
    /// Every reproduction, in the order `repro list` shows them.
    static final List<Reproduction> REGISTRY = List.of(new SoraReproduction());

    @Parameters(index = "0", paramLabel = "NAME", description = "A reproduction (see `repro list`), or `list`.")
    String name;

    @Option(names = "--quick", description = "A short configuration (under a minute).")
    boolean quick;

    @Option(names = "--seed", paramLabel = "N", split = ",", description = "Seeds, comma-separated, each a full repetition; default 0,1,2 (quick: 0).")
    long[] seeds;

    @Option(names = "--device", paramLabel = "cpu|cuda[:N]", defaultValue = "cpu", description = "Where to run (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default out/NAME).")
    Path out;

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST's four IDX files (gzipped or not); default: Debian's dataset-fashion-mnist.")
    Path data;

    @Override
    public Integer call() throws Exception {
        if (name.equals("list")) {
            for (Reproduction r : REGISTRY) System.out.printf("%-12s %s%n", r.name(), r.description());
            return 0;
        }
        Reproduction r = REGISTRY.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow(() ->
                new Main.UsageError("unknown reproduction '" + name + "'; available: "
                        + String.join(", ", REGISTRY.stream().map(Reproduction::name).toList())));
        Device dev = parseDevice(device);
        long[] s = seeds != null ? seeds : quick ? new long[] {0} : new long[] {0, 1, 2};
        Path dir = out != null ? out : Path.of("out", name);
        String cmd = "rankwise " + String.join(" ", Main.lastArgs());
        return r.run(new ReproContext(quick, s, dev, dir, data, List.of(FashionMnist.DEBIAN_DIR), cmd, System.out));
    }

    /// `cpu`, or `cuda`/`cuda:N` when a GPU backend can serve it; otherwise an error saying why.
    static Device parseDevice(String name) {
        Device dev;
        try {
            dev = Device.parse(name);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--device: " + e.getMessage());
        }
        if (dev.kind() == Device.Kind.CPU) return dev;
        try {
            Backends.forDevice(dev);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("--device " + name + ": no GPU backend is available here (" + e.getMessage()
                    + "); run on the CPU with --device cpu (the default)");
        }
        return dev;
    }
}
