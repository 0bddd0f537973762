package dev.rankwise.spi;

/// What a random fill draws from. UNIFORM is on `[a, b)`, NORMAL has mean `a` and standard deviation `b`.
public record Distribution(Kind kind, double a, double b) {
    public enum Kind { UNIFORM, NORMAL }

    public static Distribution uniform(double low, double high) {
        return new Distribution(Kind.UNIFORM, low, high);
    }

    public static Distribution normal(double mean, double std) {
        return new Distribution(Kind.NORMAL, mean, std);
    }
}
