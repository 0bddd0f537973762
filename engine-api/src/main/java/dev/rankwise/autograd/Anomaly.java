package dev.rankwise.autograd;

/// Anomaly mode: every op checks its output, and backward checks every gradient, for NaN or Inf, and
/// the first offender throws an [AnomalyException] naming the op. Slow; for debugging.
public final class Anomaly {
    private static volatile boolean enabled;

    private Anomaly() {}

    private static final ThreadLocal<boolean[]> IN_BACKWARD = ThreadLocal.withInitial(() -> new boolean[1]);

    /// True when ops should check their outputs: anomaly mode is on and no backward function is running
    /// (backward results are checked as a whole and blamed on the op whose rule produced them).
    public static boolean enabled() {
        return enabled && !IN_BACKWARD.get()[0];
    }

    /// Marks the current thread as running a backward rule until the scope closes.
    static GradMode.Scope inBackward() {
        boolean[] flag = IN_BACKWARD.get();
        boolean previous = flag[0];
        flag[0] = true;
        return () -> flag[0] = previous;
    }

    /// Whether backward results are checked (anomaly mode is on, whatever the thread is doing).
    static boolean checkingBackward() {
        return enabled;
    }

    /// Turns anomaly mode on until the returned scope closes.
    public static GradMode.Scope detect() {
        boolean previous = enabled;
        enabled = true;
        return () -> enabled = previous;
    }

    /// Raised by anomaly mode at the first non-finite value.
    public static final class AnomalyException extends ArithmeticException {
        private final String op;

        public AnomalyException(String op, String message) {
            super(message);
            this.op = op;
        }

        /// The name of the op whose forward or backward produced the non-finite value.
        public String op() {
            return op;
        }
    }
}
