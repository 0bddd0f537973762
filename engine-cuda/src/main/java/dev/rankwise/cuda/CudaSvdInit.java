package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.kernels.KernelCatalog;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.random.Generator;

import java.util.ArrayList;
import java.util.List;

/// SVD initialization of many adapters at once on the GPU: PiSSA (arXiv 2404.02948) and MiLoRA
/// (arXiv 2406.09044). For W [batch, m, n]:
///
/// `A = diag(√(σ_r/s))·V_rᵀ [batch, r, n]`, `B = U_r·diag(√(σ_r/s)) [batch, m, r]`, `W_res = W − s·B·A`
///
/// with the top r triplets (PiSSA) or the bottom r (MiLoRA). The triplets come from a randomized
/// range finder with `niter` power iterations (the algorithm of `torch.svd_lowrank`, which PEFT's
/// `pissa_niter_K` uses) whose orthonormalizations are batched shifted CholeskyQR3 kernels, then
/// cuSOLVER on the small projected matrices; `niter < 0` asks for the exact SVD (cuSOLVER per matrix).
public final class CudaSvdInit {
    private CudaSvdInit() {}

    /// The adapter factors and the frozen residual, batched like W.
    public record Result(Tensor a, Tensor b, Tensor residual) {}

    /// PiSSA (`minor` false) or MiLoRA (`minor` true, exact SVD only) for W [batch, m, n] or [m, n].
    public static Result init(Tensor w, int r, double s, int niter, int oversample, Generator gen, boolean minor) {
        boolean single = w.rank() == 2;
        Tensor w3 = single ? w.unsqueeze(0) : w;
        if (w3.rank() != 3 || !w3.dtype().isCompute()) throw new IllegalArgumentException("svdInit: W must be F32/F64 [batch, m, n], got " + w.dtype() + " " + Shape.str(w.shapeRef()));
        int batch = w3.size(0), m = w3.size(1), n = w3.size(2), k = Math.min(m, n);
        if (r < 1 || r > k) throw new IllegalArgumentException("svdInit: rank " + r + " must be in [1, " + k + "] for " + m + "x" + n);
        if (minor && niter >= 0) throw new IllegalArgumentException("svdInit: MiLoRA needs the exact SVD (niter < 0): a range finder finds the top triplets");
        CudaBackend be = (CudaBackend) w.backend();
        CudaDevice d = CudaBackend.on("svdInit", w);
        DType dt = w.dtype();
        Tensor wc = w3.contiguous();
        Tensor u, sv, vh;                         // [batch, m, q], [batch, q], [batch, q, n]
        int q;
        if (niter < 0) {
            q = k;
            Tensor[] f = perMatrixSvd(wc, batch);
            u = f[0];
            sv = f[1];
            vh = f[2];
        } else {
            int l = Math.min(k, r + oversample);
            if (l > KernelCatalog.CHOLQR_MAX_L) throw new IllegalArgumentException("svdInit: sketch width " + l + " > " + KernelCatalog.CHOLQR_MAX_L);
            q = l;
            Tensor omega = Tensor.randn(gen, dt, w.device(), batch, n, l);    // the Gaussian sketch, in place on the device
            Tensor y = wc.matmul(omega);                                     // [batch, m, l]
            orthonormalize(be, d, y);
            Tensor wt = wc.transpose(1, 2);
            for (int i = 0; i < niter; i++) {
                Tensor z = wt.matmul(y);                                     // [batch, n, l]
                orthonormalize(be, d, z);
                y = wc.matmul(z);
                orthonormalize(be, d, y);
            }
            Tensor small = y.transpose(1, 2).matmul(wc);                     // Qᵀ·W [batch, l, n]
            Tensor[] f = perMatrixSvd(small, batch);                         // Ub [batch, l, l], S, Vh [batch, l, n]
            u = y.matmul(f[0]);
            sv = f[1];
            vh = f[2];
        }
        Tensor b = be.empty(d, dt, batch, m, r), a = be.empty(d, dt, batch, r, n);
        int first = minor ? q - r : 0;
        d.launch("svd_split_" + CudaBackend.suffix(b), (long) batch * ((long) m * r + (long) r * n), new KernelArgs().ptr(b).ptr(a)
                .ptr(u.contiguous()).ptr(sv.contiguous()).ptr(vh.contiguous()).i32(m).i32(n).i32(q).i32(r).i32(first).f64(1 / s).i32(batch));
        Tensor res = be.contiguousCopy(wc);
        be.gemm(b, a, res, -s, 1.0);                                          // W_res = W − s·B·A
        return single ? new Result(a.squeeze(0), b.squeeze(0), res.squeeze(0)) : new Result(a, b, res);
    }

    /// Y [batch, rows, l] ← Q with orthonormal columns spanning Y's (shifted CholeskyQR3, kernels).
    static void orthonormalize(CudaBackend be, CudaDevice d, Tensor y) {
        int batch = y.size(0), rows = y.size(1), l = y.size(2);
        if (!y.isContiguous() || rows < l) throw new IllegalArgumentException("CholeskyQR: needs a contiguous [batch, m, l] with m >= l");
        Tensor g = be.empty(d, DType.F64, batch, l, l);
        Tensor info = be.emptyZero(d, DType.I32, batch);
        String t = CudaBackend.suffix(y);
        for (int pass = 0; pass < 3; pass++) {
            d.launch("cholqr_gram_" + t, batch, new KernelArgs().ptr(g).ptr(y).i32(rows).i32(l));
            d.launch("cholqr_factor", batch, new KernelArgs().ptr(g).ptr(info).i32(rows).i32(l).i32(pass == 0 ? 1 : 0));
            for (int v : info.toIntArray()) {
                if (v != 0) throw new ArithmeticException("CholeskyQR: the Gram matrix lost positive definiteness at pivot " + (v - 1)
                        + " (sketch columns numerically dependent)");
            }
            d.launch("cholqr_apply_" + t, (long) batch * rows, new KernelArgs().ptr(y).ptr(g).i32(rows).i32(l).i32(batch));
        }
    }

    /// cuSOLVER's SVD of each matrix of x [batch, p, q]: {U [batch, p, k], S [batch, k], Vh [batch, k, q]}.
    private static Tensor[] perMatrixSvd(Tensor x, int batch) {
        List<Tensor> us = new ArrayList<>(), ss = new ArrayList<>(), vs = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            Linalg.Svd svd = Linalg.svd(x.select(0, i));
            us.add(svd.u());
            ss.add(svd.s());
            vs.add(svd.vh());
        }
        return new Tensor[] {Tensor.stack(us, 0), Tensor.stack(ss, 0), Tensor.stack(vs, 0)};
    }
}
