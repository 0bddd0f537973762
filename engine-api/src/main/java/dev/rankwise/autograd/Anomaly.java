package dev.rankwise.autograd;

/// Anomaly mode: every op checks its output, and backward checks every gradient, for NaN or Inf, and
/// the first offender throws an [AnomalyException] naming the op. Slow; for debugging.
public final class Anomaly {
    private static volatile boolean enabled;

    private Anomaly() {}

    public static boolean enabled() {
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
