/**
 * Residual structures (src/lmm/mixed/residual.ts) against their definitions: the whitening W satisfies
 * W' W = Lambda^{-1} for the dense Lambda built from the formulas (phi^|t_j - t_k|, compound symmetry, SD ratios),
 * log|Lambda| matches a dense Cholesky, colouring inverts whitening; the syntax and the data checks.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/lmm/mixed/model.js';
import { fit, parseCorrelation, parseWeights, type ResidualSpec } from '../../../src/lmm/mixed/index.js';
import { ResidualStructure } from '../../../src/lmm/mixed/residual.js';
import { normal, rng } from '../../helpers/random.js';

/** 12 subjects, 2-7 visits each at integer times with gaps (rows shuffled), a 3-level stratum, half-day times. */
function repeated() {
  const r = rng(5);
  const z = normal(rng(6));
  const rows: { id: string; t: number; th: number; s: string; y: number }[] = [];
  for (let i = 0; i < 12; i++) {
    const k = 2 + Math.floor(r() * 6);
    const times = new Set<number>();
    while (times.size < k) times.add(1 + Math.floor(r() * 15));
    for (const t of times) rows.push({ id: `p${i}`, t, th: t / 2 + 0.25 * (i % 3), s: ['a', 'b', 'c'][(i + t) % 3]!, y: z() });
  }
  rows.sort(() => r() - 0.5);
  return { id: rows.map((x) => x.id), t: rows.map((x) => x.t), th: rows.map((x) => x.th), s: rows.map((x) => x.s), y: rows.map((x) => x.y) };
}

function structureOf(spec: ResidualSpec, data = repeated()) {
  const m = buildModel(data, 'y ~ 1 + (1 | id)', 'gaussian', {}, spec);
  return { s: ResidualStructure.build(spec, m.frame, m.terms), data, frame: m.frame };
}

/** Dense Lambda (n x n, column-major) from the definitions, with per-row SD ratios `sd`. */
function denseLambda(spec: ResidualSpec, data: ReturnType<typeof repeated>, corr: number | null, sd: Float64Array): Float64Array {
  const n = data.y.length;
  const L = new Float64Array(n * n);
  const time = spec.correlation?.time === 'th' ? data.th : data.t;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let c = i === j ? 1 : 0;
      if (i !== j && spec.correlation && data.id[i] === data.id[j]) {
        c = spec.correlation.kind === 'cs' ? corr! : corr! ** Math.abs(time[i]! - time[j]!);
      }
      L[i + j * n] = c * sd[i]! * sd[j]!;
    }
  }
  return L;
}

function choleskyLogDet(a: Float64Array, n: number): number {
  const l = Float64Array.from(a);
  let ld = 0;
  for (let j = 0; j < n; j++) {
    let d = l[j + j * n]!;
    for (let k = 0; k < j; k++) d -= l[j + k * n]! ** 2;
    d = Math.sqrt(d);
    l[j + j * n] = d;
    ld += 2 * Math.log(d);
    for (let i = j + 1; i < n; i++) {
      let s = l[i + j * n]!;
      for (let k = 0; k < j; k++) s -= l[i + k * n]! * l[j + k * n]!;
      l[i + j * n] = s / d;
    }
  }
  return ld;
}

const cases: [string, ResidualSpec, number[]][] = [
  ['ar1 on integer times with gaps', { correlation: parseCorrelation('ar1(t | id)') }, [0.6]],
  ['ar1 with a negative phi', { correlation: parseCorrelation('ar1(t | id)') }, [-0.4]],
  ['ar1 on the order within groups', { correlation: parseCorrelation('ar1(| id)') }, [0.3]],
  ['car1 on real times', { correlation: parseCorrelation('car1(th | id)') }, [1.1]],
  ['compound symmetry', { correlation: parseCorrelation('cs(| id)') }, [0.8]],
  ['varIdent', { weights: parseWeights('ident(| s)') }, [0.4, -0.7]],
  ['ar1 and varIdent', { correlation: parseCorrelation('ar1(t | id)'), weights: parseWeights('ident(| s)') }, [0.9, 0.4, -0.7]],
  ['cs and varIdent', { correlation: parseCorrelation('cs(| id)'), weights: parseWeights('ident(s)') }, [-1.5, 0.2, 0.3]],
];

describe('residual structures: whitening against the dense definition', () => {
  for (const [name, spec, par] of cases) {
    it(name, () => {
      const { s, data, frame } = structureOf(spec);
      const n = frame.n;
      expect(s.nPar).toBe(par.length);
      const nat = s.natural(par);
      expect(s.unconstrained(nat).map((v, i) => v - par[i]!).every((d) => Math.abs(d) < 1e-12)).toBe(true);
      // the dense Lambda in frame row order (frame rows = data rows here: nothing is missing)
      const corr = nat.correlation?.value ?? null;
      if (spec.correlation?.time === null && spec.correlation.kind === 'ar1') {
        // positions 1, 2, ... in the data's order within each subject
        const pos = new Map<string, number>();
        data.t = data.id.map((id) => {
          const k = (pos.get(id) ?? 0) + 1;
          pos.set(id, k);
          return k;
        });
      }
      const L = denseLambda(spec, data, corr, s.sdRatios(par));
      // W as a dense matrix: column j is W e_j
      const W = new Float64Array(n * n);
      const e = new Float64Array(n);
      const col = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        e.fill(0);
        e[j] = 1;
        expect(s.whiten(par, e, col)).toBe(true);
        W.set(col, j * n);
      }
      // W Lambda W' = I
      let worst = 0;
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          let v = 0;
          for (let i = 0; i < n; i++) {
            if (W[a + i * n] === 0) continue;
            for (let j = 0; j < n; j++) v += W[a + i * n]! * L[i + j * n]! * W[b + j * n]!;
          }
          worst = Math.max(worst, Math.abs(v - (a === b ? 1 : 0)));
        }
      }
      expect(worst).toBeLessThan(1e-10);
      expect(s.logDet(par)).toBeCloseTo(choleskyLogDet(L, n), 9);
      // colouring inverts whitening; a strided column is whitened in place of the others
      const z = normal(rng(9));
      const v = Float64Array.from({ length: n }, () => z());
      const w = new Float64Array(n);
      s.whiten(par, v, w);
      s.colour(par, w);
      for (let i = 0; i < n; i++) expect(w[i]).toBeCloseTo(v[i]!, 10);
      const strided = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) strided[2 * i + 1] = v[i]!;
      const out = new Float64Array(2 * n);
      s.whiten(par, strided, out, 2, 1);
      s.whiten(par, v, w);
      for (let i = 0; i < n; i++) expect(out[2 * i + 1]).toBe(w[i]);
    });
  }
});

describe('residual structures: syntax and data checks', () => {
  it('parses the documented forms', () => {
    expect(parseCorrelation('ar1(time | id)')).toEqual({ kind: 'ar1', time: 'time', group: ['id'] });
    expect(parseCorrelation('AR1(| id)')).toEqual({ kind: 'ar1', time: null, group: ['id'] });
    expect(parseCorrelation('ar1(1 | id)')).toEqual({ kind: 'ar1', time: null, group: ['id'] });
    expect(parseCorrelation('car1(day | rat)')).toEqual({ kind: 'car1', time: 'day', group: ['rat'] });
    expect(parseCorrelation(' cs( | Block/Variety) ')).toEqual({ kind: 'cs', time: null, group: ['Block', 'Variety'] });
    expect(parseWeights('ident(| Sex)')).toEqual({ kind: 'ident', stratum: ['Sex'] });
    expect(parseWeights('ident(Sex)')).toEqual({ kind: 'ident', stratum: ['Sex'] });
  });
  it('rejects malformed structures with the position', () => {
    expect(() => parseCorrelation('ar2(t | id)')).toThrow(/unknown correlation structure 'ar2' \(ar1, car1, cs\)/);
    expect(() => parseCorrelation('ar1(t)')).toThrow(/a grouping factor is needed/);
    expect(() => parseCorrelation('car1(| id)')).toThrow(/car1 needs a time covariate/);
    expect(() => parseCorrelation('cs(t | id)')).toThrow(/cs takes no time covariate/);
    expect(() => parseCorrelation('ar1(t + 1 | id)')).toThrow(/'t \+ 1' is not a column name/);
    expect(() => parseWeights('power(| s)')).toThrow(/unknown variance function 'power'/);
  });
  it('a correlation group spanning random-effects levels is refused', () => {
    const d = repeated();
    expect(() => fit({ ...d, site: d.s }, 'y ~ 1 + (1 | id)', { correlation: 'ar1(t | site)' })).toThrow(/must lie within the levels of the random-effects grouping factor 'id'/);
  });
  it('ar1 needs integer times, distinct within a group', () => {
    const d = repeated();
    expect(() => fit(d, 'y ~ 1 + (1 | id)', { correlation: 'ar1(th | id)' })).toThrow(/ar1 needs integer times: 'th' is .* \(car1 takes real times\)/);
    const t = d.t.slice();
    const j = d.id.indexOf(d.id[0]!, 1);
    t[j] = t[0]!;
    expect(() => fit({ ...d, t }, 'y ~ 1 + (1 | id)', { correlation: 'ar1(t | id)' })).toThrow(/must take distinct values within each group/);
  });
  it('an unknown column of the structure is named', () => {
    expect(() => fit(repeated(), 'y ~ 1 + (1 | id)', { correlation: 'ar1(week | id)' })).toThrow(/unknown column 'week' in the residual correlation or variance structure/);
  });
  it('rows missing a structure column are dropped with the others', () => {
    const d = repeated();
    const t: (number | null)[] = d.t.slice();
    t[3] = null;
    const m = fit({ ...d, t }, 'y ~ 1 + (1 | id)', { correlation: 'ar1(t | id)' });
    expect(m.nobs).toBe(d.y.length - 1);
    expect(m.messages.join('\n')).toMatch(/dropped 1 row/);
  });
  it('GLMMs and Kenward-Roger df are refused with a residual structure', () => {
    const d = { ...repeated(), k: repeated().y.map((v) => (v > 0 ? 1 : 0)) };
    expect(() => fit(d, 'k ~ 1 + (1 | id)', { family: 'binomial', correlation: 'ar1(t | id)' })).toThrow(/need a linear \(gaussian\) mixed model/);
    expect(() => fit(d, 'y ~ 1 + (1 | id)', { ddf: 'kenward-roger', weights: 'ident(| s)' })).toThrow(/Kenward-Roger df are implemented for iid residuals/);
  });
});
