package dev.rankwise.ops;

/// Special functions the JDK does not provide.
public final class Special {
    private Special() {}

    /// The error function to about 1e-16 relative accuracy.
    ///
    /// Uses erf(x) = 2x/√π · e^(−x²) · Σₙ (2x²)ⁿ / (1·3·5···(2n+1)) (Abramowitz & Stegun 7.1.6): every
    /// term is positive, so the sum has no cancellation. For |x| ≥ 6, erf(x) = ±1 in double precision
    /// (erfc(6) ≈ 2e-17).
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax >= 6) return Math.copySign(1.0, x);
        double x2 = 2 * ax * ax;
        double term = 1, sum = 1;
        for (int n = 1; n < 200; n++) {
            term *= x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        double r = 2 * ax / Math.sqrt(Math.PI) * Math.exp(-ax * ax) * sum;
        return Math.copySign(Math.min(r, 1.0), x);
    }
}
