package dev.rankwise.cpu;

import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.spi.Backend;
import dev.rankwise.spi.Storage;

/// Host storage: a plain Java array of the dtype's element type. Exactly one of the arrays is set.
public final class CpuStorage implements Storage {
    private final CpuBackend backend;
    private final DType dtype;
    public final float[] f32;
    public final double[] f64;
    public final int[] i32;

    CpuStorage(CpuBackend backend, DType dtype, Object data) {
        this.backend = backend;
        this.dtype = dtype;
        this.f32 = dtype == DType.F32 ? (float[]) data : null;
        this.f64 = dtype == DType.F64 ? (double[]) data : null;
        this.i32 = dtype == DType.I32 ? (int[]) data : null;
    }

    static Object newArray(DType dtype, long size) {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cpu: a tensor of " + size + " elements exceeds the 2^31 array limit");
        }
        int n = (int) size;
        return switch (dtype) {
            case F32 -> new float[n];
            case F64 -> new double[n];
            case I32 -> new int[n];
            default -> throw new IllegalArgumentException("cpu: cannot store " + dtype + " (storage-only type; convert to F32)");
        };
    }

    /// The backing array as an Object (`float[]`, `double[]` or `int[]`).
    public Object array() {
        return f32 != null ? f32 : f64 != null ? f64 : i32;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long size() {
        return f32 != null ? f32.length : f64 != null ? f64.length : i32.length;
    }
}
