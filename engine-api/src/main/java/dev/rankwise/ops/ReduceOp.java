package dev.rankwise.ops;

/// Reductions over a set of dims. SUM, MAX and MIN keep the input dtype; ARGMAX and ARGMIN give I32
/// indices (the first extreme index, counted along the single reduced dim).
public enum ReduceOp {
    SUM, MAX, MIN, ARGMAX, ARGMIN;

    public boolean isArg() {
        return this == ARGMAX || this == ARGMIN;
    }

    public String opName() {
        return NAMES[ordinal()];
    }

    private static final String[] NAMES = java.util.Arrays.stream(values())
            .map(v -> v.name().toLowerCase(java.util.Locale.ROOT)).toArray(String[]::new);
}
