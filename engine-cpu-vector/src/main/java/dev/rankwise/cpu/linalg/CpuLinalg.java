package dev.rankwise.cpu.linalg;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.spi.LinalgKernels;

/// The CPU backend's decompositions: [Dense] in F64, results rounded to the input's dtype.
public final class CpuLinalg implements LinalgKernels {
    private static Tensor out(double[] v, DType dtype, int... shape) {
        return Tensor.fromArray(v, shape).to(dtype);
    }

    @Override
    public Tensor[] svd(Tensor a, boolean computeUV) {
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        DType dt = a.dtype();
        if (k == 0) {
            return new Tensor[] {computeUV ? Tensor.zeros(dt, m, 0) : null, Tensor.zeros(dt, 0), computeUV ? Tensor.zeros(dt, 0, n) : null};
        }
        boolean wide = m < n;
        double[] x = (wide ? a.t() : a).toDoubleArray();
        double[][] r = Dense.svdTall(x, wide ? n : m, wide ? m : n, computeUV);
        if (!computeUV) return new Tensor[] {null, out(r[1], dt, k), null};
        // Tall: A = U S Vᵀ. Wide: Aᵀ = U' S V'ᵀ, so A = V' S U'ᵀ.
        Tensor u = out(wide ? r[2] : r[0], dt, m, k);
        Tensor vt = wide ? out(r[0], dt, n, k).t().contiguous() : out(r[2], dt, n, k).t().contiguous();
        return new Tensor[] {u, out(r[1], dt, k), vt};
    }

    @Override
    public Tensor[] qr(Tensor a, boolean complete) {
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        double[][] r = Dense.qr(a.toDoubleArray(), m, n, complete);
        int qc = complete ? m : k;
        return new Tensor[] {out(r[0], a.dtype(), m, qc), out(r[1], a.dtype(), complete ? m : k, n)};
    }

    @Override
    public Tensor[] eigh(Tensor a) {
        int n = a.size(0);
        double[][] r = Dense.eigh(a.toDoubleArray(), n);
        return new Tensor[] {out(r[0], a.dtype(), n), out(r[1], a.dtype(), n, n)};
    }

    @Override
    public Tensor[] lu(Tensor a) {
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        double[][] r = Dense.lu(a.toDoubleArray(), m, n);
        int[] perm = new int[m];
        for (int i = 0; i < m; i++) perm[i] = (int) r[0][i];
        return new Tensor[] {Tensor.fromArray(perm, m), out(r[1], a.dtype(), m, k), out(r[2], a.dtype(), k, n)};
    }

    @Override
    public Tensor cholesky(Tensor a) {
        int n = a.size(0);
        return out(Dense.cholesky(a.toDoubleArray(), n), a.dtype(), n, n);
    }

    @Override
    public Tensor solveTriangular(Tensor a, Tensor b, boolean lower, boolean unitDiagonal) {
        int n = a.size(0), r = b.size(1);
        return out(Dense.solveTriangular(a.toDoubleArray(), n, b.toDoubleArray(), r, lower, unitDiagonal), a.dtype(), n, r);
    }
}
