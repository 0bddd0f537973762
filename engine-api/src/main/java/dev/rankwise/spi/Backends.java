package dev.rankwise.spi;

import dev.rankwise.Device;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/// Finds backends with [ServiceLoader] and picks one per device kind: the available one with the
/// highest priority. A backend that fails to load or reports itself unavailable is skipped with
/// its reason kept, so a missing GPU never breaks CPU work.
public final class Backends {
    private static volatile List<Backend> all;

    private Backends() {}

    /// Every backend found on the class path, available or not.
    public static List<Backend> all() {
        List<Backend> b = all;
        if (b == null) {
            synchronized (Backends.class) {
                if (all == null) all = load();
                b = all;
            }
        }
        return b;
    }

    private static List<Backend> load() {
        List<Backend> found = new ArrayList<>();
        ServiceLoader<Backend> loader = ServiceLoader.load(Backend.class, Backends.class.getClassLoader());
        var it = loader.iterator();
        while (true) {
            try {
                if (!it.hasNext()) break;
                found.add(it.next());
            } catch (java.util.ServiceConfigurationError | LinkageError e) {
                // A backend whose classes or native libraries do not load is not available; go on.
            }
        }
        found.sort(Comparator.comparingInt(Backend::priority).reversed());
        return List.copyOf(found);
    }

    /// The backend serving `device`, or an exception saying why there is none.
    public static Backend forDevice(Device device) {
        StringBuilder why = new StringBuilder();
        for (Backend b : all()) {
            if (b.kind() != device.kind()) continue;
            String reason = b.unavailableReason();
            if (reason == null) return b;
            why.append(why.isEmpty() ? "" : "; ").append(b.name()).append(": ").append(reason);
        }
        throw new IllegalStateException("no backend available for device " + device
                + (why.isEmpty() ? " (none found on the class path)" : " (" + why + ")"));
    }

    /// True when some backend can serve `device`.
    public static boolean isAvailable(Device device) {
        for (Backend b : all()) {
            if (b.kind() == device.kind() && b.unavailableReason() == null) return true;
        }
        return false;
    }
}
