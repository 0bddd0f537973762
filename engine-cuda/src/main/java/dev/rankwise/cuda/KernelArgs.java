package dev.rankwise.cuda;

import dev.rankwise.kernels.Kernel;
import dev.rankwise.kernels.Param;
import jcuda.Pointer;

import java.util.ArrayList;
import java.util.List;

/// The arguments of one launch, in order, each kept as the primitive array JCuda points at. Checked
/// against the kernel's catalog entry before the launch, so a wrong count or type fails in Java with
/// the kernel's name instead of corrupting memory on the device.
final class KernelArgs {
    private final List<Param.Type> types = new ArrayList<>();
    private final List<Integer> sizes = new ArrayList<>();
    private final List<Pointer> values = new ArrayList<>();
    /// Storages whose addresses were taken: kept reachable until the launch is queued.
    final List<Object> keepAlive = new ArrayList<>();

    KernelArgs ptr(long address) {
        return add(Param.Type.PTR, 8, Pointer.to(new long[] {address}));
    }

    /// The address of `t`'s first element (its storage plus offset).
    KernelArgs ptr(dev.rankwise.Tensor t) {
        keepAlive.add(t.storage());
        return ptr(CudaStorage.of(t).address(t.offset()));
    }

    /// The address of `t`'s first element, or 0 (a null pointer) when `t` is null.
    KernelArgs ptrOrNull(dev.rankwise.Tensor t) {
        return t == null ? ptr(0L) : ptr(t);
    }

    KernelArgs i32(int v) {
        return add(Param.Type.I32, 4, Pointer.to(new int[] {v}));
    }

    KernelArgs u64(long v) {
        return add(Param.Type.U64, 8, Pointer.to(new long[] {v}));
    }

    KernelArgs f32(float v) {
        return add(Param.Type.F32, 4, Pointer.to(new float[] {v}));
    }

    KernelArgs f64(double v) {
        return add(Param.Type.F64, 8, Pointer.to(new double[] {v}));
    }

    /// A by-value struct of 32-bit words.
    KernelArgs struct(int[] words) {
        return add(Param.Type.STRUCT, 4 * words.length, Pointer.to(words));
    }

    private KernelArgs add(Param.Type t, int bytes, Pointer p) {
        types.add(t);
        sizes.add(bytes);
        values.add(p);
        return this;
    }

    /// Throws unless these arguments fit `k`'s parameters one by one.
    void check(Kernel k) {
        List<Param> ps = k.params();
        if (ps.size() != types.size()) {
            throw new IllegalArgumentException("launch " + k.name() + ": " + types.size() + " arguments for parameters " + ps);
        }
        for (int i = 0; i < ps.size(); i++) {
            Param p = ps.get(i);
            if (p.type() != types.get(i) || p.bytes() != sizes.get(i)) {
                throw new IllegalArgumentException("launch " + k.name() + ": argument " + i + " is " + types.get(i) + "[" + sizes.get(i)
                        + " bytes], parameter " + p + " wants " + p.type() + "[" + p.bytes() + " bytes]");
            }
        }
    }

    /// The `kernelParams` array of `cuLaunchKernel`: a pointer to each argument's value.
    Pointer kernelParams() {
        return Pointer.to(values.toArray(new Pointer[0]));
    }
}
