package dev.rankwise.cpu.linalg;

import dev.rankwise.DType;
import dev.rankwise.Shape;
import dev.rankwise.Tensor;
import dev.rankwise.spi.LinalgKernels;

/// The CPU backend's decompositions. F32 matrices are decomposed in F32 and F64 matrices in F64 (the
/// `…F32` classes are generated from the `…F64` ones): F32 keeps the bandwidth-bound half of the
/// reductions at half the memory traffic, which the speed targets against LAPACK's single-precision
/// routines need, while the scalar iterations (bidiagonal QR, tridiagonal QL) always run in double.
public final class CpuLinalg implements LinalgKernels {
    private static Tensor f32(float[] v, int... shape) {
        return Tensor.fromArray(v, shape);
    }

    private static Tensor f64(double[] v, int... shape) {
        return Tensor.fromArray(v, shape);
    }

    private static boolean single(Tensor a) {
        return a.dtype() == DType.F32;
    }

    @Override
    public Tensor[] svd(Tensor a, boolean computeUV) {
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        DType dt = a.dtype();
        if (k == 0) {
            return new Tensor[] {computeUV ? Tensor.zeros(dt, m, 0) : null, Tensor.zeros(dt, 0), computeUV ? Tensor.zeros(dt, 0, n) : null};
        }
        if (single(a)) {
            float[][] r = SvdF32.svd(a.toFloatArray(), m, n, computeUV);
            return computeUV ? new Tensor[] {f32(r[0], m, k), f32(r[1], k), f32(r[2], k, n)} : new Tensor[] {null, f32(r[1], k), null};
        }
        double[][] r = SvdF64.svd(a.toDoubleArray(), m, n, computeUV);
        return computeUV ? new Tensor[] {f64(r[0], m, k), f64(r[1], k), f64(r[2], k, n)} : new Tensor[] {null, f64(r[1], k), null};
    }

    @Override
    public Tensor[] qr(Tensor a, boolean complete) {
        int m = a.size(0), n = a.size(1), qc = complete ? m : Math.min(m, n);
        if (single(a)) {
            float[][] r = HouseholderF32.qr(a.toFloatArray(), m, n, complete);
            return new Tensor[] {f32(r[0], m, qc), f32(r[1], qc, n)};
        }
        double[][] r = HouseholderF64.qr(a.toDoubleArray(), m, n, complete);
        return new Tensor[] {f64(r[0], m, qc), f64(r[1], qc, n)};
    }

    @Override
    public Tensor[] eigh(Tensor a) {
        int n = a.size(0);
        if (single(a)) {
            float[][] r = EighF32.eigh(a.toFloatArray(), n);
            return new Tensor[] {f32(r[0], n), f32(r[1], n, n)};
        }
        double[][] r = EighF64.eigh(a.toDoubleArray(), n);
        return new Tensor[] {f64(r[0], n), f64(r[1], n, n)};
    }

    @Override
    public Tensor[] lu(Tensor a) {
        int m = a.size(0), n = a.size(1), k = Math.min(m, n);
        if (single(a)) {
            EliminationF32.Lu r = EliminationF32.lu(a.toFloatArray(), m, n);
            return new Tensor[] {Tensor.fromArray(r.perm(), m), f32(r.l(), m, k), f32(r.u(), k, n)};
        }
        EliminationF64.Lu r = EliminationF64.lu(a.toDoubleArray(), m, n);
        return new Tensor[] {Tensor.fromArray(r.perm(), m), f64(r.l(), m, k), f64(r.u(), k, n)};
    }

    @Override
    public Tensor cholesky(Tensor a) {
        int n = a.size(0);
        return single(a) ? f32(EliminationF32.cholesky(a.toFloatArray(), n), n, n) : f64(EliminationF64.cholesky(a.toDoubleArray(), n), n, n);
    }

    @Override
    public Tensor solveTriangular(Tensor a, Tensor b, boolean lower, boolean unitDiagonal) {
        int n = a.size(0), r = b.size(1);
        if (b.size(0) != n) throw new IllegalArgumentException("solveTriangular: B of shape " + Shape.str(b.shape()) + " does not match A of shape " + Shape.str(a.shape()));
        if (single(a)) {
            return f32(EliminationF32.solveTriangular(a.toFloatArray(), n, b.toFloatArray(), r, lower, unitDiagonal), n, r);
        }
        return f64(EliminationF64.solveTriangular(a.toDoubleArray(), n, b.toDoubleArray(), r, lower, unitDiagonal), n, r);
    }
}
