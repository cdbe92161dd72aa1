import { ConfigError, describeValue } from '../errors.ts';

const EPOCH_SECONDS = /^\d{1,12}(?:\.\d+)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A moment given on the command line, as epoch milliseconds: an ISO 8601 date
 * (`2024-05-01T12:00:00Z`) or epoch seconds (`1714564800`), the unit JWTs use.
 *
 * ```ts
 * parseTime('--at', '1714564800');           // 1714564800000
 * parseTime('--at', '2024-05-01T12:00:00Z'); // 1714564800000
 * ```
 */
export function parseTime(option: string, value: string): number {
  const trimmed = value.trim();
  const ms = EPOCH_SECONDS.test(trimmed)
    ? Number(trimmed) * 1000
    : ISO_DATE.test(trimmed)
      ? Date.parse(trimmed)
      : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new ConfigError(
      `${option} must be an ISO date (2024-05-01T12:00:00Z) or epoch seconds, got ${describeValue(value)}`,
    );
  }
  return ms;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600, d: 86400 };
const DURATION = /^(-?\d+(?:\.\d+)?)\s*(s|m|min|h|d)?$/;

/**
 * A duration as seconds: a number of seconds or a number with a unit (`30s`, `15m`, `1h`, `7d`).
 * Negative durations are allowed where `allowNegative` says so (`--expires-in=-1h` mints an expired token).
 *
 * ```ts
 * parseDuration('--expires-in', '1h');  // 3600
 * parseDuration('--expires-in', '-5m', { allowNegative: true }); // -300
 * ```
 */
export function parseDuration(
  option: string,
  value: string,
  options: { allowNegative?: boolean } = {},
): number {
  const match = DURATION.exec(value.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] ?? 's']! : Number.NaN;
  if (!Number.isFinite(seconds) || (seconds < 0 && !options.allowNegative)) {
    throw new ConfigError(
      `${option} must be a ${options.allowNegative ? '' : 'non-negative '}duration such as 30, 30s, 15m, 1h or 7d, got ${describeValue(value)}`,
    );
  }
  return seconds;
}

/**
 * A span of time in words, rounded to one unit: `42 s`, `5 min`, `3 h`, `12 d`.
 *
 * ```ts
 * spanWords(2520); // '42 min'
 * ```
 */
export function spanWords(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(s / 3600);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(s / 86400)} d`;
}

/** What a time claim means relative to now, in words. */
const PHRASES: Record<string, { future: string; past: string }> = {
  exp: { future: 'expires in {}', past: 'expired {} ago' },
  iat: { future: 'issued {} in the future', past: 'issued {} ago' },
  nbf: { future: 'not valid for another {}', past: 'valid since {} ago' },
  auth_time: { future: 'signed in {} in the future', past: 'signed in {} ago' },
};

/**
 * A time claim relative to now, in words: "expires in 42 min", "expired 3 h ago",
 * "issued 5 s in the future".
 *
 * ```ts
 * relativeWords('exp', now + 2520, now); // 'expires in 42 min'
 * ```
 */
export function relativeWords(claim: string, epochSeconds: number, nowSeconds: number): string {
  const phrases = PHRASES[claim] ?? { future: 'in {}', past: '{} ago' };
  const delta = epochSeconds - nowSeconds;
  const phrase = delta > 0 ? phrases.future : phrases.past;
  return phrase.replace('{}', spanWords(delta));
}
