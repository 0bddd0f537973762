package dev.rankwise.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/// The CPU backend's thread pool and its one way to split a loop.
///
/// The thread count comes from the system property `rankwise.threads` (default: all processors) and
/// can be changed with [#setThreads]. Work is split into contiguous ranges, so results never depend
/// on the thread count as long as each range writes its own outputs.
public final class Parallel {
    private static volatile ForkJoinPool pool = newPool(
            Integer.getInteger("rankwise.threads", Runtime.getRuntime().availableProcessors()));

    private Parallel() {}

    /// A loop body over the index range `[start, end)`.
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /// Bound while [#serially] (TRUE) or [#onTeam] (FALSE) runs: pool splits on this thread run inline,
    /// as inside a pool worker; under [#onTeam] the spinning [Team] may still take a band.
    private static final ScopedValue<Boolean> SERIAL = ScopedValue.newInstance();

    /// True inside a pool worker, a [Team] band or a [#serially] scope, where a split must run inline:
    /// the outer level already decided how many threads this work gets.
    public static boolean nested() {
        return ForkJoinTask.inForkJoinPool() || Team.inBand() || SERIAL.isBound();
    }

    /// Runs `work` on the calling thread with every split inside it inline (pool loops, GEMM teams,
    /// side-by-side pieces). For work too small to gain from a second thread: it saves handing the
    /// whole call to a pool worker, which measured slower than one thread.
    public static <T> T serially(java.util.function.Supplier<T> work) {
        return ScopedValue.where(SERIAL, Boolean.TRUE).call(work::get);
    }

    /// As [#serially], except that explicit [Team#split]s still use the spinning helpers when they are
    /// free: for work whose pool splits (a parked worker's wake-up each) and GEMM splits cost more than
    /// they gain, but which has a few large independent pieces a spinning helper can take.
    public static <T> T onTeam(java.util.function.Supplier<T> work) {
        return ScopedValue.where(SERIAL, Boolean.FALSE).call(work::get);
    }

    /// Whether a [Team#split] may use the helpers here: not inside a pool worker nor a [#serially]
    /// scope.
    public static boolean teamAllowed() {
        return !ForkJoinTask.inForkJoinPool() && !Team.inBand() && !SERIAL.orElse(Boolean.FALSE);
    }

    /// Whether this thread runs inside a [#onTeam] scope (and not in one of its bands): where the
    /// decomposition's own explicit splits go to the spinning team.
    public static boolean inTeamScope() {
        return !ForkJoinTask.inForkJoinPool() && !Team.inBand() && SERIAL.isBound() && !SERIAL.get();
    }

    /// Runs `work` with every split inside it inline (a Team split's bands when the team is not free).
    static void inline(Runnable work) {
        ScopedValue.where(SERIAL, Boolean.TRUE).run(work);
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /// Sets the number of worker threads; the old pool finishes its work and shuts down.
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (threads == pool.getParallelism()) return;
        ForkJoinPool old = pool;
        pool = newPool(threads);
        old.shutdown();
    }

    public static ForkJoinPool pool() {
        return pool;
    }

    /// Runs `body` over `[0, n)` in ranges of at least `grain` indices, in parallel when that pays: one
    /// range per thread on [Team] when it is free, else on the pool.
    public static void forRange(int n, int grain, RangeBody body) {
        int threads = threads();
        if (n <= 0) return;
        // Nested calls from inside a worker run inline: the outer split already uses every thread.
        if (threads == 1 || n <= grain || nested()) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min(threads * 4, Math.max(1, n / Math.max(1, grain)));
        // One equal range per thread on GEMM's spinning team when it is free: waking a parked pool
        // worker costs 80–540 µs on a VM, more than a 4 MiB elementwise op takes. Splits inside a range
        // (a GEMM per batch entry) run inline, as they do inside a pool worker.
        int bands = Math.min(threads, chunks);
        if (Team.trySplit(bands, i -> body.run((int) ((long) n * i / bands), (int) ((long) n * (i + 1) / bands)))) return;
        pool.invoke(new Split(body, 0, n, chunks));
    }

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(Math.max(1, threads));
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int start, end, chunks;

        Split(RangeBody body, int start, int end, int chunks) {
            this.body = body;
            this.start = start;
            this.end = end;
            this.chunks = chunks;
        }

        @Override
        protected void compute() {
            if (chunks <= 1) {
                body.run(start, end);
                return;
            }
            int leftChunks = chunks / 2;
            int mid = start + (int) ((long) (end - start) * leftChunks / chunks);
            invokeAll(new Split(body, start, mid, leftChunks), new Split(body, mid, end, chunks - leftChunks));
        }
    }
}
