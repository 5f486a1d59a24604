/**
 * QQ plot of p-values: observed -log10 p against the expected -log10((i - 1/2) / n) under the uniform null,
 * with the identity line and, if given, lambda_GC. Cost O(n log n) for the sort; the dense region near the origin
 * is thinned by drawing a point only when it lands on a new pixel.
 */
import { Canvas } from './canvas.js';
import { drawFrame } from './frame.js';
import { drawText } from './font.js';

/** Inputs of qqPng. */
export interface QqOptions {
  /** log10 p values (<= 0); NaN skipped, -Infinity drawn at the top. */
  log10p: Float64Array;
  title?: string;
  /** Genomic inflation factor to print in the corner (see genomicInflation). */
  lambda?: number;
  width?: number;
  height?: number;
}

/** Renders a QQ plot as a PNG (default 600 x 600). Throws if no value is non-NaN. */
export function qqPng(options: QqOptions): Buffer {
  const { log10p, title, lambda, width = 600, height = 600 } = options;
  // Observed -log10 p ascending, so the largest (smallest p, rank 1) comes last.
  const all = new Float64Array(log10p.length);
  let n = 0;
  for (let i = 0; i < log10p.length; i++) if (!Number.isNaN(log10p[i]!)) all[n++] = -log10p[i]!;
  const obs = all.subarray(0, n).sort();
  if (n === 0) throw new RangeError('qqPng: no non-NaN p-values');
  const xMax = -Math.log10(0.5 / n);
  let yMax = xMax;
  for (let k = n - 1; k >= 0; k--) {
    if (obs[k] !== Infinity) {
      yMax = Math.max(yMax, obs[k]!);
      break;
    }
  }
  const xTop = xMax * 1.05;
  const yTop = yMax * 1.05;
  const c = new Canvas(width, height);
  const f = drawFrame(c, { title, xLabel: 'Expected -log10(p)', yLabel: 'Observed -log10(p)', x: [0, xTop], y: [0, yTop] });
  const d = Math.min(xTop, yTop);
  c.line(f.px(0), f.py(0), f.px(d), f.py(d), 0xd62728);
  let lastX = NaN;
  let lastY = NaN;
  for (let k = 0; k < n; k++) {
    const x = Math.round(f.px(-Math.log10((n - k - 0.5) / n)));
    const o = obs[k]!;
    const y = Math.round(f.py(o === Infinity ? yTop : o));
    if (x === lastX && y === lastY) continue;
    lastX = x;
    lastY = y;
    c.disk(x, y, 1.5, 0x1f4e79, f.clip);
  }
  if (lambda !== undefined) drawText(c, `lambda = ${lambda.toFixed(3)}`, f.left + 10, f.top + 8, { scale: 2 });
  return c.toPng();
}
