package dev.rankwise.peft.init;

import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.random.Generator;

/// Initializers that split a weight W [m, n] with a decomposition, put one part into the adapter and
/// keep the rest frozen as the residual, so `W_res + s·B·A = W` at the start.
public final class SvdInit {
    private SvdInit() {}

    /// PiSSA (arXiv 2404.02948, §3): with W = U Σ Vᵀ and the top r triplets, σ' = σ_{1..r}/s,
    /// A = diag(√σ')·V_rᵀ, B = U_r·diag(√σ'), W_res = W − s·B·A = Σ_{i>r} σ_i u_i v_iᵀ.
    /// `niter` < 0 uses the exact SVD; otherwise the randomized SVD with that many power iterations
    /// (PEFT's `pissa_niter_K`), seeded by `gen`.
    public static Factors pissa(Tensor w, int r, double scale, int niter, Generator gen) {
        return principal(w, r, scale, niter, gen, true);
    }

    /// MiLoRA (arXiv 2406.09044, §3): PiSSA's split with the bottom r triplets, so the adapter starts in
    /// the minor singular subspace and the principal part stays frozen.
    public static Factors milora(Tensor w, int r, double scale) {
        return principal(w, r, scale, -1, null, false);
    }

    private static Factors principal(Tensor w, int r, double scale, int niter, Generator gen, boolean top) {
        check("pissa/milora", w, r);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Linalg.Svd svd = niter < 0 || !top ? Linalg.svd(wd) : Linalg.svdLowRank(wd, r, niter, gen);
            int k = svd.s().size(0);
            int start = top ? 0 : k - r;
            Tensor u = svd.u().narrow(1, start, r), s = svd.s().narrow(0, start, r), vh = svd.vh().narrow(0, start, r);
            Tensor root = s.div(scale).sqrt();
            Tensor a = vh.mul(root.unsqueeze(1)).contiguous();
            Tensor b = u.mul(root).contiguous();
            return new Factors(a, b, scale, wd.sub(b.matmul(a).mul(scale)));
        }
    }

    /// OLoRA (in PEFT, arXiv 2406.01775): W = Q·R; B = Q[:, :r], A = R[:r, :], W_res = W − s·B·A.
    public static Factors olora(Tensor w, int r, double scale) {
        check("olora", w, r);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Linalg.Qr qr = Linalg.qr(wd, false);
            Tensor b = qr.q().narrow(1, 0, r).contiguous();
            Tensor a = qr.r().narrow(0, 0, r).contiguous();
            return new Factors(a, b, scale, wd.sub(b.matmul(a).mul(scale)));
        }
    }

    static void check(String op, Tensor w, int r) {
        if (w.rank() != 2) throw new IllegalArgumentException(op + ": weight must be 2-D [out, in], got " + Shape.str(w.shape()));
        int k = Math.min(w.size(0), w.size(1));
        if (r < 1 || r > k) {
            throw new IllegalArgumentException(op + ": rank " + r + " must be in [1, " + k + "] for a weight of shape " + Shape.str(w.shape()));
        }
    }
}
