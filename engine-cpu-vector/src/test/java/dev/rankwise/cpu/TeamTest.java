package dev.rankwise.cpu;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The spinning team runs every band exactly once, on distinct threads when it is free, passes a
/// band's failure to the caller, and serves nested and concurrent callers by falling back.
class TeamTest {
    @Test
    void everyBandRunsOnceOnItsOwnThread() {
        for (int rep = 0; rep < 200; rep++) {
            int bands = 1 + rep % 4;
            AtomicIntegerArray runs = new AtomicIntegerArray(bands);
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            Team.run(bands, i -> {
                runs.incrementAndGet(i);
                threads.add(Thread.currentThread());
            });
            for (int i = 0; i < bands; i++) assertEquals(1, runs.get(i), "band " + i + " of " + bands);
            assertEquals(bands, threads.size(), "one thread per band");
        }
    }

    @Test
    void aFailingBandReachesTheCallerAndTheTeamRecovers() {
        IllegalStateException boom = new IllegalStateException("band 1");
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> Team.run(2, i -> {
            if (i == 1) throw boom;
        }));
        assertSame(boom, thrown);
        AtomicIntegerArray runs = new AtomicIntegerArray(2);
        Team.run(2, runs::incrementAndGet);
        assertEquals(1, runs.get(0));
        assertEquals(1, runs.get(1));
    }

    /// Inside every band of a split (the caller's band 0 and the helpers') splits run inline on the
    /// band's own thread, also under [Parallel#onTeam]; outside the bands nothing of this stays set.
    @Test
    void splitBandsRunTheirSplitsInline() {
        Parallel.setThreads(2);
        try {
            for (boolean scoped : new boolean[] {false, true}) {
                AtomicIntegerArray inlineSplits = new AtomicIntegerArray(2);
                Runnable job = () -> {
                    if (scoped) assertTrue(Parallel.inTeamScope());
                    Team.split(2, i -> {
                        Thread band = Thread.currentThread();
                        Set<Thread> inner = ConcurrentHashMap.newKeySet();
                        Parallel.forRange(64, 1, (s, e) -> inner.add(Thread.currentThread()));
                        if (Parallel.nested() && !Parallel.inTeamScope() && inner.equals(Set.of(band))) {
                            inlineSplits.incrementAndGet(i);
                        }
                    });
                    assertEquals(scoped, Parallel.inTeamScope());
                };
                if (scoped) Parallel.onTeam(() -> { job.run(); return null; });
                else job.run();
                assertEquals(1, inlineSplits.get(0), "caller's band, scoped " + scoped);
                assertEquals(1, inlineSplits.get(1), "helper's band, scoped " + scoped);
                assertFalse(Parallel.nested(), "after the split");
            }
        } finally {
            Parallel.setThreads(Runtime.getRuntime().availableProcessors());
        }
    }

    @Test
    void nestedAndConcurrentCallsStillRunEveryBand() throws Exception {
        AtomicIntegerArray inner = new AtomicIntegerArray(6);
        Team.run(2, i -> Team.run(3, j -> inner.incrementAndGet(3 * i + j)));
        for (int i = 0; i < 6; i++) assertEquals(1, inner.get(i));
        AtomicIntegerArray runs = new AtomicIntegerArray(2 * 3);
        Thread[] callers = new Thread[3];
        for (int c = 0; c < 3; c++) {
            int id = c;
            callers[c] = new Thread(() -> {
                for (int rep = 0; rep < 100; rep++) Team.run(2, i -> runs.incrementAndGet(2 * id + i));
            });
            callers[c].start();
        }
        for (Thread t : callers) t.join();
        for (int i = 0; i < 6; i++) assertEquals(100, runs.get(i));
    }
}
