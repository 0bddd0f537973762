package dev.rankwise.cpu.linalg;

import java.util.function.Consumer;

/// Plane rotations recorded by a scalar QR iteration, to be applied later, in order, to a set of
/// vectors: rotation (j, c, s) maps `x_j ← c·x_j + s·x_{j+1}` and `x_{j+1} ← c·x_{j+1} − s·x_j`.
///
/// Recording instead of applying at once lets [RotationsF64]/[RotationsF32] apply thousands of
/// rotations to one cache-sized slice of the vectors before moving to the next, so the vectors stream
/// through memory once per batch instead of once per sweep. When the log is full it hands itself to
/// `apply` and starts over.
final class RotationLog {
    int size;
    final int[] index;
    final double[] c, s;
    private final Consumer<RotationLog> apply;

    RotationLog(int capacity, Consumer<RotationLog> apply) {
        this.index = new int[capacity];
        this.c = new double[capacity];
        this.s = new double[capacity];
        this.apply = apply;
    }

    void add(int j, double cj, double sj) {
        if (sj == 0 && cj == 1) return;
        index[size] = j;
        c[size] = cj;
        s[size] = sj;
        if (++size == index.length) flush();
    }

    /// Applies and forgets what is recorded.
    void flush() {
        if (size > 0) apply.accept(this);
        size = 0;
    }
}
