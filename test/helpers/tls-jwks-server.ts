/**
 * A JWKS server over TLS on loopback (the test kit's server speaks plain HTTP), with a `Date`
 * header that can be skewed and an `Age` header, for proxy, clock and `doctor` tests.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { buildJwks, type TestKeyPair } from '../../src/testing/index.ts';

export interface SkewedJwksServer {
  readonly origin: string;
  readonly port: number;
  readonly requestCount: number;
  issuer(userPoolId: string): string;
  jwksUri(userPoolId: string): string;
  /** The server's clock runs this far ahead of the host's (negative: behind). */
  dateOffsetMs: number;
  /** Sent as `Age` (seconds) when set, as a cache in front of the server would. */
  ageSeconds: number | undefined;
  close(): Promise<void>;
}

/** Serve `keys` at `/{pool}/.well-known/jwks.json`, over TLS when `tls` is given, else plain HTTP. */
export async function startSkewedJwksServer(options: {
  keys: TestKeyPair[];
  tls?: { certPem: string; keyPem: string };
  dateOffsetMs?: number;
  ageSeconds?: number;
  host?: string;
}): Promise<SkewedJwksServer> {
  const body = JSON.stringify(buildJwks(...options.keys));
  let requestCount = 0;
  const state = { dateOffsetMs: options.dateOffsetMs ?? 0, ageSeconds: options.ageSeconds };
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    requestCount++;
    const headers: Record<string, string> = {
      date: new Date(Date.now() + state.dateOffsetMs).toUTCString(),
    };
    if (state.ageSeconds !== undefined) headers.age = String(state.ageSeconds);
    if (request.url?.endsWith('/.well-known/jwks.json')) {
      response.writeHead(200, { 'content-type': 'application/json', ...headers });
      response.end(body);
    } else {
      response.writeHead(404, { 'content-type': 'application/json', ...headers });
      response.end('{"message":"not found"}');
    }
  };
  const server = options.tls
    ? createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handler)
    : createHttpServer(handler);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const origin = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    origin,
    port,
    get requestCount() {
      return requestCount;
    },
    issuer: (pool) => `${origin}/${pool}`,
    jwksUri: (pool) => `${origin}/${pool}/.well-known/jwks.json`,
    get dateOffsetMs() {
      return state.dateOffsetMs;
    },
    set dateOffsetMs(value: number) {
      state.dateOffsetMs = value;
    },
    get ageSeconds() {
      return state.ageSeconds;
    },
    set ageSeconds(value: number | undefined) {
      state.ageSeconds = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
