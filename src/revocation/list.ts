import { CognitoJwtError, ConfigError } from '../errors.ts';
import {
  isMissingPackage,
  type RedisClusterOptions,
  type RedisOptionsPlace,
  resolveRedisTarget,
} from '../net/redis-connection.ts';
import {
  checkFunction,
  checkNumber,
  checkOptions,
  MAX_CLOCK_TOLERANCE_SECONDS,
  optionKeys,
  typeName,
} from '../options.ts';
import { checkId, checkSessionOwner, checkUserPoolId, type RevocationEntry } from './entries.ts';
import { publish } from './events.ts';
import { type CapacityLevel, type RevocationClaims, RevocationMirror } from './mirror.ts';
import type { ResolvedRedisSettings } from './redis-store.ts';
import type { MirrorSink, RevocationStore, WriteOutcome } from './store.ts';

/** Cognito's longest ID and access token lifetime: one day. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 86_400;
export const DEFAULT_MAX_STALENESS_MS = 5_000;
export const DEFAULT_HEARTBEAT_MS = 1_000;
export const DEFAULT_RECONCILE_INTERVAL_MS = 300_000;
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
export const DEFAULT_READY_TIMEOUT_MS = 10_000;
/**
 * Entries a mirror holds per user pool before it folds sessions into per-user cut-offs: about 100 MB
 * for a million sessions revoked without their owner, up to about 220 MB when each names a user of
 * its own (the benchmark's two million-entry mirrors). Sessions revoked without their pool cannot be
 * folded, so the default leaves them room.
 */
export const DEFAULT_MAX_ENTRIES_PER_POOL = 1_000_000;

/** How a Redis store is reached. Plain JSON: a service can read it from its config file. */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. Leave it out with `cluster`. */
  url?: string;
  /**
   * A Redis Cluster (ElastiCache or MemoryDB in cluster mode, ElastiCache Serverless) instead of `url`.
   * See {@link RedisClusterOptions}.
   */
  cluster?: RedisClusterOptions;
  /**
   * Prefix of every key and of the channel. Default `cognito-jwt:revocation:`, and
   * `{cognito-jwt:revocation}:` on a cluster, where it must hold a `{…}` hash tag.
   */
  keyPrefix?: string;
  /** Deadline for one connection attempt. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /** Deadline for one command (a revocation, a heartbeat). Default 2 000 ms. */
  commandTimeoutMs?: number;
}

/**
 * What to do with a token while the list cannot be trusted (before `ready`, the store unreachable,
 * or the mirror older than `maxStalenessMs`): `'reject'` fails it with `ERR_REVOCATION_UNAVAILABLE`
 * (503); `'accept'` lets it through (unless the mirror already holds it) and publishes
 * `REVOCATION_EVENTS.acceptedUnchecked`.
 */
export type UnavailableBehaviour = 'reject' | 'accept';

/**
 * Options of a {@link RevocationList}. Plain JSON apart from `clock`. With `redis`, the choice of
 * `onUnavailable` is required, as `clientId` and `tokenUse` are for the verifier.
 */
export type RevocationListOptions = MemoryRevocationListOptions | RedisRevocationListOptions;

interface CommonOptions {
  /**
   * The longest ID or access token lifetime over the app clients of any pool not named in
   * `poolTokenLifetimeSeconds`, in seconds. Default one day (Cognito's maximum). An entry lives this
   * long (plus the largest clock tolerance, 300 s) after its revocation or cut-off.
   */
  tokenLifetimeSeconds?: number;
  /** The same bound per user pool id (the longest over that pool's app clients). */
  poolTokenLifetimeSeconds?: Record<string, number>;
  /** How often expired entries are dropped from the mirror. Default 60 000 ms. */
  sweepIntervalMs?: number;
  /**
   * Entries the mirror holds per user pool (sessions revoked without `userPoolId` share one more
   * bucket of the same size). Default 1 000 000 (100–220 MB). At 80 % a `capacity` event warns; at the
   * cap a user's sessions are folded into one cut-off, and when that frees no room the pool refuses
   * every token issued up to now (see docs/revocation.md, "Sizing the mirror").
   */
  maxEntriesPerPool?: number;
  /** Epoch milliseconds; replaces `Date.now` (tests). */
  clock?: () => number;
}

/** One process: the list lives in memory only. */
export interface MemoryRevocationListOptions extends CommonOptions {
  store?: 'memory';
  redis?: undefined;
  /** Never needed in memory (the list is always current); accepted so a config can switch stores. */
  onUnavailable?: UnavailableBehaviour;
}

/** A fleet: the list lives in Redis and every process keeps a mirror of it. */
export interface RedisRevocationListOptions extends CommonOptions {
  store?: 'redis';
  redis: RedisStoreOptions;
  /** Required: what a verifier does while the list cannot be trusted. */
  onUnavailable: UnavailableBehaviour;
  /** The mirror is trusted while its last confirmation by the store is at most this old. Default 5 000 ms. */
  maxStalenessMs?: number;
  /** How often the store's version is read to confirm the mirror (a quiet channel vs a dead one). Default 1 000 ms. */
  heartbeatMs?: number;
  /** How often the whole store is read again even when nothing looked lost. Default 300 000 ms. */
  reconcileIntervalMs?: number;
  /**
   * How long `ready` waits for the first full read before it rejects with
   * `ERR_REVOCATION_UNAVAILABLE` naming the cause (the list keeps trying). Default 10 000 ms. With
   * `onUnavailable: 'accept'`, `ready` does not wait for Redis at all.
   */
  readyTimeoutMs?: number;
}

type AllOptions = Omit<MemoryRevocationListOptions, 'store' | 'redis'> &
  Omit<RedisRevocationListOptions, 'store'> & { store?: 'memory' | 'redis' };

const OPTION_KEYS = optionKeys<AllOptions>('RevocationList options', {
  store: true,
  redis: true,
  onUnavailable: true,
  maxStalenessMs: true,
  heartbeatMs: true,
  reconcileIntervalMs: true,
  readyTimeoutMs: true,
  tokenLifetimeSeconds: true,
  poolTokenLifetimeSeconds: true,
  sweepIntervalMs: true,
  maxEntriesPerPool: true,
  clock: true,
});
/** Where a list's Redis options sit, for the messages of the checks it shares with the session store. */
const REDIS_PLACE: RedisOptionsPlace = { path: 'redis.', owner: 'redis', prefix: 'RevocationList: ' };
const REDIS_KEYS = optionKeys<RedisStoreOptions>('redis options', {
  url: true,
  cluster: true,
  keyPrefix: true,
  connectTimeoutMs: true,
  commandTimeoutMs: true,
});

/** What a session revocation may say about where the session lives. */
export interface RevokeSessionOptions {
  /**
   * The pool the session belongs to: its entry then lives for that pool's token lifetime instead of
   * the longest one, and counts towards that pool's `maxEntriesPerPool`.
   */
  userPoolId?: string;
  /**
   * The session's user (its `sub`; needs `userPoolId`): at the cap the user's sessions can then be
   * folded into one cut-off instead of filling the pool.
   */
  sub?: string;
}

/**
 * What a revocation tells its caller once the store holds it. `createdStore`: this process found the
 * store without its epoch (an empty store or an unused key prefix: no verifier has read it, or it lost
 * its data) — worth a warning, since verifiers reading another prefix or Redis never see the entry.
 */
export type RevocationWrite = WriteOutcome;

/** A per-user cut-off: every token of `sub` in `userPoolId` issued at or before `cutoff` is revoked. */
export interface RevokeUserInput {
  userPoolId: string;
  sub: string;
  /** Default now. One-second resolution, inclusive: a token whose `iat` is that second is revoked too. */
  cutoff?: Date | number;
}

/** Where a list stands: `starting` until the first full read, then `current` or `stale`; `closed` after `close()`. */
export interface RevocationListStatus {
  state: 'starting' | 'current' | 'stale' | 'closed';
  store: 'memory' | 'redis';
  /** Milliseconds since the store last confirmed the mirror (0 in memory; Infinity before the first confirmation). */
  stalenessMs: number;
  size: number;
  /** Entries per user pool (`''`: sessions revoked without their pool), and each pool's level against `maxEntriesPerPool`. */
  pools: { userPoolId: string; entries: number; level: CapacityLevel; folded: number }[];
  /**
   * What the store's settings risk, read when it was opened (`maxmemory-policy allkeys-*`,
   * persistence off or unknown); empty when they keep revocations, and in memory.
   */
  storeWarnings: readonly string[];
}

const FUTURE_CUTOFF_LIMIT_MS = MAX_CLOCK_TOLERANCE_SECONDS * 1000;

/**
 * A deny-list of revoked Cognito sessions (`origin_jti`) and per-user cut-offs, answered from
 * memory in O(1) so it can run on every verification, cache hits included. In memory for one
 * process, or in Redis for a fleet: each process then keeps a local mirror that pub/sub keeps
 * current, that is read in full again after every reconnect and periodically, and whose freshness
 * a heartbeat confirms.
 *
 * Before `ready` resolves (and whenever the store cannot be trusted) `isRevoked` does what
 * `onUnavailable` says: throw `ERR_REVOCATION_UNAVAILABLE`, or answer from what the mirror holds
 * and publish `acceptedUnchecked`. The in-memory list is ready at once.
 *
 * ```ts
 * import { CognitoVerifier } from 'cognito-jwt';
 * import { RevocationList } from 'cognito-jwt/revocation';
 *
 * const revocations = new RevocationList({ redis: { url: 'redis://127.0.0.1:6379' }, onUnavailable: 'reject' });
 * await revocations.ready;
 * const verifier = new CognitoVerifier(
 *   { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' },
 *   { isRevoked: revocations.isRevoked },
 * );
 * await revocations.revokeSession(claims.origin_jti); // every process refuses that session within milliseconds
 * ```
 */
export class RevocationList {
  /**
   * Resolves once the mirror holds the whole store. Rejects with `ERR_REVOCATION_UNAVAILABLE` naming
   * the cause when that takes longer than `readyTimeoutMs` (the list keeps trying, and turns
   * current later), or when the list is closed first; with `ERR_CONFIG_INVALID` when the `redis`
   * package is not installed. With `onUnavailable: 'accept'` it resolves as soon as the Redis client
   * is loaded: the list lets tokens through until its first read completes.
   */
  readonly ready: Promise<void>;
  readonly #mirror: RevocationMirror;
  readonly #clock: () => number;
  readonly #kind: 'memory' | 'redis';
  readonly #onUnavailable: UnavailableBehaviour;
  readonly #maxStalenessMs: number;
  readonly #defaultLifetimeMs: number;
  readonly #poolLifetimeMs: ReadonlyMap<string, number>;
  readonly #longestLifetimeMs: number;
  readonly #store: Promise<RevocationStore>;
  readonly #timers: NodeJS.Timeout[] = [];
  #isReady = false;
  #closed = false;
  #trusted: boolean;
  #confirmedAt = -Infinity;
  /** When the last confirmation runs out (`#confirmedAt + maxStalenessMs`; never, in memory). */
  #trustedUntil = -Infinity;
  #storeWarnings: readonly string[] = [];
  /** Settles a pending `ready` (as closed) when the list is closed first. */
  #abandonReady: (() => void) | undefined;
  /** The store's first failure since its last confirmation: the cause a stale list names. */
  #lastError: Error | undefined;

  constructor(options: RevocationListOptions) {
    checkOptions(OPTION_KEYS, options);
    if (options === undefined) throw new ConfigError('RevocationList options are required');
    const all = options as AllOptions;
    this.#clock = all.clock === undefined ? Date.now : checkFunction('clock', all.clock);
    const store = all.store ?? (all.redis === undefined ? 'memory' : 'redis');
    if (store !== 'memory' && store !== 'redis') {
      throw new ConfigError(`store must be 'memory' or 'redis', got ${typeName(store)}`);
    }
    if (store === 'redis' && all.redis === undefined)
      throw new ConfigError("store 'redis' needs redis: { url }");
    if (store === 'memory' && all.redis !== undefined) {
      throw new ConfigError(
        "store 'memory' does not take redis options; leave out store, or set it to 'redis'",
      );
    }
    this.#kind = store;
    if (all.onUnavailable === undefined && store === 'redis') {
      throw new ConfigError(
        "onUnavailable is required with a Redis store: 'reject' (503 while the list cannot be trusted) or 'accept' (let tokens through and publish an event)",
      );
    }
    if (all.onUnavailable !== undefined && all.onUnavailable !== 'reject' && all.onUnavailable !== 'accept') {
      throw new ConfigError(`onUnavailable must be 'reject' or 'accept', got ${typeName(all.onUnavailable)}`);
    }
    this.#onUnavailable = all.onUnavailable ?? 'reject';
    this.#defaultLifetimeMs = lifetimeMs('tokenLifetimeSeconds', all.tokenLifetimeSeconds);
    this.#poolLifetimeMs = poolLifetimes(all.poolTokenLifetimeSeconds);
    this.#longestLifetimeMs = Math.max(this.#defaultLifetimeMs, ...this.#poolLifetimeMs.values());
    const sweepIntervalMs = interval('sweepIntervalMs', all.sweepIntervalMs, DEFAULT_SWEEP_INTERVAL_MS);
    this.#mirror = new RevocationMirror({
      maxEntriesPerPool: interval('maxEntriesPerPool', all.maxEntriesPerPool, DEFAULT_MAX_ENTRIES_PER_POOL),
      onCapacity: (report) => publish('capacity', () => ({ ...report, source: this })),
    });
    this.#maxStalenessMs = interval('maxStalenessMs', all.maxStalenessMs, DEFAULT_MAX_STALENESS_MS);
    const heartbeatMs = interval('heartbeatMs', all.heartbeatMs, DEFAULT_HEARTBEAT_MS);
    if (heartbeatMs >= this.#maxStalenessMs) {
      throw new ConfigError(
        `heartbeatMs (${heartbeatMs}) must be shorter than maxStalenessMs (${this.#maxStalenessMs}): a heartbeat confirms the mirror`,
      );
    }
    const reconcileIntervalMs = interval(
      'reconcileIntervalMs',
      all.reconcileIntervalMs,
      DEFAULT_RECONCILE_INTERVAL_MS,
    );
    const readyTimeoutMs = interval('readyTimeoutMs', all.readyTimeoutMs, DEFAULT_READY_TIMEOUT_MS);
    this.#addTimer(() => this.#mirror.sweep(this.#clock()), sweepIntervalMs);

    if (store === 'memory') {
      this.#trusted = true;
      this.#trustedUntil = Number.POSITIVE_INFINITY;
      this.#isReady = true;
      this.#store = Promise.resolve(MEMORY_STORE);
      this.ready = Promise.resolve();
      return;
    }
    this.#trusted = false;
    checkOptions(REDIS_KEYS, all.redis, 'RevocationList: ');
    const redis = all.redis as RedisStoreOptions;
    const { url, cluster } = resolveRedisTarget(redis, REDIS_PLACE);
    const settings: ResolvedRedisSettings = {
      url,
      keyPrefix:
        redis.keyPrefix === undefined
          ? cluster
            ? '{cognito-jwt:revocation}:'
            : 'cognito-jwt:revocation:'
          : cluster
            ? clusterPrefix(redis.keyPrefix)
            : checkId('redis.keyPrefix', redis.keyPrefix),
      ...(cluster ? { cluster } : {}),
      connectTimeoutMs: interval('redis.connectTimeoutMs', redis.connectTimeoutMs, 5_000),
      commandTimeoutMs: interval('redis.commandTimeoutMs', redis.commandTimeoutMs, 2_000),
      heartbeatMs,
      reconcileIntervalMs,
      staleAfterMs: this.#maxStalenessMs,
    };
    const sink: MirrorSink = {
      now: this.#clock,
      apply: (entry) => this.#mirror.apply(entry, this.#clock()),
      applySession: (originJti, expiresAt, now, userPoolId, sub) =>
        this.#mirror.applySession(originJti, expiresAt, now, userPoolId, sub),
      applySessionBytes: (bytes, start, end, expiresAt, now) =>
        this.#mirror.applySessionBytes(bytes, start, end, expiresAt, now),
      applyOwnedSessionBytes: (...member) => this.#mirror.applyOwnedSessionBytes(...member),
      entries: () => this.#mirror.entries(),
      size: () => this.#mirror.size,
      reserve: (entries) => this.#mirror.reserve(entries),
      sweep: (at) => this.#mirror.sweep(at),
      confirmed: (at) => this.#confirm(at),
      failed: (error) => {
        // The first failure since the store last confirmed the mirror: the root cause, not the
        // "client is offline" of every command after it.
        this.#lastError ??= error;
      },
      storeSettings: (report) => {
        this.#storeWarnings = report.warnings;
      },
    };
    // The Redis client is an optional peer dependency: load it only when a Redis store is asked for.
    this.#store = loadRedisStore().then(({ RedisStore }) => new RedisStore(settings, sink));
    const storeReady = this.#store.then((opened) => opened.ready);
    // The list turns ready whenever the first full read completes, even after `ready` gave up on it.
    storeReady.then(
      () => {
        if (this.#closed) return;
        this.#isReady = true;
        this.#reviewTrust('ready');
      },
      () => {},
    );
    const where = withoutCredentials(settings.url);
    this.ready = new Promise<void>((resolve, reject) => {
      this.#abandonReady = () => settle();
      const timer = setTimeout(() => {
        const cause = this.#lastError;
        reject(
          new CognitoJwtError(
            'ERR_REVOCATION_UNAVAILABLE',
            `the Redis revocation store at ${where} did not complete its first read within ${readyTimeoutMs} ms (readyTimeoutMs): ${cause === undefined ? 'no error, the read had not finished (a large list on a busy host may need a longer readyTimeoutMs)' : cause.message}. The list keeps trying and turns current once Redis answers; until then isRevoked refuses every token with ERR_REVOCATION_UNAVAILABLE ('reject')`,
            cause === undefined ? {} : { cause },
          ),
        );
      }, readyTimeoutMs);
      timer.unref();
      const settle = (error?: unknown) => {
        clearTimeout(timer);
        if (this.#closed) reject(closedError());
        else if (error === undefined) resolve();
        else reject(error);
      };
      // 'accept' lets tokens through meanwhile, so nothing is gained by waiting: ready once the client loads.
      const waitFor = this.#onUnavailable === 'accept' ? this.#store : storeReady;
      waitFor.then(
        () => settle(),
        (cause) => settle(cause instanceof CognitoJwtError ? cause : startError(cause)),
      );
    });
    this.ready.catch(() => {}); // a caller who never awaits `ready` gets no unhandled rejection
    // Staleness is announced here (the state event); isRevoked also compares the clock itself.
    this.#addTimer(
      () => this.#reviewTrust('stale'),
      Math.max(10, Math.min(heartbeatMs, this.#maxStalenessMs / 4)),
    );
  }

  /**
   * The verifier's `isRevoked` hook (bound: pass it as is). Synchronous and O(1): two map lookups.
   * `true` when the token's session is revoked or it was issued at or before its user's cut-off.
   * While the list cannot be trusted it throws `ERR_REVOCATION_UNAVAILABLE` (`onUnavailable:
   * 'reject'`), or answers from the mirror and publishes `acceptedUnchecked` (`'accept'`).
   *
   * ```ts
   * new CognitoVerifier(config, { isRevoked: revocations.isRevoked });
   * ```
   */
  readonly isRevoked = (claims: RevocationClaims): boolean => {
    if (this.#mirror.has(claims)) return true;
    // The stale timer alone is not enough: a process that was stopped, or an event loop that
    // stalled, answers the requests waiting for it before that timer runs (and before the
    // revocations published meanwhile are read). So the clock decides too, at one read per call.
    if (!this.#trusted || this.#clock() > this.#trustedUntil) {
      this.#reviewTrust('stale');
      if (!this.#trusted) this.#untrusted(claims);
    }
    return false;
  };

  /** Entries held by this process's mirror (expired ones are dropped every `sweepIntervalMs`). */
  get size(): number {
    return this.#mirror.size;
  }

  /** Where the list stands, for health checks and metrics. */
  get status(): RevocationListStatus {
    const stalenessMs = this.#kind === 'memory' ? 0 : Math.max(0, this.#clock() - this.#confirmedAt);
    return {
      state: this.#closed ? 'closed' : !this.#isReady ? 'starting' : this.#trusted ? 'current' : 'stale',
      store: this.#kind,
      stalenessMs,
      size: this.#mirror.size,
      pools: this.#mirror.pools(),
      storeWarnings: this.#storeWarnings,
    };
  }

  /**
   * Revoke one session: every ID and access token carrying this `origin_jti` (one refresh token
   * and every token issued from it). This process refuses them at once; the promise resolves once
   * the store holds the entry and has told every mirror, and rejects with
   * `ERR_REVOCATION_UNAVAILABLE` when it could not (the fleet does not know: retry).
   *
   * ```ts
   * await revocations.revokeSession(claims.origin_jti, { userPoolId: 'eu-west-1_AbC123' });
   * ```
   */
  async revokeSession(originJti: string, options: RevokeSessionOptions = {}): Promise<RevocationWrite> {
    checkId('originJti', originJti);
    checkOptions(SESSION_KEYS, options);
    const { userPoolId: pool, sub } = checkSessionOwner(options.userPoolId, options.sub);
    const now = this.#clock();
    const lifetimeMs = this.#entryLifetimeMs(pool);
    return this.#add(
      {
        kind: 'session',
        originJti,
        expiresAt: now + lifetimeMs,
        ...(sub === undefined || pool === undefined ? {} : { owner: { userPoolId: pool, sub } }),
      },
      lifetimeMs,
    );
  }

  /**
   * Revoke every token of one user in one pool issued at or before `cutoff` (default now, one-second
   * resolution, inclusive): the local meaning of `GlobalSignOut` / `AdminUserGlobalSignOut`. The
   * only way to catch tokens without `origin_jti`. Resolves and rejects like {@link revokeSession}.
   *
   * ```ts
   * await revocations.revokeUser({ userPoolId: 'eu-west-1_AbC123', sub: claims.sub });
   * ```
   */
  async revokeUser(input: RevokeUserInput): Promise<RevocationWrite> {
    checkOptions(USER_KEYS, input);
    if (input === undefined) throw new ConfigError('revokeUser needs { userPoolId, sub }');
    const userPoolId = checkUserPoolId(input.userPoolId);
    const sub = checkId('sub', input.sub);
    const now = this.#clock();
    const cutoffMs =
      input.cutoff === undefined
        ? now
        : input.cutoff instanceof Date
          ? input.cutoff.getTime()
          : checkNumber('cutoff', input.cutoff, { min: 0 });
    if (!Number.isFinite(cutoffMs) || cutoffMs > now + FUTURE_CUTOFF_LIMIT_MS) {
      throw new ConfigError('cutoff must be a valid time, at most 300 s in the future');
    }
    const cutoffSeconds = Math.floor(cutoffMs / 1000);
    const lifetimeMs = this.#entryLifetimeMs(userPoolId);
    return this.#add(
      { kind: 'user', userPoolId, sub, cutoffSeconds, expiresAt: (cutoffSeconds + 1) * 1000 + lifetimeMs },
      lifetimeMs,
    );
  }

  /**
   * The entries this process's mirror holds (for operators: `cognito-jwt revoke --list`).
   *
   * ```ts
   * for (const entry of revocations.entries()) console.log(entry.kind, new Date(entry.expiresAt));
   * ```
   */
  entries(): RevocationEntry[] {
    return [...this.#mirror.entries()];
  }

  /** Stop timers and close the store's connections. The list is no longer current afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#trusted = false;
    this.#abandonReady?.();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
    const store = await this.#store.catch(() => undefined);
    await store?.close();
  }

  async #add(entry: RevocationEntry, lifetimeMs: number): Promise<RevocationWrite> {
    if (this.#closed) throw closedError();
    this.#mirror.apply(entry, this.#clock());
    const store = await this.#store;
    return store.write(entry, lifetimeMs);
  }

  #entryLifetimeMs(pool: string | undefined): number {
    const lifetime =
      pool === undefined
        ? this.#longestLifetimeMs
        : (this.#poolLifetimeMs.get(pool) ?? this.#defaultLifetimeMs);
    // A verifier may accept a token up to its clock tolerance past `exp`.
    return lifetime + MAX_CLOCK_TOLERANCE_SECONDS * 1000;
  }

  #confirm(at: number): void {
    if (at > this.#confirmedAt) {
      this.#confirmedAt = at;
      this.#trustedUntil = at + this.#maxStalenessMs;
    }
    this.#lastError = undefined;
    if (!this.#trusted) this.#reviewTrust('confirmed');
  }

  #reviewTrust(reason: string): void {
    if (this.#kind === 'memory') return;
    const stalenessMs = this.#clock() - this.#confirmedAt;
    const trusted = this.#isReady && !this.#closed && stalenessMs <= this.#maxStalenessMs;
    if (trusted === this.#trusted) return;
    this.#trusted = trusted;
    const cause = this.#lastError?.message;
    publish('state', () => ({
      trusted,
      stalenessMs,
      reason,
      ...(cause === undefined || trusted ? {} : { cause }),
      source: this,
    }));
  }

  #untrusted(claims: RevocationClaims): void {
    const stalenessMs = Math.max(0, this.#clock() - this.#confirmedAt);
    if (this.#onUnavailable === 'reject') {
      throw new CognitoJwtError(
        'ERR_REVOCATION_UNAVAILABLE',
        this.#closed
          ? 'the revocation list is closed'
          : !this.#isReady
            ? 'the revocation list is not ready yet (its first read of the store has not finished)'
            : `the revocation list cannot be trusted: last confirmed by the store ${Math.round(stalenessMs)} ms ago (maxStalenessMs ${this.#maxStalenessMs})${this.#causeText()}`,
      );
    }
    publish('acceptedUnchecked', () => ({ iss: claims.iss, sub: claims.sub, stalenessMs }));
  }

  /** `; last store error: …` when the store has failed since it last confirmed the mirror. */
  #causeText(): string {
    return this.#lastError === undefined ? '' : `; last store error: ${this.#lastError.message}`;
  }

  #addTimer(run: () => void, everyMs: number): void {
    const timer = setInterval(run, everyMs);
    timer.unref();
    this.#timers.push(timer);
  }
}

/**
 * Create a {@link RevocationList} from plain options, for example read from a JSON config file.
 *
 * ```ts
 * const revocations = createRevocationList({ store: 'memory' });
 * const fleet = createRevocationList({ redis: { url: 'redis://127.0.0.1:6379' }, onUnavailable: 'reject', maxStalenessMs: 5000 });
 * ```
 */
export function createRevocationList(options: RevocationListOptions): RevocationList {
  return new RevocationList(options);
}

const SESSION_KEYS = optionKeys<RevokeSessionOptions>('revokeSession options', {
  userPoolId: true,
  sub: true,
});
const USER_KEYS = optionKeys<RevokeUserInput>('revokeUser input', {
  userPoolId: true,
  sub: true,
  cutoff: true,
});

/** The in-memory store: the mirror is the list, so a write has nowhere else to go. */
const MEMORY_STORE: RevocationStore = {
  ready: Promise.resolve(),
  write: async () => ({ createdStore: false }),
  close: async () => {},
};

/**
 * The Redis store's module, which imports the `redis` package: a missing package is named, with the
 * command that installs it, instead of a bare "cannot find package".
 */
async function loadRedisStore(): Promise<typeof import('./redis-store.ts')> {
  try {
    return await import('./redis-store.ts');
  } catch (error) {
    if (isMissingPackage(error, 'redis')) {
      throw new ConfigError(REDIS_PACKAGE_MISSING, { cause: error });
    }
    throw error;
  }
}

/** What a list, the CLI and the service say when node-redis is not installed. */
export const REDIS_PACKAGE_MISSING =
  "the Redis revocation store needs the 'redis' package (node-redis 5 or 6), an optional peer dependency of cognito-jwt: npm install redis";

/**
 * Throws {@link ConfigError} naming `npm install redis` when the `redis` package cannot be loaded
 * (for `serve --check`, the service at start and the CLI).
 *
 * ```ts
 * await requireRedisPackage();
 * ```
 */
export async function requireRedisPackage(): Promise<void> {
  await loadRedisStore();
}

function startError(cause: unknown): Error {
  return new CognitoJwtError('ERR_REVOCATION_UNAVAILABLE', 'the Redis revocation store cannot start', {
    cause,
  });
}

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`: a password never reaches a message. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(the Redis URL)';
  }
}

function closedError(): CognitoJwtError {
  return new CognitoJwtError('ERR_REVOCATION_UNAVAILABLE', 'the revocation list is closed');
}

function lifetimeMs(name: string, value: unknown): number {
  if (value === undefined) return DEFAULT_TOKEN_LIFETIME_SECONDS * 1000;
  // Cognito allows 5 minutes to 1 day; shorter values serve tests, so only the upper bound is Cognito's.
  return checkNumber(name, value, { min: 1, max: DEFAULT_TOKEN_LIFETIME_SECONDS }) * 1000;
}

function poolLifetimes(value: unknown): Map<string, number> {
  const lifetimes = new Map<string, number>();
  if (value === undefined) return lifetimes;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(
      `poolTokenLifetimeSeconds must be an object of pool id → seconds, got ${typeName(value)}`,
    );
  }
  for (const [pool, seconds] of Object.entries(value)) {
    checkUserPoolId(pool);
    lifetimes.set(pool, lifetimeMs(`poolTokenLifetimeSeconds[${JSON.stringify(pool)}]`, seconds));
  }
  return lifetimes;
}

function interval(name: string, value: unknown, fallback: number): number {
  return value === undefined
    ? fallback
    : checkNumber(name, value, { min: 1, max: 2 ** 31 - 1, integer: true });
}

/** On a cluster the prefix must hold a `{…}` hash tag: every key of the list then sits in one slot. */
function clusterPrefix(value: unknown): string {
  const prefix = checkId('redis.keyPrefix', value);
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  if (close <= open + 1) {
    throw new ConfigError(
      `redis.keyPrefix must hold a non-empty {…} hash tag on a cluster (e.g. "{cognito-jwt:revocation}:"), got ${JSON.stringify(prefix)}: each script touches every key of the list, which must share one slot`,
    );
  }
  return prefix;
}

export type { RedisClusterOptions };
/** The option keys `RevocationList` checks (read by the service config schema). */
export { OPTION_KEYS as REVOCATION_OPTION_KEYS, REDIS_KEYS as REDIS_OPTION_KEYS };
