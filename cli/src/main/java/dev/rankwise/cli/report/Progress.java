package dev.rankwise.cli.report;

import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;

/// Training progress on `me.tongfei:progressbar`: a live bar with the loss and ETA on a terminal. In a
/// log (output redirected, CI) the library's own rendering would be one endless line of carriage returns
/// and colour codes, so there the same bar goes through its line consumer in ASCII, one line every
/// [#LOG_INTERVAL_MS] and at the end.
public final class Progress implements AutoCloseable {
    /// How often a log gets a progress line.
    public static final int LOG_INTERVAL_MS = 10_000;
    private static final int NAME_WIDTH = 30;

    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /// A bar for `total` steps on `out`: live on an interactive terminal, log lines otherwise, nothing
    /// when `out` is null.
    public static Progress start(String task, long total, PrintStream out) {
        if (out == null) return new Progress(null);
        String name = task.length() >= NAME_WIDTH ? task : task + " ".repeat(NAME_WIDTH - task.length());
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(name).setInitialMax(total).continuousUpdate();
        if (out == System.out && interactive()) {
            b.setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(200);
        } else {
            b.setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(LOG_INTERVAL_MS).setMaxRenderedLength(120)
                    .setConsumer(new DelegatingProgressBarConsumer(new Deduplicated(out), 120));
        }
        return new Progress(b.build());
    }

    private static boolean interactive() {
        var console = System.console();
        return console != null && console.isTerminal() && System.getenv("CI") == null;
    }

    /// Marks step `done` (1-based) with the current training loss.
    public void step(long done, double loss) {
        if (bar == null) return;
        bar.stepTo(done);
        bar.setExtraMessage(String.format("loss %.3e", loss));
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }

    /// Prints each rendered line but the first (the library renders 0% when the bar starts) and those that
    /// repeat the previous one (it renders once more on close).
    private static final class Deduplicated implements java.util.function.Consumer<String> {
        private final PrintStream out;
        private String last;
        private boolean first = true;

        Deduplicated(PrintStream out) {
            this.out = out;
        }

        @Override
        public synchronized void accept(String line) {
            String trimmed = line.stripTrailing();
            if (first || trimmed.equals(last)) {
                first = false;
                last = trimmed;
                return;
            }
            last = trimmed;
            out.println("  " + trimmed);
        }
    }
}
