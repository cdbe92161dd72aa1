import { ConfigError, describeValue } from '../errors.ts';
import type { VerificationKey } from '../keys/jwk.ts';
import { checkNumber, checkOptions, optionKeys } from '../options.ts';
import { checkTimes } from './claims.ts';
import type { TokenCacheSetting } from './verifier-options.ts';

/** Entries a verifier's verified-token cache holds unless told otherwise. */
export const DEFAULT_TOKEN_CACHE_SIZE = 10_000;

/**
 * Longer tokens are verified but never cached, so the memory bound (entries × size) stays
 * meaningful. Cognito tokens are 1-4 KiB.
 */
export const MAX_CACHED_TOKEN_LENGTH = 8 * 1024;

/**
 * The map is keyed by the token's last 32 characters (192 bits of its signature) and a hit
 * compares the whole string: hashing a fresh 1 KiB string costs over a microsecond, 32 characters
 * a few dozen nanoseconds. Two different tokens that share a tail only miss each other.
 */
const KEY_LENGTH = 32;

function keyOf(token: string): string {
  return token.length > KEY_LENGTH ? token.slice(-KEY_LENGTH) : token;
}

interface Slot<Claims extends object> {
  readonly token: string;
  readonly verified: VerifiedToken<Claims>;
  /** Hit since it was last passed over for eviction (a second chance instead of moving it on every hit). */
  used: boolean;
}

/** What the cache remembers about a token that passed every check, to re-check what can change. */
export interface VerifiedToken<Claims extends object> {
  /** Deep-frozen: every caller that gets them back shares them safely. */
  readonly claims: Claims;
  readonly jwksUri: string;
  readonly kid: string;
  /** The key the signature was checked with; a hit is only served while the key set still holds it. */
  readonly key: VerificationKey;
  readonly toleranceSeconds: number;
}

/** What a verifier shows of its cache: how full it is, and a way to empty it. */
export interface TokenCacheView {
  readonly size: number;
  readonly maxEntries: number;
  /** Forget every token: each is verified in full when seen again. */
  clear(): void;
}

export interface TokenCacheOptions {
  /** Most tokens remembered; about the least recently used one is dropped first. Default 10 000. */
  maxEntries?: number;
  /** Epoch milliseconds (the verifier's injected clock). Default `Date.now`. */
  clock?: () => number;
  /** The key the key set holds for `kid` right now, without waiting (`JwksCache.getKeySync`). */
  currentKey: (jwksUri: string, kid: string) => VerificationKey | undefined;
  /**
   * A check whose answer can change while a token lives, such as a revocation list: runs on every
   * hit after `exp`/`nbf`, with the cached claims. Throw a `CognitoJwtError` to reject the token
   * (its entry is dropped).
   */
  recheck?: (claims: object) => void;
  /** Sees a time refusal of a cached token before it is thrown (the verifier adds a clock hint). */
  onTimeRefused?: (error: unknown, jwksUri: string, claims: object, toleranceSeconds: number) => void;
}

/**
 * Remembers the tokens a verifier has accepted, keyed by the whole token string, so a token seen
 * again skips the signature. Per verifier: an entry can never be served under another
 * configuration. Every hit re-checks `exp` and `nbf` against the clock (an expired token is dropped
 * and rejected with `ERR_TOKEN_EXPIRED`), that the signing key is still in the key set (a removed or
 * replaced key sends the token through full verification again), and then the `recheck` hook.
 * Failures are never cached. Bounded: when full, the oldest entry not hit since it was last
 * passed over is dropped (the "second chance" approximation of least recently used, which keeps a
 * hit free of map updates).
 *
 * ```ts
 * const cache = new VerifiedTokenCache({ currentKey: (uri, kid) => jwksCache.getKeySync(uri, kid) });
 * const claims = cache.lookup(token); // undefined: verify it, then cache.remember(token, verified)
 * ```
 */
export class VerifiedTokenCache<Claims extends object = object> {
  /** Most entries held. */
  readonly maxEntries: number;
  readonly #entries = new Map<string, Slot<Claims>>();
  readonly #clock: () => number;
  readonly #currentKey: TokenCacheOptions['currentKey'];
  readonly #recheck: TokenCacheOptions['recheck'];
  readonly #onTimeRefused: TokenCacheOptions['onTimeRefused'];
  /** A read-only window on the cache that cannot add entries. */
  readonly view: TokenCacheView;

  constructor(options: TokenCacheOptions) {
    this.maxEntries = checkMaxEntries(options.maxEntries ?? DEFAULT_TOKEN_CACHE_SIZE);
    this.#clock = options.clock ?? Date.now;
    this.#currentKey = options.currentKey;
    this.#recheck = options.recheck;
    this.#onTimeRefused = options.onTimeRefused;
    const entries = this.#entries;
    this.view = Object.freeze({
      get size() {
        return entries.size;
      },
      maxEntries: this.maxEntries,
      clear: () => entries.clear(),
    });
  }

  /**
   * The claims of a token accepted before, or `undefined` when it must be verified (never seen,
   * dropped, or its key is no longer served). Throws, and drops the entry, when the token has
   * expired since (`TokenExpiredError`) or the `recheck` hook rejects it.
   */
  lookup(token: string): Claims | undefined {
    if (typeof token !== 'string') return undefined; // from JavaScript: the parser names the mistake
    const key = keyOf(token);
    const slot = this.#entries.get(key);
    if (slot === undefined || slot.token !== token) return undefined;
    const entry = slot.verified;
    if (this.#currentKey(entry.jwksUri, entry.kid) !== entry.key) {
      this.#entries.delete(key);
      return undefined;
    }
    try {
      checkTimes(entry.claims as Record<string, unknown>, this.#clock() / 1000, entry.toleranceSeconds);
    } catch (error) {
      this.#entries.delete(key);
      this.#onTimeRefused?.(error, entry.jwksUri, entry.claims, entry.toleranceSeconds);
      throw error;
    }
    try {
      this.#recheck?.(entry.claims);
    } catch (error) {
      this.#entries.delete(key);
      throw error;
    }
    slot.used = true;
    return entry.claims;
  }

  /** Remember a token that passed every check; drops an entry when full (see the class). */
  remember(token: string, verified: VerifiedToken<Claims>): void {
    if (token.length > MAX_CACHED_TOKEN_LENGTH) return;
    const key = keyOf(token);
    this.#entries.delete(key);
    this.#entries.set(key, { token, verified, used: false });
    if (this.#entries.size > this.maxEntries) evictOne(this.#entries);
  }
}

const TOKEN_CACHE_OPTIONS = optionKeys<Exclude<TokenCacheSetting, boolean>>('verifiedTokenCache', {
  maxEntries: true,
});

/**
 * Drop the oldest entry of a bounded map that was not hit since it was last passed over; hit ones
 * go back to the end, unmarked (the "second chance" approximation of least recently used: a hit
 * only sets `used`, no map update).
 *
 * ```ts
 * if (entries.size > maxEntries) evictOne(entries);
 * ```
 */
export function evictOne<Key>(entries: Map<Key, { used: boolean }>): void {
  for (const [key, slot] of entries) {
    entries.delete(key);
    if (!slot.used) return;
    slot.used = false;
    entries.set(key, slot);
  }
}

/** Check the verifier option and turn it into a cache size, or `undefined` for no cache. */
export function tokenCacheSize(setting: TokenCacheSetting | undefined): number | undefined {
  if (setting === undefined || setting === true) return DEFAULT_TOKEN_CACHE_SIZE;
  if (setting === false) return undefined;
  if (typeof setting !== 'object' || setting === null || Array.isArray(setting)) {
    throw new ConfigError(
      `verifiedTokenCache must be true, false or { maxEntries }, got ${describeValue(setting)}`,
    );
  }
  checkOptions(TOKEN_CACHE_OPTIONS, setting);
  return checkMaxEntries(setting.maxEntries ?? DEFAULT_TOKEN_CACHE_SIZE);
}

function checkMaxEntries(value: unknown): number {
  return checkNumber('verifiedTokenCache.maxEntries', value, { integer: true, min: 1, max: 10_000_000 });
}

/**
 * Freeze verified claims and everything inside them, so claims handed to several callers (from
 * the cache, or not) cannot be changed by one of them. Claims come from `JSON.parse`: no cycles,
 * depth bounded by the parser's depth cap.
 *
 * ```ts
 * const claims = freezeClaims(JSON.parse('{"cognito:groups":["admin"]}'));
 * Object.isFrozen(claims['cognito:groups']); // true
 * ```
 */
export function freezeClaims<Value extends object>(value: Value): Value {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) freezeClaims(item);
    }
  } else {
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const item: unknown = (value as Record<string, unknown>)[keys[i]!];
      if (typeof item === 'object' && item !== null) freezeClaims(item);
    }
  }
  return Object.freeze(value);
}
