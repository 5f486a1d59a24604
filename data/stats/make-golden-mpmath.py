"""Reference values at 30+ significant digits with mpmath, for regions where R 4.2 itself is inaccurate:
pf(..., log.p = TRUE) with large d2 (pbeta's bpser underflows, errors up to 20 in log10) and
qchisq(q, df, lower.tail = FALSE) for q ~ 1e-14 (relative errors ~1e-10).
Run from the repository root:  python3 data/stats/make-golden-mpmath.py   (writes data/stats/golden-mpmath.json)

F upper tail: P(F > x) = I_y(A, B), A = d2/2, B = d1/2, y = d2/(d2 + d1 x), summed as the positive series
I_y(A, B) = y^A (1-y)^B / (A B(A, B)) * sum_n prod_{k<n} (A+B+k) y / (A+1+k)   (2F1(A+B, 1; A+1; y)).
Chi-square upper quantile: root of log Q(df/2, x/2) = log q with mpmath's gammainc.
"""
import json
from mpmath import mp, mpf, loggamma, log, gammainc, findroot, inf

mp.dps = 40


def f_log10_survival(x, d1, d2):
    x, d1, d2 = mpf(float(x)), mpf(float(d1)), mpf(float(d2))  # the exact doubles the tests pass
    a, b = d2 / 2, d1 / 2
    y = d2 / (d2 + d1 * x)
    z = d1 * x / (d2 + d1 * x)
    s, t, n = mpf(0), mpf(1), 0
    while True:
        s += t
        t *= (a + b + n) * y / (a + 1 + n)
        n += 1
        if n > 10 and t < s * mpf(10) ** -35:
            break
    lbeta = loggamma(a) + loggamma(b) - loggamma(a + b)
    return (a * log(y) + b * log(z) - lbeta - log(a) + log(s)) / log(10)


def chi2_upper_quantile(q, df, start):
    a, q = mpf(float(df)) / 2, mpf(float(q))
    return findroot(lambda x: log(gammainc(a, x / 2, inf, regularized=True)) - log(q), mpf(start))


F_CASES = [  # (x, d1, d2): all with p far below what pbeta gets right in log space
    ('145.475909801449', '49.5857000258911', '565.496031673642'),
    ('101.526626555765', '33.0336311128448', '15980.8471815403'),
    ('93.0118198077521', '50.2567335762912', '84525.8447753319'),
    ('437.927978124894', '60.1386745314712', '279082.391412865'),
    ('1944.93362822647', '27.2010267898076', '143348.882934183'),
    ('35.2647560112932', '47.0356860365373', '23006.3778413461'),
    ('2026.69555317999', '68.3760943211215', '119070.257689829'),
    ('30', '2', '1400'),
    ('2000', '1', '1400'),
]
Q_CASES = [  # (q, df, starting value for the root)
    ('1.16979090991193e-14', '0.88078786890211', '58.9'),
    ('2.8020005582256e-14', '290.322265390065', '510'),
    ('3.55824626865502e-14', '39.066688349737', '145.5'),
    ('1.50698798666506e-14', '1260.99389130761', '1800'),
    ('1e-300', '1', '1370'),
]

out = {
    'mpmath': mp.dps,
    'f_log10': [{'args': [float(v) for v in c], 'log10p': str(f_log10_survival(*c))} for c in F_CASES],
    'qchisq_upper': [{'args': [float(q), float(df)], 'x': str(chi2_upper_quantile(q, df, s))} for q, df, s in Q_CASES],
}
with open('data/stats/golden-mpmath.json', 'w') as fh:
    json.dump(out, fh, indent=1)
    fh.write('\n')
