package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;
import dev.rankwise.cpu.Team;

import java.util.concurrent.ForkJoinTask;

/// Two independent pieces of work, side by side when the pool has a second thread: the caller does the
/// first and a spinning [Team] helper the second (no parked worker to wake when the team ran shortly
/// before), every split inside either inline. When the team is busy the second goes to the pool, so one
/// worker wake-up overlaps the caller's own work. Inside a pool worker or a [Parallel#serially] scope
/// both run inline: the outer level already decided how many threads this work gets.
final class Fork {
    private Fork() {}

    static void both(Runnable first, Runnable second) {
        if (Parallel.threads() == 1 || !Parallel.teamAllowed()) {
            first.run();
            second.run();
            return;
        }
        if (Team.trySplit(2, i -> (i == 0 ? first : second).run())) return;
        if (Parallel.nested()) {
            first.run();
            second.run();
            return;
        }
        ForkJoinTask<?> other = Parallel.pool().submit(second);
        first.run();
        other.join();
    }

    /// `body` over `[0, n)`: inside a [Parallel#onTeam] scope in one contiguous range per thread on the
    /// spinning team (when n is at least `minTeam`), elsewhere as [Parallel#forRange] with `grain`.
    static void range(int n, int grain, int minTeam, Parallel.RangeBody body) {
        int t = Parallel.threads();
        if (t > 1 && n >= minTeam && Parallel.inTeamScope()
                && Team.trySplit(t, i -> body.run((int) ((long) n * i / t), (int) ((long) n * (i + 1) / t)))) {
            return;
        }
        Parallel.forRange(n, grain, body);
    }
}
