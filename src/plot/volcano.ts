/**
 * Volcano plot: -log10 p against the effect size, points with FDR below the level in red (drawn last), the rest
 * grey, a vertical line at zero effect and the count of significant points. Points are a raster layer, axes and
 * text vectors. O(n).
 */
import { AXIS_COLOR, drawFrame, line, text } from './frame.js';
import { PointLayer } from './points.js';
import { openSurface, type SurfaceOptions } from './surface.js';

/** Inputs of volcanoPlot (all arrays of one length n). */
export interface VolcanoOptions extends SurfaceOptions {
  /** Effect sizes (e.g. log fold change); NaN skipped. */
  beta: ArrayLike<number>;
  /** log10 p values (<= 0); NaN skipped, -Infinity drawn at the top. */
  log10p: ArrayLike<number>;
  /** Adjusted p (e.g. benjaminiHochberg) per point; those below `fdrLevel` are highlighted. */
  fdr?: ArrayLike<number>;
  /** Default 0.05. */
  fdrLevel?: number;
  title?: string;
  /** Size in CSS px (default 600 x 600). */
  width?: number;
  height?: number;
}

const COLORS = [0x9e9e9e, 0xd62728] as const;

/** Renders a volcano plot as PNG (default), SVG or PDF bytes. */
export function volcanoPlot(options: VolcanoOptions): Buffer {
  const { beta, log10p, fdr, fdrLevel = 0.05, title, width = 600, height = 600 } = options;
  const n = log10p.length;
  if (beta.length !== n || (fdr && fdr.length !== n)) {
    throw new RangeError(`volcanoPlot: beta (${beta.length}), log10p (${n})${fdr ? ` and fdr (${fdr.length})` : ''} must have the same length`);
  }
  const s = openSurface(width, height, options, 'volcanoPlot');
  let xMax = 0;
  let yMax = 1;
  let significant = 0;
  for (let i = 0; i < n; i++) {
    const b = Math.abs(beta[i]!);
    if (b > xMax && b !== Infinity) xMax = b;
    const y = -log10p[i]!;
    if (y > yMax && y !== Infinity) yMax = y;
    if (fdr !== undefined && fdr[i]! < fdrLevel) significant++;
  }
  const xTop = (xMax || 1) * 1.05;
  const yTop = yMax * 1.05;
  const f = drawFrame(s, { title, xLabel: 'Effect size', yLabel: '\u2212log\u2081\u2080(p)', x: [-xTop, xTop], y: [0, yTop] });
  line(s, f.px(0), f.top, f.px(0), f.bottom, 0xbbbbbb);
  const layer = new PointLayer(f.right - f.left, f.bottom - f.top, options.pixelRatio ?? 2, 1.8, COLORS);
  // Grey first, highlighted on top.
  for (const pass of [0, 1]) {
    for (let i = 0; i < n; i++) {
      const sig = fdr !== undefined && fdr[i]! < fdrLevel ? 1 : 0;
      if (sig !== pass) continue;
      const b = beta[i]!;
      const l = log10p[i]!;
      if (Number.isNaN(b) || Number.isNaN(l)) continue;
      layer.disk(f.px(b) - f.left, f.py(l === -Infinity ? yTop : -l) - f.top, sig);
    }
  }
  layer.drawOnto(s.ctx, f.left, f.top);
  if (fdr !== undefined) text(s, `FDR < ${fdrLevel}: ${significant} of ${n}`, f.left + 10, f.top + 18, { size: 13, color: AXIS_COLOR });
  return s.finish();
}
