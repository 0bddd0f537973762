package dev.rankwise.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/// The `rankwise` command.
@Command(name = "rankwise", mixinStandardHelpOptions = true, version = "rankwise 0.1.0",
        description = "Low-rank adaptation research engine: reproduce papers, initialize and convert adapters, run benchmarks.")
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
