import type { ErrorCode } from '../errors.ts';
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

/**
 * POST an `application/x-www-form-urlencoded` body and read the answer: one deadline for the
 * whole exchange, no redirects (they would resend client credentials elsewhere), a size cap.
 * Resolves with any HTTP status; rejects only when there is no usable answer.
 */
export async function postForm(
  url: string,
  form: URLSearchParams,
  options: PostFormOptions,
): Promise<FormAnswer> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TokenEndpointError(
        'ERR_OAUTH_TIMEOUT',
        `${options.what} got no complete answer within ${options.timeoutMs} ms`,
      );
      controller.abort(error);
      reject(error);
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([exchange(url, form, options, controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function exchange(
  url: string,
  form: URLSearchParams,
  options: PostFormOptions,
  signal: AbortSignal,
): Promise<FormAnswer> {
  const fail = (code: ErrorCode, reason: string, cause?: unknown, httpStatus?: number): never => {
    if (signal.aborted) throw signal.reason;
    throw new TokenEndpointError(code, `${options.what} failed: ${reason}`, { cause, httpStatus });
  };
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: {
        ...options.headers,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
    });
  } catch (cause) {
    return fail('ERR_OAUTH_NETWORK', `the request could not be sent (${describeCause(cause)})`, cause);
  }
  const { status } = response;
  if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
    await response.body?.cancel().catch(() => {});
    return fail('ERR_OAUTH_SERVER_ERROR', `redirects are refused (HTTP ${status})`, undefined, status);
  }
  if (Number(response.headers.get('content-length') ?? 0) > MAX_ANSWER_BYTES) {
    await response.body?.cancel().catch(() => {});
    return fail(
      'ERR_OAUTH_SERVER_ERROR',
      `the answer is larger than ${MAX_ANSWER_BYTES} bytes`,
      undefined,
      status,
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > MAX_ANSWER_BYTES) {
        await response.body?.cancel().catch(() => {});
        return fail(
          'ERR_OAUTH_SERVER_ERROR',
          `the answer is larger than ${MAX_ANSWER_BYTES} bytes`,
          undefined,
          status,
        );
      }
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof TokenEndpointError) throw cause;
    return fail('ERR_OAUTH_NETWORK', `reading the answer failed (${describeCause(cause)})`, cause, status);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  let body: unknown;
  try {
    body = text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, body };
}

/** `fetch failed (ECONNREFUSED)`: undici hides the useful part in `cause`. */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause as { code?: unknown; message?: unknown } | undefined;
  const detail =
    typeof inner?.code === 'string'
      ? inner.code
      : typeof inner?.message === 'string'
        ? inner.message
        : undefined;
  return detail === undefined ? cause.message : `${cause.message}: ${detail}`;
}
