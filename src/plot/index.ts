/** PNG plots of scan results, rasterised directly (no dependencies): Manhattan, QQ and volcano. */
export { manhattanPng, type ManhattanOptions } from './manhattan.js';
export { qqPng, type QqOptions } from './qq.js';
export { volcanoPng, type VolcanoOptions } from './volcano.js';
