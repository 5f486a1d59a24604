/**
 * Scatter points as a raster layer: anti-aliased filled disks stamped into an RGBA buffer (premultiplied alpha,
 * source-over), then placed on the plot as one image, so a plot of 10 M points costs one image in PNG, SVG or
 * PDF instead of 10 M vector circles. Each disk's coverage comes from a precomputed mask (4 x 4 supersampling per
 * pixel, the centre quantised to 1/4 pixel: 16 masks). A point whose centre falls in the same raster pixel as the
 * previous point of the same colour drawn there is skipped (it would cover the same pixels within 1/2 device
 * pixel), which bounds the work by the number of pixels, not points, in dense regions.
 * Cost: O(n) to test the points plus O(mask size) per drawn disk; memory 5 bytes per raster pixel.
 */
import { createCanvas, ImageData, type SKRSContext2D } from '@napi-rs/canvas';

/** Colour as 0xRRGGBB. */
export type Rgb = number;

/** `#rrggbb` of a colour number. */
export function cssColor(c: Rgb): string {
  return `#${c.toString(16).padStart(6, '0')}`;
}

const SUB = 4;

/** Coverage masks (0..255) of a disk of radius r device pixels, one per quantised sub-pixel centre offset. */
function diskMasks(r: number): { size: number; half: number; masks: Uint8Array[] } {
  const half = Math.ceil(r + 0.5);
  const size = 2 * half + 1;
  const masks: Uint8Array[] = [];
  for (let qy = 0; qy < SUB; qy++) {
    for (let qx = 0; qx < SUB; qx++) {
      // Centre at (half + (qx + 0.5) / SUB, half + (qy + 0.5) / SUB) in mask pixel coordinates.
      const cx = half + (qx + 0.5) / SUB;
      const cy = half + (qy + 0.5) / SUB;
      const m = new Uint8Array(size * size);
      for (let j = 0; j < size; j++) {
        for (let i = 0; i < size; i++) {
          let inside = 0;
          for (let sy = 0; sy < SUB; sy++) {
            for (let sx = 0; sx < SUB; sx++) {
              const dx = i + (sx + 0.5) / SUB - cx;
              const dy = j + (sy + 0.5) / SUB - cy;
              if (dx * dx + dy * dy <= r * r) inside++;
            }
          }
          m[j * size + i] = Math.round((inside * 255) / (SUB * SUB));
        }
      }
      masks.push(m);
    }
  }
  return { size, half, masks };
}

/** A width x height (CSS px) layer of disks in a fixed palette, rasterised at `ratio` device pixels per CSS px. */
export class PointLayer {
  /** Raster size in device pixels. */
  readonly rasterWidth: number;
  readonly rasterHeight: number;
  private readonly rgba: Uint8ClampedArray;
  /** Per raster pixel: palette index + 1 of the last disk centred there (0: none). */
  private readonly last: Uint8Array;
  private readonly mask: { size: number; half: number; masks: Uint8Array[] };
  private readonly colors: Uint8Array;
  /** Disks drawn (after the skip of repeats). */
  stamped = 0;

  /**
   * @param width layer width in CSS px (the plot area)
   * @param height layer height in CSS px
   * @param ratio device pixels per CSS px
   * @param radius disk radius in CSS px
   * @param palette up to 255 opaque colours, addressed by index in disk()
   */
  constructor(
    readonly width: number,
    readonly height: number,
    readonly ratio: number,
    radius: number,
    palette: readonly Rgb[],
  ) {
    if (palette.length === 0 || palette.length > 255) throw new RangeError(`PointLayer: palette must have 1..255 colours, got ${palette.length}`);
    this.rasterWidth = Math.max(1, Math.round(width * ratio));
    this.rasterHeight = Math.max(1, Math.round(height * ratio));
    this.rgba = new Uint8ClampedArray(this.rasterWidth * this.rasterHeight * 4);
    this.last = new Uint8Array(this.rasterWidth * this.rasterHeight);
    this.mask = diskMasks(radius * ratio);
    this.colors = Uint8Array.from(palette.flatMap((c) => [(c >> 16) & 255, (c >> 8) & 255, c & 255]));
  }

  /** Disk of palette colour `k` centred at (x, y) CSS px from the layer's top-left; clipped to the layer. */
  disk(x: number, y: number, k: number): void {
    const W = this.rasterWidth;
    const H = this.rasterHeight;
    const fx = x * this.ratio;
    const fy = y * this.ratio;
    if (!(fx > -this.mask.half - 1 && fy > -this.mask.half - 1 && fx < W + this.mask.half + 1 && fy < H + this.mask.half + 1)) return;
    const px = Math.floor(fx);
    const py = Math.floor(fy);
    const tag = k + 1;
    if (px >= 0 && py >= 0 && px < W && py < H) {
      const cell = py * W + px;
      if (this.last[cell] === tag) return;
      this.last[cell] = tag;
    }
    this.stamped++;
    const { size, half, masks } = this.mask;
    const m = masks[Math.min(SUB - 1, Math.floor((fy - py) * SUB)) * SUB + Math.min(SUB - 1, Math.floor((fx - px) * SUB))]!;
    const r = this.colors[3 * k]!;
    const g = this.colors[3 * k + 1]!;
    const b = this.colors[3 * k + 2]!;
    const x0 = px - half;
    const y0 = py - half;
    const rgba = this.rgba;
    for (let j = Math.max(0, -y0); j < size && y0 + j < H; j++) {
      const row = (y0 + j) * W;
      for (let i = Math.max(0, -x0); i < size && x0 + i < W; i++) {
        const a = m[j * size + i]!;
        if (a === 0) continue;
        const o = (row + x0 + i) * 4;
        if (a === 255) {
          rgba[o] = r;
          rgba[o + 1] = g;
          rgba[o + 2] = b;
          rgba[o + 3] = 255;
        } else {
          // Source-over in premultiplied alpha: dst = src * a + dst * (1 - a).
          const ia = 255 - a;
          rgba[o] = (r * a + rgba[o]! * ia) / 255;
          rgba[o + 1] = (g * a + rgba[o + 1]! * ia) / 255;
          rgba[o + 2] = (b * a + rgba[o + 2]! * ia) / 255;
          rgba[o + 3] = a + (rgba[o + 3]! * ia) / 255;
        }
      }
    }
  }

  /** Places the layer on `ctx` with its top-left at (left, top) CSS px, scaled to width x height CSS px. */
  drawOnto(ctx: SKRSContext2D, left: number, top: number): void {
    // Premultiplied -> straight alpha, as ImageData holds it.
    const px = new Uint8ClampedArray(this.rgba);
    for (let o = 0; o < px.length; o += 4) {
      const a = px[o + 3]!;
      if (a === 0 || a === 255) continue;
      px[o] = (px[o]! * 255) / a;
      px[o + 1] = (px[o + 1]! * 255) / a;
      px[o + 2] = (px[o + 2]! * 255) / a;
    }
    const layer = createCanvas(this.rasterWidth, this.rasterHeight);
    layer.getContext('2d').putImageData(new ImageData(px, this.rasterWidth, this.rasterHeight), 0, 0);
    ctx.drawImage(layer, left, top, this.width, this.height);
  }
}
