import { CognitoJwtError } from '../errors.ts';
import { boundedFetch } from '../net/bounded-fetch.ts';

/**
 * How {@link fetchJwks} reads a JWKS.
 *
 * ```ts
 * const options: FetchJwksOptions = { fetch, timeoutMs: 5_000, maxBytes: 1024 * 1024 };
 * ```
 */
export interface FetchJwksOptions {
  fetch: typeof fetch;
  /** Covers connecting, the headers and the whole body. */
  timeoutMs: number;
  /** The body is read as a stream and abandoned past this many bytes. */
  maxBytes: number;
}

/**
 * A JWKS response body (parsed JSON, not yet checked) and how long the server says to cache it.
 *
 * ```ts
 * const { body, maxAgeSeconds } = await fetchJwks(jwksUri, options);
 * ```
 */
export interface FetchedJwks {
  body: unknown;
  /** `Cache-Control: max-age`, when the server sent one. */
  maxAgeSeconds: number | undefined;
  /** The `Date` and `Age` headers, as sent (for the clock offset). */
  date: string | null;
  age: string | null;
}

/**
 * The JWKS endpoint could not be read (timeout, network error, error status, redirect, body too
 * large); `httpStatus` is set when it answered with a status. Its `code` is `ERR_JWKS_FETCH_FAILED`
 * (HTTP 503). A body that arrives but is not a JWKS is an `ERR_JWKS_INVALID` instead.
 *
 * ```ts
 * try {
 *   await cache.refresh(jwksUri);
 * } catch (err) {
 *   if (err instanceof JwksFetchError) console.warn(err.httpStatus, err.message);
 * }
 * ```
 */
export class JwksFetchError extends CognitoJwtError {
  readonly httpStatus: number | undefined;

  constructor(jwksUri: string, reason: string, options: { httpStatus?: number; cause?: unknown } = {}) {
    super('ERR_JWKS_FETCH_FAILED', `could not fetch the JWKS from ${jwksUri}: ${reason}`, {
      cause: options.cause,
    });
    this.httpStatus = options.httpStatus;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isJsonType(contentType: string | null): boolean {
  if (contentType === null) return true;
  const mime = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return mime === 'application/json' || mime === 'application/jwk-set+json';
}

function maxAgeOf(cacheControl: string | null): number | undefined {
  const match = cacheControl?.match(/(?:^|,)\s*max-age\s*=\s*"?(\d{1,9})"?\s*(?:,|$)/i);
  return match ? Number(match[1]) : undefined;
}

/**
 * GET a JWKS: no redirects, one deadline for the whole exchange (connect, headers and body), a
 * size cap enforced while streaming (the rest is never read), and only `application/json`,
 * `application/jwk-set+json` or no content type parsed. The body is returned unchecked; the
 * cache imports its keys.
 *
 * ```ts
 * const { body } = await fetchJwks('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/.well-known/jwks.json', {
 *   fetch,
 *   timeoutMs: 5_000,
 *   maxBytes: 1024 * 1024,
 * });
 * ```
 */
export async function fetchJwks(jwksUri: string, options: FetchJwksOptions): Promise<FetchedJwks> {
  const answer = await boundedFetch(jwksUri, {
    ...options,
    headers: { accept: 'application/json' },
    failure: (_kind, reason, details) => new JwksFetchError(jwksUri, reason, details),
    onHeaders(response) {
      if (response.status !== 200) {
        throw new JwksFetchError(jwksUri, `HTTP ${response.status}`, { httpStatus: response.status });
      }
      const contentType = response.headers.get('content-type');
      if (!isJsonType(contentType)) {
        throw new CognitoJwtError(
          'ERR_JWKS_INVALID',
          `the JWKS at ${jwksUri} has content type "${contentType}", expected application/json`,
        );
      }
    },
  });
  let body: unknown;
  try {
    body = JSON.parse(utf8.decode(answer.body));
  } catch (cause) {
    throw new CognitoJwtError('ERR_JWKS_INVALID', `the JWKS at ${jwksUri} is not valid JSON`, { cause });
  }
  return {
    body,
    maxAgeSeconds: maxAgeOf(answer.headers.get('cache-control')),
    date: answer.headers.get('date'),
    age: answer.headers.get('age'),
  };
}
