package dev.rankwise.peft.init;

import dev.rankwise.DType;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.peft.Method;
import dev.rankwise.random.Generator;

/// Initializers that split a weight W [m, n] (out × in) with a decomposition, put one part into the
/// adapter and keep the rest frozen as the residual, so `W_res + s·B·C·A = W` at the start (EoRA:
/// `Ŵ + s·B·A ≈ W`). Shapes: A [r, n], B [m, r], gate [r]; k = min(m, n). All run outside autograd.
public final class SvdInit {
    private SvdInit() {}

    /// PiSSA (arXiv 2404.02948, §3): with W = U Σ Vᵀ and the top r triplets, σ' = σ_{1..r}/s,
    /// A = diag(√σ')·V_rᵀ, B = U_r·diag(√σ'), W_res = W − s·B·A = Σ_{i>r} σ_i u_i v_iᵀ.
    /// `niter` < 0 uses the exact SVD; otherwise the randomized SVD with that many power iterations
    /// (PEFT's `pissa_niter_K`, `torch.svd_lowrank` with q = r), seeded by `gen` (null: seed 0).
    /// Checked against PEFT (`src/peft/tuners/lora/layer.py`, `LoraLayer.pissa_init`): σ divided by the
    /// scaling before the square root, A = diag(√σ')·Uhᵣ, B = Vᵣ·diag(√σ'), W −= s·B·A.
    public static Factors pissa(Tensor w, int r, double scale, int niter, Generator gen) {
        check("pissa", w, r);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Linalg.Svd svd = niter < 0 ? Linalg.svd(wd) : Linalg.svdLowRank(wd, r, niter, gen != null ? gen : new Generator(0));
            return split(wd, svd, 0, r, scale, Method.PISSA);
        }
    }

    /// MiLoRA (arXiv 2406.09044, §3): PiSSA's split with the bottom r triplets (exact SVD), so the
    /// adapter starts in the minor singular subspace and the principal part stays frozen.
    public static Factors milora(Tensor w, int r, double scale) {
        check("milora", w, r);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Linalg.Svd svd = Linalg.svd(wd);
            return split(wd, svd, svd.s().size(0) - r, r, scale, Method.MILORA);
        }
    }

    /// The shared split of PiSSA and MiLoRA: triplets [start, start + r) go to the adapter.
    private static Factors split(Tensor w, Linalg.Svd svd, int start, int r, double scale, Method method) {
        Tensor u = svd.u().narrow(1, start, r), s = svd.s().narrow(0, start, r), vh = svd.vh().narrow(0, start, r);
        Tensor root = s.div(scale).sqrt();
        Tensor a = vh.mul(root.unsqueeze(1)).contiguous();
        Tensor b = u.mul(root).contiguous();
        return new Factors(a, b, null, null, scale, w.sub(b.matmul(a).mul(scale)), method);
    }

    /// OLoRA (in PEFT, arXiv 2406.01775): W = Q·R; B = Q[:, :r], A = R[:r, :], W_res = W − s·B·A.
    /// Checked against PEFT (`LoraLayer.olora_init`: reduced `torch.linalg.qr` of W). The QR here is
    /// Householder, as LAPACK's, but the sign of each column of Q (and row of R) may differ from
    /// PyTorch's; B·A, and so the adapter's function and W_res, do not depend on those signs.
    public static Factors olora(Tensor w, int r, double scale) {
        check("olora", w, r);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Linalg.Qr qr = Linalg.qr(wd, false);
            Tensor b = qr.q().narrow(1, 0, r).contiguous();
            Tensor a = qr.r().narrow(0, 0, r).contiguous();
            return new Factors(a, b, null, null, scale, wd.sub(b.matmul(a).mul(scale)), Method.OLORA);
        }
    }

    /// SVFit (arXiv 2409.05926, §3): W' = W_e + s·U_r·diag(σ')·V_rᵀ with W_e = W − U_r Σ_r V_rᵀ frozen,
    /// B = U_r and A = V_rᵀ frozen, and only the gate σ' (r numbers, starting at σ_{1..r}/s) trained,
    /// so ∂L/∂σ'_i = s·u_iᵀ G v_i for G = ∂L/∂W'. [The paper's rule for choosing r is unverified (no
    /// public code was found and the paper's text could not be read here); r is the caller's.]
    public static Factors svfit(Tensor w, int r, double scale) {
        check("svfit", w, r);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Linalg.Svd svd = Linalg.svd(wd);
            Tensor b = svd.u().narrow(1, 0, r).contiguous(), a = svd.vh().narrow(0, 0, r).contiguous();
            Tensor g = svd.s().narrow(0, 0, r).div(scale).contiguous();
            return new Factors(a, b, g, null, scale, wd.sub(b.mul(g).matmul(a).mul(scale)), Method.SVFIT);
        }
    }

    /// LoLDU (arXiv 2410.13618, §3): LU with partial pivoting W = P·L·Ũ, z = diag(Ũ), U = diag(z)⁻¹Ũ
    /// (unit upper). B = P·L[:, :r] and A = U[:r, :] are frozen; the gate z[:r] (r numbers) trains;
    /// W_res = W − s·B·diag(z)·A. With r = k and s = 1 the adapter is W itself and W_res = 0.
    /// Tiny pivots are guarded: where |z_i| ≤ 1e-12·max|z| (or 0), row i of Ũ is kept unscaled and
    /// z_i = 1, so B·diag(z)·A still equals P·L_r·Ũ_r without dividing by ~0.
    ///
    /// Checked against the authors' code (SKDDJ/LoLDU `minloldu/loldu.py`: `torch.linalg.lu`,
    /// D = diag(U), U/D, z = D[:r], residual W − σ·P·L_r·diag(z)·U_r, P, L, U frozen), which has no pivot
    /// guard. The code also registers σ (initialized to α/r) as a trainable scalar; the paper's Figure 3
    /// marks only the diagonal as trainable, which is what this method does (σ·z spans the same updates).
    public static Factors loldu(Tensor w, int r, double scale) {
        check("loldu", w, r);
        try (var ignored = GradMode.noGrad()) {
            Tensor wd = w.detach();
            Linalg.Lu lu = Linalg.lu(wd);
            Tensor ur = lu.u().narrow(0, 0, r);
            Tensor pivots = Linalg.diagonal(lu.u()).narrow(0, 0, r);
            double tol = 1e-12 * Math.max(Linalg.diagonal(lu.u()).abs().max().item(), Double.MIN_NORMAL);
            Tensor tiny = pivots.abs().le(Tensor.scalar(tol, pivots.dtype()));
            Tensor z = Tensor.where(tiny, Tensor.ones(pivots.dtype(), r), pivots).contiguous();
            Tensor a = ur.div(z.unsqueeze(1)).contiguous();
            Tensor b = lu.p().matmul(lu.l().narrow(1, 0, r)).contiguous();
            return new Factors(a, b, z, null, scale, wd.sub(b.mul(z).matmul(a).mul(scale)), Method.LOLDU);
        }
    }

    /// EoRA (arXiv 2410.21271, §3), no training: the compression error ΔW = W − Ŵ is approximated in
    /// the activation-weighted space. C = XᵀX/N = QΛQᵀ in F64 (negative and tiny eigenvalues clamped to
    /// 1e-10·λ_max so S is invertible), S = QΛ^½, rank-r SVD of ΔW·S = U Σ Vᵀ, then
    /// B = U_rΣ_r^½ and A = Σ_r^½V_rᵀS⁻¹, each divided by √s so that s·B·A is the approximation.
    /// The residual is the compressed weight Ŵ. x [N, n] are calibration inputs.
    ///
    /// Checked against the authors' code as merged into GPTQModel (`eora_compute_lora`, "EoRA Official
    /// Repo: NVlabs/EoRA"): the same Q√Λ projection, SVD and √Σ split. Two numerical guards differ: the
    /// code sets negative eigenvalues to the smallest positive one and accumulates C as a running mean;
    /// this method clamps to 1e-10·λ_max, which keeps S⁻¹ bounded when few calibration rows make C
    /// singular. A constant factor on C leaves s·B·A unchanged.
    public static Factors eora(Tensor w, Tensor compressed, Tensor x, int r, double scale) {
        check("eora", w, r);
        if (!java.util.Arrays.equals(w.shape(), compressed.shape())) {
            throw new IllegalArgumentException("eora: compressed weight " + Shape.str(compressed.shape()) + " differs from W " + Shape.str(w.shape()));
        }
        if (x.rank() != 2 || x.size(1) != w.size(1)) {
            throw new IllegalArgumentException("eora: activations must be [N, " + w.size(1) + "], got " + Shape.str(x.shape()));
        }
        try (var ignored = GradMode.noGrad()) {
            Tensor xd = x.detach().to(DType.F64);
            Tensor c = xd.t().matmul(xd).div((double) x.size(0));
            c = c.add(c.t()).mul(0.5);
            Linalg.Eigh e = Linalg.eigh(c);
            double floor = Math.max(e.values().max().item(), 1e-300) * 1e-10;
            Tensor lam = e.values().maximum(Tensor.scalar(floor, DType.F64)).sqrt();
            Tensor sMat = e.vectors().mul(lam), sInv = e.vectors().div(lam).t();
            Tensor delta = w.detach().to(DType.F64).sub(compressed.detach().to(DType.F64));
            Linalg.Svd svd = Linalg.svd(delta.matmul(sMat));
            Tensor root = svd.s().narrow(0, 0, r).sqrt().div(Math.sqrt(scale));
            Tensor b = svd.u().narrow(1, 0, r).mul(root);
            Tensor a = svd.vh().narrow(0, 0, r).mul(root.unsqueeze(1)).matmul(sInv);
            return new Factors(a.to(w.dtype()).contiguous(), b.to(w.dtype()).contiguous(), null, null, scale,
                    compressed.detach().to(w.dtype()), Method.EORA);
        }
    }

    static void check(String op, Tensor w, int r) {
        if (w.rank() != 2) throw new IllegalArgumentException(op + ": weight must be 2-D [out, in], got " + Shape.str(w.shape()));
        int k = Math.min(w.size(0), w.size(1));
        if (r < 1 || r > k) {
            throw new IllegalArgumentException(op + ": rank " + r + " must be in [1, " + k + "] for a weight of shape " + Shape.str(w.shape()));
        }
        if (!w.dtype().isFloating()) throw new IllegalArgumentException(op + ": weight must be F32 or F64, got " + w.dtype());
    }
}
