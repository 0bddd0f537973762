package dev.rankwise.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/// The `rankwise` command. Exit codes: 0 success, 1 failure, 2 usage error.
@Command(name = "rankwise", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Low-rank adaptation research engine: reproduce papers, initialize and convert adapters, run benchmarks.",
        subcommands = {ReproCommand.class, InitCommand.class, AdapterCommand.class, BenchCommand.class})
public final class Main implements Runnable {
    private static String[] args = new String[0];

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /// Runs the command line and returns the exit code (for tests).
    public static int run(String... argv) {
        args = argv.clone();
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof UsageError) {
                cmd.getErr().println("rankwise: " + e.getMessage());
                return 2;
            }
            cmd.getErr().println("rankwise: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (System.getenv("RANKWISE_DEBUG") != null) e.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl.execute(argv);
    }

    static String[] lastArgs() {
        return args;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /// A mistake in the command line that picocli cannot see (an unknown name, say): exit code 2.
    public static final class UsageError extends RuntimeException {
        public UsageError(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"rankwise " + (v != null ? v : "0.1.0-SNAPSHOT"), "Java " + Runtime.version()};
        }
    }
}
