import { CognitoJwtError } from '../errors.ts';

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
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new JwksFetchError(jwksUri, `no complete answer within ${options.timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([download(jwksUri, options, controller), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function download(
  jwksUri: string,
  options: FetchJwksOptions,
  controller: AbortController,
): Promise<FetchedJwks> {
  let response: Response;
  try {
    response = await options.fetch(jwksUri, {
      redirect: 'manual',
      signal: controller.signal,
      headers: { accept: 'application/json' },
    });
  } catch (cause) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw new JwksFetchError(jwksUri, `the request failed (${(cause as Error)?.message ?? cause})`, {
      cause,
    });
  }
  const fail = (reason: string, httpStatus?: number): never => {
    controller.abort();
    throw new JwksFetchError(jwksUri, reason, httpStatus === undefined ? {} : { httpStatus });
  };
  if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
    fail(`redirects are refused (HTTP ${response.status})`, response.status);
  }
  if (response.status !== 200) fail(`HTTP ${response.status}`, response.status);
  const contentType = response.headers.get('content-type');
  if (!isJsonType(contentType)) {
    controller.abort();
    throw new CognitoJwtError(
      'ERR_JWKS_INVALID',
      `the JWKS at ${jwksUri} has content type "${contentType}", expected application/json`,
    );
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > options.maxBytes)
    fail(`the body is ${declared} bytes, more than the ${options.maxBytes} allowed`);

  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    if (response.body) {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > options.maxBytes) fail(`the body is larger than the ${options.maxBytes} bytes allowed`);
        chunks.push(chunk);
      }
    }
  } catch (cause) {
    if (cause instanceof CognitoJwtError) throw cause;
    if (controller.signal.aborted) throw controller.signal.reason;
    throw new JwksFetchError(jwksUri, `reading the body failed (${(cause as Error)?.message ?? cause})`, {
      cause,
    });
  }

  let body: unknown;
  try {
    body = JSON.parse(utf8.decode(Buffer.concat(chunks, size)));
  } catch (cause) {
    throw new CognitoJwtError('ERR_JWKS_INVALID', `the JWKS at ${jwksUri} is not valid JSON`, { cause });
  }
  return { body, maxAgeSeconds: maxAgeOf(response.headers.get('cache-control')) };
}
