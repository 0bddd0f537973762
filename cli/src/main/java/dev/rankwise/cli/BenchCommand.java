package dev.rankwise.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/// `rankwise bench NAME [--quick] [--threads N] [--shapes LIST] [--json FILE]`: runs a JMH benchmark with its peers.
/// The benchmarks live in the `bench` module, which depends on this one, so they are found by name.
@Command(name = "bench", description = "Run a JMH benchmark side by side with its peer (gemm, ...).", mixinStandardHelpOptions = true)
final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Unmatched
    List<String> rest = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Class<?> main;
        try {
            main = Class.forName("dev.rankwise.bench.BenchMain");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("benchmarks are not built; run ./rankwise build");
        }
        List<String> argv = new ArrayList<>();
        argv.add(name);
        argv.addAll(rest);
        Object code = main.getMethod("run", String[].class).invoke(null, (Object) argv.toArray(new String[0]));
        return (Integer) code;
    }
}
