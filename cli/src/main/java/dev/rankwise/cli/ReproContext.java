package dev.rankwise.cli;

import dev.rankwise.Device;

import java.io.PrintStream;
import java.nio.file.Path;

/// What a reproduction gets from the command line.
///
/// @param quick   a short configuration (about a minute) for smoke runs and CI
/// @param seeds   the seeds to run (the first is used where a single run suffices)
/// @param device  where tensors live
/// @param out     the output directory (default `out/NAME`)
/// @param data    a data directory given with `--data`, or null to look in the usual places
/// @param command the command line as typed, for result files
/// @param log     where progress and tables go
public record ReproContext(boolean quick, long[] seeds, Device device, Path out, Path data, String command, PrintStream log) {}
