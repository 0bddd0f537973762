package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;

import java.util.concurrent.ForkJoinTask;
import java.util.function.Consumer;

/// Plane rotations recorded by a scalar QR iteration, to be applied later, in order, to a set of
/// vectors: rotation (j, c, s) maps `x_j ← c·x_j + s·x_{j+1}` and `x_{j+1} ← c·x_{j+1} − s·x_j`.
///
/// Recording instead of applying at once lets [RotationsF64]/[RotationsF32] apply thousands of
/// rotations to one cache-sized slice of the vectors before moving to the next, so the vectors stream
/// through memory once per batch instead of once per sweep. When the log is full it hands itself to
/// `apply` and starts over.
///
/// An asynchronous log hands each full batch to the pool and goes on recording into a second buffer,
/// so the scalar iteration runs while the vectors are rotated (batches of one log still apply in
/// order: a flush first waits for the batch before it). [#await] waits for the last one.
final class RotationLog {
    int size;
    int[] index;
    double[] c, s;
    private final Consumer<RotationLog> apply;
    private final boolean async;
    /// Async: the batch handed to the pool, and its task.
    private RotationLog batch;
    private ForkJoinTask<?> pending;

    RotationLog(int capacity, Consumer<RotationLog> apply) {
        this(capacity, apply, false);
    }

    /// `async` is honoured only when the pool has a second thread and the caller is not one of its
    /// workers (there the outer split already uses every thread).
    RotationLog(int capacity, Consumer<RotationLog> apply, boolean async) {
        this.index = new int[capacity];
        this.c = new double[capacity];
        this.s = new double[capacity];
        this.apply = apply;
        this.async = async && Parallel.threads() > 1 && !Parallel.nested();
    }

    void add(int j, double cj, double sj) {
        if (sj == 0 && cj == 1) return;
        index[size] = j;
        c[size] = cj;
        s[size] = sj;
        if (++size == index.length) flush();
    }

    /// Applies (or, async, starts applying) and forgets what is recorded.
    void flush() {
        if (size > 0) {
            if (!async) {
                apply.accept(this);
            } else {
                await();
                if (batch == null) batch = new RotationLog(index.length, apply);
                int[] ti = batch.index;
                double[] tc = batch.c, ts = batch.s;
                batch.index = index;
                batch.c = c;
                batch.s = s;
                batch.size = size;
                index = ti;
                c = tc;
                s = ts;
                RotationLog b = batch;
                pending = Parallel.pool().submit(() -> apply.accept(b));
            }
        }
        size = 0;
    }

    /// Waits until every flushed batch has been applied.
    void await() {
        if (pending != null) {
            ForkJoinTask<?> p = pending;
            pending = null;
            p.join();
        }
    }
}
