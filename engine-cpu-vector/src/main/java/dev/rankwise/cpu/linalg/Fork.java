package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;

import java.util.concurrent.ForkJoinTask;

/// Two independent pieces of work, side by side when the pool has a second thread: the second goes to
/// the pool and the caller does the first itself, so one worker wake-up (tens of microseconds on a
/// parked thread) overlaps the caller's own work instead of two sitting on the critical path, as with
/// a split that starts on the pool. Inside a pool worker both run inline: the outer split already uses
/// every thread.
final class Fork {
    private Fork() {}

    static void both(Runnable first, Runnable second) {
        if (Parallel.threads() == 1 || Parallel.nested()) {
            first.run();
            second.run();
            return;
        }
        ForkJoinTask<?> other = Parallel.pool().submit(second);
        first.run();
        other.join();
    }
}
