import { readFileSync } from 'node:fs';
import { CognitoJwtError, ConfigError, describeValue } from '../errors.ts';
import { publish } from './events.ts';
import { fetchJwks } from './fetch-jwks.ts';
import { importJwks, type Jwk, type Jwks, type VerificationKey } from './jwk.ts';

export interface JwksCacheOptions {
  /** Replaces the global `fetch` (proxies, tests). */
  fetch?: typeof fetch;
  /** Epoch milliseconds; replaces `Date.now` (tests). */
  clock?: () => number;
  /** Deadline for one JWKS request, body included. Default 5 000 ms. */
  timeoutMs?: number;
  /** Largest JWKS body accepted. Default 1 MiB. */
  maxBytes?: number;
  /** After a fetch, unknown kids fail fast for this long instead of fetching again. Default 30 000 ms. */
  cooldownMs?: number;
  /** Keys are refreshed in the background once they are this old. Default 600 000 ms (10 min); a `Cache-Control: max-age` from the server is honoured between 1 min and 1 h. */
  maxAgeMs?: number;
  /** How long past `maxAgeMs` known keys keep being served while refreshes fail. Default 24 h; 0 disables. */
  staleIfErrorMs?: number;
  /** First delay after a failed fetch; doubles per failure (with jitter) up to `maxBackoffMs`. Default 1 000 ms. */
  backoffMs?: number;
  /** Default 300 000 ms (5 min). */
  maxBackoffMs?: number;
}

/** Where a key set stands; see {@link JwksCache.inspect}. */
export type KeySetState = 'empty' | 'fresh' | 'stale' | 'failing' | 'pinned';

export interface KeySetInfo {
  readonly jwksUri: string;
  readonly kids: readonly string[];
  /** When the keys were last loaded (fetched, or read from a snapshot). */
  readonly fetchedAt: Date | undefined;
  readonly state: KeySetState;
  /** Consecutive failed fetches. */
  readonly failures: number;
}

/** A JWKS snapshot as saved by {@link JwksCache.snapshot}: a plain JWKS plus where and when it came from. */
export interface JwksSnapshot extends Jwks {
  jwksUri?: string;
  fetchedAt?: string;
}

const MAX_AGE_FLOOR_MS = 60_000;
const MAX_AGE_CEILING_MS = 3_600_000;

function option(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min)
    throw new ConfigError(`${name} must be a number ≥ ${min}, got ${value}`);
  return value;
}

/** The keys of one JWKS URL and the state of fetching them. */
class KeySet {
  keys = new Map<string, VerificationKey>();
  loaded = false;
  pinned = false;
  fetchedAt = 0;
  maxAgeMs: number;
  inFlight: Promise<void> | undefined;
  lastFetchStartedAt = Number.NEGATIVE_INFINITY;
  failures = 0;
  retryAt = 0;
  lastError: CognitoJwtError | undefined;
  /** Bumped by every fetch and load, so an answer older than the keys in place is dropped. */
  generation = 0;
  appliedGeneration = 0;

  constructor(
    readonly jwksUri: string,
    maxAgeMs: number,
  ) {
    this.maxAgeMs = maxAgeMs;
  }
}

/**
 * Keeps the public keys of one or more user pools, fetched from their JWKS URLs. Share one
 * instance between verifiers to share the keys and the fetches.
 *
 * - Keys are imported once; the hot path is a `Map` lookup.
 * - An unknown kid causes at most one fetch per cooldown; concurrent callers share it.
 * - Old keys are refreshed in the background; known kids never wait for it.
 * - When refreshes fail, known keys keep working for `staleIfErrorMs` and fetches back off.
 */
export class JwksCache {
  readonly #fetch: typeof fetch;
  readonly #clock: () => number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #staleIfErrorMs: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #sets = new Map<string, KeySet>();

  constructor(options: JwksCacheOptions = {}) {
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#clock = options.clock ?? Date.now;
    this.#timeoutMs = option('timeoutMs', options.timeoutMs, 5_000, 1);
    this.#maxBytes = option('maxBytes', options.maxBytes, 1024 * 1024, 1);
    this.#cooldownMs = option('cooldownMs', options.cooldownMs, 30_000);
    this.#maxAgeMs = option('maxAgeMs', options.maxAgeMs, 600_000, 1);
    this.#staleIfErrorMs = option('staleIfErrorMs', options.staleIfErrorMs, 24 * 3_600_000);
    this.#backoffMs = option('backoffMs', options.backoffMs, 1_000);
    this.#maxBackoffMs = option('maxBackoffMs', options.maxBackoffMs, 300_000);
  }

  #set(jwksUri: string): KeySet {
    let set = this.#sets.get(jwksUri);
    if (!set) {
      set = new KeySet(jwksUri, this.#maxAgeMs);
      this.#sets.set(jwksUri, set);
    }
    return set;
  }

  /** Keys may be used: loaded, and not older than max age + stale-if-error (pinned keys never age). */
  #usable(set: KeySet, now: number): boolean {
    return set.loaded && (set.pinned || now < set.fetchedAt + set.maxAgeMs + this.#staleIfErrorMs);
  }

  /**
   * The key for `kid` if it is loaded and usable, without waiting; `undefined` otherwise.
   * Starts a background refresh when the keys have passed their max age.
   */
  getKeySync(jwksUri: string, kid: string): VerificationKey | undefined {
    const set = this.#sets.get(jwksUri);
    if (!set?.loaded) return undefined;
    const now = this.#clock();
    if (!set.pinned && now >= set.fetchedAt + set.maxAgeMs && !set.inFlight && now >= set.retryAt) {
      this.#fetchInBackground(set);
    }
    return this.#usable(set, now) ? set.keys.get(kid) : undefined;
  }

  /** The key for `kid`, fetching the JWKS when the kid is unknown (once per cooldown) or the keys are too old. */
  async getKey(jwksUri: string, kid: string): Promise<VerificationKey> {
    const known = this.getKeySync(jwksUri, kid);
    if (known) return known;
    const set = this.#set(jwksUri);
    if (set.pinned) throw this.#notFound(set, kid, 'the keys are pinned (offline), so no fetch is made');
    if (!set.inFlight) {
      const now = this.#clock();
      if (now < set.retryAt) {
        throw new CognitoJwtError(
          'ERR_JWKS_FETCH_FAILED',
          `the JWKS at ${jwksUri} is unavailable; next attempt in ${Math.ceil(set.retryAt - now)} ms`,
          { cause: set.lastError },
        );
      }
      if (this.#usable(set, now) && now - set.lastFetchStartedAt < this.#cooldownMs) {
        const retryInMs = Math.ceil(set.lastFetchStartedAt + this.#cooldownMs - now);
        publish('cooldownSkip', () => ({ jwksUri, kid, retryInMs }));
        throw new CognitoJwtError(
          'ERR_KID_COOLDOWN',
          `no key with kid ${describeValue(kid)}; the JWKS was fetched ${Math.round(now - set.lastFetchStartedAt)} ms ago, ` +
            `so it is not fetched again for another ${retryInMs} ms`,
          { claim: 'kid' },
        );
      }
      this.#startFetch(set, 'kid-miss');
    }
    await set.inFlight;
    const key = set.keys.get(kid);
    if (!key) throw this.#notFound(set, kid, 'not even after fetching the JWKS again');
    return key;
  }

  #notFound(set: KeySet, kid: string, detail: string): CognitoJwtError {
    publish('kidMiss', () => ({ jwksUri: set.jwksUri, kid }));
    return new CognitoJwtError(
      'ERR_KEY_NOT_FOUND',
      `no key with kid ${describeValue(kid)} in the JWKS at ${set.jwksUri} (${detail})`,
      { claim: 'kid' },
    );
  }

  /** Fetch the keys now unless they are loaded and fresh enough; shares a fetch already under way. */
  async load(jwksUri: string): Promise<void> {
    const set = this.#set(jwksUri);
    if (set.pinned || (set.loaded && this.#usable(set, this.#clock()))) return;
    await (set.inFlight ?? this.#startFetch(set, 'load'));
  }

  /** Fetch the keys now, whatever their age (single-flight). */
  refresh(jwksUri: string): Promise<void> {
    const set = this.#set(jwksUri);
    return set.inFlight ?? this.#startFetch(set, 'refresh');
  }

  /**
   * Load keys from a JWKS object or a JSON file (a snapshot saved by {@link snapshot}), without
   * fetching. `pinned: true` means offline: these keys are used as they are and never refreshed.
   * Throws when the snapshot holds no usable key.
   */
  loadSnapshot(jwksUri: string, snapshot: JwksSnapshot | string, options: { pinned?: boolean } = {}): void {
    let jwks: unknown = snapshot;
    if (typeof snapshot === 'string') {
      try {
        jwks = JSON.parse(readFileSync(snapshot, 'utf8'));
      } catch (cause) {
        throw new CognitoJwtError('ERR_JWKS_INVALID', `could not read the JWKS snapshot ${snapshot}`, {
          cause,
        });
      }
    }
    const set = this.#set(jwksUri);
    this.#apply(set, jwks, ++set.generation, undefined);
    set.pinned = options.pinned === true;
  }

  /** The keys currently held for a JWKS URL, as a snapshot that {@link loadSnapshot} reads back. */
  snapshot(jwksUri: string): JwksSnapshot {
    const set = this.#sets.get(jwksUri);
    if (!set?.loaded) throw new CognitoJwtError('ERR_KEYS_NOT_LOADED', `no keys are loaded for ${jwksUri}`);
    return {
      jwksUri,
      fetchedAt: new Date(set.fetchedAt).toISOString(),
      keys: [...set.keys.values()].map((key) => ({ ...key.jwk }) as Jwk),
    };
  }

  /** Read-only view of one key set. */
  inspect(jwksUri: string): KeySetInfo {
    const set = this.#sets.get(jwksUri);
    const now = this.#clock();
    let state: KeySetState = 'empty';
    if (set?.pinned) state = 'pinned';
    else if (set && set.failures > 0) state = 'failing';
    else if (set?.loaded) state = now < set.fetchedAt + set.maxAgeMs ? 'fresh' : 'stale';
    return {
      jwksUri,
      kids: set ? [...set.keys.keys()] : [],
      fetchedAt: set?.loaded ? new Date(set.fetchedAt) : undefined,
      state,
      failures: set?.failures ?? 0,
    };
  }

  /** The JWKS URLs this cache knows. */
  get jwksUris(): string[] {
    return [...this.#sets.keys()];
  }

  #fetchInBackground(set: KeySet): void {
    // Failures are recorded on the set and published; nobody awaits a background refresh.
    this.#startFetch(set, 'max-age').catch(() => {});
  }

  #startFetch(set: KeySet, reason: string): Promise<void> {
    const generation = ++set.generation;
    const started = this.#clock();
    const startedAt = performance.now();
    set.lastFetchStartedAt = started;
    publish('fetchStart', () => ({ jwksUri: set.jwksUri, reason }));
    const fetching = fetchJwks(set.jwksUri, {
      fetch: this.#fetch,
      timeoutMs: this.#timeoutMs,
      maxBytes: this.#maxBytes,
    })
      .then(
        ({ body, maxAgeSeconds }) => {
          this.#apply(set, body, generation, maxAgeSeconds);
          set.failures = 0;
          set.retryAt = 0;
          set.lastError = undefined;
          publish('fetchSuccess', () => ({
            jwksUri: set.jwksUri,
            durationMs: performance.now() - startedAt,
            kids: [...set.keys.keys()],
          }));
        },
        (error: unknown) => {
          const failure =
            error instanceof CognitoJwtError
              ? error
              : new CognitoJwtError('ERR_JWKS_FETCH_FAILED', `could not fetch the JWKS from ${set.jwksUri}`, {
                  cause: error,
                });
          this.#recordFailure(set, failure, performance.now() - startedAt);
          throw failure;
        },
      )
      .finally(() => {
        if (set.inFlight === fetching) set.inFlight = undefined;
      });
    set.inFlight = fetching;
    return fetching;
  }

  #recordFailure(set: KeySet, error: CognitoJwtError, durationMs: number): void {
    set.failures++;
    set.lastError = error;
    const ceiling = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** Math.min(set.failures - 1, 30));
    const retryInMs = ceiling * (0.5 + Math.random() / 2); // jitter spreads a fleet's retries apart
    set.retryAt = this.#clock() + retryInMs;
    const httpStatus = (error as { httpStatus?: number }).httpStatus;
    publish('fetchFailure', () => ({ jwksUri: set.jwksUri, durationMs, httpStatus, error }));
    publish('backoff', () => ({ jwksUri: set.jwksUri, failures: set.failures, retryInMs }));
    if (this.#usable(set, this.#clock())) {
      publish('staleServed', () => ({
        jwksUri: set.jwksUri,
        ageMs: this.#clock() - set.fetchedAt,
        kids: [...set.keys.keys()],
      }));
    }
  }

  /** Replace the keys with a fetched or loaded JWKS; a JWKS without one usable key changes nothing. */
  #apply(set: KeySet, body: unknown, generation: number, maxAgeSeconds: number | undefined): void {
    const { keys, rejected } = importJwks(body);
    for (const error of rejected) publish('keyRejected', () => ({ jwksUri: set.jwksUri, error }));
    if (keys.size === 0) {
      throw new CognitoJwtError(
        'ERR_JWKS_INVALID',
        `the JWKS at ${set.jwksUri} holds no usable key${rejected[0] ? ` (${rejected[0].message})` : ''}`,
        { cause: rejected[0] },
      );
    }
    if (generation <= set.appliedGeneration) return; // an answer older than the keys in place
    set.appliedGeneration = generation;
    const added = [...keys.keys()].filter((kid) => !set.keys.has(kid));
    const removed = [...set.keys.keys()].filter((kid) => !keys.has(kid));
    set.keys = keys;
    set.loaded = true;
    set.fetchedAt = this.#clock();
    set.maxAgeMs =
      maxAgeSeconds === undefined
        ? this.#maxAgeMs
        : Math.min(MAX_AGE_CEILING_MS, Math.max(MAX_AGE_FLOOR_MS, maxAgeSeconds * 1000));
    if (added.length > 0) publish('keysAdded', () => ({ jwksUri: set.jwksUri, kids: added }));
    if (removed.length > 0) publish('keysRemoved', () => ({ jwksUri: set.jwksUri, kids: removed }));
  }
}
