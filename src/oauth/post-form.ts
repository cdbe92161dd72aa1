import { boundedFetch, type ExchangeFailure } from '../net/bounded-fetch.ts';
import { TokenEndpointError } from './errors.ts';

export interface PostFormOptions {
  fetch: typeof fetch;
  /** Covers connecting, the headers and the whole body. */
  timeoutMs: number;
  /** Extra headers, e.g. `authorization`. */
  headers: Record<string, string>;
  /** What is being done, for messages: `the refresh_token grant at https://...`. */
  what: string;
}

export interface FormAnswer {
  status: number;
  /** The body parsed as JSON; `undefined` when it is empty or not JSON. */
  body: unknown;
}

/** Token answers are a few KiB; anything far larger is not a token endpoint talking. */
const MAX_ANSWER_BYTES = 1024 * 1024;

const FAILURE_CODES = {
  timeout: 'ERR_OAUTH_TIMEOUT',
  network: 'ERR_OAUTH_NETWORK',
  redirect: 'ERR_OAUTH_SERVER_ERROR',
  'too-large': 'ERR_OAUTH_SERVER_ERROR',
} as const satisfies Record<ExchangeFailure, string>;

/**
 * POST an `application/x-www-form-urlencoded` body and read the answer within the limits of
 * {@link boundedFetch} (redirects would resend client credentials elsewhere). Resolves with any
 * HTTP status; rejects only when there is no usable answer.
 */
export async function postForm(
  url: string,
  form: URLSearchParams,
  options: PostFormOptions,
): Promise<FormAnswer> {
  const answer = await boundedFetch(url, {
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    maxBytes: MAX_ANSWER_BYTES,
    method: 'POST',
    headers: {
      ...options.headers,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: form.toString(),
    failure: (kind, reason, details) =>
      new TokenEndpointError(FAILURE_CODES[kind], `${options.what} failed: ${reason}`, details),
  });
  let body: unknown;
  try {
    body = answer.body.length === 0 ? undefined : JSON.parse(new TextDecoder().decode(answer.body));
  } catch {
    body = undefined;
  }
  return { status: answer.status, body };
}
