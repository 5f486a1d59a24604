/**
 * The shared frame of every plot, drawn as vectors on a Surface: margins, title, light grid, axes with "nice"
 * ticks (1, 2, 5 x 10^k steps), tick labels (staggered on two rows where they would collide), axis titles, and
 * the data -> CSS pixel mapping the plots place their points with.
 */
import { cssColor, type Rgb } from './points.js';
import { font, type Surface } from './surface.js';

/** Plot area inside the surface, in CSS pixels: [left, right) x [top, bottom). */
export interface PlotArea {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Margins of every plot (CSS px): room for the title, tick labels and axis titles. */
export function plotArea(width: number, height: number): PlotArea {
  return { left: 72, top: 40, right: width - 20, bottom: height - 56 };
}

/** A labelled tick at a data value. */
export interface Tick {
  value: number;
  label: string;
}

/** What drawFrame draws: titles, data ranges, optional custom x ticks. */
export interface FrameSpec {
  title?: string;
  xLabel: string;
  yLabel: string;
  /** Data range mapped onto the plot area. */
  x: [number, number];
  y: [number, number];
  /** Custom x ticks (e.g. chromosome names at their centres); default nice numeric ticks. */
  xTicks?: Tick[];
}

export interface Frame extends PlotArea {
  /** CSS pixel column of data x (fractional). */
  px(x: number): number;
  /** CSS pixel row of data y (fractional; larger y is higher up). */
  py(y: number): number;
}

export const AXIS_COLOR: Rgb = 0x333333;
const GRID_COLOR: Rgb = 0xe8e8e8;
const TICK_FONT = 12;
const LABEL_FONT = 14;
const TITLE_FONT = 16;

/** Up to ~`target` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/**
 * Row (0 or 1) for each x-axis label centred at xs[k] with width widths[k] (xs ascending): the first row where it
 * keeps 3 px from the previous label in that row, or -1 (tick without label) when neither row has room.
 */
export function labelRows(xs: readonly number[], widths: readonly number[]): number[] {
  const rowEnd = [-Infinity, -Infinity];
  return xs.map((x, k) => {
    const half = widths[k]! / 2;
    const row = rowEnd.findIndex((end) => x - half > end + 3);
    if (row >= 0) rowEnd[row] = x + half;
    return row;
  });
}

function formatTick(v: number, step: number): string {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  // U+2212 minus sign, as typeset axes use.
  return v.toFixed(Math.min(digits, 10)).replace(/^-/, '\u2212');
}

/**
 * The CSS coordinate nearest to `v` at which a horizontal or vertical line of `width` CSS px covers whole device
 * pixels (sharp edges instead of two half-tone rows).
 */
export function snap(s: Surface, v: number, width = 1): number {
  const device = Math.max(1, Math.round(width * s.pixelRatio));
  const at = device % 2 === 1 ? Math.floor(v * s.pixelRatio) + 0.5 : Math.round(v * s.pixelRatio);
  return at / s.pixelRatio;
}

/**
 * A line from (x0, y0) to (x1, y1) CSS px, `width` px wide, optionally dashed ([on, off] px); horizontal and
 * vertical lines are snapped to the device pixel grid (snap).
 */
export function line(s: Surface, x0: number, y0: number, x1: number, y1: number, color: Rgb, dash: number[] = [], width = 1): void {
  const { ctx } = s;
  if (y0 === y1) y0 = y1 = snap(s, y0, width);
  if (x0 === x1) x0 = x1 = snap(s, x0, width);
  ctx.save();
  ctx.strokeStyle = cssColor(color);
  ctx.lineWidth = width;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  ctx.restore();
}

/** Text at (x, y) CSS px: `align` horizontal anchor, `baseline` vertical anchor, optionally rotated -90 degrees. */
export function text(
  s: Surface,
  value: string,
  x: number,
  y: number,
  options: { size?: number; bold?: boolean; align?: 'left' | 'center' | 'right'; baseline?: 'top' | 'middle' | 'alphabetic' | 'bottom'; color?: Rgb; vertical?: boolean } = {},
): void {
  const { size = TICK_FONT, bold = false, align = 'left', baseline = 'alphabetic', color = 0x000000, vertical = false } = options;
  const { ctx } = s;
  ctx.save();
  ctx.font = font(size, bold ? 'bold' : 'normal');
  ctx.fillStyle = cssColor(color);
  ctx.textAlign = align;
  ctx.textBaseline = baseline;
  ctx.translate(x, y);
  if (vertical) ctx.rotate(-Math.PI / 2);
  ctx.fillText(value, 0, 0);
  ctx.restore();
}

/** Width of `value` in CSS px at font size `size`. */
export function textWidth(s: Surface, value: string, size = TICK_FONT): number {
  s.ctx.save();
  s.ctx.font = font(size);
  const w = s.ctx.measureText(value).width;
  s.ctx.restore();
  return w;
}

/** Draws title, grid, axes, ticks, tick labels and axis titles; returns the data -> CSS px mapping. */
export function drawFrame(s: Surface, spec: FrameSpec): Frame {
  const area = plotArea(s.width, s.height);
  const { left, top, right, bottom } = area;
  const [x0, x1] = spec.x;
  const [y0, y1] = spec.y;
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (right - left);
  const py = (y: number) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);

  if (spec.title) text(s, spec.title, (left + right) / 2, top - 14, { size: TITLE_FONT, bold: true, align: 'center' });
  // y ticks with grid lines.
  const yt = niceTicks(y0, y1);
  const ystep = yt.length > 1 ? yt[1]! - yt[0]! : 1;
  for (const v of yt) {
    const y = py(v);
    if (y > top) line(s, left, y, right, y, GRID_COLOR);
    line(s, left - 5, y, left, y, AXIS_COLOR);
    text(s, formatTick(v, ystep), left - 8, y, { align: 'right', baseline: 'middle', color: AXIS_COLOR });
  }
  // x ticks, labels staggered on two rows where they would collide.
  let xt = spec.xTicks;
  if (!xt) {
    const vals = niceTicks(x0, x1);
    const xstep = vals.length > 1 ? vals[1]! - vals[0]! : 1;
    xt = vals.map((value) => ({ value, label: formatTick(value, xstep) }));
  }
  const xs = xt.map((t) => px(t.value));
  const rows = labelRows(xs, xt.map((t) => textWidth(s, t.label)));
  xt.forEach((t, k) => {
    line(s, xs[k]!, bottom, xs[k]!, bottom + (rows[k]! === 1 ? 18 : 5), AXIS_COLOR);
    if (rows[k]! >= 0) text(s, t.label, xs[k]!, bottom + 7 + rows[k]! * 14, { align: 'center', baseline: 'top', color: AXIS_COLOR });
  });
  // Axes.
  line(s, left, top, left, bottom, AXIS_COLOR);
  line(s, left, bottom, right, bottom, AXIS_COLOR);
  text(s, spec.xLabel, (left + right) / 2, s.height - 8, { size: LABEL_FONT, align: 'center' });
  text(s, spec.yLabel, 20, (top + bottom) / 2, { size: LABEL_FONT, align: 'center', baseline: 'middle', vertical: true });
  return { ...area, px, py };
}
