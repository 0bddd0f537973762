package dev.rankwise.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/// Small helpers over JCuda's driver API: return-code checks that name the call, and device
/// pointers as plain `long` addresses (JCuda's pointer objects are made only at the call).
final class Cu {
    private Cu() {}

    private static final CUdeviceptr NULL = new CUdeviceptr();

    /// Throws a [CudaException] naming `call` unless `rc` is CUDA_SUCCESS.
    static void check(int rc, String call) {
        if (rc != CUresult.CUDA_SUCCESS) throw new CudaException(call + " failed: " + CUresult.stringFor(rc) + " (" + rc + ")");
    }

    /// A JCuda device pointer for a raw address (JCuda passes nativePointer + byteOffset).
    static CUdeviceptr ptr(long address) {
        return NULL.withByteOffset(address);
    }

    /// A device pointer whose address can be read back after `cuMemAlloc` filled it in.
    static final class AllocatedPtr extends CUdeviceptr {
        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    /// A stream whose raw handle can be handed to libraries bound through `java.lang.foreign`.
    static final class Stream extends CUstream {
        long address() {
            return getNativePointer();
        }
    }
}
