import { defaultFetch, readTextFileSync, writeTextFileAtomic } from '#platform';
import { CognitoJwtError, ConfigError, describeValue } from '../errors.ts';
import { checkBoolean, checkFunction, checkNumber, checkOptions, optionKeys } from '../options.ts';
import { type ClockOffset, estimateClockOffset } from './clock-offset.ts';
import { type FetchReason, publish } from './events.ts';
import { fetchJwks, JwksFetchError } from './fetch-jwks.ts';
import {
  importJwks,
  type Jwk,
  type Jwks,
  type KeyProfile,
  MAX_KEYS_PER_JWKS,
  USER_POOL_KEYS,
  type VerificationKey,
} from './jwk.ts';

/**
 * Tuning of a {@link JwksCache}; every field has a safe default.
 *
 * ```ts
 * const cache = new JwksCache({ timeoutMs: 2_000, staleIfErrorMs: 6 * 3_600_000 });
 * ```
 */
export interface JwksCacheOptions {
  /**
   * Replaces the built-in transport (proxies, tests); any `fetch`-compatible function. The built-in
   * one is `node:http(s)` on Node and the global `fetch` elsewhere.
   */
  fetch?: typeof fetch;
  /**
   * Where the keys outlive this process: read once before the first fetch of a key set, written
   * after every successful fetch. For short-lived isolates (a Workers KV namespace, a file, Redis).
   * A store that fails does not fail verification: keys are then fetched as usual, and the failure
   * is published on `JWKS_EVENTS.storeFailure`.
   *
   * ```ts
   * const snapshotStore: JwksSnapshotStore = {
   *   load: (jwksUri) => env.KEYS.get(jwksUri, 'json'),
   *   save: (snapshot) => env.KEYS.put(snapshot.jwksUri ?? '', JSON.stringify(snapshot)),
   * };
   * ```
   */
  snapshotStore?: JwksSnapshotStore;
  /** Epoch milliseconds; replaces `Date.now` (tests). */
  clock?: () => number;
  /** Deadline for one JWKS request: connect, headers and body. Default 5 000 ms. */
  timeoutMs?: number;
  /** Largest JWKS body accepted; the stream is abandoned past it. Default 1 MiB. */
  maxBytes?: number;
  /**
   * After a fetch caused by an unknown kid ends, further unknown kids fail fast with
   * `ERR_KID_COOLDOWN` for this long instead of fetching again. Default 30 000 ms.
   */
  cooldownMs?: number;
  /**
   * Keys are refreshed in the background once they are this old. Default 600 000 ms (10 min); a
   * `Cache-Control: max-age` from the server replaces it, kept between 1 min and 1 h.
   */
  maxAgeMs?: number;
  /**
   * How long past their max age keys are still used while refreshing them fails (stale-if-error).
   * Default 24 h; `0` means keys past their max age are never used: callers wait for the refresh.
   */
  staleIfErrorMs?: number;
  /** First pause after a failed fetch; doubles per failure (with jitter) up to `maxBackoffMs`. Default 1 000 ms. */
  backoffMs?: number;
  /** Longest pause between failed fetches. Default 300 000 ms (5 min). */
  maxBackoffMs?: number;
  /** Never fetch: only snapshots (which are then pinned) provide keys. For air-gapped hosts. Default false. */
  offline?: boolean;
}

/**
 * Where a key set stands; see {@link JwksCache.inspect}.
 * - `empty`: no keys yet.
 * - `fresh`: keys younger than their max age.
 * - `stale`: past their max age, still used while a refresh is due or under way.
 * - `failing`: the last fetch failed; known keys are used while `usable` says so (stale-if-error).
 * - `expired`: past max age + stale-if-error; not used until a fetch succeeds.
 * - `pinned`: a snapshot loaded as pinned (or an offline cache): used as is, never refreshed.
 *
 * ```ts
 * if (cache.inspect(jwksUri).state === 'failing') alert('JWKS endpoint failing');
 * ```
 */
export type KeySetState = 'empty' | 'fresh' | 'stale' | 'failing' | 'expired' | 'pinned';

/**
 * A read-only view of one key set, for health checks and debugging.
 *
 * ```ts
 * const { kids, fetchedAt, state } = cache.inspect(jwksUri);
 * ```
 */
export interface KeySetInfo {
  readonly jwksUri: string;
  readonly kids: readonly string[];
  /** When the keys were fetched (for a snapshot: when it was fetched, as saved in it). */
  readonly fetchedAt: Date | undefined;
  readonly state: KeySetState;
  /** Whether tokens are verified with these keys right now. */
  readonly usable: boolean;
  /** A fetch is under way. */
  readonly refreshing: boolean;
  /** Consecutive failed fetches. */
  readonly failures: number;
  /** Why the last fetch failed, while it is failing. */
  readonly lastError: CognitoJwtError | undefined;
  /** This host's clock against the JWKS server's, from the last answer's `Date` header. */
  readonly clockOffset: ClockOffset | undefined;
}

/**
 * A JWKS snapshot as saved by {@link JwksCache.snapshot}: a plain JWKS plus where and when it came
 * from. Any JWKS object is a valid snapshot (its age then counts from when it is loaded).
 *
 * ```ts
 * const snapshot: JwksSnapshot = { jwksUri, fetchedAt: '2025-01-01T00:00:00.000Z', keys: [jwk] };
 * ```
 */
export interface JwksSnapshot extends Jwks {
  jwksUri?: string;
  /** ISO 8601. */
  fetchedAt?: string;
}

/**
 * A place to keep JWKS snapshots between processes; see {@link JwksCacheOptions.snapshotStore}.
 *
 * ```ts
 * const store: JwksSnapshotStore = { load: async () => undefined, save: async () => {} };
 * ```
 */
export interface JwksSnapshotStore {
  /** The snapshot saved for `jwksUri`, or `undefined`/`null` when there is none. */
  load(jwksUri: string): Promise<JwksSnapshot | null | undefined> | JwksSnapshot | null | undefined;
  save(snapshot: JwksSnapshot & { jwksUri: string }): Promise<void> | void;
}

/**
 * What a request lends to work that may outlive it. On Cloudflare Workers, pass the handler's
 * `ExecutionContext` (or Hono's `c.executionCtx`): a JWKS fetch shared by several requests, a
 * background refresh and a snapshot write then run to their end even when the request that
 * started them has answered. Elsewhere there is nothing to pass.
 *
 * ```ts
 * export default { fetch: (request, env, ctx) => verifier.verify(token, ctx) };
 * ```
 */
export interface RequestContext {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * A fetch is given up this long after its deadline when it has not settled: on Workers, a fetch
 * dies with the request that started it and its promise never settles.
 */
const ABANDONED_AFTER_MS = 1_000;

const MAX_AGE_FLOOR_MS = 60_000;
const MAX_AGE_CEILING_MS = 3_600_000;

/**
 * The keys of {@link JwksCacheOptions}, checked at run time; the compiler keeps the list complete.
 * Verifier options given to a cache say where they belong.
 */
export const JWKS_CACHE_OPTION_NAMES = {
  fetch: true,
  clock: true,
  timeoutMs: true,
  maxBytes: true,
  cooldownMs: true,
  maxAgeMs: true,
  staleIfErrorMs: true,
  backoffMs: true,
  maxBackoffMs: true,
  offline: true,
  snapshotStore: true,
} as const satisfies Record<keyof JwksCacheOptions, true>;

const JWKS_CACHE_OPTIONS = optionKeys<JwksCacheOptions>(
  'JwksCache options',
  JWKS_CACHE_OPTION_NAMES,
  Object.fromEntries(
    [
      'jwksCache',
      'maxTokenLength',
      'verifiedTokenCache',
      'isRevoked',
      'userPoolId',
      'clientId',
      'tokenUse',
      'groups',
      'scopes',
      'issuer',
      'jwksUri',
      'jwks',
    ].map((name) => [name, `it is not a key cache setting; set it on the CognitoVerifier`]),
  ),
);

const SNAPSHOT_OPTIONS = optionKeys<{ pinned?: boolean }>('loadSnapshot options', { pinned: true });

function option(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  return checkNumber(name, value, { min, finite: true });
}

/** The keys of one JWKS URL and the state of fetching them. */
class KeySet {
  keys = new Map<string, VerificationKey>();
  /** Keys of the JWKS that were refused at import, by kid, with the reason. */
  refusedKids = new Map<string, CognitoJwtError>();
  pinned = false;
  /** What this key set publishes (user pool keys unless a verifier declared otherwise). */
  profile: KeyProfile = USER_POOL_KEYS;
  profileDeclared = false;
  fetchedAt = 0;
  maxAgeMs: number;
  inFlight: Promise<void> | undefined;
  /** `performance.now()` past which `inFlight` counts as abandoned (see {@link ABANDONED_AFTER_MS}). */
  inFlightUntil = 0;
  /** The snapshot store was read for this set (once per process). */
  storeRead = false;
  /** The refresh that waits for `inFlight` to end before sending its request; shared by its callers. */
  nextRefresh: Promise<void> | undefined;
  /** The cooldown for unknown kids counts from here: the end of the last fetch an unknown kid caused. */
  kidFetchEndedAt = Number.NEGATIVE_INFINITY;
  failures = 0;
  retryAt = 0;
  clockOffset: ClockOffset | undefined;
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

  get loaded(): boolean {
    return this.keys.size > 0;
  }
}

function readSnapshotFile(path: string): unknown {
  try {
    return JSON.parse(readTextFileSync(path));
  } catch (cause) {
    throw new CognitoJwtError(
      'ERR_JWKS_INVALID',
      `could not read the JWKS snapshot ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** Check the snapshot's own metadata; returns when its keys were fetched, if it says. */
function snapshotFetchedAt(snapshot: unknown, jwksUri: string, now: number): number | undefined {
  if (typeof snapshot !== 'object' || snapshot === null) return undefined; // importJwks reports it
  const { jwksUri: savedFor, fetchedAt } = snapshot as Record<string, unknown>;
  if (savedFor !== undefined) {
    // Compare paths only: a multi-Region pool serves the same keys on two hosts.
    const path = (url: unknown) =>
      typeof url === 'string' && URL.canParse(url) ? new URL(url).pathname : url;
    if (path(savedFor) !== path(jwksUri)) {
      throw new CognitoJwtError(
        'ERR_JWKS_INVALID',
        `the JWKS snapshot was saved for ${describeValue(savedFor)}, not for ${jwksUri}`,
      );
    }
  }
  if (fetchedAt === undefined) return undefined;
  const time = typeof fetchedAt === 'string' ? Date.parse(fetchedAt) : Number.NaN;
  if (!Number.isFinite(time)) {
    throw new CognitoJwtError(
      'ERR_JWKS_INVALID',
      `the JWKS snapshot's fetchedAt must be an ISO date, found ${describeValue(fetchedAt)}`,
    );
  }
  return Math.min(time, now);
}

/**
 * Each cache's key set for a URL, made on first use, for the functions outside the class (filled
 * by the constructor: a static block would keep the class in bundles that never use it).
 */
const keySetOf = new WeakMap<JwksCache, (jwksUri: string) => KeySet>();

/**
 * Declare what the key set at `jwksUri` publishes, before any key is loaded: the identity pools'
 * verifier declares RS512 keys with a standard-base64 modulus. A URL keeps one profile: a second,
 * different declaration (or one after keys were loaded) is a {@link ConfigError}. A function, not
 * a method, so a bundle without identity pools leaves it out.
 *
 * @internal
 *
 * ```ts
 * declareKeyProfile(cache, IDENTITY_POOL_JWKS_URI, IDENTITY_POOL_KEYS);
 * ```
 */
export function declareKeyProfile(cache: JwksCache, jwksUri: string, profile: KeyProfile): void {
  const set = keySetOf.get(cache)!(jwksUri);
  if (set.profile === profile) {
    set.profileDeclared = true;
    return;
  }
  if (set.profileDeclared || set.loaded) {
    throw new ConfigError(
      `the key set ${jwksUri} already holds ${set.profile.name} keys; a cache keeps one kind of key per JWKS URL`,
    );
  }
  set.profile = profile;
  set.profileDeclared = true;
}

/**
 * Keeps the public keys of one or more user pools, fetched from their JWKS URLs. Share one
 * instance between verifiers to share the keys and the fetches.
 *
 * - Keys are imported once; the hot path is a `Map` lookup.
 * - Keys older than their max age are refreshed in the background; known kids never wait for it.
 * - An unknown kid causes at most one fetch per cooldown; concurrent callers share it, and
 *   unknown kids during the cooldown fail fast without a request.
 * - When fetching fails, known keys keep working for `staleIfErrorMs` and fetches back off.
 * - Snapshots save the keys to a file and load them back (cold starts, offline hosts).
 *
 * ```ts
 * const cache = new JwksCache({ cooldownMs: 30_000 });
 * const ids = new CognitoVerifier({ userPoolId, clientId, tokenUse: 'id' }, { jwksCache: cache });
 * const access = new CognitoVerifier({ userPoolId, clientId, tokenUse: 'access' }, { jwksCache: cache });
 * await ids.hydrate();
 * console.log(cache.inspect(ids.issuers[0].jwksUri).state); // 'fresh'
 * ```
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
  readonly #offline: boolean;
  readonly #store: JwksSnapshotStore | undefined;
  readonly #sets = new Map<string, KeySet>();

  constructor(options: JwksCacheOptions = {}) {
    checkOptions(JWKS_CACHE_OPTIONS, options);
    if (options.fetch !== undefined) checkFunction('fetch', options.fetch);
    if (options.clock !== undefined) checkFunction('clock', options.clock);
    if (options.offline !== undefined) checkBoolean('offline', options.offline);
    // On Node not the global fetch: on Node 20 its first call loads undici, 20-30 ms of every cold start.
    this.#fetch = options.fetch ?? defaultFetch;
    this.#clock = options.clock ?? Date.now;
    this.#timeoutMs = option('timeoutMs', options.timeoutMs, 5_000, 1);
    this.#maxBytes = option('maxBytes', options.maxBytes, 1024 * 1024, 1);
    this.#cooldownMs = option('cooldownMs', options.cooldownMs, 30_000);
    this.#maxAgeMs = option('maxAgeMs', options.maxAgeMs, 600_000, 1);
    this.#staleIfErrorMs = option('staleIfErrorMs', options.staleIfErrorMs, 24 * 3_600_000);
    this.#backoffMs = option('backoffMs', options.backoffMs, 1_000);
    this.#maxBackoffMs = option('maxBackoffMs', options.maxBackoffMs, 300_000);
    this.#offline = options.offline === true;
    if (options.snapshotStore !== undefined) {
      checkFunction('snapshotStore.load', options.snapshotStore?.load);
      checkFunction('snapshotStore.save', options.snapshotStore?.save);
    }
    this.#store = options.snapshotStore;
    keySetOf.set(this, (jwksUri) => this.#set(jwksUri));
  }

  #set(jwksUri: string): KeySet {
    let set = this.#sets.get(jwksUri);
    if (!set) {
      set = new KeySet(jwksUri, this.#maxAgeMs);
      this.#sets.set(jwksUri, set);
    }
    return set;
  }

  /** Keys may be used: loaded, and younger than max age + stale-if-error (pinned keys never age). */
  #usable(set: KeySet, now: number): boolean {
    return set.loaded && (set.pinned || now < set.fetchedAt + set.maxAgeMs + this.#staleIfErrorMs);
  }

  /**
   * The key for `kid` if it is loaded and usable, without waiting; `undefined` otherwise. Starts a
   * background refresh when the keys have passed their max age (unless backing off).
   *
   * ```ts
   * const key = cache.getKeySync(jwksUri, header.kid); // VerificationKey | undefined
   * ```
   */
  getKeySync(jwksUri: string, kid: string, context?: RequestContext): VerificationKey | undefined {
    const set = this.#sets.get(jwksUri);
    if (!set?.loaded) return undefined;
    const now = this.#clock();
    if (!set.pinned && now >= set.fetchedAt + set.maxAgeMs && !this.#fetching(set) && now >= set.retryAt) {
      // Nobody awaits a background refresh; its failure is recorded on the set and published.
      this.#startFetch(set, 'max-age', context).catch(() => {});
    }
    return this.#usable(set, now) ? set.keys.get(kid) : undefined;
  }

  /**
   * The key for `kid`. A known kid returns at once. An unknown kid joins the fetch under way, or
   * starts one when none was caused by an unknown kid within the cooldown; otherwise it fails fast
   * with `ERR_KID_COOLDOWN`. Keys that cannot be used and cannot be fetched give a 503 error
   * (`ERR_JWKS_FETCH_FAILED`, `ERR_JWKS_INVALID` or `ERR_KEYS_NOT_LOADED`).
   *
   * ```ts
   * const key = await cache.getKey(jwksUri, header.kid);
   * ```
   */
  async getKey(jwksUri: string, kid: string, context?: RequestContext): Promise<VerificationKey> {
    const known = this.getKeySync(jwksUri, kid, context);
    if (known) return known;
    const set = this.#set(jwksUri);
    if (set.pinned) throw this.#notFound(set, kid, 'the keys are pinned, so no fetch is made');
    if (this.#offline) throw this.#offlineError(set);
    let reason: FetchReason | undefined;
    if (!this.#fetching(set)) {
      const now = this.#clock();
      const usable = this.#usable(set, now);
      // The pool publishes this kid but its key is unusable: say why, and don't refetch for it.
      if (usable && set.refusedKids.has(kid)) throw this.#refused(set, kid);

      if (usable && now < set.kidFetchEndedAt + this.#cooldownMs) {
        const retryInMs = Math.ceil(set.kidFetchEndedAt + this.#cooldownMs - now);
        publish('cooldownSkip', () => ({ jwksUri, kid, retryInMs }));
        throw new CognitoJwtError(
          'ERR_KID_COOLDOWN',
          `no key with kid ${describeValue(kid)} in the JWKS at ${jwksUri}, which was fetched for an unknown kid ` +
            `${Math.round(now - set.kidFetchEndedAt)} ms ago; it is not fetched again for another ${retryInMs} ms`,
          { claim: 'kid' },
        );
      }
      if (now < set.retryAt) {
        throw new CognitoJwtError(
          'ERR_JWKS_FETCH_FAILED',
          `the JWKS at ${jwksUri} is unavailable (${set.lastError?.message ?? 'fetching failed'}); ` +
            `next attempt in ${Math.ceil(set.retryAt - now)} ms`,
          { cause: set.lastError },
        );
      }
      reason = usable ? 'kid-miss' : 'load';
      this.#startFetch(set, reason, context);
    }
    await this.#join(set, reason ?? 'load', context);
    const key = set.keys.get(kid);
    if (!key)
      throw set.refusedKids.get(kid) ?? this.#notFound(set, kid, 'not even after fetching the JWKS again');
    return key;
  }

  #refused(set: KeySet, kid: string): CognitoJwtError {
    const reason = set.refusedKids.get(kid);
    return new CognitoJwtError('ERR_KEY_INVALID', reason?.message ?? 'the key is not usable', {
      claim: 'kid',
      cause: reason,
    });
  }

  #notFound(set: KeySet, kid: string, detail: string): CognitoJwtError {
    publish('kidMiss', () => ({ jwksUri: set.jwksUri, kid }));
    return new CognitoJwtError(
      'ERR_KEY_NOT_FOUND',
      `no key with kid ${describeValue(kid)} in the JWKS at ${set.jwksUri} (${detail})`,
      { claim: 'kid' },
    );
  }

  #offlineError(set: KeySet): CognitoJwtError {
    return new CognitoJwtError(
      'ERR_KEYS_NOT_LOADED',
      `no keys are loaded for ${set.jwksUri} and this cache is offline: load a snapshot with loadSnapshot()`,
    );
  }

  /**
   * Fetch the keys now unless they are loaded and usable; shares a fetch already under way.
   *
   * ```ts
   * await cache.load(jwksUri); // at start-up
   * ```
   */
  async load(jwksUri: string, context?: RequestContext): Promise<void> {
    const set = this.#set(jwksUri);
    if (set.pinned || this.#usable(set, this.#clock())) return;
    if (this.#offline) throw this.#offlineError(set);
    if (!this.#fetching(set)) this.#startFetch(set, 'load', context);
    await this.#join(set, 'load', context);
  }

  /** The fetch under way, unless it outlived its deadline without settling (abandoned). */
  #fetching(set: KeySet): Promise<void> | undefined {
    if (set.inFlight !== undefined && performance.now() > set.inFlightUntil) set.inFlight = undefined;
    return set.inFlight;
  }

  /**
   * Wait for the fetch under way, but not past its deadline: on Workers a fetch started by a
   * request that has ended (without `waitUntil`) never settles. Then this caller fetches again
   * itself, once, so no request waits forever on another's.
   */
  async #join(set: KeySet, reason: FetchReason, context: RequestContext | undefined): Promise<void> {
    const fetching = set.inFlight;
    if (fetching === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const abandoned = new Promise<true>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, set.inFlightUntil - performance.now()), true);
    });
    try {
      if ((await Promise.race([fetching, abandoned])) !== true) return;
    } finally {
      clearTimeout(timer);
    }
    if (set.inFlight === fetching) set.inFlight = undefined;
    await (this.#fetching(set) ?? this.#startFetch(set, reason, context));
  }

  /**
   * Fetch the keys now, whatever their age, ignoring cooldown and backoff. The answer always comes
   * from a request sent after the call: a fetch already under way may predate a key's removal
   * upstream, so callers arriving during one share the next, sent when it ends. Rejects for
   * pinned keys and offline caches, which never fetch.
   *
   * ```ts
   * await cache.refresh(jwksUri);
   * ```
   */
  async refresh(jwksUri: string): Promise<void> {
    const set = this.#set(jwksUri);
    if (set.pinned || this.#offline) {
      throw new ConfigError(`the keys of ${jwksUri} are pinned (offline), so they are never fetched`);
    }
    await this.#fetchSentAfterNow(set);
  }

  /** A fetch whose request leaves after this call; at most one waits behind the fetch under way. */
  #fetchSentAfterNow(set: KeySet): Promise<void> {
    if (!set.inFlight) return this.#startFetch(set, 'refresh');
    set.nextRefresh ??= set.inFlight
      .catch(() => {}) // its failure is recorded on the set; this refresh asks again anyway
      .then(() => {
        set.nextRefresh = undefined;
        return this.#startFetch(set, 'refresh');
      });
    return set.nextRefresh;
  }

  /**
   * Load keys from a snapshot (a JWKS object, or the path of a JSON file saved by
   * {@link saveSnapshot}) without fetching. The JWKS is validated like a fetched one and must hold
   * at least one usable key; a snapshot saved for another JWKS path is refused. Its age counts
   * from its `fetchedAt`, so an old snapshot is refreshed at first use, like fetched keys.
   * `pinned: true` (always, in an offline cache) uses the keys as they are and never fetches.
   *
   * ```ts
   * cache.loadSnapshot(jwksUri, '/opt/app/jwks.json');                   // refreshed when old
   * cache.loadSnapshot(jwksUri, '/opt/app/jwks.json', { pinned: true }); // never fetched
   * ```
   */
  loadSnapshot(jwksUri: string, snapshot: JwksSnapshot | string, options: { pinned?: boolean } = {}): void {
    checkOptions(SNAPSHOT_OPTIONS, options);
    if (options.pinned !== undefined) checkBoolean('pinned', options.pinned);
    const value = typeof snapshot === 'string' ? readSnapshotFile(snapshot) : snapshot;
    const now = this.#clock();
    const fetchedAt = snapshotFetchedAt(value, jwksUri, now);
    const set = this.#set(jwksUri);
    this.#apply(set, value, ++set.generation, undefined, fetchedAt ?? now);
    set.pinned = this.#offline || options.pinned === true;
  }

  /**
   * The keys currently held for a JWKS URL, as a snapshot that {@link loadSnapshot} reads back.
   * Throws `ERR_KEYS_NOT_LOADED` when there are none.
   *
   * ```ts
   * const snapshot = cache.snapshot(jwksUri); // { jwksUri, fetchedAt, keys: [...] }
   * ```
   */
  snapshot(jwksUri: string): JwksSnapshot {
    const set = this.#sets.get(jwksUri);
    if (!set?.loaded) throw new CognitoJwtError('ERR_KEYS_NOT_LOADED', `no keys are loaded for ${jwksUri}`);
    return {
      jwksUri,
      fetchedAt: new Date(set.fetchedAt).toISOString(),
      keys: [...set.keys.values()].map((key) => ({ ...key.jwk }) as Jwk),
    };
  }

  /**
   * Write {@link snapshot} to a JSON file, atomically (a reader never sees half a file).
   *
   * ```ts
   * await cache.load(jwksUri);
   * await cache.saveSnapshot(jwksUri, './jwks.json'); // ship it with the Lambda bundle
   * ```
   */
  async saveSnapshot(jwksUri: string, path: string): Promise<void> {
    const text = `${JSON.stringify(this.snapshot(jwksUri), null, 2)}\n`;
    try {
      await writeTextFileAtomic(path, text);
    } catch (cause) {
      if (cause instanceof ConfigError) throw cause; // no file system in this runtime
      throw new ConfigError(`could not write the JWKS snapshot ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  /**
   * A read-only view of one key set: `kids`, `fetchedAt`, `state` and more.
   *
   * ```ts
   * const { kids, fetchedAt, state, usable } = cache.inspect(jwksUri);
   * ```
   */
  inspect(jwksUri: string): KeySetInfo {
    const set = this.#sets.get(jwksUri);
    const now = this.#clock();
    return {
      jwksUri,
      kids: set ? [...set.keys.keys()] : [],
      fetchedAt: set?.loaded ? new Date(set.fetchedAt) : undefined,
      state: set ? this.#state(set, now) : 'empty',
      usable: set ? this.#usable(set, now) : false,
      refreshing: set?.inFlight !== undefined,
      failures: set?.failures ?? 0,
      lastError: set?.lastError,
      clockOffset: set?.clockOffset,
    };
  }

  #state(set: KeySet, now: number): KeySetState {
    if (set.pinned) return 'pinned';
    if (set.failures > 0) return 'failing';
    if (!set.loaded) return 'empty';
    if (now < set.fetchedAt + set.maxAgeMs) return 'fresh';
    return this.#usable(set, now) ? 'stale' : 'expired';
  }

  /**
   * The JWKS URLs this cache knows.
   *
   * ```ts
   * for (const uri of cache.jwksUris) console.log(uri, cache.inspect(uri).state);
   * ```
   */
  get jwksUris(): string[] {
    return [...this.#sets.keys()];
  }

  /**
   * Keys for a set: from the snapshot store first when the set has none yet (once per process),
   * else from the JWKS URL; a fetched JWKS is then saved to the store.
   */
  async #obtain(set: KeySet, context: RequestContext | undefined): Promise<void> {
    if (this.#store !== undefined && !set.storeRead && !set.loaded) {
      set.storeRead = true;
      if (await this.#readStore(set, this.#store)) return;
    }
    const generation = ++set.generation;
    const sentAt = this.#clock();
    const { body, maxAgeSeconds, date, age } = await fetchJwks(set.jwksUri, {
      fetch: this.#fetch,
      timeoutMs: this.#timeoutMs,
      maxBytes: this.#maxBytes,
    });
    const receivedAt = this.#clock();
    this.#recordClockOffset(set, date, age, sentAt, receivedAt);
    this.#apply(set, body, generation, maxAgeSeconds, receivedAt);
    if (this.#store !== undefined) {
      const saving = Promise.resolve()
        .then(() => this.#store?.save({ ...this.snapshot(set.jwksUri), jwksUri: set.jwksUri }))
        // A store that cannot save costs a fetch at the next cold start, nothing more: said, not thrown.
        .catch((error: unknown) =>
          publish('storeFailure', () => ({ jwksUri: set.jwksUri, operation: 'save', error })),
        );
      context?.waitUntil(saving);
    }
  }

  /** Load the stored snapshot; true when it gave fresh keys (stale ones are kept as a fallback). */
  async #readStore(set: KeySet, store: JwksSnapshotStore): Promise<boolean> {
    try {
      const snapshot = await store.load(set.jwksUri);
      if (snapshot === undefined || snapshot === null) return false;
      const now = this.#clock();
      const fetchedAt = snapshotFetchedAt(snapshot, set.jwksUri, now) ?? now;
      this.#apply(set, snapshot, ++set.generation, undefined, fetchedAt);
      return now < set.fetchedAt + set.maxAgeMs;
    } catch (error) {
      publish('storeFailure', () => ({ jwksUri: set.jwksUri, operation: 'load', error }));
      return false; // an unreadable or unusable snapshot: fetch instead
    }
  }

  #recordClockOffset(
    set: KeySet,
    date: string | null,
    age: string | null,
    sentAt: number,
    receivedAt: number,
  ): void {
    const offset = estimateClockOffset(date, age, sentAt, receivedAt);
    if (offset === undefined) return;
    set.clockOffset = offset;
    publish('clockOffset', () => ({
      jwksUri: set.jwksUri,
      offsetMs: offset.offsetMs,
      uncertaintyMs: offset.uncertaintyMs,
      date: date ?? '',
      ageSeconds: Number(age ?? 0) || 0,
    }));
  }

  #startFetch(set: KeySet, reason: FetchReason, context?: RequestContext): Promise<void> {
    const startedAt = performance.now();
    publish('fetchStart', () => ({ jwksUri: set.jwksUri, reason }));
    const fetching = this.#obtain(set, context)
      .then(
        () => {
          set.failures = 0;
          set.retryAt = 0;
          set.lastError = undefined;
          publish('fetchSuccess', () => ({
            jwksUri: set.jwksUri,
            reason,
            durationMs: performance.now() - startedAt,
            httpStatus: 200,
            kids: [...set.keys.keys()],
            maxAgeMs: set.maxAgeMs,
          }));
        },
        (error: unknown) => {
          const failure =
            error instanceof CognitoJwtError
              ? error
              : new JwksFetchError(set.jwksUri, String((error as Error)?.message ?? error), { cause: error });
          this.#recordFailure(set, failure, reason, performance.now() - startedAt);
          throw failure;
        },
      )
      .finally(() => {
        if (reason === 'kid-miss') set.kidFetchEndedAt = this.#clock();
        if (set.inFlight === fetching) set.inFlight = undefined;
      });
    set.inFlight = fetching;
    set.inFlightUntil = startedAt + this.#timeoutMs + ABANDONED_AFTER_MS;
    // On Workers, the request that started the fetch keeps it alive until it ends, even after answering.
    context?.waitUntil(fetching.catch(() => {}));
    return fetching;
  }

  #recordFailure(set: KeySet, error: CognitoJwtError, reason: FetchReason, durationMs: number): void {
    const now = this.#clock();
    set.failures++;
    set.lastError = error;
    const ceiling = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** Math.min(set.failures - 1, 30));
    const retryInMs = ceiling * (0.5 + Math.random() / 2); // jitter spreads a fleet's retries apart
    set.retryAt = now + retryInMs;
    const httpStatus = error instanceof JwksFetchError ? error.httpStatus : undefined;
    publish('fetchFailure', () => ({
      jwksUri: set.jwksUri,
      reason,
      durationMs,
      httpStatus,
      code: error.code,
      error,
    }));
    publish('backoff', () => ({ jwksUri: set.jwksUri, failures: set.failures, retryInMs }));
    if (this.#usable(set, now) && !set.pinned && now >= set.fetchedAt + set.maxAgeMs) {
      publish('staleServed', () => ({
        jwksUri: set.jwksUri,
        ageMs: now - set.fetchedAt,
        usableForMs: set.fetchedAt + set.maxAgeMs + this.#staleIfErrorMs - now,
        kids: [...set.keys.keys()],
      }));
    }
  }

  /** Replace the keys with a fetched or loaded JWKS; a JWKS without one usable key changes nothing. */
  #apply(
    set: KeySet,
    body: unknown,
    generation: number,
    maxAgeSeconds: number | undefined,
    fetchedAt: number,
  ): void {
    const { keys, rejected, refusedKids } = importJwks(body, MAX_KEYS_PER_JWKS, set.profile);
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
    for (const [kid, key] of keys) {
      // The same key as before keeps its object, so tokens cached with it stay cache hits.
      const held = set.keys.get(kid);
      if (held && held.jwk.n === key.jwk.n && held.jwk.e === key.jwk.e) keys.set(kid, held);
    }
    const added = [...keys.keys()].filter((kid) => !set.keys.has(kid));
    const removed = [...set.keys.keys()].filter((kid) => !keys.has(kid));
    set.keys = keys;
    set.refusedKids = refusedKids;
    set.fetchedAt = fetchedAt;
    set.maxAgeMs =
      maxAgeSeconds === undefined
        ? this.#maxAgeMs
        : Math.min(MAX_AGE_CEILING_MS, Math.max(MAX_AGE_FLOOR_MS, maxAgeSeconds * 1000));
    if (added.length > 0) publish('keysAdded', () => ({ jwksUri: set.jwksUri, kids: added }));
    if (removed.length > 0) publish('keysRemoved', () => ({ jwksUri: set.jwksUri, kids: removed }));
  }
}
