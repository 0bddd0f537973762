package dev.rankwise.cli;

import dev.rankwise.Device;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/// What a reproduction gets from the command line.
///
/// @param quick      a short configuration (under a minute) for smoke runs and CI
/// @param seeds      the seeds to run, each a full repetition of every method
/// @param device     where tensors live
/// @param out        the output directory (default `out/NAME`)
/// @param data       a data directory given with `--data`, or null to look in `dataSearch`
/// @param dataSearch where to look for data when `--data` is not given (Debian's install folders)
/// @param command    the command line as typed, for result files
/// @param log        where progress and tables go
public record ReproContext(boolean quick, long[] seeds, Device device, Path out, Path data, List<Path> dataSearch, String command,
                           PrintStream log) {
    public ReproContext {
        if (seeds.length == 0) throw new IllegalArgumentException("at least one seed is needed");
        seeds = seeds.clone();
        dataSearch = List.copyOf(dataSearch);
    }

    @Override
    public long[] seeds() {
        return seeds.clone();
    }
}
