import { defaultFetch, type EcKey } from '#platform';
import { CognitoJwtError, describeValue } from '../errors.ts';
import { boundedFetch } from '../net/bounded-fetch.ts';
import { checkFunction, checkNumber, checkOptions, optionKeys } from '../options.ts';
import { importAlbPublicKey, settleAlbPublicKey } from './key.ts';

/**
 * Tuning of an {@link AlbKeyCache}; every field has a safe default.
 *
 * ```ts
 * const options: AlbKeyCacheOptions = { timeoutMs: 2_000, cooldownMs: 10_000, fetchesPerSecond: 2, maxKeys: 32 };
 * ```
 */
export interface AlbKeyCacheOptions {
  /** Replaces the platform's transport (`node:http(s)` on Node) (proxies, tests); any `fetch`-compatible function. */
  fetch?: typeof fetch;
  /** Epoch milliseconds; replaces `Date.now` (tests). Times `cooldownMs`; the fetch rate runs on real time. */
  clock?: () => number;
  /** Deadline for one key request: connect, headers and body. Default 5 000 ms. */
  timeoutMs?: number;
  /** Largest key answer accepted (a P-256 PEM is 178 bytes). Default 4 096. */
  maxBytes?: number;
  /**
   * A kid whose fetch found no usable key (403/404, a key that is not P-256) fails fast for this
   * long, without a request. Only that kid: other kids, and a new real key, are not held back.
   * Default 30 000 ms.
   */
  cooldownMs?: number;
  /**
   * Unknown-kid fetches per second for one key endpoint, at most (a token bucket). Kids waiting for
   * a fetch are served by how many requests wait for each, so a real key with its traffic behind it
   * goes before a stream of made-up kids. Default 1.
   */
  fetchesPerSecond?: number;
  /** Fetches the bucket holds when it is full (two new kids at once are fetched at once). Default 2. */
  fetchBurst?: number;
  /** Keys kept (least recently used dropped first). Default 64. */
  maxKeys?: number;
}

export const ALB_KEY_CACHE_OPTION_KEYS = /* @__PURE__ */ optionKeys<AlbKeyCacheOptions>(
  'AlbKeyCache options',
  {
    fetch: true,
    clock: true,
    timeoutMs: true,
    maxBytes: true,
    cooldownMs: true,
    fetchesPerSecond: true,
    fetchBurst: true,
    maxKeys: true,
  },
);

/** Unknown kids waiting for a fetch on one endpoint, at most; beyond it the one with the fewest requests is dropped. */
const MAX_WAITING_KIDS = 32;
/** Kids remembered as having no usable key, at most (oldest forgotten first). */
const MAX_MISSES = 1_024;
/** A kid waits at most this many refill intervals for a fetch; then its requests fail. */
const MAX_WAIT_INTERVALS = 2;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Whether a kid has the shape of the load balancer's key ids (a UUID): nothing else reaches a URL. */
export function isAlbKid(kid: unknown): kid is string {
  return typeof kid === 'string' && UUID.test(kid);
}

/** Real elapsed time (the rate and the waits run on it, with the timers, whatever `clock` says). */
const monotonic = (): number => performance.now();

/** One unknown kid waiting for a fetch, with the requests that wait for it. */
interface Waiting {
  readonly kid: string;
  readonly url: string;
  /** Requests waiting for this kid: the most-awaited kid is fetched first. */
  requests: number;
  /** When it started waiting ({@link monotonic}): ties go to the kid that waits longest. */
  readonly since: number;
  readonly promise: Promise<EcKey>;
  readonly resolve: (key: EcKey) => void;
  readonly reject: (error: unknown) => void;
}

/** One key endpoint (one region's base URL): its fetch budget and the kids waiting for it. */
interface Endpoint {
  readonly base: string;
  /** Fetches available now (a token bucket, refilled at `fetchesPerSecond`). */
  tokens: number;
  refilledAt: number;
  readonly waiting: Map<string, Waiting>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A kid whose fetch found no usable key: its error is repeated until `until` ({@link AlbKeyCacheOptions.clock}). */
interface Miss {
  readonly until: number;
  readonly error: CognitoJwtError;
}

/**
 * The load balancers' public keys, one PEM per kid, fetched from
 * `{base}/{kid}` where the verifier chose `base` from the configured ARN of the token's signer.
 *
 * - Keys are imported once and kept per URL, at most `maxKeys` (least recently used dropped).
 * - Concurrent callers for one kid share one request (single-flight).
 * - A kid whose fetch found no usable key fails fast for `cooldownMs` (a negative cache per kid).
 * - Unknown kids of one endpoint are fetched at most `fetchesPerSecond` (token bucket, `fetchBurst`
 *   at once). Kids that wait are served by how many requests wait for each (ties: the longest
 *   waiting), at most 32 wait (the one with the fewest requests is dropped), for at most two
 *   refill intervals. A flood of made-up kids therefore costs at most the configured rate, and
 *   cannot lock out a real key: with its traffic behind it, a new kid is fetched at the next refill.
 * - Each request is the library's one bounded exchange: a deadline, no redirects, a size cap.
 *
 * ```ts
 * const cache = new AlbKeyCache({ cooldownMs: 30_000, fetchesPerSecond: 1 });
 * const key = await cache.getKey('https://public-keys.auth.elb.eu-west-1.amazonaws.com', kid);
 * ```
 */
export class AlbKeyCache {
  readonly #fetch: typeof fetch;
  readonly #clock: () => number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #cooldownMs: number;
  readonly #intervalMs: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, EcKey>();
  readonly #inFlight = new Map<string, Promise<EcKey>>();
  readonly #misses = new Map<string, Miss>();
  readonly #endpoints = new Map<string, Endpoint>();

  constructor(options: AlbKeyCacheOptions = {}) {
    checkOptions(ALB_KEY_CACHE_OPTION_KEYS, options);
    this.#fetch = options.fetch === undefined ? defaultFetch : checkFunction('fetch', options.fetch);
    this.#clock = options.clock === undefined ? Date.now : checkFunction('clock', options.clock);
    this.#timeoutMs = checkNumber('timeoutMs', options.timeoutMs ?? 5_000, { min: 1 });
    this.#maxBytes = checkNumber('maxBytes', options.maxBytes ?? 4_096, { min: 256, integer: true });
    this.#cooldownMs = checkNumber('cooldownMs', options.cooldownMs ?? 30_000, { min: 0 });
    const rate = checkNumber('fetchesPerSecond', options.fetchesPerSecond ?? 1, { min: 0.001, max: 1_000 });
    this.#intervalMs = 1_000 / rate;
    this.#burst = checkNumber('fetchBurst', options.fetchBurst ?? 2, { min: 1, max: 1_000, integer: true });
    this.#maxKeys = checkNumber('maxKeys', options.maxKeys ?? 64, { min: 1, integer: true });
  }

  /** Number of keys held. */
  get size(): number {
    return this.#keys.size;
  }

  /**
   * The key for `kid` at `base` if it is held, without waiting.
   *
   * ```ts
   * const key = cache.getKeySync(base, kid); // EcKey | undefined
   * ```
   */
  getKeySync(base: string, kid: string): EcKey | undefined {
    const url = `${base}/${kid}`;
    const key = this.#keys.get(url);
    if (key !== undefined) {
      this.#keys.delete(url); // most recently used goes last
      this.#keys.set(url, key);
    }
    return key;
  }

  /**
   * The key for `kid` at `base`: at once when held, else fetched (shared with concurrent callers)
   * when the endpoint's fetch rate allows. Rejects with `ERR_KEY_NOT_FOUND` (no such key),
   * `ERR_KEY_INVALID` (not a P-256 public key) (both repeated without a request for `cooldownMs`),
   * `ERR_KID_COOLDOWN` (too many unknown kids wait for the endpoint: this one was given up) or
   * `ERR_JWKS_FETCH_FAILED` (HTTP 503: the endpoint cannot be read).
   *
   * ```ts
   * const key = await cache.getKey(base, header.kid);
   * ```
   */
  getKey(base: string, kid: string): Promise<EcKey> {
    if (!isAlbKid(kid)) {
      // The verifier checks this first; the cache never builds a URL from anything else.
      return Promise.reject(
        new CognitoJwtError('ERR_TOKEN_MALFORMED', `kid must be a UUID, found ${describeValue(kid)}`, {
          claim: 'kid',
        }),
      );
    }
    const known = this.getKeySync(base, kid);
    if (known !== undefined) return Promise.resolve(known);
    const url = `${base}/${kid}`;
    const shared = this.#inFlight.get(url);
    if (shared !== undefined) return shared;
    const missed = this.#missed(url);
    if (missed !== undefined) return Promise.reject(missed);

    const endpoint = this.#endpoint(base);
    let waiting = endpoint.waiting.get(url);
    if (waiting !== undefined) {
      waiting.requests++;
    } else {
      let resolve!: (key: EcKey) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<EcKey>((ok, fail) => {
        resolve = ok;
        reject = fail;
      });
      waiting = { kid, url, requests: 1, since: monotonic(), promise, resolve, reject };
      endpoint.waiting.set(url, waiting);
      if (endpoint.waiting.size > MAX_WAITING_KIDS) this.#dropLeastAwaited(endpoint);
    }
    const { promise } = waiting;
    this.#pump(endpoint);
    return promise;
  }

  #endpoint(base: string): Endpoint {
    let endpoint = this.#endpoints.get(base);
    if (endpoint === undefined) {
      endpoint = { base, tokens: this.#burst, refilledAt: monotonic(), waiting: new Map(), timer: undefined };
      this.#endpoints.set(base, endpoint);
    }
    return endpoint;
  }

  /** The remembered failure of a kid whose fetch found no usable key, while it lasts. */
  #missed(url: string): CognitoJwtError | undefined {
    const miss = this.#misses.get(url);
    if (miss === undefined) return undefined;
    const leftMs = Math.ceil(miss.until - this.#clock());
    if (leftMs <= 0) {
      this.#misses.delete(url);
      return undefined;
    }
    return new CognitoJwtError(
      miss.error.code,
      `${miss.error.message}; not asked again for another ${leftMs} ms`,
      miss.error.claim === undefined ? { cause: miss.error } : { claim: miss.error.claim, cause: miss.error },
    );
  }

  /** Over the limit of waiting kids: drop the one with the fewest requests (of those, the oldest). */
  #dropLeastAwaited(endpoint: Endpoint): void {
    let least: Waiting | undefined;
    for (const candidate of endpoint.waiting.values()) {
      if (least === undefined || candidate.requests < least.requests) least = candidate;
    }
    if (least === undefined) return;
    endpoint.waiting.delete(least.url);
    least.reject(
      new CognitoJwtError(
        'ERR_KID_COOLDOWN',
        `no key with kid ${least.kid} is held, and ${MAX_WAITING_KIDS} other unknown kids with more ` +
          `requests wait for ${endpoint.base}: it is not fetched now`,
        { claim: 'kid' },
      ),
    );
  }

  /** Refill the bucket, give up kids that waited too long, fetch the most-awaited kids it allows. */
  #pump(endpoint: Endpoint): void {
    const now = monotonic();
    endpoint.tokens = Math.min(this.#burst, endpoint.tokens + (now - endpoint.refilledAt) / this.#intervalMs);
    endpoint.refilledAt = now;
    const maxWaitMs = MAX_WAIT_INTERVALS * this.#intervalMs;
    for (const waiting of endpoint.waiting.values()) {
      if (now - waiting.since <= maxWaitMs) continue;
      endpoint.waiting.delete(waiting.url);
      waiting.reject(
        new CognitoJwtError(
          'ERR_KID_COOLDOWN',
          `no key with kid ${waiting.kid} is held, and other unknown kids with more requests took the ` +
            `fetches ${endpoint.base} allows (one per ${Math.round(this.#intervalMs)} ms) for ${Math.round(maxWaitMs)} ms`,
          { claim: 'kid' },
        ),
      );
    }
    while (endpoint.tokens >= 1 && endpoint.waiting.size > 0) {
      let next: Waiting | undefined;
      for (const candidate of endpoint.waiting.values()) {
        // Map order is arrival order: on a tie the earlier kid stays chosen.
        if (next === undefined || candidate.requests > next.requests) next = candidate;
      }
      endpoint.waiting.delete(next!.url);
      endpoint.tokens -= 1;
      this.#start(next!);
    }
    if (endpoint.waiting.size > 0 && endpoint.timer === undefined) {
      // Not unref'd: a caller waits for this fetch, and a script must not exit before it.
      endpoint.timer = setTimeout(
        () => {
          endpoint.timer = undefined;
          this.#pump(endpoint);
        },
        Math.max(1, Math.ceil((1 - endpoint.tokens) * this.#intervalMs)),
      );
    }
  }

  #start(waiting: Waiting): void {
    const { url, kid } = waiting;
    this.#inFlight.set(url, waiting.promise);
    this.#fetchKey(url, kid)
      .then(
        ({ key }) => {
          this.#remember(url, key);
          waiting.resolve(key);
        },
        (error: unknown) => {
          // Only an answer about this kid is remembered; a failing endpoint is asked again at the fetch rate.
          if (
            error instanceof CognitoJwtError &&
            (error.code === 'ERR_KEY_NOT_FOUND' || error.code === 'ERR_KEY_INVALID')
          ) {
            this.#misses.delete(url);
            if (this.#misses.size >= MAX_MISSES) this.#misses.delete(this.#misses.keys().next().value!);
            this.#misses.set(url, { until: this.#clock() + this.#cooldownMs, error });
          }
          waiting.reject(error);
        },
      )
      .finally(() => this.#inFlight.delete(url));
  }

  #remember(url: string, key: EcKey): void {
    this.#keys.delete(url);
    if (this.#keys.size >= this.#maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
    this.#keys.set(url, key);
  }

  async #fetchKey(url: string, kid: string): Promise<{ key: EcKey }> {
    const failed = (reason: string, cause?: unknown) =>
      new CognitoJwtError(
        'ERR_JWKS_FETCH_FAILED',
        `could not fetch the load balancer key ${url}: ${reason}`,
        {
          cause,
        },
      );
    const answer = await boundedFetch(url, {
      fetch: this.#fetch,
      timeoutMs: this.#timeoutMs,
      maxBytes: this.#maxBytes,
      failure: (_kind, reason, { cause }) => failed(reason, cause),
      onHeaders(response) {
        // The key endpoint (S3 in GovCloud) answers a missing key with 403 or 404.
        if (response.status === 403 || response.status === 404) {
          throw new CognitoJwtError(
            'ERR_KEY_NOT_FOUND',
            `no load balancer key with kid ${kid} (HTTP ${response.status} from ${url})`,
            { claim: 'kid' },
          );
        }
        if (response.status !== 200) throw failed(`HTTP ${response.status}`);
      },
    });
    let pem: string;
    try {
      pem = new TextDecoder('utf-8', { fatal: true }).decode(answer.body);
    } catch {
      pem = '';
    }
    const key = importAlbPublicKey(pem, kid);
    await settleAlbPublicKey(key, kid);
    return { key }; // in a holder: on the Web the key is a promise, and must stay one in the cache
  }
}
