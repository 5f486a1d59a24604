/**
 * The shared frame of every plot: margins, title, axes with "nice" ticks (1, 2, 5 x 10^k steps), axis titles, and
 * the data -> pixel mapping the plot functions rasterise with.
 */
import { Canvas, type Rgb } from './canvas.js';
import { CHAR_HEIGHT, drawText, textWidth } from './font.js';

/** Plot area inside the canvas, in pixels: [left, right) x [top, bottom). */
export interface PlotArea {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Margins of every plot (pixels): room for the title, tick labels and axis titles. */
export function plotArea(width: number, height: number): PlotArea {
  return { left: 70, top: 44, right: width - 20, bottom: height - 52 };
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
  /** Pixel column of data x (fractional). */
  px(x: number): number;
  /** Pixel row of data y (fractional; larger y is higher up). */
  py(y: number): number;
  /** [left, top, right, bottom) clip rectangle for points. */
  clip: [number, number, number, number];
}

const AXIS: Rgb = 0x333333;
const GRID: Rgb = 0xeeeeee;

/** Up to ~`target` round tick values covering [lo, hi]. */
function niceTicks(lo: number, hi: number, target = 6): number[] {
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
  return v.toFixed(Math.min(digits, 10));
}

/** Draws title, light grid, axes, ticks and axis titles on `c`; returns the mapping for the plot area. */
export function drawFrame(c: Canvas, spec: FrameSpec): Frame {
  const area = plotArea(c.width, c.height);
  const { left, top, right, bottom } = area;
  const [x0, x1] = spec.x;
  const [y0, y1] = spec.y;
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (right - 1 - left);
  const py = (y: number) => bottom - 1 - ((y - y0) / (y1 - y0)) * (bottom - 1 - top);

  if (spec.title) drawText(c, spec.title, (left + right) / 2, 12, { scale: 2, align: 'center' });
  // y ticks with grid lines.
  const yt = niceTicks(y0, y1);
  const ystep = yt.length > 1 ? yt[1]! - yt[0]! : 1;
  for (const v of yt) {
    const y = Math.round(py(v));
    c.line(left + 1, y, right - 1, y, GRID);
    c.line(left - 5, y, left - 1, y, AXIS);
    drawText(c, formatTick(v, ystep), left - 8, y - 3, { align: 'end', color: AXIS });
  }
  // x ticks.
  let xt = spec.xTicks;
  if (!xt) {
    const vals = niceTicks(x0, x1);
    const xstep = vals.length > 1 ? vals[1]! - vals[0]! : 1;
    xt = vals.map((value) => ({ value, label: formatTick(value, xstep) }));
  }
  const xs = xt.map((t) => Math.round(px(t.value)));
  const rows = labelRows(xs, xt.map((t) => textWidth(t.label)));
  xt.forEach((t, k) => {
    c.line(xs[k]!, bottom, xs[k]!, bottom + 4, AXIS);
    if (rows[k]! >= 0) drawText(c, t.label, xs[k]!, bottom + 8 + rows[k]! * (CHAR_HEIGHT + 1), { align: 'center', color: AXIS });
  });
  // Axes.
  c.line(left - 1, top, left - 1, bottom, AXIS);
  c.line(left - 1, bottom, right - 1, bottom, AXIS);
  drawText(c, spec.xLabel, (left + right) / 2, c.height - 20, { align: 'center', scale: 2 });
  drawText(c, spec.yLabel, 6, (top + bottom) / 2, { align: 'center', vertical: true, scale: 2 });
  return { ...area, px, py, clip: [left, top, right, bottom] };
}
