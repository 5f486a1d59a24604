/**
 * One validator for the numeric options of every command: a value that is not a number, or outside the range the
 * option allows (0 splits, a negative tolerance, a level of 1.5), is a UsageError naming the option as typed and
 * the range, before any work starts, instead of a NaN in the output or a stack trace from deep inside.
 */
import { UsageError } from '../errors.js';

/** The values an option allows: an interval (ends inclusive unless said otherwise), integers only, special values. */
export interface NumberRule {
  min?: number;
  max?: number;
  /** The interval excludes `min` (e.g. a tolerance > 0). */
  minExclusive?: boolean;
  /** The interval excludes `max` (e.g. a level < 1). */
  maxExclusive?: boolean;
  integer?: boolean;
  /** Values allowed outside the interval, with what they mean (e.g. GEMMA's maf -1: no filter). */
  special?: readonly { value: number; meaning: string }[];
}

/** What a rule allows, in words: "an integer >= 1", "a number in (0, 1)", "a number in [0, 0.5] (or -1: no filter)". */
export function describeRule(rule: NumberRule): string {
  const what = rule.integer ? 'an integer' : 'a number';
  const { min, max } = rule;
  let range = '';
  if (min !== undefined && max !== undefined) range = ` in ${rule.minExclusive ? '(' : '['}${min}, ${max}${rule.maxExclusive ? ')' : ']'}`;
  else if (min !== undefined) range = ` ${rule.minExclusive ? '>' : '>='} ${min}`;
  else if (max !== undefined) range = ` ${rule.maxExclusive ? '<' : '<='} ${max}`;
  const special = rule.special?.length ? ` (or ${rule.special.map((s) => `${s.value}: ${s.meaning}`).join(', ')})` : '';
  return `${what}${range}${special}`;
}

/**
 * Parses the value `raw` of option `flag` (as typed, e.g. '--max-splits') under `rule`; UsageError
 * `--max-splits 0: expected an integer >= 1` otherwise. Only decimal numbers count ('' , 'abc', '0x10', 'NaN',
 * 'Infinity' do not).
 */
export function parseNumberOption(raw: string, flag: string, rule: NumberRule = {}): number {
  const text = raw.trim();
  const v = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (rule.special?.some((s) => s.value === v)) return v;
  const ok =
    Number.isFinite(v) &&
    (!rule.integer || Number.isInteger(v)) &&
    (rule.min === undefined || (rule.minExclusive ? v > rule.min : v >= rule.min)) &&
    (rule.max === undefined || (rule.maxExclusive ? v < rule.max : v <= rule.max));
  if (!ok) throw new UsageError(`${flag} ${raw}: expected ${describeRule(rule)}`);
  return v;
}

/** The same as a commander argument parser: `.option('--alpha <p>', '...', numberOption('--alpha', { ... }))`. */
export function numberOption(flag: string, rule: NumberRule = {}): (raw: string) => number {
  return (raw: string) => parseNumberOption(raw, flag, rule);
}

/** Common rules. */
export const POSITIVE_INT: NumberRule = { integer: true, min: 1 };
export const PROBABILITY: NumberRule = { min: 0, max: 1 };
export const OPEN_UNIT: NumberRule = { min: 0, max: 1, minExclusive: true, maxExclusive: true };
/** A shard of a plan: 0, 1, ... */
export const SHARD_NUMBER: NumberRule = { integer: true, min: 0 };
