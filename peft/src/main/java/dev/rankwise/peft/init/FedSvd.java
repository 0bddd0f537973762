package dev.rankwise.peft.init;

import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.autograd.GradMode;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.nn.Module;
import dev.rankwise.peft.AdapterLayer;
import dev.rankwise.peft.Part;
import dev.rankwise.peft.Peft;

import java.util.ArrayList;
import java.util.List;

/// FedSVD (arXiv 2505.12805): federated LoRA where clients train only B on a shared, frozen A; after
/// each round the server averages B̄ = mean of the clients' B, and re-factorizes B̄·A by its rank-r
/// SVD U Σ Vᵀ into A ← V_rᵀ (orthonormal rows) and B ← U_r Σ_r, which it sends back to every client.
/// The product is unchanged: B_new·A_new = B̄·A.
public final class FedSvd {
    private FedSvd() {}

    /// The re-factorization of B̄ [m, r] and A [r, n] into {A_new [r, n], B_new [m, r]}. B̄·A has rank ≤ r,
    /// so its rank-r SVD is exact; it is taken through B̄ = Q·R_B and the SVD of the small R_B·A [r, n].
    public static Tensor[] refactor(Tensor bMean, Tensor a) {
        if (bMean.rank() != 2 || a.rank() != 2 || bMean.size(1) != a.size(0) || bMean.size(0) < bMean.size(1)) {
            throw new IllegalArgumentException("fedsvd: expected B̄ [m, r] (m >= r) and A [r, n], got " + Shape.str(bMean.shape()) + " and " + Shape.str(a.shape()));
        }
        int r = a.size(0);
        if (r > a.size(1)) throw new IllegalArgumentException("fedsvd: rank " + r + " exceeds d_in " + a.size(1));
        try (var ignored = GradMode.noGrad()) {
            Linalg.Qr qr = Linalg.qr(bMean.detach(), false);
            Linalg.Svd svd = Linalg.svd(qr.r().matmul(a.detach()));
            Tensor u = qr.q().matmul(svd.u());
            return new Tensor[] {svd.vh().contiguous(), u.mul(svd.s()).contiguous()};
        }
    }

    /// Freezes A of every adapter named `name` (clients train B only).
    public static void freezeA(Module model, String name) {
        for (AdapterLayer l : Peft.adapterLayers(model).values()) if (l.adapterNames().contains(name)) l.setFrozen(name, Part.A, true);
    }

    /// One server round: for every layer adapted by `name` in `server`, B̄ = mean over `clients` of their
    /// B (same model structure), then [#refactor]; the new A and B are copied into the server and every
    /// client. A layer whose clients disagree on A is an error (A must be shared).
    public static void aggregate(Module server, List<Module> clients, String name) {
        if (clients.isEmpty()) throw new IllegalArgumentException("fedsvd: no clients");
        var layers = Peft.adapterLayers(server);
        List<java.util.Map<String, AdapterLayer>> clientLayers = new ArrayList<>();
        for (Module c : clients) clientLayers.add(Peft.adapterLayers(c));
        try (var ignored = GradMode.noGrad()) {
            for (var e : layers.entrySet()) {
                AdapterLayer s = e.getValue();
                if (!s.adapterNames().contains(name)) continue;
                Tensor sum = null;
                for (var cl : clientLayers) {
                    AdapterLayer c = cl.get(e.getKey());
                    if (c == null || !c.adapterNames().contains(name)) throw new IllegalArgumentException("fedsvd: a client lacks adapter '" + name + "' on " + e.getKey());
                    if (c.loraA(name).sub(s.loraA(name)).abs().max().item() != 0) {
                        throw new IllegalArgumentException("fedsvd: a client's A on " + e.getKey() + " differs from the server's; A must be shared and frozen");
                    }
                    sum = sum == null ? c.effectiveB(name) : sum.add(c.effectiveB(name));
                }
                Tensor[] ab = refactor(sum.div((double) clients.size()), s.loraA(name));
                s.loraA(name).copyFrom(ab[0]);
                s.loraB(name).copyFrom(ab[1]);
                for (var cl : clientLayers) {
                    cl.get(e.getKey()).loraA(name).copyFrom(ab[0]);
                    cl.get(e.getKey()).loraB(name).copyFrom(ab[1]);
                }
            }
        }
    }
}
