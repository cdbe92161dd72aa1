/**
 * Starts the verification service in this process for a test: a loopback JWKS server with a key
 * made now, a config built from `overrides`, log lines captured (so a test can prove no token is
 * logged), and everything closed after the test.
 */
import type { TestContext } from 'node:test';
import { checkServiceConfig, type ServiceConfig } from '../../src/service/config.ts';
import { createLogger } from '../../src/service/log.ts';
import { type RunningService, type StartOptions, startService } from '../../src/service/server.ts';
import {
  generateKeyPair,
  type JwksServer,
  type MintOptions,
  mintAccessToken,
  mintIdToken,
  startJwksServer,
  type TestKeyPair,
} from '../../src/testing/index.ts';

export const POOL = 'local_service1';
export const CLIENT = 'web-client';

/** The rules most tests use: public pages, an admin area, everything else for any valid token. */
export const ROUTES: NonNullable<ServiceConfig['routes']> = [
  { path: '/public/**', require: 'anonymous' },
  { path: '/admin/**', require: { groups: ['admins'] } },
  { path: '/orders/**', methods: ['POST', 'PUT', 'DELETE'], require: { scopes: ['orders/write'] } },
  { path: '/**', require: 'authenticated' },
];

export interface Harness {
  readonly service: RunningService;
  readonly jwks: JwksServer;
  readonly key: TestKeyPair;
  readonly logLines: string[];
  /** An access token for CLIENT from the loopback pool; `options` override the defaults. */
  access(options?: Partial<MintOptions>): string;
  id(options?: Partial<MintOptions>): string;
  /** POST/GET to the service itself. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

export async function startHarness(
  t: TestContext,
  overrides: Partial<ServiceConfig> = {},
  start: StartOptions = {},
): Promise<Harness> {
  const key = generateKeyPair();
  const jwks = await startJwksServer({ keys: [key] });
  t.after(() => jwks.close());
  const logLines: string[] = [];
  const settings = checkServiceConfig(
    {
      listen: { host: '127.0.0.1', port: 0 },
      workers: 1,
      pools: [{ userPoolId: POOL, issuer: jwks.issuer(POOL), clientId: [CLIENT], tokenUse: null }],
      routes: ROUTES,
      metrics: false,
      ...overrides,
    },
    { baseDir: process.cwd(), env: {} },
  );
  const service = await startService(settings, {
    logger: createLogger({ level: 'debug', decisions: 'info', write: (line) => logLines.push(line) }),
    ...start,
  });
  t.after(() => service.close());
  const mintWith =
    (mint: typeof mintAccessToken) =>
    (options: Partial<MintOptions> = {}) =>
      mint({ key, issuer: jwks.issuer(POOL), clientId: CLIENT, ...options });
  return {
    service,
    jwks,
    key,
    logLines,
    access: mintWith(mintAccessToken),
    id: mintWith(mintIdToken),
    request: (path, init) => fetch(`${service.url}${path}`, init),
  };
}

/** Ask the service the way nginx does. */
export function nginxAsk(
  harness: Harness,
  method: string,
  uri: string,
  headers: Record<string, string> = {},
) {
  return harness.request('/auth/nginx', {
    headers: { 'x-original-method': method, 'x-original-uri': uri, ...headers },
  });
}

/** An answer read by {@link rawRequest}. */
export interface RawAnswer {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: string;
}

/**
 * One request with the path sent exactly as written (fetch's URL parser would resolve `%2e%2e`
 * and `..` before sending, hiding the bypasses under test). A new connection each time. A list
 * value sends that header once per item.
 */
export async function rawRequest(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string | string[]> = {},
): Promise<RawAnswer> {
  const { request } = await import('node:http');
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: url.hostname, port: url.port, method, path, headers, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}
