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

    /// LoLDU (arXiv 2410.13618): W = P·L·diag(D)·U with unit-triangular L, U; the adapter keeps L_r = L[:, :r],
    /// U_r = U[:r, :] and z = D[:r] (only z trains). Returned as B = P·L_r, A = diag(z)·U_r, with
    /// W_res = W − s·B·A; A's rows carry z/s, so z is recovered as the row scale of A relative to U_r.
    public static Factors loldu(Tensor w, int r, double scale) {
        check("loldu", w, r);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Linalg.Ldu ldu = Linalg.ldu(wd);
            Tensor b = ldu.p().matmul(ldu.l().narrow(1, 0, r)).contiguous();
            Tensor z = ldu.d().narrow(0, 0, r);
            Tensor a = ldu.u().narrow(0, 0, r).mul(z.unsqueeze(1)).div(scale).contiguous();
            return new Factors(a, b, scale, wd.sub(b.matmul(a).mul(scale)));
        }
    }

    /// LoRA-GA (arXiv 2407.05000, §3.2): from the averaged gradient G [m, n] of W, with G = U Σ Vᵀ:
    /// A = V[:, :r]ᵀ, B = U[:, r:2r], both scaled by m^{1/4}/√γ (the paper's "stable" scaling, γ = 16)
    /// when `stable`, and W_res = W − s·B·A so the model starts unchanged. Needs 2r ≤ min(m, n).
    public static Factors loraGa(Tensor w, Tensor grad, int r, double scale, boolean stable) {
        check("lora-ga", w, r);
        if (!java.util.Arrays.equals(w.shape(), grad.shape())) {
            throw new IllegalArgumentException("lora-ga: gradient shape " + Shape.str(grad.shape()) + " differs from weight " + Shape.str(w.shape()));
        }
        if (2 * r > Math.min(w.size(0), w.size(1))) throw new IllegalArgumentException("lora-ga: needs 2r <= min(m, n), got r = " + r);
        try (var ignored = GradMode.noGrad()) {
            Linalg.Svd svd = Linalg.svd(grad.detach());
            double f = stable ? Math.pow(w.size(0), 0.25) / Math.sqrt(16) : 1;
            Tensor a = svd.vh().narrow(0, 0, r).mul(f).contiguous();
            Tensor b = svd.u().narrow(1, r, r).mul(f).contiguous();
            Tensor wd = w.detach();
            return new Factors(a, b, scale, wd.sub(b.matmul(a).mul(scale)));
        }
    }

    /// EoRA (arXiv 2410.21271), no training: the compression error ΔW = W − Ŵ is approximated in the
    /// activation-weighted space: C = XᵀX/N = QΛQᵀ (negative eigenvalues clamped), S = QΛ^½, rank-r SVD
    /// of ΔW·S = U Σ Vᵀ, then B = U_rΣ_r^½ and A = Σ_r^½V_rᵀS⁻¹ (divided by √s each so that s·B·A is the
    /// approximation). The residual is the compressed weight Ŵ. x [N, n] are calibration inputs.
    public static Factors eora(Tensor w, Tensor compressed, Tensor x, int r, double scale) {
        check("eora", w, r);
        if (!java.util.Arrays.equals(w.shape(), compressed.shape())) {
            throw new IllegalArgumentException("eora: compressed weight " + Shape.str(compressed.shape()) + " differs from " + Shape.str(w.shape()));
        }
        if (x.rank() != 2 || x.size(1) != w.size(1)) {
            throw new IllegalArgumentException("eora: activations must be [N, " + w.size(1) + "], got " + Shape.str(x.shape()));
        }
        try (var ignored = GradMode.noGrad()) {
            Tensor xd = x.detach().to(dev.rankwise.DType.F64);
            Tensor c = xd.t().matmul(xd).div((double) x.size(0));
            c = c.add(c.t()).mul(0.5);
            Linalg.Eigh e = Linalg.eigh(c);
            double floor = Math.max(e.values().max().item(), 1e-300) * 1e-10;
            Tensor lam = e.values().maximum(Tensor.scalar(floor, dev.rankwise.DType.F64)).sqrt();
            Tensor sMat = e.vectors().mul(lam), sInv = e.vectors().div(lam).t();
            Tensor delta = w.detach().to(dev.rankwise.DType.F64).sub(compressed.detach().to(dev.rankwise.DType.F64));
            Linalg.Svd svd = Linalg.svd(delta.matmul(sMat));
            Tensor root = svd.s().narrow(0, 0, r).sqrt().div(Math.sqrt(scale));
            Tensor b = svd.u().narrow(1, 0, r).mul(root);
            Tensor a = svd.vh().narrow(0, 0, r).mul(root.unsqueeze(1)).matmul(sInv);
            return new Factors(a.to(w.dtype()).contiguous(), b.to(w.dtype()).contiguous(), scale, compressed.detach());
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
