import { defaultFetch, type EcKey } from '#platform';
import { CognitoJwtError, describeValue } from '../errors.ts';
import { boundedFetch } from '../net/bounded-fetch.ts';
import { checkFunction, checkNumber, checkOptions, optionKeys } from '../options.ts';
import { importAlbPublicKey } from './key.ts';

/**
 * Tuning of an {@link AlbKeyCache}; every field has a safe default.
 *
 * ```ts
 * const options: AlbKeyCacheOptions = { timeoutMs: 2_000, cooldownMs: 10_000, maxKeys: 32 };
 * ```
 */
export interface AlbKeyCacheOptions {
  /** Replaces the platform's transport (`node:http(s)` on Node) (proxies, tests); any `fetch`-compatible function. */
  fetch?: typeof fetch;
  /** Epoch milliseconds; replaces `Date.now` (tests). */
  clock?: () => number;
  /** Deadline for one key request: connect, headers and body. Default 5 000 ms. */
  timeoutMs?: number;
  /** Largest key answer accepted (a P-256 PEM is 178 bytes). Default 4 096. */
  maxBytes?: number;
  /**
   * After a key fetch that found no usable key (404, a bad key, a failed request), other unknown
   * kids of that key endpoint fail fast for this long instead of fetching. Default 30 000 ms.
   */
  cooldownMs?: number;
  /** Keys kept (least recently used dropped first). Default 64. */
  maxKeys?: number;
}

export const ALB_KEY_CACHE_OPTION_KEYS = optionKeys<AlbKeyCacheOptions>('AlbKeyCache options', {
  fetch: true,
  clock: true,
  timeoutMs: true,
  maxBytes: true,
  cooldownMs: true,
  maxKeys: true,
});

/** Unknown kids waiting behind another kid's fetch on one endpoint, at most; more fail fast. */
const MAX_WAITING_KIDS = 8;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Whether a kid has the shape of the load balancer's key ids (a UUID): nothing else reaches a URL. */
export function isAlbKid(kid: unknown): kid is string {
  return typeof kid === 'string' && UUID.test(kid);
}

/** What one key endpoint (one region's base URL) is doing about unknown kids. */
interface Endpoint {
  /** The last unknown-kid fetch, chained: unknown kids are fetched one after another. */
  tail: Promise<unknown>;
  waiting: number;
  /** Until then, unknown kids fail with `blockedBy` without a request. */
  blockedUntil: number;
  blockedBy: CognitoJwtError | undefined;
}

/**
 * The load balancers' public keys, one PEM per kid, fetched from
 * `{base}/{kid}` where the verifier chose `base` from the configured ARN of the token's signer.
 *
 * - Keys are imported once and kept per URL, at most `maxKeys` (least recently used dropped).
 * - Concurrent callers for one kid share one request (single-flight).
 * - Unknown kids of one endpoint are fetched one after another; once a fetch finds no usable key,
 *   further unknown kids fail fast for `cooldownMs`, so a flood of made-up kids costs at most one
 *   request per cooldown. A kid that is found starts no cooldown (a new key must not wait).
 * - Each request is the library's one bounded exchange: a deadline, no redirects, a size cap.
 *
 * ```ts
 * const cache = new AlbKeyCache({ cooldownMs: 30_000 });
 * const key = await cache.getKey('https://public-keys.auth.elb.eu-west-1.amazonaws.com', kid);
 * ```
 */
export class AlbKeyCache {
  readonly #fetch: typeof fetch;
  readonly #clock: () => number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #cooldownMs: number;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, EcKey>();
  readonly #inFlight = new Map<string, Promise<EcKey>>();
  readonly #endpoints = new Map<string, Endpoint>();

  constructor(options: AlbKeyCacheOptions = {}) {
    checkOptions(ALB_KEY_CACHE_OPTION_KEYS, options);
    this.#fetch = options.fetch === undefined ? defaultFetch : checkFunction('fetch', options.fetch);
    this.#clock = options.clock === undefined ? Date.now : checkFunction('clock', options.clock);
    this.#timeoutMs = checkNumber('timeoutMs', options.timeoutMs ?? 5_000, { min: 1 });
    this.#maxBytes = checkNumber('maxBytes', options.maxBytes ?? 4_096, { min: 256, integer: true });
    this.#cooldownMs = checkNumber('cooldownMs', options.cooldownMs ?? 30_000, { min: 0 });
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
   * The key for `kid` at `base`: at once when held, else fetched (shared with concurrent callers).
   * Rejects with `ERR_KEY_NOT_FOUND` (no such key), `ERR_KEY_INVALID` (not a P-256 public key),
   * `ERR_KID_COOLDOWN` (an unknown kid during the cooldown) or `ERR_JWKS_FETCH_FAILED` (HTTP 503:
   * the endpoint cannot be read).
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

    const endpoint = this.#endpoint(base);
    const blocked = this.#blocked(endpoint, kid);
    if (blocked) return Promise.reject(blocked);
    if (endpoint.waiting >= MAX_WAITING_KIDS) {
      return Promise.reject(
        new CognitoJwtError(
          'ERR_KID_COOLDOWN',
          `no key with kid ${kid} is held, and ${MAX_WAITING_KIDS} other unknown kids are already waiting for ${base}`,
          { claim: 'kid' },
        ),
      );
    }
    endpoint.waiting++;
    let requested = false;
    const fetching = endpoint.tail
      .then(() => {
        endpoint.waiting--;
        const blockedNow = this.#blocked(endpoint, kid);
        if (blockedNow) throw blockedNow;
        requested = true;
        return this.#fetchKey(url, kid);
      })
      .then(
        (key) => {
          this.#remember(url, key);
          return key;
        },
        (error: unknown) => {
          // Only a request that found nothing starts the cooldown; kids refused while waiting do not.
          if (requested) {
            endpoint.blockedUntil = this.#clock() + this.#cooldownMs;
            endpoint.blockedBy =
              error instanceof CognitoJwtError
                ? error
                : new CognitoJwtError('ERR_JWKS_FETCH_FAILED', String(error), { cause: error });
          }
          throw error;
        },
      )
      .finally(() => this.#inFlight.delete(url));
    endpoint.tail = fetching.catch(() => {});
    this.#inFlight.set(url, fetching);
    return fetching;
  }

  #endpoint(base: string): Endpoint {
    let endpoint = this.#endpoints.get(base);
    if (endpoint === undefined) {
      endpoint = { tail: Promise.resolve(), waiting: 0, blockedUntil: 0, blockedBy: undefined };
      this.#endpoints.set(base, endpoint);
    }
    return endpoint;
  }

  /** The error for an unknown kid while the endpoint cools down, or `undefined`. */
  #blocked(endpoint: Endpoint, kid: string): CognitoJwtError | undefined {
    const now = this.#clock();
    if (now >= endpoint.blockedUntil || endpoint.blockedBy === undefined) return undefined;
    const retryInMs = Math.ceil(endpoint.blockedUntil - now);
    const cause = endpoint.blockedBy;
    if (cause.code === 'ERR_JWKS_FETCH_FAILED') {
      return new CognitoJwtError(
        'ERR_JWKS_FETCH_FAILED',
        `the load balancer key endpoint is unavailable (${cause.message}); next attempt in ${retryInMs} ms`,
        { cause },
      );
    }
    return new CognitoJwtError(
      'ERR_KID_COOLDOWN',
      `no key with kid ${kid} is held, and the last unknown kid found no usable key; ` +
        `no key is fetched for another ${retryInMs} ms`,
      { claim: 'kid', cause },
    );
  }

  #remember(url: string, key: EcKey): void {
    this.#keys.delete(url);
    if (this.#keys.size >= this.#maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
    this.#keys.set(url, key);
  }

  async #fetchKey(url: string, kid: string): Promise<EcKey> {
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
    return importAlbPublicKey(pem, kid);
  }
}
