package dev.rankwise;

import dev.rankwise.nn.Functional;
import dev.rankwise.nn.Losses;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/// Every differentiable op, as a generator of random trials for the backend contract: random shapes
/// with broadcasting, size-1 and (where the op allows) empty dims, and op parameters (dims, keepdim,
/// indices, split sizes) drawn from the same seeded generator, so a failure names a reproducible seed.
///
/// A case's name is the `Tensor` method (or `Functional`/`Losses` function) it covers;
/// `BackendContract.everyTensorOpHasACase` checks no public op is left out.
public final class OpCatalog {
    private OpCatalog() {}

    /// Where an input's values come from: standard normal; [0.5, 2.5) for log, sqrt, pow and division;
    /// normal pushed at least 0.2 away from 0 for ops with a kink there (abs, relu, sign, p-norms).
    public enum Domain { ANY, POSITIVE, AWAY_FROM_ZERO }

    /// One differentiable input: its logical shape and its domain.
    public record Input(int[] shape, Domain domain) {}

    /// One trial: the inputs, the function, and the number of terms an output element sums (1 for
    /// elementwise ops, the reduced extent for reductions, k for matmul), which scales the F32 tolerance.
    public record Trial(String what, List<Input> inputs, Function<List<Tensor>, Tensor> f, int terms) {}

    public record Case(String name, Function<Random, Trial> make) {}

    // ---------------------------------------------------------------- shapes

    /// Rank in [minRank, maxRank], dims in 1..4, and with probability 1/6 one dim 0 when `empty`.
    static int[] shape(Random r, int minRank, int maxRank, boolean empty) {
        int[] s = new int[minRank + r.nextInt(maxRank - minRank + 1)];
        for (int i = 0; i < s.length; i++) s[i] = 1 + r.nextInt(4);
        if (empty && s.length > 0 && r.nextInt(6) == 0) s[r.nextInt(s.length)] = 0;
        return s;
    }

    /// A suffix of `out` with some dims set to 1: a shape that broadcasts to `out`.
    static int[] broadcastable(Random r, int[] out) {
        int[] s = Arrays.copyOfRange(out, r.nextInt(out.length + 1), out.length);
        for (int i = 0; i < s.length; i++) if (r.nextInt(3) == 0) s[i] = 1;
        return s;
    }

    private static Input in(int[] shape, Domain d) {
        return new Input(shape, d);
    }

    private static String str(String name, int[]... shapes) {
        StringBuilder sb = new StringBuilder(name);
        for (int[] s : shapes) sb.append(' ').append(Arrays.toString(s));
        return sb.toString();
    }

    /// A random subset of `rank` dims (non-empty unless rank is 0).
    private static int[] dims(Random r, int rank) {
        List<Integer> d = new ArrayList<>();
        for (int i = 0; i < rank; i++) if (r.nextBoolean()) d.add(r.nextBoolean() ? i : i - rank);
        if (d.isEmpty() && rank > 0) d.add(r.nextInt(rank));
        return d.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int extent(int[] shape, int[] dims) {
        int n = 1;
        for (int d : dims) n *= shape[d < 0 ? d + shape.length : d];
        return n;
    }

    private static int[] ints(Random r, int n, int bound) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = r.nextInt(bound);
        return v;
    }

    // ---------------------------------------------------------------- case builders

    private static Case unary(String name, Domain d, UnaryOperator<Tensor> f) {
        return new Case(name, r -> {
            int[] s = shape(r, 0, 3, true);
            return new Trial(str(name, s), List.of(in(s, d)), t -> f.apply(t.get(0)), 1);
        });
    }

    private static Case binary(String name, Domain da, Domain db, BinaryOperator<Tensor> f) {
        return new Case(name, r -> {
            int[] out = shape(r, 1, 3, true);
            int[] sa = broadcastable(r, out), sb = broadcastable(r, out);
            return new Trial(str(name, sa, sb), List.of(in(sa, da), in(sb, db)), t -> f.apply(t.get(0), t.get(1)), 1);
        });
    }

    /// A reduction over random dims with random keepdim; `f` gets (x, dims, keepdim).
    private interface Reduction {
        Tensor apply(Tensor x, int[] dims, boolean keepdim);
    }

    private static Case reduction(String name, Domain d, boolean allowEmpty, int minExtent, Reduction f) {
        return new Case(name, r -> {
            while (true) {
                int[] s = shape(r, 1, 3, allowEmpty);
                int[] dims = dims(r, s.length);
                if (extent(s, dims) < minExtent) continue;
                boolean keep = r.nextBoolean();
                return new Trial(str(name, s) + " dims " + Arrays.toString(dims) + (keep ? " keepdim" : ""),
                        List.of(in(s, d)), t -> f.apply(t.get(0), dims, keep), Math.max(1, extent(s, dims)));
            }
        });
    }

    /// Along one dim that is not empty; `f` gets (x, dim, keepdim).
    private interface AlongDim {
        Tensor apply(Tensor x, int dim, boolean keepdim);
    }

    private static Case alongDim(String name, Domain d, AlongDim f) {
        return new Case(name, r -> {
            int[] s = shape(r, 1, 3, false);
            int dim = r.nextInt(s.length) - (r.nextBoolean() ? s.length : 0);
            boolean keep = r.nextBoolean();
            return new Trial(str(name, s) + " dim " + dim + (keep ? " keepdim" : ""), List.of(in(s, d)),
                    t -> f.apply(t.get(0), dim, keep), s[dim < 0 ? dim + s.length : dim]);
        });
    }

    // ---------------------------------------------------------------- the catalog

    public static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        Domain any = Domain.ANY, pos = Domain.POSITIVE, away = Domain.AWAY_FROM_ZERO;
        // Elementwise unary.
        c.add(unary("neg", any, Tensor::neg));
        c.add(unary("exp", any, Tensor::exp));
        c.add(unary("log", pos, Tensor::log));
        c.add(unary("sqrt", pos, Tensor::sqrt));
        c.add(unary("rsqrt", pos, Tensor::rsqrt));
        c.add(unary("abs", away, Tensor::abs));
        c.add(unary("sign", away, x -> x.sign().add(x)));
        c.add(unary("relu", away, Tensor::relu));
        c.add(unary("sigmoid", any, Tensor::sigmoid));
        c.add(unary("tanh", any, Tensor::tanh));
        c.add(unary("gelu", any, Tensor::gelu));
        c.add(unary("geluExact", any, Tensor::geluExact));
        c.add(unary("silu", any, Tensor::silu));
        c.add(unary("erf", any, Tensor::erf));
        c.add(unary("square", any, Tensor::square));
        c.add(unary("clamp", any, x -> x.clamp(-0.5, 0.7)));
        c.add(unary("pow", pos, x -> x.pow(2.5)));
        c.add(unary("pow", pos, x -> x.pow(-1.5)));
        c.add(unary("add", any, x -> x.add(1.5)));
        c.add(unary("sub", any, x -> x.sub(1.5)));
        c.add(unary("mul", any, x -> x.mul(-2.5)));
        c.add(unary("div", any, x -> x.div(-2.5)));
        c.add(unary("rsub", any, x -> x.rsub(1.5)));
        // Elementwise binary, with broadcasting.
        c.add(binary("add", any, any, Tensor::add));
        c.add(binary("sub", any, any, Tensor::sub));
        c.add(binary("mul", any, any, Tensor::mul));
        c.add(binary("div", any, pos, Tensor::div));
        c.add(binary("pow", pos, any, Tensor::pow));
        c.add(binary("maximum", any, any, Tensor::maximum));
        c.add(binary("minimum", any, any, Tensor::minimum));
        c.add(new Case("where", r -> {
            int[] out = shape(r, 1, 3, true);
            int[] sc = broadcastable(r, out), sa = broadcastable(r, out), sb = broadcastable(r, out);
            Tensor cond = Tensor.fromArray(ints(r, (int) Shape.numel(sc), 2), sc);
            return new Trial(str("where", sc, sa, sb), List.of(in(sa, any), in(sb, any)),
                    t -> Tensor.where(cond.to(t.get(0).device()), t.get(0), t.get(1)), 1);
        }));
        // Reductions.
        c.add(reduction("sum", any, true, 0, Tensor::sum));
        c.add(new Case("sum", r -> {
            int[] s = shape(r, 0, 3, true);
            return new Trial(str("sum all", s), List.of(in(s, any)), t -> t.get(0).sum(), (int) Math.max(1, Shape.numel(s)));
        }));
        c.add(reduction("mean", any, false, 1, Tensor::mean));
        c.add(new Case("mean", r -> {
            int[] s = shape(r, 0, 3, false);
            return new Trial(str("mean all", s), List.of(in(s, any)), t -> t.get(0).mean(), (int) Shape.numel(s));
        }));
        c.add(reduction("var", any, false, 2, (x, d, k) -> x.var(d, true, k)));
        c.add(reduction("var", any, false, 1, (x, d, k) -> x.var(d, false, k)));
        c.add(reduction("norm", any, false, 1, (x, d, k) -> x.norm(2, d, k)));
        c.add(reduction("norm", away, false, 1, (x, d, k) -> x.norm(1, d, k)));
        c.add(reduction("norm", away, false, 1, (x, d, k) -> x.norm(3, d, k)));
        c.add(reduction("norm", any, false, 1, (x, d, k) -> x.norm(Double.POSITIVE_INFINITY, d, k)));
        c.add(new Case("norm", r -> {
            int[] s = shape(r, 1, 3, false);
            return new Trial(str("norm all", s), List.of(in(s, any)), t -> t.get(0).norm(), (int) Shape.numel(s));
        }));
        c.add(alongDim("amax", any, Tensor::amax));
        c.add(alongDim("amin", any, Tensor::amin));
        c.add(alongDim("max", any, (x, d, k) -> x.max(d, k).values()));
        c.add(alongDim("min", any, (x, d, k) -> x.min(d, k).values()));
        c.add(new Case("max", r -> {
            int[] s = shape(r, 0, 3, false);
            return new Trial(str("max all", s), List.of(in(s, any)), t -> t.get(0).max(), 1);
        }));
        c.add(new Case("min", r -> {
            int[] s = shape(r, 0, 3, false);
            return new Trial(str("min all", s), List.of(in(s, any)), t -> t.get(0).min(), 1);
        }));
        // Matmul: batch broadcasting, 1-D operands, empty dims.
        c.add(new Case("matmul", r -> {
            int kind = r.nextInt(5);
            int m = r.nextInt(5), k = r.nextInt(5), n = r.nextInt(5);
            if (r.nextInt(4) > 0) m = Math.max(m, 1);
            if (r.nextInt(4) > 0) k = Math.max(k, 1);
            if (r.nextInt(4) > 0) n = Math.max(n, 1);
            int[] batch = shape(r, 0, 2, false);
            int[] sa, sb;
            switch (kind) {
                case 0 -> { sa = new int[] {k}; sb = new int[] {k}; }
                case 1 -> { sa = new int[] {k}; sb = concat(broadcastable(r, batch), k, n); }
                case 2 -> { sa = concat(broadcastable(r, batch), m, k); sb = new int[] {k}; }
                default -> { sa = concat(broadcastable(r, batch), m, k); sb = concat(broadcastable(r, batch), k, n); }
            }
            return new Trial(str("matmul", sa, sb), List.of(in(sa, any), in(sb, any)), t -> t.get(0).matmul(t.get(1)), Math.max(1, k));
        }));
        // The low-rank linear y = x Wᵀ + bias + s·((x Aᵀ) ⊙ g) Bᵀ: a frozen W and bias take the fused
        // backward; now and then W is an input too, which takes the composed path.
        c.add(new Case("lowRankLinear", r -> {
            int[] lead = shape(r, 1, 2, false);
            int dIn = 1 + r.nextInt(4), dOut = 1 + r.nextInt(4), rank = 1 + r.nextInt(3);
            boolean gated = r.nextBoolean(), biased = r.nextBoolean(), trainW = r.nextInt(4) == 0;
            double s = 0.5 + r.nextDouble();
            double[] w = new double[dOut * dIn], bias = new double[dOut];
            for (int i = 0; i < w.length; i++) w[i] = r.nextGaussian();
            for (int i = 0; i < bias.length; i++) bias[i] = r.nextGaussian();
            int[] sx = Arrays.copyOf(lead, lead.length + 1);
            sx[lead.length] = dIn;
            List<Input> ins = new ArrayList<>(List.of(in(sx, any), in(new int[] {rank, dIn}, any), in(new int[] {dOut, rank}, any)));
            if (gated) ins.add(in(new int[] {rank}, any));
            if (trainW) ins.add(in(new int[] {dOut, dIn}, any));
            String what = str("lowRankLinear x", sx) + " d_out " + dOut + " r " + rank + (gated ? " gated" : "")
                    + (biased ? " bias" : "") + (trainW ? " W trained" : "") + " s " + s;
            return new Trial(what, ins, t -> {
                Tensor x = t.get(0);
                Tensor wt = trainW ? t.get(t.size() - 1) : Tensor.fromArray(w, dOut, dIn).to(x.dtype()).to(x.device());
                Tensor bt = biased ? Tensor.fromArray(bias, dOut).to(x.dtype()).to(x.device()) : null;
                return x.lowRankLinear(wt, bt, t.get(1), t.get(2), gated ? t.get(3) : null, s);
            }, dIn + rank + 1);
        }));
        // Softmax.
        c.add(alongDim("softmax", any, (x, d, k) -> x.softmax(d)));
        c.add(alongDim("logSoftmax", any, (x, d, k) -> x.logSoftmax(d)));
        // Indexing.
        c.add(new Case("gather", r -> {
            int[] s = shape(r, 1, 3, false);
            int d = r.nextInt(s.length);
            int[] is = s.clone();
            for (int i = 0; i < is.length; i++) is[i] = i == d ? 1 + r.nextInt(4) : 1 + r.nextInt(s[i]);
            if (r.nextInt(6) == 0) is[r.nextInt(is.length)] = 0;
            Tensor index = Tensor.fromArray(ints(r, (int) Shape.numel(is), s[d]), is);
            return new Trial(str("gather dim " + d, s, is), List.of(in(s, any)), t -> t.get(0).gather(d, index.to(t.get(0).device())), 1);
        }));
        c.add(new Case("scatterAdd", r -> {
            int[] s = shape(r, 1, 3, false);
            int d = r.nextInt(s.length);
            int[] is = s.clone();
            for (int i = 0; i < is.length; i++) is[i] = i == d ? 1 + r.nextInt(5) : 1 + r.nextInt(s[i]);
            Tensor index = Tensor.fromArray(ints(r, (int) Shape.numel(is), s[d]), is);
            return new Trial(str("scatterAdd dim " + d, s, is), List.of(in(s, any), in(is, any)),
                    t -> t.get(0).scatterAdd(d, index.to(t.get(0).device()), t.get(1)), is[d] + 1);
        }));
        c.add(new Case("indexSelect", r -> {
            int[] s = shape(r, 1, 3, false);
            int d = r.nextInt(s.length);
            int[] idx = ints(r, r.nextInt(5), s[d]);
            Tensor index = Tensor.fromArray(idx, idx.length);
            return new Trial(str("indexSelect dim " + d, s) + " index " + Arrays.toString(index.toIntArray()), List.of(in(s, any)),
                    t -> t.get(0).indexSelect(d, index.to(t.get(0).device())), 1);
        }));
        c.add(new Case("concat", r -> {
            int[] s = shape(r, 1, 3, false);
            int d = r.nextInt(s.length), parts = 1 + r.nextInt(3);
            List<Input> ins = new ArrayList<>();
            StringBuilder what = new StringBuilder("concat dim " + d);
            for (int i = 0; i < parts; i++) {
                int[] p = s.clone();
                p[d] = r.nextInt(4);
                ins.add(in(p, any));
                what.append(' ').append(Arrays.toString(p));
            }
            return new Trial(what.toString(), ins, t -> Tensor.concat(t, d), 1);
        }));
        c.add(new Case("stack", r -> {
            int[] s = shape(r, 0, 3, true);
            int d = r.nextInt(s.length + 1), parts = 1 + r.nextInt(3);
            List<Input> ins = new ArrayList<>();
            for (int i = 0; i < parts; i++) ins.add(in(s, any));
            return new Trial(str("stack " + parts + " at " + d, s), ins, t -> Tensor.stack(t, d), 1);
        }));
        c.add(new Case("split", r -> {
            int[] s = shape(r, 1, 3, true);
            int d = r.nextInt(s.length);
            List<Integer> sizes = new ArrayList<>();
            for (int left = s[d]; left > 0; ) {
                int k = 1 + r.nextInt(left);
                sizes.add(k);
                left -= k;
            }
            if (r.nextBoolean()) sizes.add(r.nextInt(sizes.size() + 1), 0);
            int[] sz = sizes.stream().mapToInt(Integer::intValue).toArray();
            return new Trial(str("split dim " + d, s) + " into " + Arrays.toString(sz), List.of(in(s, any)), t -> {
                List<Tensor> pieces = new ArrayList<>(t.get(0).split(sz, d));
                java.util.Collections.reverse(pieces);                  // every piece's gradient must land in place
                return pieces.isEmpty() ? t.get(0) : Tensor.concat(pieces, d);
            }, 1);
        }));
        // Views and copies.
        c.add(new Case("reshape", r -> {
            int[] s = shape(r, 0, 3, true);
            int[] ns = factor(r, (int) Shape.numel(s));
            return new Trial(str("reshape", s, ns), List.of(in(s, any)), t -> t.get(0).reshape(ns), 1);
        }));
        c.add(new Case("view", r -> {
            int[] s = shape(r, 0, 3, true);
            int[] ns = factor(r, (int) Shape.numel(s));
            return new Trial(str("view", s, ns), List.of(in(s, any)), t -> t.get(0).contiguous().view(ns), 1);
        }));
        c.add(unary("flatten", any, Tensor::flatten));
        c.add(new Case("permute", r -> {
            int[] s = shape(r, 1, 4, true);
            List<Integer> p = new ArrayList<>();
            for (int i = 0; i < s.length; i++) p.add(i);
            java.util.Collections.shuffle(p, r);
            int[] perm = p.stream().mapToInt(Integer::intValue).toArray();
            return new Trial(str("permute", s, perm), List.of(in(s, any)), t -> t.get(0).permute(perm), 1);
        }));
        c.add(new Case("transpose", r -> {
            int[] s = shape(r, 1, 4, true);
            int a = r.nextInt(s.length), b = r.nextInt(s.length) - s.length;
            return new Trial(str("transpose " + a + "," + b, s), List.of(in(s, any)), t -> t.get(0).transpose(a, b), 1);
        }));
        c.add(new Case("t", r -> {
            int[] s = shape(r, 2, 2, true);
            return new Trial(str("t", s), List.of(in(s, any)), t -> t.get(0).t(), 1);
        }));
        c.add(new Case("mT", r -> {
            int[] s = shape(r, 2, 4, true);
            return new Trial(str("mT", s), List.of(in(s, any)), t -> t.get(0).mT(), 1);
        }));
        c.add(new Case("narrow", r -> {
            int[] s = shape(r, 1, 3, true);
            int d = r.nextInt(s.length), start = r.nextInt(s[d] + 1), len = r.nextInt(s[d] - start + 1);
            return new Trial(str("narrow " + d + "," + start + "," + len, s), List.of(in(s, any)), t -> t.get(0).narrow(d, start, len), 1);
        }));
        c.add(new Case("select", r -> {
            int[] s = shape(r, 1, 3, false);
            int d = r.nextInt(s.length), i = r.nextInt(s[d]);
            return new Trial(str("select " + d + "," + i, s), List.of(in(s, any)), t -> t.get(0).select(d, i), 1);
        }));
        c.add(new Case("expand", r -> {
            int[] out = shape(r, 1, 3, false);
            int[] s = broadcastable(r, out);
            return new Trial(str("expand", s, out), List.of(in(s, any)), t -> t.get(0).expand(out), 1);
        }));
        c.add(new Case("squeeze", r -> {
            int[] s = shape(r, 1, 3, true);
            int d = r.nextInt(s.length);
            if (r.nextBoolean()) s[d] = 1;
            return new Trial(str("squeeze " + d, s), List.of(in(s, any)), t -> t.get(0).squeeze(d), 1);
        }));
        c.add(new Case("unsqueeze", r -> {
            int[] s = shape(r, 0, 3, true);
            int d = r.nextInt(s.length + 1);
            return new Trial(str("unsqueeze " + d, s), List.of(in(s, any)), t -> t.get(0).unsqueeze(d), 1);
        }));
        c.add(unary("contiguous", any, Tensor::contiguous));
        c.add(unary("copy", any, x -> x.copy().mul(x)));
        // Losses and normalization.
        c.add(new Case("crossEntropy", r -> {
            int n = 1 + r.nextInt(4), k = 1 + r.nextInt(5);
            Tensor labels = Tensor.fromArray(ints(r, n, k), n);
            Losses.Reduction red = r.nextBoolean() ? Losses.Reduction.MEAN : Losses.Reduction.SUM;
            return new Trial(str("crossEntropy " + red, new int[] {n, k}), List.of(in(new int[] {n, k}, any)),
                    t -> Losses.crossEntropy(t.get(0), labels.to(t.get(0).device()), red), n * k);
        }));
        c.add(new Case("mse", r -> {
            int[] s = shape(r, 0, 3, false);
            Losses.Reduction red = r.nextBoolean() ? Losses.Reduction.MEAN : Losses.Reduction.SUM;
            return new Trial(str("mse " + red, s), List.of(in(s, any), in(s, any)),
                    t -> Losses.mse(t.get(0), t.get(1), red), (int) Shape.numel(s));
        }));
        c.add(new Case("layerNorm", r -> {
            int[] s = shape(r, 1, 3, false);
            int d = s[s.length - 1];
            if (d == 1) s[s.length - 1] = d = 3;                       // variance 0 is a kink of √(σ² + ε)
            return new Trial(str("layerNorm", s), List.of(in(s, any), in(new int[] {d}, any), in(new int[] {d}, any)),
                    t -> Functional.layerNorm(t.get(0), t.get(1), t.get(2), 1e-5), d);
        }));
        return c;
    }

    private static int[] concat(int[] batch, int a, int b) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = a;
        s[batch.length + 1] = b;
        return s;
    }

    /// A random shape with `n` elements (rank 1–4, factors in random order, sometimes a 1 inserted).
    static int[] factor(Random r, int n) {
        if (n == 0) return new int[] {0, 1 + r.nextInt(3)};
        List<Integer> f = new ArrayList<>();
        int rest = n;
        for (int p = 2; p <= rest && f.size() < 3; p++) {
            while (rest % p == 0 && f.size() < 3 && r.nextInt(3) > 0) {
                f.add(p);
                rest /= p;
            }
        }
        f.add(rest);
        java.util.Collections.shuffle(f, r);
        if (r.nextBoolean()) f.add(r.nextInt(f.size() + 1), 1);
        return f.stream().mapToInt(Integer::intValue).toArray();
    }
}
