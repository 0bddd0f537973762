// Philox 4x32-10 and the transcendental functions its normal fills need, written so the GPU gives
// the CPU's numbers bit for bit (dev.rankwise.random.Philox):
// - the generator and the uniform map are integer or exact arithmetic;
// - log, sin and cos are fdlibm's algorithms, as java.lang.StrictMath computes them (FdLibm.java),
//   restricted to the arguments a fill produces (log of u in (0, 1), sin/cos of 2πu in (0, 2π));
// - the file that includes this header is compiled with -fmad=false, so no multiply-add is fused
//   and every operation rounds as Java's does.
// Usable on the host as well (RW_HD), which lets a host test compare it with Java's values.
#pragma once

#ifdef __CUDACC__
#define RW_HD __host__ __device__ __forceinline__
#else
#define RW_HD static inline
#include <string.h>
#include <math.h>
#endif

RW_HD long long rw_bits(double x) {
#ifdef __CUDA_ARCH__
    return __double_as_longlong(x);
#else
    long long b;
    memcpy(&b, &x, 8);
    return b;
#endif
}

RW_HD double rw_from_bits(long long b) {
#ifdef __CUDA_ARCH__
    return __longlong_as_double(b);
#else
    double x;
    memcpy(&x, &b, 8);
    return x;
#endif
}

RW_HD int rw_hi(double x) { return (int)(rw_bits(x) >> 32); }
RW_HD double rw_with_hi(double x, int hi) {
    return rw_from_bits((rw_bits(x) & 0xFFFFFFFFLL) | ((long long)hi << 32));
}
RW_HD double rw_hi_lo(int hi, int lo) {
    return rw_from_bits(((long long)hi << 32) | (long long)(unsigned)lo);
}

// ---------------------------------------------------------------- Philox 4x32-10

// The four words of block (c0, c1, c2, c3) under key (k0, k1).
RW_HD void philox_block(unsigned c0, unsigned c1, unsigned c2, unsigned c3, unsigned k0, unsigned k1, unsigned* out) {
    for (int round = 0; round < 10; round++) {
        unsigned long long p0 = 0xD2511F53ull * c0, p1 = 0xCD9E8D57ull * c2;
        unsigned hi0 = (unsigned)(p0 >> 32), lo0 = (unsigned)p0;
        unsigned hi1 = (unsigned)(p1 >> 32), lo1 = (unsigned)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

// A word mapped to (0, 1) with 24 random bits, exactly.
RW_HD double philox_uniform(unsigned w) { return ((double)(w >> 8) + 0.5) * 0x1p-24; }

// ---------------------------------------------------------------- fdlibm: log

RW_HD double fdlibm_log(double x) {
    const double ln2_hi = 0x1.62e42feep-1, ln2_lo = 0x1.a39ef35793c76p-33, two54 = 0x1.0p54;
    const double Lg1 = 0x1.5555555555593p-1, Lg2 = 0x1.999999997fa04p-2, Lg3 = 0x1.2492494229359p-2,
                 Lg4 = 0x1.c71c51d8e78afp-3, Lg5 = 0x1.7466496cb03dep-3, Lg6 = 0x1.39a09d078c69fp-3,
                 Lg7 = 0x1.2f112df3e5244p-3;
    double hfsq, f, s, z, R, w, t1, t2, dk;
    int k, hx, i, j;
    unsigned lx;
    hx = rw_hi(x);
    lx = (unsigned)rw_bits(x);
    k = 0;
    if (hx < 0x00100000) {                                 // x < 2^-1022
        if (((hx & 0x7fffffff) | lx) == 0) return -INFINITY;    // log(±0)
        if (hx < 0) return NAN;                                // log(negative)
        k -= 54;
        x *= two54;
        hx = rw_hi(x);
    }
    if (hx >= 0x7ff00000) return x + x;
    k += (hx >> 20) - 1023;
    hx &= 0x000fffff;
    i = (hx + 0x95f64) & 0x100000;
    x = rw_with_hi(x, hx | (i ^ 0x3ff00000));
    k += (i >> 20);
    f = x - 1.0;
    if ((0x000fffff & (2 + hx)) < 3) {                     // |f| < 2^-20
        if (f == 0.0) {
            if (k == 0) return 0.0;
            dk = (double)k;
            return dk * ln2_hi + dk * ln2_lo;
        }
        R = f * f * (0.5 - 0.33333333333333333 * f);
        if (k == 0) return f - R;
        dk = (double)k;
        return dk * ln2_hi - ((R - dk * ln2_lo) - f);
    }
    s = f / (2.0 + f);
    dk = (double)k;
    z = s * s;
    i = hx - 0x6147a;
    w = z * z;
    j = 0x6b851 - hx;
    t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    i |= j;
    R = t2 + t1;
    if (i > 0) {
        hfsq = 0.5 * f * f;
        if (k == 0) return f - (hfsq - s * (hfsq + R));
        return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
    }
    if (k == 0) return f - s * (f - R);
    return dk * ln2_hi - ((s * (f - R) - dk * ln2_lo) - f);
}

// ---------------------------------------------------------------- fdlibm: sin and cos kernels

RW_HD double fdlibm_kernel_sin(double x, double y, int iy) {
    const double S1 = -0x1.5555555555549p-3, S2 = 0x1.111111110f8a6p-7, S3 = -0x1.a01a019c161d5p-13,
                 S4 = 0x1.71de357b1fe7dp-19, S5 = -0x1.ae5e68a2b9cebp-26, S6 = 0x1.5d93a5acfd57cp-33;
    int ix = rw_hi(x) & 0x7fffffff;
    if (ix < 0x3e400000) {                                 // |x| < 2^-27
        if ((int)x == 0) return x;
    }
    double z = x * x, v = z * x;
    double r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
    if (iy == 0) return x + v * (S1 + z * r);
    return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

RW_HD double fdlibm_kernel_cos(double x, double y) {
    const double C1 = 0x1.555555555554cp-5, C2 = -0x1.6c16c16c15177p-10, C3 = 0x1.a01a019cb159p-16,
                 C4 = -0x1.27e4f809c52adp-22, C5 = 0x1.1ee9ebdb4b1c4p-29, C6 = -0x1.8fae9be8838d4p-37;
    int ix = rw_hi(x) & 0x7fffffff;
    if (ix < 0x3e400000) {
        if ((int)x == 0) return 1.0;
    }
    double z = x * x;
    double r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
    if (ix < 0x3FD33333) return 1.0 - (0.5 * z - (z * r - x * y));   // |x| < 0.3
    double qx = ix > 0x3fe90000 ? 0.28125 : rw_hi_lo(ix - 0x00200000, 0);
    double hz = 0.5 * z - qx, a = 1.0 - qx;
    return a - (hz - (z * r - x * y));
}

// High words of n·π/2 for n = 1..32 (fdlibm's npio2_hw).
RW_HD int fdlibm_npio2_hw(int n) {
    const int t[32] = {
        0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C, 0x4025FDBB, 0x402921FB,
        0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C, 0x40346B9C, 0x4035FDBB, 0x40378FDB, 0x403921FB,
        0x403AB41B, 0x403C463A, 0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
        0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB, 0x404858EB, 0x404921FB};
    return t[n - 1];
}

// x − n·π/2 = y0 + y1 with |y0| <= π/4; returns n. Valid for |x| <= 2^19·π/2 (fdlibm's small and
// medium cases); a fill's angles are in (0, 2π).
RW_HD int fdlibm_rem_pio2(double x, double* y) {
    const double invpio2 = 0x1.45f306dc9c883p-1, pio2_1 = 0x1.921fb544p0, pio2_1t = 0x1.0b4611a626331p-34,
                 pio2_2 = 0x1.0b4611a6p-34, pio2_2t = 0x1.3198a2e037073p-69, pio2_3 = 0x1.3198a2ep-69,
                 pio2_3t = 0x1.b839a252049c1p-104;
    double z, w, t, r, fn;
    int i, j, n, ix, hx;
    hx = rw_hi(x);
    ix = hx & 0x7fffffff;
    if (ix <= 0x3fe921fb) {
        y[0] = x;
        y[1] = 0;
        return 0;
    }
    if (ix < 0x4002d97c) {                                 // |x| < 3π/4
        if (hx > 0) {
            z = x - pio2_1;
            if (ix != 0x3ff921fb) {
                y[0] = z - pio2_1t;
                y[1] = (z - y[0]) - pio2_1t;
            } else {
                z -= pio2_2;
                y[0] = z - pio2_2t;
                y[1] = (z - y[0]) - pio2_2t;
            }
            return 1;
        }
        z = x + pio2_1;
        if (ix != 0x3ff921fb) {
            y[0] = z + pio2_1t;
            y[1] = (z - y[0]) + pio2_1t;
        } else {
            z += pio2_2;
            y[0] = z + pio2_2t;
            y[1] = (z - y[0]) + pio2_2t;
        }
        return -1;
    }
    t = fabs(x);
    n = (int)(t * invpio2 + 0.5);
    fn = (double)n;
    r = t - fn * pio2_1;
    w = fn * pio2_1t;
    if (n < 32 && ix != fdlibm_npio2_hw(n)) {
        y[0] = r - w;
    } else {
        j = ix >> 20;
        y[0] = r - w;
        i = j - ((rw_hi(y[0]) >> 20) & 0x7ff);
        if (i > 16) {
            t = r;
            w = fn * pio2_2;
            r = t - w;
            w = fn * pio2_2t - ((t - r) - w);
            y[0] = r - w;
            i = j - ((rw_hi(y[0]) >> 20) & 0x7ff);
            if (i > 49) {
                t = r;
                w = fn * pio2_3;
                r = t - w;
                w = fn * pio2_3t - ((t - r) - w);
                y[0] = r - w;
            }
        }
    }
    y[1] = (r - y[0]) - w;
    if (hx < 0) {
        y[0] = -y[0];
        y[1] = -y[1];
        return -n;
    }
    return n;
}

RW_HD double fdlibm_sin(double x) {
    double y[2];
    int ix = rw_hi(x) & 0x7fffffff;
    if (ix <= 0x3fe921fb) return fdlibm_kernel_sin(x, 0.0, 0);
    if (ix >= 0x7ff00000) return x - x;
    int n = fdlibm_rem_pio2(x, y);
    switch (n & 3) {
        case 0: return fdlibm_kernel_sin(y[0], y[1], 1);
        case 1: return fdlibm_kernel_cos(y[0], y[1]);
        case 2: return -fdlibm_kernel_sin(y[0], y[1], 1);
        default: return -fdlibm_kernel_cos(y[0], y[1]);
    }
}

RW_HD double fdlibm_cos(double x) {
    double y[2];
    int ix = rw_hi(x) & 0x7fffffff;
    if (ix <= 0x3fe921fb) return fdlibm_kernel_cos(x, 0.0);
    if (ix >= 0x7ff00000) return x - x;
    int n = fdlibm_rem_pio2(x, y);
    switch (n & 3) {
        case 0: return fdlibm_kernel_cos(y[0], y[1]);
        case 1: return -fdlibm_kernel_sin(y[0], y[1], 1);
        case 2: return -fdlibm_kernel_cos(y[0], y[1]);
        default: return fdlibm_kernel_sin(y[0], y[1], 1);
    }
}

// ---------------------------------------------------------------- one element of a fill

// Element i of a fill starting at block `counterOffset`: uniform in (0, 1) or standard normal
// (Box–Muller on word pairs (0, 1) and (2, 3): even lanes take r·cos θ, odd lanes r·sin θ).
// `w` holds the words of block counterOffset + i/4.
RW_HD double philox_element(const unsigned* w, int lane, int normal) {
    if (!normal) return philox_uniform(w[lane]);
    int pair = lane & 2;
    double r = sqrt(-2 * fdlibm_log(philox_uniform(w[pair])));
    double theta = 2 * 3.141592653589793 * philox_uniform(w[pair + 1]);
    return (lane & 1) == 0 ? r * fdlibm_cos(theta) : r * fdlibm_sin(theta);
}
