package dev.rankwise.cpu.linalg;

import dev.rankwise.cpu.Parallel;
import dev.rankwise.cpu.gemm.Gemm;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/// Level-1/2 kernels and a column-major GEMM for the F64 decompositions. Matrices here are
/// column-major (LAPACK's layout, so the algorithms read as published): element (i, j) of a matrix at
/// offset `o` with leading dimension `ld` is `a[o + i + j·ld]`, and columns are contiguous.
/// Hand-written; `BlasF32` is generated from this file.
final class BlasF64 {
    private BlasF64() {}

    static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /// Below this many matrix elements a GEMV runs on the calling thread: handing work to the pool
    /// costs tens of microseconds, and a bandwidth-bound GEMV gains well under 2× from a second core.
    private static final int PARALLEL_GEMV = 1 << 20;
    /// Triangle elements above which a SYMV is split over threads. Measured on the 2-core KVM machine
    /// (F32, one Sapphire Rapids socket shared with other guests): a single thread streams the triangle
    /// at about 25 GB/s and two threads together at no more (n = 1024–2048 took 329 µs on one thread,
    /// 366–414 µs on two), so the split only pays on matrices beyond that range.
    private static final int PARALLEL_SYMV = 1 << 22;
    /// The same inside a [Parallel#onTeam] scope, where the halves go to the spinning team and each
    /// core streams its part of the triangle from its own L2 (F32 eigh, 2 threads, tridiagonal
    /// reduction with the SYMVs split from n = 512 down: n = 1024 44 → 37 ms; split from n = 256 down
    /// instead, n = 512 took 6.8 → 7.1 ms).
    private static final long TEAM_SYMV = 1L << 17;

    /// C = alpha·op(A)·op(B) + beta·C on column-major operands (C is m×n): the row-major GEMM computes
    /// Cᵀ = op(B)ᵀ·op(A)ᵀ on the same arrays.
    static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] a, int oa, int lda,
                     double[] b, int ob, int ldb, double beta, double[] c, int oc, int ldc) {
        if (m == 0 || n == 0) return;
        Gemm.dgemm(transB, transA, n, m, k, alpha, b, ob, ldb, a, oa, lda, beta, c, oc, ldc);
    }

    /// The lanes of `v` summed in a fixed order: lane i is added to lane i ^ h for h = L/2, …, 1 (a
    /// butterfly of constant shuffles), then lane 0 is read. `reduceLanes(ADD)` leaves the order open,
    /// and the intrinsic's order differs from its Java fallback, so a result would depend on whether the
    /// JIT had compiled the caller yet: the same seed gave different last bits from call to call. A
    /// sequential lane-by-lane sum is as deterministic but cost 3–4% of an eigh at n = 512.
    static double sumLanes(DoubleVector v) {
        for (VectorShuffle<Double> swap : BUTTERFLY) v = v.add(v.rearrange(swap));
        return v.lane(0);
    }

    /// The product of `v`'s lanes in the same fixed order as [#sumLanes].
    static double productLanes(DoubleVector v) {
        for (VectorShuffle<Double> swap : BUTTERFLY) v = v.mul(v.rearrange(swap));
        return v.lane(0);
    }

    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Double>[] BUTTERFLY = java.util.stream.IntStream
            .iterate(L / 2, h -> h >= 1, h -> h / 2)
            .mapToObj(h -> VectorShuffle.fromOp(S, i -> i ^ h))
            .toArray(VectorShuffle[]::new);

    static double dot(int n, double[] x, int ox, double[] y, int oy) {
        int i = 0;
        DoubleVector acc = DoubleVector.zero(S), acc2 = DoubleVector.zero(S);
        for (; i + 2 * L <= n; i += 2 * L) {
            acc = DoubleVector.fromArray(S, x, ox + i).fma(DoubleVector.fromArray(S, y, oy + i), acc);
            acc2 = DoubleVector.fromArray(S, x, ox + i + L).fma(DoubleVector.fromArray(S, y, oy + i + L), acc2);
        }
        double sum = sumLanes(acc.add(acc2));
        for (; i < n; i++) sum += x[ox + i] * y[oy + i];
        return sum;
    }

    /// y += a·x.
    static void axpy(int n, double a, double[] x, int ox, double[] y, int oy) {
        if (a == 0) return;
        int i = 0;
        DoubleVector av = DoubleVector.broadcast(S, a);
        for (; i + L <= n; i += L) {
            av.fma(DoubleVector.fromArray(S, x, ox + i), DoubleVector.fromArray(S, y, oy + i)).intoArray(y, oy + i);
        }
        for (; i < n; i++) y[oy + i] += a * x[ox + i];
    }

    static void scal(int n, double a, double[] x, int ox) {
        int i = 0;
        DoubleVector av = DoubleVector.broadcast(S, a);
        for (; i + L <= n; i += L) DoubleVector.fromArray(S, x, ox + i).mul(av).intoArray(x, ox + i);
        for (; i < n; i++) x[ox + i] *= a;
    }

    /// ‖x‖₂ of a strided vector, accumulated in double and rescaled when the plain sum of squares
    /// would overflow or underflow.
    static /*keep*/double nrm2(int n, double[] x, int ox, int inc) {
        /*keep*/double ss = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            /*keep*/double v = x[ox + i * inc];
            ss += v * v;
            amax = Math.max(amax, Math.abs(v));
        }
        if (amax == 0) return 0;
        if (ss > 0x1p-900 && ss < 0x1p900) return Math.sqrt(ss);
        ss = 0;
        for (int i = 0; i < n; i++) {
            /*keep*/double v = x[ox + i * inc] / amax;
            ss += v * v;
        }
        return amax * Math.sqrt(ss);
    }

    /// y[0:m] += alpha·A·x for A m×n (y contiguous, x strided by incx); split over rows when large.
    static void gemvN(int m, int n, double alpha, double[] a, int oa, int lda, double[] x, int ox, int incx, double[] y, int oy) {
        if (m <= 0 || n <= 0) return;
        if ((long) m * n < PARALLEL_GEMV || Parallel.threads() == 1 || m < 4 * L) {
            gemvNRows(0, m, n, alpha, a, oa, lda, x, ox, incx, y, oy);
            return;
        }
        int parts = Parallel.threads();
        Parallel.forRange(parts, 1, (s, e) -> {
            for (int p = s; p < e; p++) {
                int r0 = rowSplit(m, parts, p), r1 = rowSplit(m, parts, p + 1);
                gemvNRows(r0, r1, n, alpha, a, oa, lda, x, ox, incx, y, oy);
            }
        });
    }

    private static int rowSplit(int m, int parts, int p) {
        return p == parts ? m : Math.min(m, (int) ((long) m * p / parts) / L * L);
    }

    private static void gemvNRows(int r0, int r1, int n, double alpha, double[] a, int oa, int lda, double[] x, int ox, int incx,
                                  double[] y, int oy) {
        // Four columns at a time: one load/store of y per four FMAs.
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            double x0 = alpha * x[ox + j * incx], x1 = alpha * x[ox + (j + 1) * incx];
            double x2 = alpha * x[ox + (j + 2) * incx], x3 = alpha * x[ox + (j + 3) * incx];
            int c0 = oa + j * lda, c1 = c0 + lda, c2 = c1 + lda, c3 = c2 + lda;
            DoubleVector v0 = DoubleVector.broadcast(S, x0), v1 = DoubleVector.broadcast(S, x1);
            DoubleVector v2 = DoubleVector.broadcast(S, x2), v3 = DoubleVector.broadcast(S, x3);
            int i = r0;
            for (; i + L <= r1; i += L) {
                DoubleVector acc = DoubleVector.fromArray(S, y, oy + i);
                acc = v0.fma(DoubleVector.fromArray(S, a, c0 + i), acc);
                acc = v1.fma(DoubleVector.fromArray(S, a, c1 + i), acc);
                acc = v2.fma(DoubleVector.fromArray(S, a, c2 + i), acc);
                acc = v3.fma(DoubleVector.fromArray(S, a, c3 + i), acc);
                acc.intoArray(y, oy + i);
            }
            for (; i < r1; i++) y[oy + i] += x0 * a[c0 + i] + x1 * a[c1 + i] + x2 * a[c2 + i] + x3 * a[c3 + i];
        }
        for (; j < n; j++) axpy(r1 - r0, alpha * x[ox + j * incx], a, oa + j * lda + r0, y, oy + r0);
    }

    /// y[j·incy] += alpha·A(:, j)ᵀ·x for A m×n (x contiguous); split over columns when large.
    static void gemvT(int m, int n, double alpha, double[] a, int oa, int lda, double[] x, int ox, double[] y, int oy, int incy) {
        if (m <= 0 || n <= 0) return;
        if ((long) m * n < PARALLEL_GEMV || Parallel.threads() == 1) {
            gemvTCols(0, n, m, alpha, a, oa, lda, x, ox, y, oy, incy);
            return;
        }
        int parts = Math.min(n, Parallel.threads());
        Parallel.forRange(parts, 1, (s, e) -> {
            for (int p = s; p < e; p++) {
                gemvTCols((int) ((long) n * p / parts), (int) ((long) n * (p + 1) / parts), m, alpha, a, oa, lda, x, ox, y, oy, incy);
            }
        });
    }

    private static void gemvTCols(int c0, int c1, int m, double alpha, double[] a, int oa, int lda, double[] x, int ox,
                                  double[] y, int oy, int incy) {
        // Four columns at a time share each load of x.
        int j = c0;
        for (; j + 4 <= c1; j += 4) {
            int a0 = oa + j * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
            DoubleVector s0 = DoubleVector.zero(S), s1 = DoubleVector.zero(S), s2 = DoubleVector.zero(S), s3 = DoubleVector.zero(S);
            int i = 0;
            for (; i + L <= m; i += L) {
                DoubleVector xv = DoubleVector.fromArray(S, x, ox + i);
                s0 = DoubleVector.fromArray(S, a, a0 + i).fma(xv, s0);
                s1 = DoubleVector.fromArray(S, a, a1 + i).fma(xv, s1);
                s2 = DoubleVector.fromArray(S, a, a2 + i).fma(xv, s2);
                s3 = DoubleVector.fromArray(S, a, a3 + i).fma(xv, s3);
            }
            double t0 = sumLanes(s0), t1 = sumLanes(s1);
            double t2 = sumLanes(s2), t3 = sumLanes(s3);
            for (; i < m; i++) {
                double xi = x[ox + i];
                t0 += a[a0 + i] * xi;
                t1 += a[a1 + i] * xi;
                t2 += a[a2 + i] * xi;
                t3 += a[a3 + i] * xi;
            }
            y[oy + j * incy] += alpha * t0;
            y[oy + (j + 1) * incy] += alpha * t1;
            y[oy + (j + 2) * incy] += alpha * t2;
            y[oy + (j + 3) * incy] += alpha * t3;
        }
        for (; j < c1; j++) y[oy + j * incy] += alpha * dot(m, a, oa + j * lda, x, ox);
    }

    /// y = A·x for symmetric A n×n of which only the lower triangle is read (x, y contiguous, y
    /// overwritten). One pass over each column does both its dot product and its axpy.
    static void symvLower(int n, double[] a, int oa, int lda, double[] x, int ox, double[] y, int oy) {
        long limit = Parallel.inTeamScope() ? TEAM_SYMV : PARALLEL_SYMV;
        int parts = (long) n * n / 2 < limit ? 1 : Parallel.threads();
        if (parts == 1) {
            java.util.Arrays.fill(y, oy, oy + n, 0);
            symvCols(0, n, n, a, oa, lda, x, ox, y, oy);
            return;
        }
        // Columns split so each part holds about the same share of the triangle; private accumulators.
        double[][] acc = new double[parts][n];
        RangeTask part = (s, e) -> {
            for (int p = s; p < e; p++) symvCols(triangleSplit(n, parts, p), triangleSplit(n, parts, p + 1), n, a, oa, lda, x, ox, acc[p], 0);
        };
        if (parts == 2) Fork.both(() -> part.run(0, 1), () -> part.run(1, 2));
        else Parallel.forRange(parts, 1, part::run);
        for (int i = 0; i < n; i++) {
            double v = 0;
            for (int p = 0; p < parts; p++) v += acc[p][i];
            y[oy + i] = v;
        }
    }

    private static int triangleSplit(int n, int parts, int p) {
        if (p == 0) return 0;
        if (p == parts) return n;
        // Columns [0, c) of the lower triangle hold n·c − c²/2 elements; solve for a 1/parts share.
        double frac = (double) p / parts;
        return (int) Math.round(n * (1 - Math.sqrt(1 - frac)));
    }

    private static void symvCols(int c0, int c1, int n, double[] a, int oa, int lda, double[] x, int ox, double[] y, int oy) {
        int j = c0;
        // Four columns at a time: each load of x and each load/store of y serves four columns.
        for (; j + 4 <= c1; j += 4) {
            int a0 = oa + j * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
            double x0 = x[ox + j], x1 = x[ox + j + 1], x2 = x[ox + j + 2], x3 = x[ox + j + 3];
            // The 4×4 triangle on the diagonal.
            double t0 = a[a0 + j] * x0 + a[a0 + j + 1] * x1 + a[a0 + j + 2] * x2 + a[a0 + j + 3] * x3;
            double t1 = a[a0 + j + 1] * x0 + a[a1 + j + 1] * x1 + a[a1 + j + 2] * x2 + a[a1 + j + 3] * x3;
            double t2 = a[a0 + j + 2] * x0 + a[a1 + j + 2] * x1 + a[a2 + j + 2] * x2 + a[a2 + j + 3] * x3;
            double t3 = a[a0 + j + 3] * x0 + a[a1 + j + 3] * x1 + a[a2 + j + 3] * x2 + a[a3 + j + 3] * x3;
            DoubleVector v0 = DoubleVector.broadcast(S, x0), v1 = DoubleVector.broadcast(S, x1);
            DoubleVector v2 = DoubleVector.broadcast(S, x2), v3 = DoubleVector.broadcast(S, x3);
            DoubleVector s0 = DoubleVector.zero(S), s1 = DoubleVector.zero(S), s2 = DoubleVector.zero(S), s3 = DoubleVector.zero(S);
            int i = j + 4;
            for (; i + L <= n; i += L) {
                DoubleVector xv = DoubleVector.fromArray(S, x, ox + i);
                DoubleVector p0 = DoubleVector.fromArray(S, a, a0 + i), p1 = DoubleVector.fromArray(S, a, a1 + i);
                DoubleVector p2 = DoubleVector.fromArray(S, a, a2 + i), p3 = DoubleVector.fromArray(S, a, a3 + i);
                s0 = p0.fma(xv, s0);
                s1 = p1.fma(xv, s1);
                s2 = p2.fma(xv, s2);
                s3 = p3.fma(xv, s3);
                DoubleVector yv = DoubleVector.fromArray(S, y, oy + i);
                yv = p0.fma(v0, yv);
                yv = p1.fma(v1, yv);
                yv = p2.fma(v2, yv);
                yv = p3.fma(v3, yv);
                yv.intoArray(y, oy + i);
            }
            t0 += sumLanes(s0);
            t1 += sumLanes(s1);
            t2 += sumLanes(s2);
            t3 += sumLanes(s3);
            for (; i < n; i++) {
                double xi = x[ox + i], p0 = a[a0 + i], p1 = a[a1 + i], p2 = a[a2 + i], p3 = a[a3 + i];
                t0 += p0 * xi;
                t1 += p1 * xi;
                t2 += p2 * xi;
                t3 += p3 * xi;
                y[oy + i] += p0 * x0 + p1 * x1 + p2 * x2 + p3 * x3;
            }
            y[oy + j] += t0;
            y[oy + j + 1] += t1;
            y[oy + j + 2] += t2;
            y[oy + j + 3] += t3;
        }
        for (; j < c1; j++) {
            int col = oa + j * lda;
            double xj = x[ox + j];
            DoubleVector xjv = DoubleVector.broadcast(S, xj);
            DoubleVector acc = DoubleVector.zero(S);
            int i = j + 1;
            for (; i + L <= n; i += L) {
                DoubleVector av = DoubleVector.fromArray(S, a, col + i);
                acc = av.fma(DoubleVector.fromArray(S, x, ox + i), acc);
                xjv.fma(av, DoubleVector.fromArray(S, y, oy + i)).intoArray(y, oy + i);
            }
            double t = sumLanes(acc);
            for (; i < n; i++) {
                t += a[col + i] * x[ox + i];
                y[oy + i] += xj * a[col + i];
            }
            y[oy + j] += a[col + j] * xj + t;
        }
    }

    @FunctionalInterface
    private interface RangeTask {
        void run(int start, int end);
    }

    /// dst (cols×rows, leading dim ldd) = srcᵀ for src rows×cols (leading dim lds), in cache tiles.
    static void transpose(int rows, int cols, double[] src, int os, int lds, double[] dst, int od, int ldd) {
        // 8×8 tiles: with power-of-two leading dimensions a tile's rows all fall into a few L1 sets,
        // and 32 of them (plus the source's) overflow those sets' ways; measured (F32, one thread) 2–3×
        // faster than 32×32 tiles at n = 512–2048, and faster than 16×16.
        final int tile = 8;
        for (int i0 = 0; i0 < rows; i0 += tile) {
            int i1 = Math.min(rows, i0 + tile);
            for (int j0 = 0; j0 < cols; j0 += tile) {
                int j1 = Math.min(cols, j0 + tile);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) dst[od + j * ldd + i] = src[os + i * lds + j];
                }
            }
        }
    }

    static double maxAbs(double[] a) {
        DoubleVector acc = DoubleVector.zero(S);
        int i = 0;
        for (; i + L <= a.length; i += L) acc = acc.max(DoubleVector.fromArray(S, a, i).abs());
        double m = acc.reduceLanes(jdk.incubator.vector.VectorOperators.MAX);
        for (; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
        return m;
    }

    /// a ·= 2^e, exactly: a product with a normal power of two rounds like scalb (only results in the
    /// subnormal range round at all), so it runs as a vector multiply while 2^e is normal.
    static void scale(double[] a, int e) {
        if (e == 0) return;
        double p = Math.scalb((double) 1, e);
        if (Math.getExponent(p) < Double.MIN_EXPONENT || Double.isInfinite(p)) {
            for (int i = 0; i < a.length; i++) a[i] = Math.scalb(a[i], e);
            return;
        }
        scal(a.length, p, a, 0);
    }
}
