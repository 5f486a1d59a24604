/**
 * The mean and variance functions of the GEE families (canonical links), as geepack's famstr.cc evaluates them:
 * gaussian (identity, V = 1), binomial (logit, V = mu (1 - mu)), poisson (log, V = mu).
 */

export type GeeFamily = 'gaussian' | 'binomial' | 'poisson';

/** Per-observation functions of one family; all O(1). */
export interface MeanFunctions {
  link: 'identity' | 'logit' | 'log';
  /** g(mu) */
  linkfun(mu: number): number;
  /** mu = g^{-1}(eta) */
  linkinv(eta: number): number;
  /** dmu/deta at mu */
  muEta(mu: number): number;
  /** the variance function V(mu) */
  variance(mu: number): number;
  /** dV/dmu */
  varianceMu(mu: number): number;
  /** whether mu lies in the family's mean space (0 < mu < 1, mu > 0) */
  valid(mu: number): boolean;
  /** glm's starting mean (family$initialize) for response y with prior weight wt */
  muStart(y: number, wt: number): number;
}

export const MEAN_FUNCTIONS: Record<GeeFamily, MeanFunctions> = {
  gaussian: {
    link: 'identity',
    linkfun: (mu) => mu,
    linkinv: (eta) => eta,
    muEta: () => 1,
    variance: () => 1,
    varianceMu: () => 0,
    valid: (mu) => Number.isFinite(mu),
    muStart: (y) => y,
  },
  binomial: {
    link: 'logit',
    linkfun: (mu) => Math.log(mu / (1 - mu)),
    linkinv: (eta) => 1 / (1 + Math.exp(-eta)),
    muEta: (mu) => mu * (1 - mu),
    variance: (mu) => mu * (1 - mu),
    varianceMu: (mu) => 1 - 2 * mu,
    valid: (mu) => mu > 0 && mu < 1,
    muStart: (y, wt) => (wt * y + 0.5) / (wt + 1),
  },
  poisson: {
    link: 'log',
    linkfun: (mu) => Math.log(mu),
    linkinv: (eta) => Math.exp(eta),
    muEta: (mu) => mu,
    variance: (mu) => mu,
    varianceMu: () => 1,
    valid: (mu) => mu > 0 && Number.isFinite(mu),
    muStart: (y) => y + 0.1,
  },
};
