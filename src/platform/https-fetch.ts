import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { type ProxyEnv, proxyAgent, proxyFor, redactUrl } from './proxy.ts';

/**
 * `fetch` over `node:http` / `node:https`, for the JWKS download of a cold start: on Node 20 the
 * first call of the global `fetch` loads its HTTP client (undici) and costs 20-30 ms by itself;
 * this one costs what the request costs.
 *
 * It does what a JWKS or token endpoint needs and no more: `method`, `headers`, a string, bytes
 * or `URLSearchParams` body, and `signal`. Redirects are never followed: a 3xx is answered as it
 * is (`redirect: 'error'` rejects it instead). The response has `status`, `ok`, `statusText`,
 * `url`, `headers.get/has`, `body` (an async iterable of bytes) and `text()`, `json()`,
 * `arrayBuffer()`. Network failures reject with a `TypeError` like `fetch`; an abort rejects with
 * the signal's reason.
 *
 * `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are read at every request (see `./proxy.ts`): through
 * Node's own proxy support on 22.21+ / 24.5+, through the optional peer `https-proxy-agent` before.
 *
 * ```ts
 * const cache = new JwksCache({ fetch: httpsFetch });
 * const response = await httpsFetch('https://example.com/.well-known/jwks.json', { signal: AbortSignal.timeout(5000) });
 * console.log(response.status, await response.json());
 * ```
 */
export const httpsFetch: typeof fetch = (input, init = {}) => nodeFetch(input, init, {});

/**
 * What {@link nodeFetch} may be told beyond `fetch`'s own options: the environment to read proxy
 * variables from (default `process.env`) and extra trusted roots (tests, and `doctor`).
 */
export interface NodeFetchSettings {
  env?: ProxyEnv;
  /** PEM certificates trusted for the target's TLS, besides Node's bundled roots (`NODE_EXTRA_CA_CERTS` too). */
  ca?: string | readonly string[];
  /** Resolves host names instead of `dns.lookup` (tests: this machine has no DNS). */
  lookup?: import('node:net').LookupFunction;
}

/**
 * {@link httpsFetch} with its environment and trusted roots given.
 *
 * ```ts
 * const response = await nodeFetch(url, {}, { env: { HTTPS_PROXY: 'http://127.0.0.1:3128' }, ca: testCaPem });
 * ```
 */
export function nodeFetch(
  input: Parameters<typeof fetch>[0],
  init: RequestInit,
  settings: NodeFetchSettings,
): Promise<Response> {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  // node:https (and with it node:tls) at the first https URL: loading it is some 9 ms of a cold
  // start, which a JWKS served over http (an emulator, a local mirror) need not pay.
  const send =
    url.protocol === 'https:'
      ? (process.getBuiltinModule('node:https') as typeof import('node:https')).request
      : url.protocol === 'http:'
        ? httpRequest
        : undefined;
  if (send === undefined)
    return Promise.reject(new TypeError(`fetch failed: ${url.protocol} is not supported`));
  let body: string | Uint8Array | undefined;
  const headers = headersOf(init.headers);
  try {
    body = bodyOf(init.body, headers);
  } catch (error) {
    return Promise.reject(error);
  }

  const method = init.method ?? 'GET';
  let route: ReturnType<typeof proxyFor>;
  try {
    route = proxyFor(url, settings.env ?? process.env);
  } catch (error) {
    return Promise.reject(error);
  }
  const ca = {
    ...(settings.ca === undefined ? {} : { ca: rootsWithBundled(settings.ca) }),
    ...(settings.lookup === undefined ? {} : { lookup: settings.lookup }),
  };
  if (route === undefined || 'bypass' in route) return sendWith(undefined);
  const { proxy, variable } = route;
  return proxyAgent(url, proxy, variable).then(sendWith);

  function sendWith(agent: import('node:http').Agent | undefined): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const attempt = (retry: boolean) => {
        let message: IncomingMessage | undefined;
        const onAbort = () => {
          message?.destroy(signal?.reason);
          request.destroy(signal?.reason);
          reject(signal?.reason);
        };
        let refusedBy: string | undefined;
        const request = send!(url, { method, headers, ...ca, ...(agent ? { agent } : {}) }, (response) => {
          message = response;
          if (refusedBy !== undefined) {
            // https-proxy-agent replays a refused CONNECT's answer as if the server had sent it.
            response.destroy();
            reject(new TypeError(`fetch failed: ${refusedBy}`));
            return;
          }
          // Errors reach whoever reads the body; an abort with nobody reading must not crash the process.
          response.on('error', () => {});
          response.once('close', () => signal?.removeEventListener('abort', onAbort));
          const status = response.statusCode ?? 0;
          if (init.redirect === 'error' && status >= 300 && status < 400) {
            response.destroy();
            reject(new TypeError(`fetch failed: redirected (HTTP ${status}) and redirect is "error"`));
            return;
          }
          resolve(toResponse(url, response));
        });
        if (agent !== undefined) {
          request.once('proxyConnect', (connect: IncomingMessage) => {
            if (connect.statusCode === 200) return;
            refusedBy = tunnelRefused(connect.statusCode ?? 0, connect.statusMessage ?? '');
          });
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        request.on('error', (error: NodeJS.ErrnoException) => {
          signal?.removeEventListener('abort', onAbort);
          // A kept-alive socket the server closed while this process was busy fails on first write.
          // The request never reached the server, so a GET is sent once more on a new connection
          // (what Node's documentation of `request.reusedSocket` advises); other methods are not.
          if (
            retry &&
            request.reusedSocket &&
            message === undefined &&
            !signal?.aborted &&
            (method === 'GET' || method === 'HEAD') &&
            (error.code === 'ECONNRESET' || error.code === 'EPIPE')
          ) {
            attempt(true);
            return;
          }
          // Node's own proxy support (22.21+, 24.5+) fails a refused CONNECT with ERR_PROXY_TUNNEL and
          // the proxy's status; it is told the same way as https-proxy-agent's replayed answer.
          const refused = error.code === 'ERR_PROXY_TUNNEL' && proxyStatus(error);
          reject(
            signal?.aborted
              ? signal.reason
              : new TypeError(`fetch failed: ${refused ? tunnelRefused(...refused) : error.message}`, {
                  cause: error,
                }),
          );
        });
        request.end(body);
      };
      attempt(true);
    });
  }

  /** What a proxy's refused CONNECT is told as; the proxy's credentials are hidden. */
  function tunnelRefused(status: number, statusMessage: string): string {
    const proxy = route && 'proxy' in route ? route.proxy.href : '';
    return `the proxy ${redactUrl(proxy)} refused to open a tunnel to ${url.host} (HTTP ${status} ${statusMessage})`.trimEnd();
  }
}

/**
 * The proxy's answer in Node's ERR_PROXY_TUNNEL error (`statusCode`, and the status line in the
 * message: "… via http://proxy:3128/: HTTP/1.1 403 Access violation"); `undefined` when the
 * tunnel failed for another reason (the proxy closed, timed out).
 */
function proxyStatus(error: NodeJS.ErrnoException & { statusCode?: unknown }): [number, string] | undefined {
  if (typeof error.statusCode !== 'number') return undefined;
  const line = /HTTP\/\d(?:\.\d)? \d{3} ?(.*)$/.exec(error.message);
  return [error.statusCode, line?.[1]?.trim() ?? ''];
}

/** `ca` replaces Node's roots for a request; extra roots are added to them instead. */
function rootsWithBundled(ca: string | readonly string[]): string[] {
  const { rootCertificates } = process.getBuiltinModule('node:tls') as typeof import('node:tls');
  return [...rootCertificates, ...(typeof ca === 'string' ? [ca] : ca)];
}

/** Plain object, `[name, value]` pairs, or anything with `forEach` (a `Headers`), without loading `Headers`. */
function headersOf(headers: RequestInit['headers']): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  if (headers === undefined) return result;
  if (Array.isArray(headers)) {
    for (const [name, value] of headers) result[name!.toLowerCase()] = value;
  } else if (typeof (headers as Headers).forEach === 'function') {
    (headers as Headers).forEach((value, name) => {
      result[name.toLowerCase()] = value;
    });
  } else {
    for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  }
  return result;
}

function bodyOf(body: RequestInit['body'], headers: OutgoingHttpHeaders): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  throw new TypeError('httpsFetch sends a string, bytes or URLSearchParams body only');
}

function toResponse(url: URL, message: IncomingMessage): Response {
  const status = message.statusCode ?? 0;
  const header = (name: string): string | null => {
    const value = message.headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const bytes = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of message) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const response = {
    status,
    ok: status >= 200 && status < 300,
    statusText: message.statusMessage ?? '',
    url: url.href,
    redirected: false,
    type: 'basic',
    headers: { get: header, has: (name: string) => header(name) !== null },
    body: message,
    text: async () => (await bytes()).toString('utf8'),
    json: async () => JSON.parse((await bytes()).toString('utf8')) as unknown,
    arrayBuffer: async () => {
      const buffer = await bytes();
      return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
    },
  };
  return response as unknown as Response;
}
