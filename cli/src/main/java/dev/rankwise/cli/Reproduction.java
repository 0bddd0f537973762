package dev.rankwise.cli;

/// A reproduction `rankwise repro NAME` can run.
public interface Reproduction {
    String name();

    /// One line for `rankwise repro list`.
    String description();

    /// Runs it; returns the process exit code.
    int run(ReproContext ctx) throws Exception;
}
