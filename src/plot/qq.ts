/**
 * QQ plot of p-values: observed -log10 p against the expected -log10((r - 1/2) / n) of rank r under the uniform
 * null, with the identity line, a pointwise 95% band (the r-th smallest of n uniform p is Beta(r, n - r + 1):
 * its 2.5% and 97.5% quantiles, drawn at ~200 log-spaced ranks), and lambda_GC when given. Cost O(n log n) for
 * the sort plus ~400 beta quantiles.
 */
import { betaQuantile } from '../stats/distributions.js';
import { AXIS_COLOR, drawFrame, line, text, textWidth } from './frame.js';
import { cssColor, PointLayer } from './points.js';
import { openSurface, type SurfaceOptions } from './surface.js';

/** Inputs of qqPlot. */
export interface QqOptions extends SurfaceOptions {
  /** log10 p values (<= 0); NaN skipped, -Infinity drawn at the top. */
  log10p: ArrayLike<number>;
  title?: string;
  /** Genomic inflation factor to print in the corner (see genomicInflation). */
  lambda?: number;
  /** Size in CSS px (default 600 x 600). */
  width?: number;
  height?: number;
}

const BAND_COLOR = 0xd9d9d9;
const POINT_COLOR = 0x1f4e79;
const LINE_COLOR = 0xd62728;

/** Ranks 1..n, ~`count` of them spaced evenly in log(rank) (always 1 and n). */
function bandRanks(n: number, count: number): number[] {
  const out = new Set<number>([1, n]);
  for (let i = 0; i <= count; i++) out.add(Math.round(Math.exp((Math.log(n) * i) / count)));
  return [...out].sort((a, b) => a - b);
}

/** Renders a QQ plot as PNG (default), SVG or PDF bytes. Throws if no value is non-NaN. */
export function qqPlot(options: QqOptions): Buffer {
  const { log10p, title, lambda, width = 600, height = 600 } = options;
  // Observed -log10 p ascending, so the largest (smallest p, rank 1) comes last.
  const all = new Float64Array(log10p.length);
  let n = 0;
  for (let i = 0; i < log10p.length; i++) if (!Number.isNaN(log10p[i]!)) all[n++] = -log10p[i]!;
  if (n === 0) throw new RangeError('qqPlot: no non-NaN p-values');
  const obs = all.subarray(0, n).sort();
  const s = openSurface(width, height, options, 'qqPlot');
  const expected = (rank: number) => -Math.log10((rank - 0.5) / n);
  const ranks = bandRanks(n, 200);
  const band = ranks.map((r) => ({ x: expected(r), upper: -Math.log10(betaQuantile(0.025, r, n - r + 1)), lower: -Math.log10(betaQuantile(0.975, r, n - r + 1)) }));
  const xMax = expected(1);
  let yMax = Math.max(xMax, band[0]!.upper);
  for (let k = n - 1; k >= 0; k--) {
    if (obs[k] !== Infinity) {
      yMax = Math.max(yMax, obs[k]!);
      break;
    }
  }
  const xTop = xMax * 1.05;
  const yTop = yMax * 1.05;
  const f = drawFrame(s, { title, xLabel: 'Expected \u2212log\u2081\u2080(p)', yLabel: 'Observed \u2212log\u2081\u2080(p)', x: [0, xTop], y: [0, yTop] });
  // 95% band: along the upper quantile curve, back along the lower one.
  const { ctx } = s;
  ctx.save();
  ctx.beginPath();
  ctx.rect(f.left, f.top, f.right - f.left, f.bottom - f.top);
  ctx.clip();
  ctx.fillStyle = cssColor(BAND_COLOR);
  ctx.beginPath();
  band.forEach((b, i) => (i === 0 ? ctx.moveTo(f.px(b.x), f.py(b.upper)) : ctx.lineTo(f.px(b.x), f.py(b.upper))));
  for (let i = band.length - 1; i >= 0; i--) ctx.lineTo(f.px(band[i]!.x), f.py(band[i]!.lower));
  ctx.closePath();
  ctx.fill();
  ctx.restore();
  const d = Math.min(xTop, yTop);
  line(s, f.px(0), f.py(0), f.px(d), f.py(d), LINE_COLOR);
  const layer = new PointLayer(f.right - f.left, f.bottom - f.top, options.pixelRatio ?? 2, 1.6, [POINT_COLOR]);
  for (let k = 0; k < n; k++) {
    const o = obs[k]!;
    layer.disk(f.px(expected(n - k)) - f.left, f.py(o === Infinity ? yTop : o) - f.top, 0);
  }
  layer.drawOnto(ctx, f.left, f.top);
  if (lambda !== undefined) {
    // lambda with a subscript GC.
    const x = f.left + 12;
    const y = f.top + 22;
    text(s, '\u03bb', x, y, { size: 15, color: AXIS_COLOR });
    const w1 = textWidth(s, '\u03bb', 15);
    text(s, 'GC', x + w1 + 1, y + 4, { size: 10, color: AXIS_COLOR });
    text(s, ` = ${lambda.toFixed(3)}`, x + w1 + 2 + textWidth(s, 'GC', 10), y, { size: 15, color: AXIS_COLOR });
  }
  return s.finish();
}
