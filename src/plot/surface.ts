/**
 * Where a plot is drawn: a Skia 2-D context (@napi-rs/canvas, prebuilt binaries) on a PNG raster, an SVG document
 * (text converted to outlines, so it looks the same without the font) or a PDF page (fonts embedded). Sizes are
 * given in CSS pixels: a PNG is rendered at `pixelRatio` device pixels per CSS pixel, a PDF page is
 * 0.75 pt per CSS pixel (96 dpi). Text uses Inter (SIL OFL) from the @expo-google-fonts/inter package, never a
 * system font, so plots look the same on every machine.
 */
import { createRequire } from 'node:module';
import { createCanvas, GlobalFonts, PDFDocument, SvgExportFlag, type SKRSContext2D } from '@napi-rs/canvas';

/** Output formats of every plot. */
export const PLOT_FORMATS = ['png', 'svg', 'pdf'] as const;
export type PlotFormat = (typeof PLOT_FORMATS)[number];

/** The font family every plot's text uses (Inter regular and bold, registered on first use). */
export const FONT_FAMILY = 'GpulmmInter';

let fontsReady = false;

/** Registers Inter 400 and 700 from the package under FONT_FAMILY (once per process). */
function ensureFonts(): void {
  if (fontsReady) return;
  const require = createRequire(import.meta.url);
  for (const face of ['400Regular/Inter_400Regular.ttf', '700Bold/Inter_700Bold.ttf']) {
    const path = require.resolve(`@expo-google-fonts/inter/${face}`);
    if (!GlobalFonts.registerFromPath(path, FONT_FAMILY)) throw new Error(`plot: cannot load the font ${path}`);
  }
  fontsReady = true;
}

/** CSS font shorthand in the plots' family: `font(12)`, `font(16, 'bold')`. */
export function font(sizePx: number, weight: 'normal' | 'bold' = 'normal'): string {
  return `${weight === 'bold' ? 'bold ' : ''}${sizePx}px ${FONT_FAMILY}`;
}

/** A drawing context for one plot and the function that encodes what was drawn. */
export interface Surface {
  ctx: SKRSContext2D;
  format: PlotFormat;
  /** Logical size in CSS pixels (the coordinate system of `ctx`). */
  width: number;
  height: number;
  /** Device pixels per CSS pixel (1 for the vector formats): lines are snapped to this grid to stay sharp. */
  pixelRatio: number;
  /** Encodes the drawing (PNG, SVG or PDF bytes); call once, last. */
  finish(): Buffer;
}

/** Options every plot takes. */
export interface SurfaceOptions {
  /** png (default), svg or pdf. */
  format?: PlotFormat;
  /** Device pixels per CSS pixel for PNG output and for the points' raster in SVG/PDF (default 2). */
  pixelRatio?: number;
}

/** Opens a white width x height (CSS px) surface in `format`. */
export function openSurface(width: number, height: number, options: SurfaceOptions, who: string): Surface {
  const { format = 'png', pixelRatio = 2 } = options;
  if (!PLOT_FORMATS.includes(format)) throw new RangeError(`${who}: format must be one of ${PLOT_FORMATS.join(', ')}, got ${String(format)}`);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 200 && height >= 150 && width <= 20000 && height <= 20000)) {
    throw new RangeError(`${who}: width and height must be integers in [200, 20000] x [150, 20000] pixels, got ${width} x ${height}`);
  }
  if (!(pixelRatio >= 0.5 && pixelRatio <= 8)) throw new RangeError(`${who}: pixelRatio must be in [0.5, 8], got ${pixelRatio}`);
  ensureFonts();
  const white = (ctx: SKRSContext2D) => {
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
  };
  if (format === 'png') {
    const canvas = createCanvas(Math.round(width * pixelRatio), Math.round(height * pixelRatio));
    const ctx = canvas.getContext('2d');
    ctx.scale(pixelRatio, pixelRatio);
    white(ctx);
    return { ctx, format, width, height, pixelRatio, finish: () => canvas.toBuffer('image/png') };
  }
  if (format === 'svg') {
    const canvas = createCanvas(width, height, SvgExportFlag.ConvertTextToPaths);
    const ctx = canvas.getContext('2d');
    white(ctx);
    return { ctx, format, width, height, pixelRatio: 1, finish: () => canvas.getContent() };
  }
  const doc = new PDFDocument({ creator: 'gpulmm' });
  const ctx = doc.beginPage(width * 0.75, height * 0.75) as SKRSContext2D;
  ctx.scale(0.75, 0.75);
  white(ctx);
  return {
    ctx,
    format,
    width,
    height,
    pixelRatio: 1,
    finish: () => {
      doc.endPage();
      return doc.close();
    },
  };
}
