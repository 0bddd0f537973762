package dev.rankwise.cpu;

import dev.rankwise.BackendContract;
import dev.rankwise.Device;

/// The backend contract on the CPU.
class CpuBackendContractTest extends BackendContract {
    @Override
    protected Device device() {
        return Device.cpu();
    }
}
