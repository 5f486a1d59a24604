/**
 * Volcano plot: -log10 p against the effect size, points with FDR below the level in red, the rest grey.
 * O(n) rasterisation.
 */
import { Canvas } from './canvas.js';
import { drawFrame } from './frame.js';

/** Inputs of volcanoPng (all arrays of one length n). */
export interface VolcanoOptions {
  /** Effect sizes (e.g. log fold change); NaN skipped. */
  beta: ArrayLike<number>;
  /** log10 p values (<= 0); NaN skipped, -Infinity drawn at the top. */
  log10p: Float64Array;
  /** Adjusted p (e.g. benjaminiHochberg) per point; those below `fdrLevel` are highlighted. */
  fdr?: Float64Array;
  /** Default 0.05. */
  fdrLevel?: number;
  title?: string;
  width?: number;
  height?: number;
}

const VOLCANO_COLORS = { significant: 0xd62728, other: 0x999999 } as const;

/** Renders a volcano plot as a PNG (default 600 x 600). */
export function volcanoPng(options: VolcanoOptions): Buffer {
  const { beta, log10p, fdr, fdrLevel = 0.05, title, width = 600, height = 600 } = options;
  const n = log10p.length;
  if (beta.length !== n || (fdr && fdr.length !== n)) {
    throw new RangeError(`volcanoPng: beta (${beta.length}), log10p (${n})${fdr ? ` and fdr (${fdr.length})` : ''} must have the same length`);
  }
  let xMax = 0;
  let yMax = 1;
  for (let i = 0; i < n; i++) {
    const b = Math.abs(beta[i]!);
    if (b > xMax && b !== Infinity) xMax = b;
    const y = -log10p[i]!;
    if (y > yMax && y !== Infinity) yMax = y;
  }
  const xTop = (xMax || 1) * 1.05;
  const yTop = yMax * 1.05;
  const c = new Canvas(width, height);
  const f = drawFrame(c, { title, xLabel: 'Effect size', yLabel: '-log10(p)', x: [-xTop, xTop], y: [0, yTop] });
  c.line(f.px(0), f.top, f.px(0), f.bottom - 1, 0xcccccc);
  // Grey first, highlighted on top.
  for (const pass of [false, true]) {
    for (let i = 0; i < n; i++) {
      const sig = fdr !== undefined && fdr[i]! < fdrLevel;
      if (sig !== pass) continue;
      const b = beta[i]!;
      const l = log10p[i]!;
      if (Number.isNaN(b) || Number.isNaN(l)) continue;
      const y = l === -Infinity ? yTop : -l;
      c.disk(f.px(b), f.py(y), 1.5, sig ? VOLCANO_COLORS.significant : VOLCANO_COLORS.other, f.clip);
    }
  }
  return c.toPng();
}
