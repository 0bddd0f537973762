package dev.rankwise.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/// eˣ and eˣ − 1 over arrays, in vector lanes, from correctly rounded operations only (add, mul, fma,
/// compare, bit moves). The activations built on them (sigmoid, tanh, SiLU, GELU) are in the kernels.
///
/// Why not the Vector API's own `EXP`: it gives different bits when intrinsified than in its Java
/// fallback, so a result would depend on how far the JIT has got, and bit-identical reruns would be
/// lost. These give the same bits in the interpreter, C1 and C2.
///
/// Why arrays, not a `Vector → Vector` function: a vector that crosses a call the JIT did not inline
/// is boxed on the heap, which costs more than the arithmetic; callers pass L1-sized buffers instead.
///
/// Method: x = k·ln2 + r with |r| ≤ ln2/2 (k by the 1.5·2ᵖ rounding trick, r by two FMAs against a
/// split ln2), eʳ − 1 = r·p(r) with p the Taylor polynomial (degree 13 for F64, 7 for F32; remainders
/// below 5e-18 and 5e-9), then 2ᵏ built from bits, in two halves so that results near overflow and
/// in the subnormal range come out right. Accuracy against `Math.exp` (`VectorMathTest`): within 1 ulp.
/// F32 and F64 differ in degree and constants, so they are written out rather than generated.
final class VectorMath {
    private VectorMath() {}

    private static final double LN2 = Math.log(2), LOG2E = 1 / LN2;

    // ---------------------------------------------------------------- F64

    private static final VectorSpecies<Double> SD = DoubleVector.SPECIES_PREFERRED;
    private static final double LN2_HI = LN2, LN2_LO = 2.319046813846299558e-17;  // together ln 2 to 2⁻¹⁰⁶
    private static final double SHIFT_D = 0x1.8p52;                                // adding it rounds to an integer
    private static final long SHIFT_D_BITS = Double.doubleToRawLongBits(SHIFT_D);

    /// `o[i] = e^x[i]` for `n` elements, `n` a multiple of the lane count; `o` may be `x`.
    static void exp(double[] x, int xo, double[] o, int oo, int n) {
        for (int i = 0; i < n; i += SD.length()) {
            DoubleVector xv = DoubleVector.fromArray(SD, x, xo + i);
            // Where every |x| ≤ 708, 2ᵏ is a normal double and one multiplication by it gives the same
            // bits as [#expWide]'s two halves (whose first multiplication is exact). NaN compares false
            // and stays NaN here. The rare vector goes through a call: the hot loop stays short, and C2
            // compiles the wide path only once some input needs it.
            if (xv.abs().compare(VectorOperators.GT, 708.0).anyTrue()) {
                expWide(x, xo + i, o, oo + i);
                continue;
            }
            DoubleVector t = xv.fma(c(LOG2E), c(SHIFT_D));                  // SHIFT + k, k = round(x / ln2)
            DoubleVector k = t.sub(SHIFT_D);
            DoubleVector r = k.fma(c(-LN2_HI), xv);
            r = k.fma(c(-LN2_LO), r);
            LongVector kl = (LongVector) t.reinterpretAsLongs().sub(SHIFT_D_BITS);
            poly(r).fma(r, c(1.0)).mul(pow2(kl)).intoArray(o, oo + i);
        }
    }

    /// e^x for one vector at `xo` with some |x| > 708: x clamped (results overflow to ∞ or underflow
    /// to 0 on their own), 2ᵏ applied in two halves so that neither leaves the doubles.
    private static void expWide(double[] x, int xo, double[] o, int oo) {
        DoubleVector xc = DoubleVector.fromArray(SD, x, xo).max(-746.0).min(710.0);   // NaN stays NaN
        DoubleVector t = xc.fma(c(LOG2E), c(SHIFT_D));
        DoubleVector k = t.sub(SHIFT_D);
        DoubleVector r = k.fma(c(-LN2_HI), xc);
        r = k.fma(c(-LN2_LO), r);
        LongVector kl = (LongVector) t.reinterpretAsLongs().sub(SHIFT_D_BITS);
        LongVector k1 = kl.lanewise(VectorOperators.ASHR, 1), k2 = kl.sub(k1);
        poly(r).fma(r, c(1.0)).mul(pow2(k1)).mul(pow2(k2)).intoArray(o, oo);
    }

    /// `o[i] = e^x[i] − 1` for `x[i] ≤ 0` (what tanh needs), accurate also near 0 where eˣ − 1 cancels.
    static void expm1NonPositive(double[] x, int xo, double[] o, int oo, int n) {
        for (int i = 0; i < n; i += SD.length()) {
            // Below −45, e^x − 1 rounds to −1. A compare and blend rather than max: C2 emits Java's max
            // (NaN and ±0 rules) as about six µops, the blend as two; NaN compares false and stays.
            DoubleVector xv = DoubleVector.fromArray(SD, x, xo + i);
            DoubleVector xc = xv.blend(c(-45.0), xv.compare(VectorOperators.LT, -45.0));
            DoubleVector t = xc.fma(c(LOG2E), c(SHIFT_D));
            DoubleVector k = t.sub(SHIFT_D);
            DoubleVector r = k.fma(c(-LN2_HI), xc);
            r = k.fma(c(-LN2_LO), r);
            DoubleVector s = pow2((LongVector) t.reinterpretAsLongs().sub(SHIFT_D_BITS));
            poly(r).fma(r.mul(s), s.sub(1.0)).intoArray(o, oo + i);           // 2ᵏ(eʳ − 1) + (2ᵏ − 1)
        }
    }

    /// (eʳ − 1) / r, Taylor to degree 13 in r, Horner's rule.
    private static DoubleVector poly(DoubleVector r) {
        return c(1.0 / 6227020800L).fma(r, c(1.0 / 479001600L)).fma(r, c(1.0 / 39916800L)).fma(r, c(1.0 / 3628800L))
                .fma(r, c(1.0 / 362880L)).fma(r, c(1.0 / 40320)).fma(r, c(1.0 / 5040)).fma(r, c(1.0 / 720))
                .fma(r, c(1.0 / 120)).fma(r, c(1.0 / 24)).fma(r, c(1.0 / 6)).fma(r, c(0.5)).fma(r, c(1.0));
    }

    private static DoubleVector c(double v) {
        return DoubleVector.broadcast(SD, v);
    }

    private static DoubleVector pow2(LongVector k) {
        return (DoubleVector) k.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
    }

    // ---------------------------------------------------------------- F32

    private static final VectorSpecies<Float> SF = FloatVector.SPECIES_PREFERRED;
    private static final float LN2_HI_F = (float) LN2, LN2_LO_F = (float) (LN2 - (float) LN2);
    private static final float SHIFT_F = 0x1.8p23f;
    private static final int SHIFT_F_BITS = Float.floatToRawIntBits(SHIFT_F);

    /// As the F64 [#exp(double[], int, double[], int, int)], with |x| ≤ 87 for the short path.
    static void exp(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += SF.length()) {
            FloatVector xv = FloatVector.fromArray(SF, x, xo + i);
            if (xv.abs().compare(VectorOperators.GT, 87f).anyTrue()) {
                expWide(x, xo + i, o, oo + i);
                continue;
            }
            FloatVector t = xv.fma(c((float) LOG2E), c(SHIFT_F));
            FloatVector k = t.sub(SHIFT_F);
            FloatVector r = k.fma(c(-LN2_HI_F), xv);
            r = k.fma(c(-LN2_LO_F), r);
            IntVector ki = (IntVector) t.reinterpretAsInts().sub(SHIFT_F_BITS);
            poly(r).fma(r, c(1f)).mul(pow2(ki)).intoArray(o, oo + i);
        }
    }

    /// As the F64 [#expWide(double[], int, double[], int)].
    private static void expWide(float[] x, int xo, float[] o, int oo) {
        FloatVector xc = FloatVector.fromArray(SF, x, xo).max(-104f).min(89f);
        FloatVector t = xc.fma(c((float) LOG2E), c(SHIFT_F));
        FloatVector k = t.sub(SHIFT_F);
        FloatVector r = k.fma(c(-LN2_HI_F), xc);
        r = k.fma(c(-LN2_LO_F), r);
        IntVector ki = (IntVector) t.reinterpretAsInts().sub(SHIFT_F_BITS);
        IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1), k2 = ki.sub(k1);
        poly(r).fma(r, c(1f)).mul(pow2(k1)).mul(pow2(k2)).intoArray(o, oo);
    }

    static void expm1NonPositive(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += SF.length()) {
            FloatVector xv = FloatVector.fromArray(SF, x, xo + i);
            FloatVector xc = xv.blend(c(-20f), xv.compare(VectorOperators.LT, -20f));
            FloatVector t = xc.fma(c((float) LOG2E), c(SHIFT_F));
            FloatVector k = t.sub(SHIFT_F);
            FloatVector r = k.fma(c(-LN2_HI_F), xc);
            r = k.fma(c(-LN2_LO_F), r);
            FloatVector s = pow2((IntVector) t.reinterpretAsInts().sub(SHIFT_F_BITS));
            poly(r).fma(r.mul(s), s.sub(1f)).intoArray(o, oo + i);
        }
    }

    /// Taylor to degree 7.
    private static FloatVector poly(FloatVector r) {
        return c(1f / 5040).fma(r, c(1f / 720)).fma(r, c(1f / 120)).fma(r, c(1f / 24)).fma(r, c(1f / 6))
                .fma(r, c(0.5f)).fma(r, c(1f));
    }

    private static FloatVector c(float v) {
        return FloatVector.broadcast(SF, v);
    }

    private static FloatVector pow2(IntVector k) {
        return (FloatVector) k.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }
}
