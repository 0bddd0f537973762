package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.random.Generator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// cuSOLVER's decompositions through the row-major mappings, checked by their defining identities
/// and against the CPU's results (singular and eigenvalues, which are unique). Tolerances: F64
/// 1e-10 and F32 2e-4, relative to the matrix's largest entry (backward-stable algorithms give
/// residuals of a few n·ε).
class CudaLinalgTest {
    static final Device GPU = Gpu.DEVICE;

    @BeforeEach
    void gpu() {
        Gpu.assume();
    }

    private static double maxAbs(Tensor t) {
        return t.to(Device.cpu()).to(DType.F64).abs().max().item();
    }

    private static void small(Tensor residual, Tensor a, double tol, String what) {
        assertEquals(GPU, residual.device(), what + " computed on the GPU");
        double r = maxAbs(residual), s = Math.max(1, maxAbs(a));
        assertTrue(r <= tol * s, what + ": residual " + r);
    }

    @Test
    void decompositionsSatisfyTheirIdentities() {
        int[][] shapes = {{5, 3}, {3, 5}, {6, 6}, {64, 40}, {40, 64}};
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            double tol = dt == DType.F64 ? 1e-10 : 2e-4;
            for (int[] sh : shapes) {
                Tensor cpu = Tensor.randn(new Generator(sh[0] * 100 + sh[1]), dt, sh), a = cpu.to(GPU);
                int k = Math.min(sh[0], sh[1]);
                String tag = dt + " " + sh[0] + "x" + sh[1];
                Linalg.Svd svd = Linalg.svd(a);
                small(svd.reconstruct().sub(a), a, tol, "svd " + tag);
                small(svd.u().t().matmul(svd.u()).sub(Tensor.eye(k, dt).to(GPU)), a, tol, "UᵀU " + tag);
                small(svd.vh().matmul(svd.vh().t()).sub(Tensor.eye(k, dt).to(GPU)), a, tol, "VhVhᵀ " + tag);
                assertArrayEquals(Linalg.svdvals(cpu).toDoubleArray(), svd.s().toDoubleArray(), tol * maxAbs(cpu) * 10, "singular values " + tag);
                for (boolean complete : new boolean[] {false, true}) {
                    Linalg.Qr qr = Linalg.qr(a, complete);
                    small(qr.q().matmul(qr.r()).sub(a), a, tol, "QR " + complete + " " + tag);
                    int qc = qr.q().size(1);
                    small(qr.q().t().matmul(qr.q()).sub(Tensor.eye(qc, dt).to(GPU)), a, tol, "QᵀQ " + tag);
                    small(qr.r().sub(qr.r().mul(upperMask(qr.r().size(0), qr.r().size(1), dt))), a, 0, "R upper " + tag);
                }
                Linalg.Lu lu = Linalg.lu(a);
                small(lu.p().matmul(lu.l()).matmul(lu.u()).sub(a), a, tol, "PLU " + tag);
            }
            Tensor b = Tensor.randn(new Generator(7), dt, 30, 30);
            Tensor spd = b.matmul(b.t()).add(Tensor.eye(30, dt).mul(30.0)).to(GPU);
            Linalg.Eigh eh = Linalg.eigh(spd);
            small(spd.matmul(eh.vectors()).sub(eh.vectors().mul(eh.values())), spd, tol, "eigh " + dt);
            assertArrayEquals(Linalg.eigh(spd.to(Device.cpu())).values().toDoubleArray(), eh.values().toDoubleArray(), tol * maxAbs(spd) * 10);
            Tensor l = Linalg.cholesky(spd);
            small(l.matmul(l.t()).sub(spd), spd, tol, "cholesky " + dt);
            small(l.sub(l.mul(upperMask(30, 30, dt).t())), spd, 0, "L lower " + dt);
            Tensor rhs = Tensor.randn(new Generator(8), dt, 30, 4).to(GPU);
            for (boolean lower : new boolean[] {true, false}) {
                Tensor tri = lower ? l : l.t().contiguous();
                Tensor x = Linalg.solveTriangular(tri, rhs, lower, false);
                small(tri.matmul(x).sub(rhs), spd, tol, "solveTriangular lower=" + lower + " " + dt);
            }
            Tensor notSpd = spd.neg();
            assertThrows(ArithmeticException.class, () -> Linalg.cholesky(notSpd));
        }
    }

    private static Tensor upperMask(int rows, int cols, DType dt) {
        double[] m = new double[rows * cols];
        for (int i = 0; i < rows; i++) for (int j = i; j < cols; j++) m[i * cols + j] = 1;
        return Tensor.fromArray(m, rows, cols).to(dt).to(GPU);
    }

    @Test
    void randomizedSvdRunsOnTheGpu() {
        Tensor u = Tensor.randn(new Generator(9), DType.F64, 300, 8), v = Tensor.randn(new Generator(10), DType.F64, 8, 200);
        Tensor a = u.matmul(v).to(GPU);                                      // rank 8
        Linalg.Svd s = Linalg.svdLowRank(a, 8, 2, 4, new Generator(11));
        assertEquals(GPU, s.u().device());
        small(s.reconstruct().sub(a), a, 1e-9, "rank-8 matrix recovered by svdLowRank");
    }
}
