package dev.rankwise.cli.report;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;

/// Training progress: a live bar with loss and ETA on a terminal; plain lines every few percent
/// elsewhere (CI logs), so logs stay short and readable.
public final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final PrintStream plain;
    private final String task;
    private final long total;
    private final long start = System.nanoTime();
    private int lastPercent = -1;

    private Progress(String task, long total, PrintStream out, boolean terminal) {
        this.task = task;
        this.total = total;
        if (terminal) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                    .setUpdateIntervalMillis(200).continuousUpdate().build();
            plain = null;
        } else {
            bar = null;
            plain = out;
        }
    }

    /// A bar on an interactive terminal, plain lines otherwise; `out` null silences it.
    public static Progress start(String task, long total, PrintStream out) {
        boolean terminal = out == System.out && System.console() != null && System.getenv("CI") == null;
        return new Progress(task, total, out, terminal);
    }

    /// Marks step `done` (1-based) with the current loss.
    public void step(long done, double loss) {
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(String.format("loss %.4g", loss));
        } else if (plain != null) {
            int percent = (int) (100 * done / Math.max(1, total));
            if (percent / 20 != lastPercent / 20 || done == total) {
                lastPercent = percent;
                double secs = (System.nanoTime() - start) / 1e9;
                double eta = done == 0 ? 0 : secs * (total - done) / done;
                plain.printf("  %-28s %3d%%  step %d/%d  loss %.4g  eta %.0fs%n", task, percent, done, total, loss, eta);
            }
        }
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
