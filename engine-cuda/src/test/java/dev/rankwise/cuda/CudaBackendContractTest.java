package dev.rankwise.cuda;

import dev.rankwise.BackendContract;
import dev.rankwise.Device;
import org.junit.jupiter.api.BeforeEach;

/// The engine's whole backend contract (every op's gradient against F64 finite differences, F32
/// against F64, kernel paths, autograd semantics, anomaly mode, bad inputs) on cuda:0. Skips with
/// the reason where there is no GPU.
class CudaBackendContractTest extends BackendContract {
    @BeforeEach
    void gpu() {
        Gpu.assume();
    }

    @Override
    protected Device device() {
        return Gpu.DEVICE;
    }
}
