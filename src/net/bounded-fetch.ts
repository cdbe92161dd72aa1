import { concatBytes } from '#platform';

/** What went wrong in the exchange itself (as opposed to what the answer says). */
export type ExchangeFailure = 'timeout' | 'network' | 'redirect' | 'too-large';

export interface BoundedFetchOptions {
  fetch: typeof fetch;
  /** One deadline for connecting, the headers and the whole body. */
  timeoutMs: number;
  /** The body is read as a stream and abandoned past this many bytes. */
  maxBytes: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Builds the caller's own error for a failed exchange (JWKS and token endpoint errors differ). */
  failure: (
    kind: ExchangeFailure,
    reason: string,
    details: { cause?: unknown; httpStatus?: number },
  ) => Error;
  /** Sees the answer once its headers are in; throwing refuses it without reading the body. */
  onHeaders?: (response: Response) => void;
}

export interface BoundedAnswer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/**
 * One HTTP exchange with the limits every call to an identity endpoint needs: a deadline for the
 * whole exchange, no redirects (they would send the request, and any credentials in it, to
 * another host), and a size cap enforced while streaming, so a huge body is never buffered.
 */
export async function boundedFetch(url: string, options: BoundedFetchOptions): Promise<BoundedAnswer> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = options.failure('timeout', `no complete answer within ${options.timeoutMs} ms`, {});
      controller.abort(error);
      reject(error);
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([exchange(url, options, controller), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function exchange(
  url: string,
  options: BoundedFetchOptions,
  controller: AbortController,
): Promise<BoundedAnswer> {
  const { signal } = controller;
  const fail = (
    kind: ExchangeFailure,
    reason: string,
    details: { cause?: unknown; httpStatus?: number },
  ): never => {
    if (signal.aborted) throw signal.reason;
    const error = options.failure(kind, reason, details);
    controller.abort(error); // the reason is what any pending read rejects with
    throw error;
  };
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: options.method ?? 'GET',
      redirect: 'manual',
      signal,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.body === undefined ? {} : { body: options.body }),
    });
  } catch (cause) {
    return fail('network', `the request failed (${describeCause(cause)})`, { cause });
  }
  const { status } = response;
  if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
    fail('redirect', `redirects are refused (HTTP ${status})`, { httpStatus: status });
  }
  try {
    options.onHeaders?.(response);
  } catch (error) {
    controller.abort(error);
    throw error;
  }
  const tooLarge = (size: string) =>
    fail('too-large', `the body is ${size} the ${options.maxBytes} bytes allowed`, { httpStatus: status });
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > options.maxBytes) tooLarge(`${declared} bytes, larger than`);

  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > options.maxBytes) tooLarge('larger than');
      chunks.push(chunk);
    }
  } catch (cause) {
    fail('network', `reading the body failed (${describeCause(cause)})`, { cause, httpStatus: status });
  }
  return { status, headers: response.headers, body: concatBytes(chunks, size) };
}

/** `fetch failed: ECONNREFUSED`: undici hides the useful part in `cause`. */
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
