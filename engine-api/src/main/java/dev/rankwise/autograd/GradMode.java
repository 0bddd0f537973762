package dev.rankwise.autograd;

/// Whether ops record the graph for backward, per thread. Use [#noGrad] as a scope:
/// ```java
/// try (var ignored = GradMode.noGrad()) { ... }
/// ```
public final class GradMode {
    private static final ThreadLocal<boolean[]> DISABLED = ThreadLocal.withInitial(() -> new boolean[1]);

    private GradMode() {}

    public static boolean enabled() {
        return !DISABLED.get()[0];
    }

    /// Disables recording until the returned scope closes; scopes nest.
    public static Scope noGrad() {
        return set(false);
    }

    /// Enables recording until the returned scope closes (inside a `noGrad` scope, for example).
    public static Scope enableGrad() {
        return set(true);
    }

    private static Scope set(boolean enabled) {
        boolean[] flag = DISABLED.get();
        boolean previous = flag[0];
        flag[0] = !enabled;
        return () -> flag[0] = previous;
    }

    /// A scope that restores the previous mode when closed.
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
