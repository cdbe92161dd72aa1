/**
 * Run-time checks for the options objects of the public API. Plain JavaScript callers have no
 * compiler, and a misspelt option (`isRevoke`, `groups` in the wrong object) would otherwise drop
 * a check without a word; so every factory names its keys once, through {@link optionKeys}, whose
 * argument the compiler holds to the option type's keys, and calls {@link checkOptions}.
 */
import { ConfigError } from './errors.ts';

/** The keys of an options type, as a run-time list the compiler keeps complete and exact. */
export interface OptionKeys<Options> {
  /** What the options configure, for messages: `CognitoVerifier options`, `expressAuth options`. */
  readonly what: string;
  readonly keys: ReadonlySet<string>;
  /** Keys that belong elsewhere, each with the advice to give (`groups` → "set it in the config"). */
  readonly misplaced: Readonly<Record<string, string>>;
  /** Phantom member so two lists of different option types do not mix. */
  readonly type?: Options;
}

/**
 * Name the keys of `Options` once. `keys` must list every key of `Options` and nothing else
 * (`Record<keyof Options, true>`), so an option added to the type without being added here fails
 * to compile.
 *
 * ```ts
 * const KEYS = optionKeys<MyOptions>('myThing options', { timeoutMs: true, fetch: true });
 * checkOptions(KEYS, options);
 * ```
 */
export function optionKeys<Options>(
  what: string,
  keys: Record<keyof Options, true>,
  misplaced: Readonly<Record<string, string>> = {},
): OptionKeys<Options> {
  return { what, keys: new Set(Object.keys(keys)), misplaced };
}

/**
 * Throw {@link ConfigError} when `value` is not a plain options object, or has a key that `known`
 * does not list: the message names the key and the closest known one, or where it belongs.
 * `undefined` passes (no options). `prefix` leads the message, e.g. `config 1: `.
 */
export function checkOptions<Options>(
  known: OptionKeys<Options>,
  value: unknown,
  prefix = '',
): asserts value is Options | undefined {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${prefix}${known.what} must be an object, got ${typeName(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (known.keys.has(key)) continue;
    const advice = Object.hasOwn(known.misplaced, key) ? known.misplaced[key] : undefined;
    if (advice !== undefined) {
      throw new ConfigError(`${prefix}${known.what}: ${JSON.stringify(key)} does not belong here: ${advice}`);
    }
    const near = closestName(key, known.keys);
    throw new ConfigError(
      `${prefix}${known.what}: unknown option ${JSON.stringify(key)}` +
        (near === undefined ? '' : `; did you mean ${JSON.stringify(near)}?`) +
        ` (known: ${[...known.keys].join(', ')})`,
    );
  }
}

/** The kind of a value in words, for "must be a number, got a string". */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  if (type === 'undefined') return 'undefined';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** Bounds for {@link checkNumber}. */
export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Refuse `Infinity` and `-Infinity` (a timeout or size that must be a real number). */
  finite?: boolean;
}

/**
 * `value` when it is a number within the rule, else {@link ConfigError}: a value of the wrong type
 * says so ("must be a number, got a string") before any range is mentioned.
 */
export function checkNumber(name: string, value: unknown, rule: NumberRule = {}): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new ConfigError(`${name} must be a number, got ${Number.isNaN(value) ? 'NaN' : typeName(value)}`);
  }
  const { min = -Infinity, max = Infinity, integer = false, finite = false } = rule;
  if (finite && !Number.isFinite(value))
    throw new ConfigError(`${name} must be a finite number, got ${value}`);
  if (integer && !Number.isInteger(value))
    throw new ConfigError(`${name} must be a whole number, got ${value}`);
  if (value < min || value > max) {
    const range =
      max === Infinity
        ? `at least ${min}`
        : min === -Infinity
          ? `at most ${max}`
          : `between ${min} and ${max}`;
    throw new ConfigError(`${name} must be ${range}, got ${value}`);
  }
  return value;
}

/**
 * The most clock skew any check allows (verifier configs, the ALB door, revocation cut-offs), in
 * seconds: more would keep an expired token alive for minutes.
 */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/** A string or a non-empty array of non-empty strings, as a new array; else {@link ConfigError}. */
export function stringList(name: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item.length > 0)
  ) {
    throw new ConfigError(`${name} must be a non-empty string or a non-empty array of non-empty strings`);
  }
  return [...list];
}

/** `value` when it is a boolean, else {@link ConfigError}. */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new ConfigError(`${name} must be true or false, got ${typeName(value)}`);
  return value;
}

/** `value` when it is a function, else {@link ConfigError}. */
export function checkFunction<Fn extends (...args: never[]) => unknown>(name: string, value: unknown): Fn {
  if (typeof value !== 'function')
    throw new ConfigError(`${name} must be a function, got ${typeName(value)}`);
  return value as Fn;
}

/**
 * The candidate nearest to `name` by edit distance (case-insensitive), when it is near enough to
 * be a likely typo: at most a third of the longer name's letters differ. Used for options and CLI flags.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  return bestDistance <= Math.max(1, Math.floor(Math.max(name.length, best.length) / 3)) ? best : undefined;
}

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.
function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity; // names are short; don't spend time on junk
  // rows[i][j]: the distance from the first i letters of a to the first j letters of b.
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] =
        i === 0
          ? j
          : Math.min(
              rows[i - 1]![j]! + 1,
              row[j - 1]! + 1,
              rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
              i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]
                ? rows[i - 2]![j - 2]! + 1
                : Infinity,
            );
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
