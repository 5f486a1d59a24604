/**
 * A one-line progress bar for long runs: `label [#####.....]  45%  1.2M/2.6M SNPs  85.3k SNPs/s  ETA 16s`.
 * It draws only when the stream is a terminal (never into logs or pipes), at most ~10 times a second.
 */

/** The part of a stream the bar needs (process.stderr fits). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of createProgress. */
export interface ProgressOptions {
  label: string;
  /** Units expected in all; 0 or undefined when unknown (no bar, no ETA). */
  total?: number;
  /** Unit name, e.g. 'SNPs', 'genes'. */
  unit: string;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Clock in milliseconds (default performance.now); for tests. */
  now?: () => number;
}

/** A running progress display. */
export interface Progress {
  /** Records n more units done (default 1). */
  tick(n?: number): void;
  /** Draws the final state with the elapsed time (and an optional summary) and ends the line. */
  done(summary?: string): void;
}

const REDRAW_MS = 100;

/** Creates a progress reporter (see module doc). Silent when the stream is not a TTY. */
export function createProgress(options: ProgressOptions): Progress {
  const { label, unit } = options;
  const total = options.total && options.total > 0 ? options.total : 0;
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const active = stream.isTTY === true;
  const start = now();
  let count = 0;
  let lastDraw = -Infinity;
  let finished = false;

  const render = (t: number, final: string | undefined): string => {
    const elapsed = (t - start) / 1000;
    const rate = elapsed > 0 ? count / elapsed : 0;
    const parts = [label];
    const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - 70));
    if (total) {
      const frac = Math.min(1, count / total);
      const filled = Math.round(frac * width);
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`, `${(frac * 100).toFixed(0).padStart(3)}%`);
      parts.push(`${formatCount(count)}/${formatCount(total)} ${unit}`);
    } else parts.push(`${formatCount(count)} ${unit}`);
    parts.push(`${formatCount(rate)} ${unit}/s`);
    if (final !== undefined) parts.push(`in ${formatDuration(elapsed)}`, ...(final ? [final] : []));
    else if (total && rate > 0 && count < total) parts.push(`ETA ${formatDuration((total - count) / rate)}`);
    return parts.join('  ');
  };

  return {
    tick(n = 1) {
      count += n;
      if (!active || finished) return;
      const t = now();
      if (t - lastDraw < REDRAW_MS) return;
      lastDraw = t;
      stream.write(`\r\x1b[2K${render(t, undefined)}`);
    },
    done(summary?: string) {
      if (finished) return;
      finished = true;
      if (active) stream.write(`\r\x1b[2K${render(now(), summary ?? '')}\n`);
    },
  };
}

/** 1234 -> "1234", 12345 -> "12.3k", 2.6e6 -> "2.6M". */
function formatCount(x: number): string {
  if (x < 10_000) return x < 100 && !Number.isInteger(x) ? x.toFixed(1) : Math.round(x).toString();
  if (x < 1e6) return `${(x / 1e3).toFixed(1)}k`;
  if (x < 1e9) return `${(x / 1e6).toFixed(1)}M`;
  return `${(x / 1e9).toFixed(1)}G`;
}

/** Seconds as "42s", "3m05s", "2h07m". */
function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
