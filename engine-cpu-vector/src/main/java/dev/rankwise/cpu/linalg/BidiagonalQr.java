package dev.rankwise.cpu.linalg;

/// Singular values of an upper bidiagonal matrix B (diagonal d, superdiagonal e) by the implicit QR
/// iteration of Demmel & Kahan (1990), as in LAPACK's dbdsqr: zero-shift sweeps where a shift would
/// spoil relative accuracy, shifted sweeps otherwise, chasing in whichever direction the graded matrix
/// favours, with their convergence tests. Runs in double for both dtypes (O(n²) work); `eps` is the
/// unit roundoff of the data's dtype, so F32 data stops at F32 accuracy.
///
/// The rotations that act on B from the left are recorded in `u` (they rotate the left singular
/// vectors) and those from the right in `vt` (the right singular vectors); either may be null. On
/// return d holds the singular values, unsorted and possibly negative: the caller flips the sign of
/// d_i together with right vector i, and sorts.
final class BidiagonalQr {
    private BidiagonalQr() {}

    private static final int MAXITR = 6;

    static void iterate(double[] d, double[] e, int n, double eps, RotationLog u, RotationLog vt) {
        if (n <= 1) return;
        double unfl = Double.MIN_NORMAL;
        double tolmul = Math.max(10, Math.min(100, Math.pow(eps, -0.125)));
        double tol = tolmul * eps;
        double smax = 0;
        for (int i = 0; i < n; i++) smax = Math.max(smax, Math.abs(d[i]));
        for (int i = 0; i < n - 1; i++) smax = Math.max(smax, Math.abs(e[i]));
        // Threshold for negligible off-diagonals, relative to an estimate of the smallest singular value.
        double sminoa = Math.abs(d[0]);
        if (sminoa != 0) {
            double mu = sminoa;
            for (int i = 1; i < n; i++) {
                mu = Math.abs(d[i]) * (mu / (mu + Math.abs(e[i - 1])));
                sminoa = Math.min(sminoa, mu);
                if (sminoa == 0) break;
            }
        }
        sminoa /= Math.sqrt(n);
        double thresh = Math.max(tol * sminoa, (double) MAXITR * n * n * unfl);
        long maxit = (long) MAXITR * n * n;
        long iter = 0;
        int oldll = -1, oldm = -1, idir = 0;
        int m = n - 1;
        double[] rot = new double[3];
        outer:
        while (m > 0) {
            if (iter > maxit) {
                throw new ArithmeticException("svd: bidiagonal QR did not converge in " + maxit + " steps (n = " + n + ")");
            }
            // The unreduced block d[ll..m]: scan up from the bottom for a negligible e.
            smax = Math.abs(d[m]);
            int ll = 0;
            for (int l = m - 1; l >= 0; l--) {
                double abse = Math.abs(e[l]);
                if (abse <= thresh) {
                    e[l] = 0;
                    if (l == m - 1) {
                        m--;
                        continue outer;
                    }
                    ll = l + 1;
                    break;
                }
                smax = Math.max(smax, Math.max(Math.abs(d[l]), abse));
            }
            if (ll == m - 1) {
                // A 2×2 block: its SVD directly.
                double[] sv = svd2x2(d[m - 1], e[m - 1], d[m]);
                d[m - 1] = sv[1];
                e[m - 1] = 0;
                d[m] = sv[0];
                if (vt != null) vt.add(m - 1, sv[3], sv[2]);
                if (u != null) u.add(m - 1, sv[5], sv[4]);
                m -= 2;
                continue;
            }
            if (ll > oldm || m < oldll) idir = Math.abs(d[ll]) >= Math.abs(d[m]) ? 1 : 2;
            double sminl;
            if (idir == 1) {
                if (Math.abs(e[m - 1]) <= tol * Math.abs(d[m])) {
                    e[m - 1] = 0;
                    continue;
                }
                double mu = Math.abs(d[ll]);
                sminl = mu;
                for (int l = ll; l < m; l++) {
                    if (Math.abs(e[l]) <= tol * mu) {
                        e[l] = 0;
                        continue outer;
                    }
                    mu = Math.abs(d[l + 1]) * (mu / (mu + Math.abs(e[l])));
                    sminl = Math.min(sminl, mu);
                }
            } else {
                if (Math.abs(e[ll]) <= tol * Math.abs(d[ll])) {
                    e[ll] = 0;
                    continue;
                }
                double mu = Math.abs(d[m]);
                sminl = mu;
                for (int l = m - 1; l >= ll; l--) {
                    if (Math.abs(e[l]) <= tol * mu) {
                        e[l] = 0;
                        continue outer;
                    }
                    mu = Math.abs(d[l]) * (mu / (mu + Math.abs(e[l])));
                    sminl = Math.min(sminl, mu);
                }
            }
            oldll = ll;
            oldm = m;
            // The shift: zero when it would ruin relative accuracy, else the smaller singular value of
            // the trailing (or leading) 2×2.
            double shift = 0;
            if (!(n * tol * (sminl / smax) <= Math.max(eps, 0.01 * tol))) {
                double sll;
                if (idir == 1) {
                    sll = Math.abs(d[ll]);
                    shift = sminOf2x2(d[m - 1], e[m - 1], d[m]);
                } else {
                    sll = Math.abs(d[m]);
                    shift = sminOf2x2(d[ll], e[ll], d[ll + 1]);
                }
                if (sll > 0 && (shift / sll) * (shift / sll) < eps) shift = 0;
            }
            iter += m - ll;
            if (shift == 0) zeroShiftSweep(d, e, ll, m, idir, thresh, rot, u, vt);
            else shiftedSweep(d, e, ll, m, idir, shift, thresh, rot, u, vt);
        }
    }

    private static void zeroShiftSweep(double[] d, double[] e, int ll, int m, int idir, double thresh, double[] rot,
                                       RotationLog u, RotationLog vt) {
        double cs = 1, sn, oldcs = 1, oldsn = 0, r;
        if (idir == 1) {
            for (int i = ll; i < m; i++) {
                Scalars.rotation(d[i] * cs, e[i], rot);
                cs = rot[0];
                sn = rot[1];
                r = rot[2];
                if (i > ll) e[i - 1] = oldsn * r;
                Scalars.rotation(oldcs * r, d[i + 1] * sn, rot);
                oldcs = rot[0];
                oldsn = rot[1];
                d[i] = rot[2];
                if (vt != null) vt.add(i, cs, sn);
                if (u != null) u.add(i, oldcs, oldsn);
            }
            double h = d[m] * cs;
            d[m] = h * oldcs;
            e[m - 1] = h * oldsn;
            if (Math.abs(e[m - 1]) <= thresh) e[m - 1] = 0;
        } else {
            for (int i = m; i > ll; i--) {
                Scalars.rotation(d[i] * cs, e[i - 1], rot);
                cs = rot[0];
                sn = rot[1];
                r = rot[2];
                if (i < m) e[i] = oldsn * r;
                Scalars.rotation(oldcs * r, d[i - 1] * sn, rot);
                oldcs = rot[0];
                oldsn = rot[1];
                d[i] = rot[2];
                if (vt != null) vt.add(i - 1, oldcs, -oldsn);
                if (u != null) u.add(i - 1, cs, -sn);
            }
            double h = d[ll] * cs;
            d[ll] = h * oldcs;
            e[ll] = h * oldsn;
            if (Math.abs(e[ll]) <= thresh) e[ll] = 0;
        }
    }

    private static void shiftedSweep(double[] d, double[] e, int ll, int m, int idir, double shift, double thresh,
                                     double[] rot, RotationLog u, RotationLog vt) {
        if (idir == 1) {
            double f = (Math.abs(d[ll]) - shift) * (Math.copySign(1, d[ll]) + shift / d[ll]);
            double g = e[ll];
            for (int i = ll; i < m; i++) {
                Scalars.rotation(f, g, rot);
                double cosr = rot[0], sinr = rot[1];
                if (i > ll) e[i - 1] = rot[2];
                f = cosr * d[i] + sinr * e[i];
                e[i] = cosr * e[i] - sinr * d[i];
                g = sinr * d[i + 1];
                d[i + 1] = cosr * d[i + 1];
                Scalars.rotation(f, g, rot);
                double cosl = rot[0], sinl = rot[1];
                d[i] = rot[2];
                f = cosl * e[i] + sinl * d[i + 1];
                d[i + 1] = cosl * d[i + 1] - sinl * e[i];
                if (i < m - 1) {
                    g = sinl * e[i + 1];
                    e[i + 1] = cosl * e[i + 1];
                }
                if (vt != null) vt.add(i, cosr, sinr);
                if (u != null) u.add(i, cosl, sinl);
            }
            e[m - 1] = f;
            if (Math.abs(e[m - 1]) <= thresh) e[m - 1] = 0;
        } else {
            double f = (Math.abs(d[m]) - shift) * (Math.copySign(1, d[m]) + shift / d[m]);
            double g = e[m - 1];
            for (int i = m; i > ll; i--) {
                Scalars.rotation(f, g, rot);
                double cosr = rot[0], sinr = rot[1];
                if (i < m) e[i] = rot[2];
                f = cosr * d[i] + sinr * e[i - 1];
                e[i - 1] = cosr * e[i - 1] - sinr * d[i];
                g = sinr * d[i - 1];
                d[i - 1] = cosr * d[i - 1];
                Scalars.rotation(f, g, rot);
                double cosl = rot[0], sinl = rot[1];
                d[i] = rot[2];
                f = cosl * e[i - 1] + sinl * d[i - 1];
                d[i - 1] = cosl * d[i - 1] - sinl * e[i - 1];
                if (i > ll + 1) {
                    g = sinl * e[i - 2];
                    e[i - 2] = cosl * e[i - 2];
                }
                if (vt != null) vt.add(i - 1, cosl, -sinl);
                if (u != null) u.add(i - 1, cosr, -sinr);
            }
            e[ll] = f;
            if (Math.abs(e[ll]) <= thresh) e[ll] = 0;
        }
    }

    /// The smaller singular value of the upper triangular [[f, g], [0, h]] (LAPACK's dlas2).
    static double sminOf2x2(double f, double g, double h) {
        double fa = Math.abs(f), ga = Math.abs(g), ha = Math.abs(h);
        double fhmn = Math.min(fa, ha), fhmx = Math.max(fa, ha);
        if (fhmn == 0) return 0;
        if (ga < fhmx) {
            double as = 1 + fhmn / fhmx, at = (fhmx - fhmn) / fhmx, au = (ga / fhmx) * (ga / fhmx);
            double c = 2 / (Math.sqrt(as * as + au) + Math.sqrt(at * at + au));
            return fhmn * c;
        }
        double au = fhmx / ga;
        if (au == 0) return (fhmn * fhmx) / ga;
        double as = 1 + fhmn / fhmx, at = (fhmx - fhmn) / fhmx;
        double c = 1 / (Math.sqrt(1 + (as * au) * (as * au)) + Math.sqrt(1 + (at * au) * (at * au)));
        double ssmin = (fhmn * c) * au;
        return ssmin + ssmin;
    }

    /// SVD of the upper triangular [[f, g], [0, h]] (LAPACK's dlasv2): returns {ssmin, ssmax, snr, csr,
    /// snl, csl} with [[csl, snl], [−snl, csl]]·[[f, g], [0, h]]·[[csr, −snr], [snr, csr]] = diag(ssmax, ssmin).
    static double[] svd2x2(double f, double g, double h) {
        double ft = f, fa = Math.abs(ft), ht = h, ha = Math.abs(h);
        int pmax = 1;
        boolean swap = ha > fa;
        if (swap) {
            pmax = 3;
            double tmp = ft;
            ft = ht;
            ht = tmp;
            tmp = fa;
            fa = ha;
            ha = tmp;
        }
        double gt = g, ga = Math.abs(gt);
        double ssmin, ssmax, clt, crt, slt, srt;
        if (ga == 0) {
            ssmin = ha;
            ssmax = fa;
            clt = 1;
            crt = 1;
            slt = 0;
            srt = 0;
        } else {
            boolean gasmal = true;
            ssmin = ssmax = clt = crt = slt = srt = 0;
            if (ga > fa) {
                pmax = 2;
                if (fa / ga < 0x1p-53) {
                    gasmal = false;
                    ssmax = ga;
                    ssmin = ha > 1 ? fa / (ga / ha) : (fa / ga) * ha;
                    clt = 1;
                    slt = ht / gt;
                    srt = 1;
                    crt = ft / gt;
                }
            }
            if (gasmal) {
                double dd = fa - ha;
                double l = dd == fa ? 1 : dd / fa;
                double mm = gt / ft;
                double t = 2 - l;
                double mm2 = mm * mm, tt = t * t;
                double s = Math.sqrt(tt + mm2);
                double r = l == 0 ? Math.abs(mm) : Math.sqrt(l * l + mm2);
                double a = 0.5 * (s + r);
                ssmin = ha / a;
                ssmax = fa * a;
                if (mm2 == 0) {
                    if (l == 0) t = Math.copySign(2, ft) * Math.copySign(1, gt);
                    else t = gt / Math.copySign(dd, ft) + mm / t;
                } else {
                    t = (mm / (s + t) + mm / (r + l)) * (1 + a);
                }
                l = Math.sqrt(t * t + 4);
                crt = 2 / l;
                srt = t / l;
                clt = (crt + srt * mm) / a;
                slt = (ht / ft) * srt / a;
            }
        }
        double csl, snl, csr, snr;
        if (swap) {
            csl = srt;
            snl = crt;
            csr = slt;
            snr = clt;
        } else {
            csl = clt;
            snl = slt;
            csr = crt;
            snr = srt;
        }
        double tsign = switch (pmax) {
            case 1 -> Math.copySign(1, csr) * Math.copySign(1, csl) * Math.copySign(1, f);
            case 2 -> Math.copySign(1, snr) * Math.copySign(1, csl) * Math.copySign(1, g);
            default -> Math.copySign(1, snr) * Math.copySign(1, snl) * Math.copySign(1, h);
        };
        ssmax = Math.copySign(ssmax, tsign);
        ssmin = Math.copySign(ssmin, tsign * Math.copySign(1, f) * Math.copySign(1, h));
        return new double[] {ssmin, ssmax, snr, csr, snl, csl};
    }
}
