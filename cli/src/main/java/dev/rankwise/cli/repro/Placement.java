package dev.rankwise.cli.repro;

import dev.rankwise.Device;
import dev.rankwise.Tensor;
import dev.rankwise.nn.Module;

import java.util.Map;

/// Moves a model's parameters to a device (a no-op on the CPU). Models are placed before adapters are
/// attached; the adapters' factors follow their base layer's device.
final class Placement {
    private Placement() {}

    static <M extends Module> M place(M model, Device device) {
        for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
            if (e.getValue().device().equals(device)) continue;
            String path = e.getKey();
            int dot = path.lastIndexOf('.');
            Module owner = dot < 0 ? model : model.module(path.substring(0, dot));
            owner.setParameter(path.substring(dot + 1), e.getValue().to(device));
        }
        return model;
    }
}
