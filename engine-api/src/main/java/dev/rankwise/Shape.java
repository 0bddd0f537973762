package dev.rankwise;

import java.util.Arrays;

/// Shape arithmetic on `int[]` dims: element counts, contiguous strides, broadcasting.
/// Shapes are plain arrays so hot paths allocate nothing extra; these helpers never modify their inputs.
public final class Shape {
    private Shape() {}

    public static final int[] SCALAR = new int[0];

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /// Row-major strides of a contiguous tensor of this shape.
    public static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(shape[i], 1);
        }
        return s;
    }

    /// True when `strides` lay out `shape` in row-major order without gaps (size-1 dims may have any stride).
    public static boolean isContiguous(int[] shape, int[] strides) {
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /// Equal shapes (a plain loop: faster than `Arrays.equals` for the few dims shapes have).
    public static boolean same(int[] a, int[] b) {
        if (a.length != b.length) return false;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    /// NumPy broadcasting of two shapes; `op` names the caller in the error.
    public static int[] broadcast(String op, int[] a, int[] b) {
        if (same(a, b)) return a.clone();
        int n = Math.max(a.length, b.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int da = i < n - a.length ? 1 : a[i - (n - a.length)];
            int db = i < n - b.length ? 1 : b[i - (n - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b)
                        + " do not broadcast (dim " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /// Normalizes a possibly negative dim against a rank; `op` names the caller in the error.
    public static int dim(String op, int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new IllegalArgumentException(op + ": dim " + dim + " out of range for a tensor of rank " + rank);
        }
        return d;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    public static int[] of(int... dims) {
        return dims.clone();
    }
}
