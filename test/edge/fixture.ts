/**
 * The Node side of the edge-runtime tests: the package built as published (bundled as
 * `npm run build` bundles it, into a temp folder with package.json, so each runtime resolves
 * `#platform` by its own conditions), a JWKS
 * server on loopback, and the shared test vectors every runtime must answer the same way.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleDist } from '../../scripts/build.ts';
import {
  buildJwks,
  generateKeyPair,
  mintAccessToken,
  mintIdToken,
  type TestKeyPair,
} from '../../src/testing/index.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'node_modules/.bin');

/**
 * `{dir}/node_modules/cognito-jwt` holds dist/'s JavaScript and package.json as npm would install
 * them (the runtimes need no declarations); hono and the runner scripts sit next to it.
 */
export async function buildPackage(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-edge-'));
  const pkg = join(dir, 'node_modules/cognito-jwt');
  mkdirSync(pkg, { recursive: true });
  bundleDist(join(pkg, 'dist'));
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules/hono'), join(dir, 'node_modules/hono'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ type: 'module', dependencies: { 'cognito-jwt': '*' } }),
  );
  for (const file of ['runner.mjs', 'worker.mjs', 'bun-main.mjs', 'deno-main.mjs']) {
    cpSync(join(import.meta.dirname, file), join(dir, file));
  }
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Per path: how many requests it got. */
export interface EdgeJwks {
  origin: string;
  requests: Map<string, number>;
  close(): Promise<void>;
}

/**
 * `/pool/…`: the first answer serves key A and a 1024-bit key, later ones add key B (a rotation).
 * `/slow…/…`: key A after 400 ms. `/down/…`: HTTP 500.
 */
export async function startEdgeJwks(keys: EdgeKeys): Promise<EdgeJwks> {
  const requests = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const pool = request.url?.split('/')[1] ?? '';
    const count = (requests.get(pool) ?? 0) + 1;
    requests.set(pool, count);
    const send = (jwks: unknown) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(jwks));
    };
    if (pool === 'pool')
      send(count === 1 ? buildJwks(keys.a, keys.weak) : buildJwks(keys.a, keys.b, keys.weak));
    else if (pool.startsWith('slow')) setTimeout(() => send(buildJwks(keys.a)), 400);
    else {
      response.writeHead(500);
      response.end('down');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export interface EdgeKeys {
  a: TestKeyPair;
  b: TestKeyPair;
  weak: TestKeyPair;
  stranger: TestKeyPair;
}

export function makeKeys(): EdgeKeys {
  return {
    a: generateKeyPair({ kid: 'key-a' }),
    b: generateKeyPair({ kid: 'key-b' }),
    weak: generateKeyPair({ kid: 'key-weak', modulusLength: 1024 }),
    stranger: generateKeyPair({ kid: 'key-unknown' }),
  };
}

/** One token, which verifier checks it, and the outcome every runtime must report. */
export interface Vector {
  name: string;
  use: 'id' | 'access' | 'down' | 'pinned';
  token: string;
  /** `ok` or an error code. */
  expect: string;
}

/** What the runner needs: configs, vectors in order, a snapshot of the pool's keys. */
export interface EdgeInput {
  clientId: string;
  issuer: string;
  downIssuer: string;
  userPoolId: string;
  vectors: Vector[];
  snapshot: unknown;
  /** The token used for `verifySync()` and the snapshot checks. */
  idToken: string;
  accessToken: string;
}

const swapSignature = (token: string, from: string) =>
  `${token.slice(0, token.lastIndexOf('.'))}${from.slice(from.lastIndexOf('.'))}`;

export function makeInput(origin: string, keys: EdgeKeys): EdgeInput {
  const userPoolId = 'us-east-1_EdgePool1';
  const clientId = 'edgeclient1234567890abcd';
  const issuer = `${origin}/pool`;
  const downIssuer = `${origin}/down`;
  const now = Date.now();
  const base = { userPoolId, clientId, issuer, sub: 'user-1' };
  const id = (overrides: Partial<Parameters<typeof mintIdToken>[0]> = {}) =>
    mintIdToken({ key: keys.a, ...base, ...overrides });
  const idToken = id();
  const accessToken = mintAccessToken({ key: keys.a, ...base });
  const vectors: Vector[] = [
    { name: 'valid ID token', use: 'id', token: idToken, expect: 'ok' },
    { name: 'valid access token', use: 'access', token: accessToken, expect: 'ok' },
    { name: 'not three segments', use: 'id', token: 'abc.def', expect: 'ERR_TOKEN_MALFORMED' },
    {
      name: 'a character outside base64url',
      use: 'id',
      token: `${idToken.slice(0, 10)}*${idToken.slice(11)}`,
      expect: 'ERR_TOKEN_MALFORMED',
    },
    {
      name: 'a refresh token (JWE)',
      use: 'id',
      token: 'eyJjdHkiOiJKV1QifQ.a.b.c.d',
      expect: 'ERR_REFRESH_TOKEN_PRESENTED',
    },
    { name: 'alg HS256', use: 'id', token: id({ header: { alg: 'HS256' } }), expect: 'ERR_ALG_UNSUPPORTED' },
    { name: 'alg none', use: 'id', token: id({ header: { alg: 'none' } }), expect: 'ERR_ALG_UNSUPPORTED' },
    {
      name: 'a crit header',
      use: 'id',
      token: id({ header: { crit: ['exp'] } }),
      expect: 'ERR_HEADER_UNSUPPORTED',
    },
    {
      name: 'a signature from another token',
      use: 'id',
      token: swapSignature(idToken, id({ sub: 'user-2' })),
      expect: 'ERR_SIGNATURE_INVALID',
    },
    {
      name: 'signed by a stranger with a known kid',
      use: 'id',
      token: mintIdToken({ key: keys.stranger, ...base, header: { kid: 'key-a' } }),
      expect: 'ERR_SIGNATURE_INVALID',
    },
    { name: 'expired', use: 'id', token: id({ expiresIn: -60 }), expect: 'ERR_TOKEN_EXPIRED' },
    {
      name: 'not yet valid',
      use: 'id',
      token: id({ claims: { nbf: Math.floor(now / 1000) + 600 } }),
      expect: 'ERR_TOKEN_NOT_YET_VALID',
    },
    {
      name: 'issued in the future',
      use: 'id',
      token: id({ now: now + 3_600_000 }),
      expect: 'ERR_TOKEN_ISSUED_IN_FUTURE',
    },
    {
      name: 'exp not a number',
      use: 'id',
      token: id({ claims: { exp: 'soon' } }),
      expect: 'ERR_CLAIM_INVALID',
    },
    {
      name: 'another issuer',
      use: 'id',
      token: id({ issuer: `${origin}/other` }),
      expect: 'ERR_ISSUER_MISMATCH',
    },
    {
      name: 'another client',
      use: 'id',
      token: id({ clientId: 'someoneelse1234567890ab' }),
      expect: 'ERR_CLIENT_MISMATCH',
    },
    {
      name: 'an access token where ID tokens are expected',
      use: 'id',
      token: accessToken,
      expect: 'ERR_TOKEN_USE_MISMATCH',
    },
    {
      name: 'revoked (isRevoked)',
      use: 'id',
      token: id({ sub: 'revoked-user' }),
      expect: 'ERR_TOKEN_REVOKED',
    },
    {
      name: 'signed by a 1024-bit key the JWKS serves',
      use: 'id',
      token: mintIdToken({ key: keys.weak, ...base }),
      expect: 'ERR_KEY_INVALID',
    },
    {
      name: 'key rotation: a new kid, fetched once',
      use: 'id',
      token: mintIdToken({ key: keys.b, ...base }),
      expect: 'ok',
    },
    {
      name: 'an unknown kid right after: cooldown',
      use: 'id',
      token: mintIdToken({ key: keys.stranger, ...base }),
      expect: 'ERR_KID_COOLDOWN',
    },
    {
      name: 'an unknown kid, keys pinned from a snapshot',
      use: 'pinned',
      token: mintIdToken({ key: keys.stranger, ...base }),
      expect: 'ERR_KEY_NOT_FOUND',
    },
    {
      name: 'the JWKS endpoint answers 500',
      use: 'down',
      token: id({ issuer: downIssuer }),
      expect: 'ERR_JWKS_FETCH_FAILED',
    },
  ];
  return {
    clientId,
    issuer,
    downIssuer,
    userPoolId,
    vectors,
    snapshot: buildJwks(keys.a),
    idToken,
    accessToken,
  };
}

/** What every runtime reports besides the vectors, and what Node and Bun (sync) or the Web expect. */
export function expectedExtras(sync: boolean): Record<string, string> {
  return {
    'verifySync with keys loaded': sync ? 'ok' : 'ERR_SYNC_UNSUPPORTED',
    'ID token from a pinned snapshot, no network': 'ok',
    'access token from the snapshot store, no network': 'ok',
    'snapshot store saved after a fetch': 'ok',
  };
}
