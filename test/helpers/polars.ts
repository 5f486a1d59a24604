/**
 * nodejs-polars (the Rust polars engine behind Python's polars, prebuilt for the platform by its npm package) as
 * an independent reader of gpulmm's Arrow outputs, or undefined with the reason when its binary is absent here.
 */
import { createRequire } from 'node:module';
import type pl from 'nodejs-polars';

export type Polars = typeof pl;

function load(): { pl?: Polars; reason?: string } {
  try {
    return { pl: createRequire(import.meta.url)('nodejs-polars') as Polars };
  } catch (e) {
    return { reason: `nodejs-polars not loadable on ${process.platform}-${process.arch}: ${(e as Error).message.split('\n')[0]}` };
  }
}

const loaded = load();
/** The polars module, or undefined (tests then skip, printing `polarsSkipReason`). */
export const polars: Polars | undefined = loaded.pl;
export const polarsSkipReason = loaded.reason ?? '';
if (!polars) console.warn(`skipping independent-reader checks: ${polarsSkipReason}`);
