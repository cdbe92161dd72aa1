/**
 * Loaded first in the child process that runs a documentation block (see doc-host.ts), so that the
 * block runs exactly as the README prints it, with the real Cognito pool id, against a loopback pool:
 *
 * - An HTTPS request to a Cognito host (`cognito-idp.{region}.amazonaws.com`, the multi-Region
 *   `issuer-cognito-idp.…`, `.amazonaws.com.cn`) goes, same path, over plain HTTP to the loopback
 *   JWKS server named by `DOCTEST_COGNITO_ORIGIN` (a test kit `startJwksServer`, which serves
 *   `/{poolId}/.well-known/jwks.json` like Cognito). Any other non-loopback request fails: there is
 *   no internet in the tests, and a block must not need it.
 * - A server asked to listen on one of the README's fixed ports (`DOCTEST_PORTS`, default `3000`)
 *   listens on a free port instead and reports it to the parent over IPC, so parallel runs never
 *   collide.
 *
 * Only `node:https` is redirected: it is the verifier's default JWKS transport.
 */
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const COGNITO_HOST = /^(issuer-)?cognito-idp\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const cognitoOrigin = process.env.DOCTEST_COGNITO_ORIGIN;
const fixedPorts = new Set((process.env.DOCTEST_PORTS ?? '3000').split(',').map(Number));

type RequestArgs = Parameters<typeof https.request>;

/** Where a request is going, whichever of `request`'s call forms was used. */
function hostOf(args: unknown[]): string | undefined {
  const [first] = args;
  if (typeof first === 'string') return new URL(first).hostname;
  if (first instanceof URL) return first.hostname;
  if (first && typeof first === 'object') {
    const options = first as { hostname?: string; host?: string };
    return (options.hostname ?? options.host ?? 'localhost').replace(/:\d+$/, '');
  }
  return undefined;
}

/** The same request as plain HTTP to the loopback pool: path and options kept, TLS-only options dropped. */
function toLoopbackPool(args: unknown[]): unknown[] {
  if (cognitoOrigin === undefined) {
    throw new Error('doc-sandbox: a Cognito host was called, but DOCTEST_COGNITO_ORIGIN is not set');
  }
  const [first, ...rest] = args;
  const drop = (value: unknown) => {
    if (!value || typeof value !== 'object' || typeof value === 'function') return value;
    const { agent: _agent, ca: _ca, servername: _servername, ...kept } = value as Record<string, unknown>;
    return kept;
  };
  if (typeof first === 'string' || first instanceof URL) {
    const url = new URL(first);
    return [new URL(`${url.pathname}${url.search}`, cognitoOrigin), ...rest.map(drop)];
  }
  const target = new URL(cognitoOrigin);
  const options = drop(first) as Record<string, unknown>;
  return [
    { ...options, protocol: 'http:', hostname: target.hostname, host: undefined, port: target.port },
    ...rest.map(drop),
  ];
}

function route(original: typeof https.request, plain: typeof http.request): typeof https.request {
  return ((...args: RequestArgs) => {
    const host = hostOf(args) ?? '';
    if (COGNITO_HOST.test(host))
      return (plain as (...a: unknown[]) => http.ClientRequest)(...toLoopbackPool(args));
    if (!LOOPBACK.has(host))
      throw new Error(`doc-sandbox: no internet in the doc tests (a request to ${host})`);
    return (original as (...a: unknown[]) => http.ClientRequest)(...args);
  }) as typeof https.request;
}

https.request = route(https.request, http.request);
https.get = route(https.get, http.get);
syncBuiltinESMExports(); // `import { request } from 'node:https'` sees the routed one too

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const [first] = args;
  let requested: number | undefined;
  if ((typeof first === 'number' || typeof first === 'string') && fixedPorts.has(Number(first))) {
    requested = Number(first);
    args[0] = 0;
  } else if (
    first &&
    typeof first === 'object' &&
    fixedPorts.has(Number((first as { port?: unknown }).port))
  ) {
    requested = Number((first as { port?: unknown }).port);
    args[0] = { ...first, port: 0 };
  }
  if (requested !== undefined) {
    this.once('listening', () => {
      const { port, address, family } = this.address() as net.AddressInfo;
      process.send?.({ type: 'listening', requested, port, address, family });
    });
  }
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;
