package dev.rankwise.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/// Helper threads that spin for a short while between jobs, for kernels that split into one band per
/// thread and run back to back (GEMM, and [Parallel#forRange]'s loops when the team is free).
///
/// Waking a parked thread costs more than a 256³ product on a virtual machine: the idle core's vCPU is
/// halted and the host has to reschedule it (measured here, 2 threads, average over back-to-back calls:
/// half the throughput of the best call, below one thread). Native BLAS keeps its threads spinning for
/// the same reason. The helpers spin for `rankwise.spinMicros` microseconds (default 1000) after each
/// job, then park; the caller computes band 0 itself and spins on the others' completion.
///
/// One job at a time: a second caller, a nested call (from a helper or a fork-join worker) or a team of
/// one runs the bands on the pool or inline instead. The team grows with [Parallel#threads].
public final class Team {
    private static final long SPIN_NS = Long.getLong("rankwise.spinMicros", 1000) * 1000;
    private static final AtomicBoolean BUSY = new AtomicBoolean();
    private static volatile Helper[] helpers = new Helper[0];

    private Team() {}

    /// Runs `band.accept(i)` for i in `[0, bands)`, each band on its own thread when the team is free.
    public static void run(int bands, IntConsumer band) {
        if (Parallel.nested() || !tryRun(bands, band, false)) fallback(bands, band);
    }

    /// As [#run] for bands that split further inside (GEMMs, pool loops): every split in a band runs
    /// inline, on the caller's band as on the helpers'. Unlike [#run] it uses the team inside a
    /// [Parallel#onTeam] scope too.
    public static void split(int bands, IntConsumer band) {
        if (!tryRun(bands, band, true)) fallback(bands, inline(band));
    }

    private static void fallback(int bands, IntConsumer band) {
        Parallel.forRange(bands, 1, (s, e) -> {
            for (int i = s; i < e; i++) band.accept(i);
        });
    }

    /// [#split] when the team is free here; false, with nothing run, when it is not (busy, a team of
    /// one, or a nested call).
    public static boolean trySplit(int bands, IntConsumer band) {
        return tryRun(bands, band, true);
    }

    private static IntConsumer inline(IntConsumer band) {
        return i -> Parallel.inline(() -> band.accept(i));
    }

    /// The thread running band 0 of a [#split], while it does.
    private static volatile Thread leader;

    /// Whether the calling thread runs a band of the team, where every split runs inline
    /// ([Parallel#nested]): a helper, or the caller in band 0 of a [#split].
    static boolean inBand() {
        Thread t = Thread.currentThread();
        return t instanceof Helper || t == leader;
    }

    /// The bands on the team; with `inlineSplits`, splits inside the caller's band run inline too (on a
    /// helper they always do). Every band is called directly, with no lambda or scope around it: each
    /// wrapper is a level of C2's inlining budget (MaxInlineLevel, 15) between the compiled caller and
    /// the kernel, and a vector kernel that lands past it is compiled with boxed vectors. Measured: exp
    /// over 2²⁰ floats on two threads ran 30× slower once C2 compiled the band's caller, with a
    /// ScopedValue scope and two lambdas around the band.
    private static boolean tryRun(int bands, IntConsumer band, boolean inlineSplits) {
        if (bands <= 1 || !Parallel.teamAllowed() || !BUSY.compareAndSet(false, true)) {
            return false;
        }
        try {
            Helper[] hs = helpers(bands - 1);
            for (int i = 1; i < bands; i++) hs[i - 1].start(band, i);
            Throwable failure = null;
            if (inlineSplits) leader = Thread.currentThread();
            try {
                band.accept(0);
            } catch (Throwable t) {
                failure = t;
            } finally {
                leader = null;
            }
            for (int i = 1; i < bands; i++) {
                Throwable t = hs[i - 1].await();
                if (failure == null) failure = t;
            }
            if (failure instanceof RuntimeException r) throw r;
            if (failure instanceof Error e) throw e;
            if (failure != null) throw new IllegalStateException(failure);
            return true;
        } finally {
            BUSY.set(false);
        }
    }

    /// Wakes parked helpers without giving them work, so that they spin again for
    /// `rankwise.spinMicros`: for a caller that will split shortly (within that time) after a stretch
    /// on its own, longer than the spin, which would otherwise pay the wake-up on its critical path.
    public static void wake() {
        for (Helper h : helpers) if (h.sleeping) LockSupport.unpark(h);
    }

    private static Helper[] helpers(int n) {
        Helper[] hs = helpers;
        if (hs.length >= n) return hs;
        Helper[] grown = java.util.Arrays.copyOf(hs, n);
        for (int i = hs.length; i < n; i++) {
            grown[i] = new Helper(i + 1);
            grown[i].start();
        }
        helpers = grown;
        return grown;
    }

    private static final class Helper extends Thread {
        private volatile IntConsumer job;
        private int index;
        private volatile boolean done = true, sleeping;
        private volatile Throwable failure;

        Helper(int id) {
            super("rankwise-team-" + id);
            setDaemon(true);
        }

        /// Runs `band.accept(index)`.
        void start(IntConsumer band, int index) {
            failure = null;
            done = false;
            this.index = index;                         // published by the volatile write of job
            job = band;
            if (sleeping) LockSupport.unpark(this);
        }

        /// Spins until the job is done; after 100 µs it yields instead, in case this helper lost its
        /// core to another thread (more threads than cores).
        Throwable await() {
            long until = System.nanoTime() + 100_000;
            for (int spins = 0; !done; spins++) {
                if ((spins & 63) != 0 || System.nanoTime() < until) Thread.onSpinWait();
                else Thread.yield();
            }
            return failure;
        }

        @Override
        public void run() {
            while (true) {
                IntConsumer r = job;
                if (r == null) {
                    // Spin, yielding now and then: a thread that shares this core (more threads than
                    // cores) gets it, while on a free core the yield returns at once and this helper
                    // stays awake.
                    long deadline = System.nanoTime() + SPIN_NS;
                    for (int spins = 1; (r = job) == null && System.nanoTime() < deadline; spins++) {
                        if ((spins & 63) == 0) Thread.yield();
                        else Thread.onSpinWait();
                    }
                    if (r == null) {
                        sleeping = true;                // then re-check: start() writes job before it reads sleeping
                        if (job == null) LockSupport.park(this);
                        sleeping = false;
                        continue;
                    }
                }
                job = null;
                try {
                    r.accept(index);
                } catch (Throwable t) {
                    failure = t;
                }
                done = true;
            }
        }
    }
}
