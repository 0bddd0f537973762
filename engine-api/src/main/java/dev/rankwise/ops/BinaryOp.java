package dev.rankwise.ops;

/// The elementwise binary primitives a backend implements, on operands of one shape (broadcast
/// operands arrive as stride-0 views) and one dtype. Comparisons give 1 or 0 in the operands' dtype.
public enum BinaryOp {
    ADD {
        public double apply(double a, double b) { return a + b; }
    },
    SUB {
        public double apply(double a, double b) { return a - b; }
    },
    MUL {
        public double apply(double a, double b) { return a * b; }
    },
    DIV {
        public double apply(double a, double b) { return a / b; }
    },
    POW {
        public double apply(double a, double b) { return Math.pow(a, b); }
    },
    MAX {
        public double apply(double a, double b) { return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b); }
    },
    MIN {
        public double apply(double a, double b) { return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b); }
    },
    GT {
        public double apply(double a, double b) { return a > b ? 1 : 0; }
    },
    GE {
        public double apply(double a, double b) { return a >= b ? 1 : 0; }
    },
    LT {
        public double apply(double a, double b) { return a < b ? 1 : 0; }
    },
    LE {
        public double apply(double a, double b) { return a <= b ? 1 : 0; }
    },
    EQ {
        public double apply(double a, double b) { return a == b ? 1 : 0; }
    };

    /// The op's value at `(a, b)`, in F64.
    public abstract double apply(double a, double b);

    /// True for the comparisons, whose results carry no gradient.
    public boolean isComparison() {
        return ordinal() >= GT.ordinal();
    }

    public String opName() {
        return NAMES[ordinal()];
    }

    private static final String[] NAMES = java.util.Arrays.stream(values())
            .map(v -> v.name().toLowerCase(java.util.Locale.ROOT)).toArray(String[]::new);
}
