/**
 * A tiny RGBA raster for plots: opaque pixels, filled disks, rectangles, 1-px lines (optionally dashed). Colours
 * are 0xRRGGBB numbers. Everything clips to the canvas (or to an explicit clip rectangle for points).
 */
import { encodePng } from './png.js';

/** Colour as 0xRRGGBB. */
export type Rgb = number;

/** RGBA pixels, row-major from the top-left, 4 bytes per pixel. */
export class Canvas {
  readonly data: Uint8Array;

  /** A width x height canvas filled with `background` (default white). */
  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = 0xffffff,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width * height > 1 << 26) {
      throw new RangeError(`Canvas: expected positive integer size up to 2^26 pixels, got ${width} x ${height}`);
    }
    this.data = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  /** Sets pixel (x, y) (integers, origin top-left); ignored outside the canvas. */
  setPixel(x: number, y: number, color: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.data[o] = (color >> 16) & 255;
    this.data[o + 1] = (color >> 8) & 255;
    this.data[o + 2] = color & 255;
    this.data[o + 3] = 255;
  }

  /** Colour at (x, y) as 0xRRGGBB. */
  getPixel(x: number, y: number): Rgb {
    const o = (y * this.width + x) * 4;
    return (this.data[o]! << 16) | (this.data[o + 1]! << 8) | this.data[o + 2]!;
  }

  /** Fills the rectangle [x, x + w) x [y, y + h), clipped. */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    if (x1 <= x0 || y1 <= y0) return;
    const r = (color >> 16) & 255;
    const g = (color >> 8) & 255;
    const b = color & 255;
    for (let yy = y0; yy < y1; yy++) {
      let o = (yy * this.width + x0) * 4;
      for (let xx = x0; xx < x1; xx++, o += 4) {
        this.data[o] = r;
        this.data[o + 1] = g;
        this.data[o + 2] = b;
        this.data[o + 3] = 255;
      }
    }
  }

  /** Line from (x0, y0) to (x1, y1) by Bresenham; `dash` = [on, off] pixel counts for a dashed line. */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, dash?: [number, number]): void {
    let x = Math.round(x0);
    let y = Math.round(y0);
    const xe = Math.round(x1);
    const ye = Math.round(y1);
    const dx = Math.abs(xe - x);
    const dy = -Math.abs(ye - y);
    const sx = x < xe ? 1 : -1;
    const sy = y < ye ? 1 : -1;
    let err = dx + dy;
    const period = dash ? dash[0] + dash[1] : 0;
    for (let step = 0; ; step++) {
      if (!dash || step % period < dash[0]) this.setPixel(x, y, color);
      if (x === xe && y === ye) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }

  /**
   * Stamps a filled disk of the given radius centred on pixel (round(x), round(y)), clipped to `clip`
   * ([left, top, right, bottom), default the canvas). O(radius^2) per point.
   */
  disk(x: number, y: number, radius: number, color: Rgb, clip?: readonly [number, number, number, number]): void {
    const offsets = diskOffsets(radius);
    const cx = Math.round(x);
    const cy = Math.round(y);
    const [l, t, r, b] = clip ?? [0, 0, this.width, this.height];
    for (let k = 0; k < offsets.length; k += 2) {
      const px = cx + offsets[k]!;
      const py = cy + offsets[k + 1]!;
      if (px >= l && px < r && py >= t && py < b) this.setPixel(px, py, color);
    }
  }

  /** The canvas as a PNG file. */
  toPng(): Buffer {
    return encodePng(this.width, this.height, this.data);
  }
}

const diskCache = new Map<number, Int16Array>();

/** Pixel offsets (dx, dy pairs) inside a disk of radius r (centre-to-pixel-centre distance <= r). */
function diskOffsets(r: number): Int16Array {
  let o = diskCache.get(r);
  if (o) return o;
  const list: number[] = [];
  const R = Math.ceil(r);
  for (let dy = -R; dy <= R; dy++) for (let dx = -R; dx <= R; dx++) if (dx * dx + dy * dy <= r * r + 1e-9) list.push(dx, dy);
  o = Int16Array.from(list);
  diskCache.set(r, o);
  return o;
}
