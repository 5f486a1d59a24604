/**
 * Plots of results, drawn with Skia (@napi-rs/canvas) and the Inter font: Manhattan, QQ and volcano, each as PNG,
 * SVG or PDF (`format`); points rasterised (fast at 10 M points), axes and text as vectors.
 */
export { manhattanPlot, type ManhattanOptions } from './manhattan.js';
export { qqPlot, type QqOptions } from './qq.js';
export { volcanoPlot, type VolcanoOptions } from './volcano.js';
export { PLOT_FORMATS, type PlotFormat, type SurfaceOptions } from './surface.js';
