/** Command-line options of the bench scripts: `--name VALUE` pairs, nothing else. */

/** The value after `--name` in this process's arguments, else `def` (undefined when neither). */
export function argValue(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

/** As argValue, but the option must be given (or defaulted): throws naming it otherwise. */
export function requiredArg(name: string, def?: string): string {
  const v = argValue(name, def);
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}
