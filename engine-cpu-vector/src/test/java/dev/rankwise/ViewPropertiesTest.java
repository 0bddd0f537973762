package dev.rankwise;

import dev.rankwise.autograd.GradMode;
import dev.rankwise.ops.BinaryOp;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/// Views and broadcasting against an independent model: a view is the list, in row-major order, of
/// the positions of its elements in the base tensor's storage, computed by plain index arithmetic
/// ([Model]). Random chains of reshape/view, permute/transpose, narrow/select, expand,
/// squeeze/unsqueeze and contiguous are applied to a tensor and to the model side by side; after
/// every step the shape and the values must agree, true views must share storage, and a write
/// through the final view must land exactly on the model's positions of the base.
class ViewPropertiesTest {
    /// A view as the base positions of its elements (row-major over `shape`). `copies` counts the copies
    /// between it and the base (after one, positions no longer refer to the base's storage).
    record Model(int[] shape, int[] pos, int copies) {
        static Model of(int[] shape) {
            int[] p = new int[(int) Shape.numel(shape)];
            for (int i = 0; i < p.length; i++) p[i] = i;
            return new Model(shape, p, 0);
        }

        int numel() {
            return pos.length;
        }

        /// Row-major multi-index of flat index `flat`.
        static int[] unravel(int flat, int[] shape) {
            int[] idx = new int[shape.length];
            for (int d = shape.length - 1; d >= 0; d--) {
                idx[d] = shape[d] == 0 ? 0 : flat % shape[d];
                flat = shape[d] == 0 ? 0 : flat / shape[d];
            }
            return idx;
        }

        static int ravel(int[] idx, int[] shape) {
            int f = 0;
            for (int d = 0; d < shape.length; d++) f = f * shape[d] + idx[d];
            return f;
        }

        /// Builds a model of `newShape` whose element at multi-index j is this model's element at `src(j)`.
        Model map(int[] newShape, java.util.function.Function<int[], int[]> src) {
            int[] p = new int[(int) Shape.numel(newShape)];
            for (int i = 0; i < p.length; i++) p[i] = pos[ravel(src.apply(unravel(i, newShape)), shape)];
            return new Model(newShape, p, copies);
        }

        Model permute(int[] perm) {
            int[] s = new int[perm.length];
            for (int i = 0; i < perm.length; i++) s[i] = shape[perm[i]];
            return map(s, j -> {
                int[] k = new int[perm.length];
                for (int i = 0; i < perm.length; i++) k[perm[i]] = j[i];
                return k;
            });
        }

        Model narrow(int dim, int start, int len) {
            int[] s = shape.clone();
            s[dim] = len;
            return map(s, j -> {
                int[] k = j.clone();
                k[dim] += start;
                return k;
            });
        }

        Model expand(int[] target) {
            int lead = target.length - shape.length;
            return map(target, j -> {
                int[] k = new int[shape.length];
                for (int i = 0; i < shape.length; i++) k[i] = shape[i] == 1 ? 0 : j[i + lead];
                return k;
            });
        }

        /// Reshape keeps row-major order, so the positions stay and only the shape changes.
        Model reshape(int[] s) {
            return new Model(s, pos, copies);
        }

        Model copy() {
            return new Model(shape, pos, copies + 1);
        }
    }

    private static int[] randomShape(Random r, int rank, int maxDim) {
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) s[i] = 1 + r.nextInt(maxDim);
        return s;
    }

    private static void assertAgrees(Tensor t, Model m, double[] base, String step) {
        assertArrayEquals(m.shape(), t.shape(), step + ": shape");
        double[] v = t.toDoubleArray();
        assertEquals(m.numel(), v.length, step);
        if (m.copies() == 0) for (int i = 0; i < v.length; i++) assertEquals(base[m.pos()[i]], v[i], step + ": element " + i);
    }

    /// One random view step applied to both; returns the new pair, or null when no step fits.
    private static Object[] step(Random r, Tensor t, Model m, StringBuilder log) {
        int rank = t.rank();
        int[] s = t.shape();
        switch (r.nextInt(9)) {
            case 0 -> { // permute
                if (rank < 2) return null;
                int[] perm = new int[rank];
                for (int i = 0; i < rank; i++) perm[i] = i;
                for (int i = rank - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1), x = perm[i];
                    perm[i] = perm[j];
                    perm[j] = x;
                }
                log.append(" permute").append(Arrays.toString(perm));
                return new Object[] {t.permute(perm), m.permute(perm), true};
            }
            case 1 -> { // transpose, with negative dims
                if (rank < 2) return null;
                int a = r.nextInt(rank), b = r.nextInt(rank);
                int[] perm = new int[rank];
                for (int i = 0; i < rank; i++) perm[i] = i;
                perm[a] = b;
                perm[b] = a;
                log.append(" transpose(").append(a - rank).append(',').append(b).append(')');
                return new Object[] {t.transpose(a - rank, b), m.permute(perm), true};
            }
            case 2 -> { // narrow
                if (rank == 0) return null;
                int d = r.nextInt(rank), start = r.nextInt(s[d] + 1), len = r.nextInt(s[d] - start + 1);
                log.append(" narrow(").append(d).append(',').append(start).append(',').append(len).append(')');
                return new Object[] {t.narrow(d, start, len), m.narrow(d, start, len), true};
            }
            case 3 -> { // select
                if (rank == 0) return null;
                int d = r.nextInt(rank);
                if (s[d] == 0) return null;
                int i = r.nextInt(s[d]);
                int[] ns = new int[rank - 1];
                for (int k = 0, j = 0; k < rank; k++) if (k != d) ns[j++] = s[k];
                log.append(" select(").append(d).append(',').append(i).append(')');
                return new Object[] {t.select(d, i), m.narrow(d, i, 1).reshape(ns), true};
            }
            case 4 -> { // expand size-1 dims and maybe add a leading dim
                int[] target = new int[rank + (r.nextBoolean() ? 1 : 0)];
                int lead = target.length - rank;
                for (int i = 0; i < target.length; i++) {
                    if (i < lead) target[i] = 1 + r.nextInt(3);
                    else target[i] = s[i - lead] == 1 ? 1 + r.nextInt(3) : s[i - lead];
                }
                log.append(" expand").append(Arrays.toString(target));
                return new Object[] {t.expand(target), m.expand(target), true};
            }
            case 5 -> { // unsqueeze
                if (rank >= 5) return null;
                int d = r.nextInt(rank + 1);
                int[] ns = new int[rank + 1];
                for (int i = 0, j = 0; i <= rank; i++) ns[i] = i == d ? 1 : s[j++];
                log.append(" unsqueeze(").append(d).append(')');
                return new Object[] {t.unsqueeze(d), m.reshape(ns), true};
            }
            case 6 -> { // squeeze (a no-op on dims that are not 1)
                if (rank == 0) return null;
                int d = r.nextInt(rank);
                int[] ns = s[d] != 1 ? s : new int[rank - 1];
                if (s[d] == 1) for (int i = 0, j = 0; i < rank; i++) if (i != d) ns[j++] = s[i];
                log.append(" squeeze(").append(d).append(')');
                return new Object[] {t.squeeze(d), m.reshape(ns), true};
            }
            case 7 -> { // reshape into a random factorization: a view exactly when the tensor is contiguous
                int n = (int) t.numel();
                int[] ns = OpCatalog.factor(r, n);
                log.append(" reshape").append(Arrays.toString(ns));
                Tensor out = t.reshape(ns);
                // A view whenever the strides allow one; always for a contiguous tensor. Whether the
                // view is right is checked by the values and by the final write through it.
                boolean view = out.storage() == t.storage();
                if (t.isContiguous()) assertTrue(view, log + ": reshape of a contiguous tensor is a view");
                if (!view) assertThrows(IllegalStateException.class, () -> t.view(ns), log + ": view() refuses what needs a copy");
                return new Object[] {out, view ? m.reshape(ns) : m.copy().reshape(ns), view};
            }
            default -> { // contiguous: the same tensor when already contiguous, else a copy
                boolean was = t.isContiguous();
                log.append(" contiguous");
                Tensor c = t.contiguous();
                assertEquals(was, c == t, "contiguous() copies exactly when needed");
                assertTrue(c.isContiguous());
                return new Object[] {c, was ? m : m.copy(), was};
            }
        }
    }

    @Property(tries = 200)
    void viewChainsMatchTheIndexModel(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int seed) {
        Random r = new Random(seed);
        int[] shape = randomShape(r, 1 + r.nextInt(4), 4);
        if (r.nextInt(8) == 0) shape[r.nextInt(shape.length)] = 0;          // sometimes empty
        DType dt = r.nextBoolean() ? DType.F64 : DType.F32;
        double[] base = new double[(int) Shape.numel(shape)];
        for (int i = 0; i < base.length; i++) base[i] = i + 1;
        Tensor baseTensor = Tensor.fromArray(base, shape).to(dt), t = baseTensor;
        Model m = Model.of(shape);
        StringBuilder log = new StringBuilder("seed " + seed + " shape " + Arrays.toString(shape) + " " + dt + ":");
        boolean sharesStorage = true;
        for (int k = 0; k < 8; k++) {
            Object[] next = step(r, t, m, log);
            if (next == null) continue;
            Tensor nt = (Tensor) next[0];
            boolean view = (Boolean) next[2];
            if (view && nt.numel() > 0) assertSame(t.storage(), nt.storage(), log + ": a view shares storage");
            if (!view && t.numel() > 0) assertNotSame(t.storage(), nt.storage(), log + ": a copy has its own storage");
            sharesStorage &= view;
            t = nt;
            m = (Model) next[1];
            assertAgrees(t, m, base, log.toString());
        }
        // Writing through a view changes exactly the base elements it covers (to the same value where
        // an expanded view covers one element several times).
        if (sharesStorage && t.numel() > 0) {
            double[] expected = base.clone();
            for (int p : m.pos()) expected[p] = -1;
            try (var ignored = GradMode.noGrad()) {
                t.fill(-1);
            }
            assertArrayEquals(expected, baseTensor.toDoubleArray(), log + ": write through the view");
        }
    }

    /// Every binary op on randomly broadcast, randomly laid out operands equals the op applied at the
    /// broadcast indices, bit for bit (the scalar F64 definition is the reference).
    @Property(tries = 150)
    void broadcastingMatchesTheIndexModel(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int seed) {
        Random r = new Random(seed);
        int rank = 1 + r.nextInt(4);
        int[] out = randomShape(r, rank, 4);
        int[] sa = Arrays.copyOfRange(out, r.nextInt(rank + 1), rank), sb = Arrays.copyOfRange(out, r.nextInt(rank + 1), rank);
        for (int i = 0; i < sa.length; i++) if (r.nextInt(3) == 0) sa[i] = 1;
        for (int i = 0; i < sb.length; i++) if (r.nextInt(3) == 0) sb[i] = 1;
        BinaryOp op = BinaryOp.values()[r.nextInt(BinaryOp.values().length)];
        DType dt = r.nextBoolean() ? DType.F64 : DType.F32;
        Tensor a = laidOut(r, sa, dt, op == BinaryOp.POW), b = laidOut(r, sb, dt, false);
        Tensor c = switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case POW -> a.pow(b);
            case MAX -> a.maximum(b);
            case MIN -> a.minimum(b);
            case GT -> a.gt(b);
            case GE -> a.ge(b);
            case LT -> a.lt(b);
            case LE -> a.le(b);
            case EQ -> a.eq(b);
        };
        int[] shape = Shape.broadcast("test", sa, sb);
        assertArrayEquals(shape, c.shape());
        double[] av = a.toDoubleArray(), bv = b.toDoubleArray(), cv = c.toDoubleArray();
        for (int flat = 0; flat < cv.length; flat++) {
            int[] idx = Model.unravel(flat, shape);
            double x = av[broadcastIndex(idx, sa)], y = bv[broadcastIndex(idx, sb)];
            double expected = dt == DType.F64 ? op.apply(x, y) : (float) op.apply((float) x, (float) y);
            assertEquals(expected, cv[flat], op + " at " + Arrays.toString(idx) + " of " + Arrays.toString(sa) + " and " + Arrays.toString(sb));
        }
    }

    /// Row-major position in a tensor of `shape` of the broadcast index `idx` (aligned at the right).
    private static int broadcastIndex(int[] idx, int[] shape) {
        int lead = idx.length - shape.length, off = 0;
        for (int d = 0; d < shape.length; d++) off = off * shape[d] + (shape[d] == 1 ? 0 : idx[lead + d]);
        return off;
    }

    /// A tensor of `shape` with random values (a few repeated, so comparisons see ties), laid out
    /// contiguous, transposed, narrowed from a larger tensor or expanded from a size-1 dim.
    private static Tensor laidOut(Random r, int[] shape, DType dt, boolean positive) {
        double[] v = new double[(int) Shape.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(4) == 0 ? 1.0 : r.nextGaussian();
            if (positive) v[i] = Math.abs(v[i]) + 0.1;
        }
        Tensor t = Tensor.fromArray(v, shape).to(dt);
        int rank = shape.length;
        switch (r.nextInt(4)) {
            case 1 -> { // transposed storage
                if (rank >= 2) t = t.transpose(0, rank - 1).contiguous().transpose(0, rank - 1);
            }
            case 2 -> { // narrowed from a wider tensor
                if (rank >= 1) {
                    int[] wide = shape.clone();
                    wide[rank - 1] += 2;
                    Tensor w = Tensor.zeros(dt, wide);
                    try (var ignored = GradMode.noGrad()) {
                        w.narrow(rank - 1, 1, shape[rank - 1]).copyFrom(t);
                    }
                    t = w.narrow(rank - 1, 1, shape[rank - 1]);
                }
            }
            case 3 -> { // expanded along a size-1 dim: all its values equal
                for (int d = 0; d < rank; d++) {
                    if (shape[d] > 1) {
                        t = t.narrow(d, 0, 1).expand(shape);
                        break;
                    }
                }
            }
            default -> { }
        }
        return t;
    }
}
