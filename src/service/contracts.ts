/**
 * The proxy contracts: where each proxy puts the original request's method and URI. Each proxy has
 * its own endpoint, and each endpoint reads only its own headers: Traefik and Caddy forward the
 * client's headers to the auth request, so a client could otherwise send its own `X-Original-URI`
 * to a forwardAuth endpoint and have another path checked than the one the upstream serves.
 */
import type { IncomingMessage } from 'node:http';

/** The service's endpoints for each proxy. */
export const ENDPOINTS = {
  /** nginx `auth_request` (and ingress-nginx `auth-url`): `X-Original-Method` and `X-Original-URI`. */
  nginx: '/auth/nginx',
  /** ingress-nginx `auth-url`: `X-Original-Method` and `X-Original-URL` (`$scheme://$http_host$request_uri`). */
  ingressNginx: '/auth/ingress-nginx',
  /** Traefik `forwardAuth` and Caddy `forward_auth`: `X-Forwarded-Method` and `X-Forwarded-Uri`. */
  forward: '/auth/forward',
} as const;

/** Which contract a request came through. */
export type Contract = 'nginx' | 'ingress-nginx' | 'forward' | 'envoy';

/** The original request as the proxy reported it, or why it cannot be read. */
export type OriginalRequest =
  | { ok: true; contract: Contract; method: string; uri: string }
  | { ok: false; contract: Contract; reason: string };

/**
 * The headers of a request as Node parsed them: `headers` (repeated headers joined, or for some
 * names such as `Authorization` all but the first dropped) and `rawHeaders` (every line as sent,
 * name and value in turn), where a repetition can still be seen.
 */
export type RequestHeaders = Pick<IncomingMessage, 'headers' | 'rawHeaders'>;

/**
 * How many times the header `name` (lower case) was sent.
 *
 * ```ts
 * headerCount(['X-Original-URI', '/a', 'x-original-uri', '/b'], 'x-original-uri'); // 2
 * ```
 */
export function headerCount(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const raw = rawHeaders[index]!;
    if (raw.length === name.length && raw.toLowerCase() === name) count++;
  }
  return count;
}

/**
 * The contract an auth request came through and the original method and URI it reports, or
 * `undefined` when the URL is none of the auth endpoints. `envoyPathPrefix` is Envoy's
 * `path_prefix`: the original path follows it, and Envoy keeps the original method.
 *
 * ```ts
 * A contract header sent twice is refused as a missing one is: the proxy is misconfigured (or lets
 * the client add its own), and either copy could be the one the upstream routes on.
 *
 * ```ts
 * originalRequest('GET', '/auth/nginx', request, '/envoy');
 * // { ok: true, contract: 'nginx', method: 'POST', uri: '/admin' }
 * ```
 */
export function originalRequest(
  method: string,
  url: string,
  headers: RequestHeaders,
  envoyPathPrefix: string,
): OriginalRequest | undefined {
  const path = url.split('?', 1)[0];
  if (path === ENDPOINTS.nginx) return fromHeaders('nginx', headers, 'x-original-method', 'x-original-uri');
  if (path === ENDPOINTS.ingressNginx) {
    const original = fromHeaders('ingress-nginx', headers, 'x-original-method', 'x-original-url');
    if (!original.ok) return original;
    // The request URI follows scheme://host; a host holding "/", "?" or "#" leaves no unambiguous split.
    const uri = /^https?:\/\/[^/?#\s]*(\/.*)$/.exec(original.uri)?.[1];
    if (uri === undefined) {
      return { ok: false, contract: 'ingress-nginx', reason: 'X-Original-URL is not scheme://host/path' };
    }
    return { ...original, uri };
  }
  if (path === ENDPOINTS.forward)
    return fromHeaders('forward', headers, 'x-forwarded-method', 'x-forwarded-uri');
  if (url.startsWith(`${envoyPathPrefix}/`)) {
    return { ok: true, contract: 'envoy', method, uri: url.slice(envoyPathPrefix.length) };
  }
  return undefined;
}

function fromHeaders(
  contract: Contract,
  headers: RequestHeaders,
  methodHeader: string,
  uriHeader: string,
): OriginalRequest {
  for (const name of [methodHeader, uriHeader]) {
    const count = headerCount(headers.rawHeaders, name);
    if (count !== 1) {
      return {
        ok: false,
        contract,
        reason:
          count === 0
            ? `the proxy sent no ${name} header; see docs/service.md`
            : `the proxy sent ${count} ${name} headers (a client may have added one); see docs/service.md`,
      };
    }
  }
  return {
    ok: true,
    contract,
    method: headers.headers[methodHeader] as string,
    uri: headers.headers[uriHeader] as string,
  };
}
