import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.ts';
import type { Jwks } from '../keys/jwk.ts';
import { checkOptions, optionKeys } from '../options.ts';
import { buildJwks, type TestKeyPair } from './keys.ts';

/** A JWKS endpoint on 127.0.0.1 that serves `/{userPoolId}/.well-known/jwks.json` for any pool id. */
export interface JwksServer {
  readonly port: number;
  /** `http://127.0.0.1:{port}` */
  readonly origin: string;
  /** Requests answered so far (any path). */
  readonly requestCount: number;
  /** The issuer to mint tokens with and to configure the verifier with: `{origin}/{userPoolId}`. */
  issuer(userPoolId: string): string;
  /** `{origin}/{userPoolId}/.well-known/jwks.json` */
  jwksUri(userPoolId: string): string;
  /** Serve other keys from now on (key rotation). */
  setKeys(keys: TestKeyPair[] | Jwks): void;
  close(): Promise<void>;
}

export interface JwksServerOptions {
  keys: TestKeyPair[] | Jwks;
  /** Extra response headers, e.g. `{ 'cache-control': 'max-age=300' }`. */
  headers?: Record<string, string>;
}

const JWKS_SERVER_OPTIONS = optionKeys<JwksServerOptions>(
  'startJwksServer options',
  { keys: true, headers: true },
  { port: 'the server takes a free loopback port; read it from server.port' },
);

/**
 * Start a JWKS server on a random loopback port.
 *
 * ```ts
 * const key = generateKeyPair();
 * const server = await startJwksServer({ keys: [key] });
 * const verifier = new CognitoVerifier({ userPoolId: 'local_pool', issuer: server.issuer('local_pool'), clientId: 'c', tokenUse: 'id' });
 * // ... mint with issuer: server.issuer('local_pool'), verify, then:
 * await server.close();
 * ```
 */
export async function startJwksServer(options: JwksServerOptions): Promise<JwksServer> {
  if (options === undefined) throw new ConfigError('startJwksServer needs { keys }');
  checkOptions(JWKS_SERVER_OPTIONS, options);
  const toJwks = (keys: TestKeyPair[] | Jwks) =>
    JSON.stringify(Array.isArray(keys) ? buildJwks(...keys) : keys);
  let body = toJwks(options.keys);
  let requestCount = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requestCount++;
    if (request.method === 'GET' && request.url?.endsWith('/.well-known/jwks.json')) {
      response.writeHead(200, { 'content-type': 'application/json', ...options.headers });
      response.end(body);
    } else {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"message":"not found"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    get requestCount() {
      return requestCount;
    },
    issuer: (userPoolId) => `${origin}/${userPoolId}`,
    jwksUri: (userPoolId) => `${origin}/${userPoolId}/.well-known/jwks.json`,
    setKeys(keys) {
      body = toJwks(keys);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
