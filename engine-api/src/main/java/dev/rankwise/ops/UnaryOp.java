package dev.rankwise.ops;

/// The elementwise unary primitives a backend implements. Each carries its scalar definition in F64,
/// which is both the CPU fallback and the reference the tests compare fast kernels with.
/// Gradients are in `dev.rankwise.autograd.Derivatives`.
public enum UnaryOp {
    NEG {
        public double apply(double x) { return -x; }
    },
    EXP {
        public double apply(double x) { return Math.exp(x); }
    },
    LOG {
        public double apply(double x) { return Math.log(x); }
    },
    SQRT {
        public double apply(double x) { return Math.sqrt(x); }
    },
    RSQRT {
        public double apply(double x) { return 1.0 / Math.sqrt(x); }
    },
    ABS {
        public double apply(double x) { return Math.abs(x); }
    },
    SIGN {
        public double apply(double x) { return Math.signum(x); }
    },
    /// max(x, 0) with `Math.max`'s rules: NaN stays NaN, −0 gives +0 (as PyTorch).
    RELU {
        public double apply(double x) { return Math.max(x, 0.0); }
    },
    SIGMOID {
        public double apply(double x) {
            // Split by sign so neither branch overflows exp.
            if (x >= 0) return 1.0 / (1.0 + Math.exp(-x));
            double e = Math.exp(x);
            return e / (1.0 + e);
        }
    },
    TANH {
        public double apply(double x) { return Math.tanh(x); }
    },
    /// GELU, tanh approximation: 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), computed as the
    /// equal x·sigmoid(2u), which keeps its precision for negative x.
    GELU_TANH {
        public double apply(double x) {
            return x * SIGMOID.apply(2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
        }
    },
    /// GELU, exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
    GELU_ERF {
        public double apply(double x) { return 0.5 * x * (1 + Special.erf(x / Math.sqrt(2))); }
    },
    /// SiLU (swish): x·sigmoid(x).
    SILU {
        public double apply(double x) { return x * SIGMOID.apply(x); }
    },
    ERF {
        public double apply(double x) { return Special.erf(x); }
    };

    static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    /// The op's value at `x`, in F64.
    public abstract double apply(double x);

    /// Lower-case name used in error messages and anomaly reports.
    public String opName() {
        return NAMES[ordinal()];
    }

    private static final String[] NAMES = java.util.Arrays.stream(values())
            .map(v -> v.name().toLowerCase(java.util.Locale.ROOT)).toArray(String[]::new);
}
