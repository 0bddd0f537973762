package dev.rankwise.cuda;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import dev.rankwise.kernels.KernelCatalog;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/// Optimizer steps over many small tensors in one launch (kernels/optim.cu), equal to the CPU's
/// [dev.rankwise.optim.AdamW] and SoRA gate optimizer step for step (the kernels round every operation as
/// the CPU's F32 tensor ops do).
public final class CudaOptim {
    private CudaOptim() {}

    /// One AdamW step (`step` counts from 1) on F32 CUDA tensors: params, their grads and the first and
    /// second moments, element-for-element the same shapes. Updates params, m and v in place.
    public static void adamW(List<Tensor> params, List<Tensor> grads, List<Tensor> m, List<Tensor> v,
                             double lr, double beta1, double beta2, double eps, double weightDecay, int step) {
        if (params.isEmpty()) return;
        CudaDevice d = CudaBackend.on("adamW", params.get(0));
        Table t = table("adamW", d, params, grads, m, v);
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        float decay = weightDecay == 0 ? 1f : (float) (1 - lr * weightDecay);
        d.launch("adamw_multi_f32", t.chunks, new KernelArgs().ptr(t.table).ptr(t.chunkList).f32(decay).f32((float) beta1).f32((float) (1 - beta1))
                .f32((float) beta2).f32((float) (1 - beta2)).f32((float) bc2).f32((float) eps).f32((float) (lr / bc1)));
    }

    /// One SoRA gate step (arXiv 2311.11696 §3.2) on F32 CUDA gates; returns each gate's number of
    /// non-zero entries after the step, counted in the same kernel.
    /// - `proximal`: g ← T_{lr·λ}(g − lr·∇g), the paper's rule (m and v may be null);
    /// - otherwise the authors' code: an Adam step (β = 0.9, 0.999, ε = 1e-6, `step` from 1) then the
    ///   threshold with fixed ξ = λ (see `SoraGateOptimizer.Rule.AUTHORS_CODE`).
    public static int[] soraGate(List<Tensor> gates, List<Tensor> grads, List<Tensor> m, List<Tensor> v,
                                 boolean proximal, double lr, double lambda, int step) {
        if (gates.isEmpty()) return new int[0];
        CudaDevice d = CudaBackend.on("soraGate", gates.get(0));
        Table t = table("soraGate", d, gates, grads, proximal ? null : m, proximal ? null : v);
        CudaBackend be = (CudaBackend) gates.get(0).backend();
        Tensor nnz = be.emptyZero(d, DType.I32, gates.size());
        double beta1 = 0.9, beta2 = 0.999;
        double stepSize = proximal ? 0 : lr * Math.sqrt(1 - Math.pow(beta2, step)) / (1 - Math.pow(beta1, step));
        d.launch("sora_gate_multi_f32", t.chunks, new KernelArgs().ptr(t.table).ptr(t.chunkList).ptr(nnz).i32(proximal ? 0 : 1)
                .f32((float) lr).f32((float) (proximal ? lr * lambda : lambda)).f32((float) beta1).f32((float) (1 - beta1))
                .f32((float) beta2).f32((float) (1 - beta2)).f32(1e-6f).f32((float) stepSize));
        return nnz.toIntArray();
    }

    /// The device table {p, g, m, v, n} per tensor and the chunk list {tensor, start} per block.
    private record Table(Tensor table, Tensor chunkList, int chunks) {}

    private static Table table(String op, CudaDevice d, List<Tensor> p, List<Tensor> g, List<Tensor> m, List<Tensor> v) {
        int count = p.size();
        if (g.size() != count || (m != null && m.size() != count) || (v != null && v.size() != count)) {
            throw new IllegalArgumentException(op + ": lists of different lengths");
        }
        long[] words = new long[5 * count];
        List<Integer> chunks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Tensor[] group = {p.get(i), g.get(i), m == null ? null : m.get(i), v == null ? null : v.get(i)};
            for (int k = 0; k < 4; k++) {
                Tensor t = group[k];
                if (t == null) continue;
                if (t.dtype() != DType.F32 || !t.isContiguous() || !Arrays.equals(t.shapeRef(), p.get(i).shapeRef())) {
                    throw new IllegalArgumentException(op + ": tensor " + i + " (operand " + k + ") must be contiguous F32 of shape "
                            + Arrays.toString(p.get(i).shapeRef()));
                }
                if (CudaStorage.of(t).device != d) throw new IllegalArgumentException(op + ": tensors on different devices");
                words[5 * i + k] = CudaStorage.of(t).address(t.offset());
            }
            long n = p.get(i).numel();
            words[5 * i + 4] = n;
            for (long s = 0; s < n; s += KernelCatalog.OPTIM_CHUNK) {
                if (s > Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": tensor " + i + " too large");
                chunks.add(i);
                chunks.add((int) s);
            }
        }
        CudaBackend be = (CudaBackend) p.get(0).backend();
        // The table holds raw 64-bit words; an F64 buffer of the same size carries them unchanged.
        Tensor table = be.empty(d, DType.F64, words.length);
        Cu.check(JCudaDriver.cuMemcpyHtoD(Cu.ptr(CudaStorage.of(table).address(0)), Pointer.to(words), 8L * words.length), "cuMemcpyHtoD(" + op + " table)");
        int[] cl = chunks.stream().mapToInt(Integer::intValue).toArray();
        Tensor chunkList = Tensor.fromArray(cl, cl.length).to(p.get(0).device());
        return new Table(table, chunkList, cl.length / 2);
    }
}
