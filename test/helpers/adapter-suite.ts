/**
 * One suite of HTTP scenarios run against each framework adapter (Express, Fastify, Hono), so
 * every adapter is held to the same answers. A test file supplies `startApp`, which builds a real
 * app on 127.0.0.1 with the routes below and returns its origin:
 *
 * - `GET /me`          the middleware only; 200 `{ sub, tokenUse, username }`, or `{ anonymous: true }`
 * - `GET /admin`       guard `requireGroups('admins')`
 * - `GET /orders`      guard `requireScopes('orders/read')`
 * - `GET /editor`      guard `ROLES.requireRole('editor')` (editors or admins)
 * - `GET /users/:id`   guard `anyOf(requireGroups('admins'), the caller's sub equals :id)`
 * - `GET /signed-in`   guard with no rules: any verified token
 *
 * Errors the adapter forwards (`forwardErrors: true`) must reach the framework's own error handler,
 * which answers `418 { forwarded: <code> }`.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { HttpAuthOptions } from '../../src/adapters/http.ts';
import {
  type AuthClaims,
  CognitoJwtError,
  CognitoVerifier,
  clientMessage,
  defineRoles,
  type ErrorCode,
  type VerifierConfig,
} from '../../src/index.ts';
import { generateKeyPair, mintAccessToken, mintIdToken, startJwksServer } from '../../src/testing/index.ts';
import type { JwksServer } from '../../src/testing/jwks-server.ts';
import type { MintOptions } from '../../src/testing/mint.ts';
import { tamperPayload } from './raw-jwt.ts';

/** The roles every suite app uses. */
export const ROLES = defineRoles({ admin: ['admins'], editor: ['editors', 'admins'] });

/** What `/me` answers for verified claims, read without casts (the adapters' typing is part of the test). */
export function describeClaims(claims: AuthClaims | null | undefined): Record<string, unknown> {
  if (!claims) return { anonymous: true };
  const username = claims.token_use === 'id' ? claims['cognito:username'] : claims.username;
  return { sub: claims.sub, tokenUse: claims.token_use, username, groups: claims['cognito:groups'] ?? [] };
}

/** The value of cookie `name` in a `Cookie` header. */
export function cookieValue(header: string | null | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** What an app's `onError` hook reports of the framework's request, read through that framework's API. */
export interface SeenRequest {
  method: string;
  path: string;
}

/** Options a suite passes to `startApp`; the app hands them to its adapter (adding `getToken` for `cookie`). */
export interface SuiteAppOptions extends Omit<HttpAuthOptions<never>, 'getToken' | 'onError'> {
  /** Read the token from this cookie instead of the `Authorization` header. */
  cookie?: string;
  /** Passed as the adapter's `onError`, with the framework's request reduced to method and path. */
  onError?: (error: unknown, request: SeenRequest) => void;
}

export interface RunningApp {
  readonly origin: string;
  close(): Promise<void>;
}

export type StartApp = (options: SuiteAppOptions) => Promise<RunningApp>;

/** Listen on a random loopback port; `close` also drops keep-alive connections. */
export async function listen(server: Server): Promise<RunningApp> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A JWKS URL whose server answers every request with 500. */
async function failingJwksServer(): Promise<RunningApp> {
  return listen(
    createServer((_request, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error');
    }),
  );
}

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = await listen(createServer());
  await probe.close();
  return Number(new URL(probe.origin).port);
}

const RFC6750_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/**
 * Parse a `WWW-Authenticate: Bearer` challenge strictly (RFC 7235 auth-params with quoted values,
 * RFC 6750 character set); fails the test on anything malformed.
 */
export function parseBearerChallenge(header: string | null): Record<string, string> {
  assert.ok(header, 'a WWW-Authenticate header is expected');
  assert.match(header, /^Bearer(?: |$)/, header);
  const params: Record<string, string> = {};
  const rest = header.slice('Bearer'.length).trim();
  const param = /([a-z_]+)="([^"\\]*)"(?:, |$)/y;
  while (param.lastIndex < rest.length) {
    const match = param.exec(rest);
    assert.ok(match, `malformed challenge at ${param.lastIndex}: ${header}`);
    const [, name = '', value = ''] = match;
    assert.ok(!(name in params), `repeated ${name}`);
    assert.match(value, RFC6750_TEXT, `${name} holds characters RFC 6750 forbids`);
    params[name] = value;
  }
  return params;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function get(origin: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${origin}${path}`, { headers });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the assertions on `body` will say so
  }
  return { status: response.status, headers: response.headers, body, text };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const POOL = 'local_pool1';
const CLIENT = 'suite-client';
const REALM = 'cognito-jwt-test';

/** Register the whole suite for one adapter. */
export function runAdapterSuite(name: string, startApp: StartApp): void {
  describe(`${name} adapter`, () => {
    const key = generateKeyPair();
    let jwks: JwksServer;
    let config: VerifierConfig;
    let mint: (options?: Partial<MintOptions>) => string;

    before(async () => {
      jwks = await startJwksServer({ keys: [key] });
      config = { userPoolId: POOL, issuer: jwks.issuer(POOL), clientId: CLIENT, tokenUse: 'access' };
      mint = (options = {}) =>
        mintAccessToken({ key, issuer: jwks.issuer(POOL), clientId: CLIENT, username: 'ada', ...options });
    });
    after(() => jwks.close());

    /** Start an app with the suite's access-token verifier (unless overridden), run `fn`, close the app. */
    async function withApp(
      options: Partial<SuiteAppOptions>,
      fn: (origin: string) => Promise<void>,
    ): Promise<void> {
      const app = await startApp({ verifier: new CognitoVerifier(config), realm: REALM, ...options });
      try {
        await fn(app.origin);
      } finally {
        await app.close();
      }
    }

    /** A refusal: status, code, challenge; the message is the fixed client sentence unless `detailed`. */
    async function expectRefusal(
      answer: Answer,
      status: 401 | 403,
      code: ErrorCode,
      error: 'invalid_token' | 'insufficient_scope' | undefined,
      detailed = false,
    ): Promise<Record<string, string>> {
      assert.equal(answer.status, status, answer.text);
      assert.equal(answer.body.code, code, answer.text);
      assert.equal(typeof answer.body.message, 'string');
      if (!detailed) assert.equal(answer.body.message, clientMessage(code), answer.text);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
      const challenge = parseBearerChallenge(answer.headers.get('www-authenticate'));
      assert.equal(challenge.realm, REALM);
      assert.equal(challenge.error, error);
      if (error) assert.equal(challenge.error_description, answer.body.message);
      return challenge;
    }

    test('a valid access token reaches the handler with typed claims', async () => {
      await withApp({}, async (origin) => {
        const token = mint({ sub: 'user-1', groups: ['readers'] });
        const answer = await get(origin, '/me', bearer(token));
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(answer.body, {
          sub: 'user-1',
          tokenUse: 'access',
          username: 'ada',
          groups: ['readers'],
        });
      });
    });

    test('a verifier config instead of a verifier works the same', async () => {
      await withApp({ verifier: config }, async (origin) => {
        const answer = await get(origin, '/me', bearer(mint({ sub: 'user-2' })));
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.sub, 'user-2');
      });
    });

    test('no token: 401 with a bare Bearer challenge (RFC 6750 §3.1: no error code)', async () => {
      await withApp({}, async (origin) => {
        const answer = await get(origin, '/me');
        const challenge = await expectRefusal(answer, 401, 'ERR_TOKEN_MISSING', undefined);
        assert.deepEqual(Object.keys(challenge), ['realm']);
      });
    });

    test('another scheme (Basic) counts as no bearer token; the answer says a Bearer header is expected', async () => {
      await withApp({}, async (origin) => {
        const answer = await get(origin, '/me', { authorization: 'Basic dXNlcjpwYXNz' });
        await expectRefusal(answer, 401, 'ERR_TOKEN_MISSING', undefined);
        assert.match(String(answer.body.message), /Bearer <token>/);
      });
    });

    test('malformed tokens and headers: 401 invalid_token', async () => {
      await withApp({}, async (origin) => {
        for (const authorization of ['Bearer not-a-jwt', 'Bearer', 'Bearer a.b.c extra']) {
          const answer = await get(origin, '/me', { authorization });
          await expectRefusal(answer, 401, 'ERR_TOKEN_MALFORMED', 'invalid_token');
        }
      });
    });

    test('expired token: 401 invalid_token, ERR_TOKEN_EXPIRED', async () => {
      await withApp({}, async (origin) => {
        const answer = await get(origin, '/me', bearer(mint({ expiresIn: -60 })));
        const challenge = await expectRefusal(answer, 401, 'ERR_TOKEN_EXPIRED', 'invalid_token');
        assert.equal(challenge.error_description, 'the token has expired');
      });
    });

    test('token of another pool: 401 ERR_ISSUER_MISMATCH', async () => {
      await withApp({}, async (origin) => {
        const answer = await get(origin, '/me', bearer(mint({ issuer: jwks.issuer('local_other') })));
        await expectRefusal(answer, 401, 'ERR_ISSUER_MISMATCH', 'invalid_token');
      });
    });

    test('token of another app client: 401 ERR_CLIENT_MISMATCH', async () => {
      await withApp({}, async (origin) => {
        const answer = await get(origin, '/me', bearer(mint({ clientId: 'someone-else' })));
        await expectRefusal(answer, 401, 'ERR_CLIENT_MISMATCH', 'invalid_token');
      });
    });

    test('an ID token on an access-token API: 401 ERR_TOKEN_USE_MISMATCH', async () => {
      await withApp({}, async (origin) => {
        const idToken = mintIdToken({ key, issuer: jwks.issuer(POOL), clientId: CLIENT, groups: ['admins'] });
        const answer = await get(origin, '/admin', bearer(idToken));
        await expectRefusal(answer, 401, 'ERR_TOKEN_USE_MISMATCH', 'invalid_token');
      });
    });

    test('a token whose groups were edited after signing: 401 ERR_SIGNATURE_INVALID, never 200', async () => {
      await withApp({}, async (origin) => {
        const forged = tamperPayload(mint({ groups: ['readers'] }), { 'cognito:groups': ['admins'] });
        const answer = await get(origin, '/admin', bearer(forged));
        await expectRefusal(answer, 401, 'ERR_SIGNATURE_INVALID', 'invalid_token');
      });
    });

    test('missing group: 403 insufficient_scope, the group named only in the detail', async () => {
      await withApp({}, async (origin) => {
        const answer = await get(origin, '/admin', bearer(mint({ groups: ['readers'] })));
        const challenge = await expectRefusal(answer, 403, 'ERR_GROUP_MISSING', 'insufficient_scope');
        assert.doesNotMatch(answer.text + challenge.error_description, /admins/);
        const allowed = await get(origin, '/admin', bearer(mint({ groups: ['readers', 'admins'] })));
        assert.equal(allowed.status, 200, allowed.text);
      });
    });

    test('missing scope: 403 insufficient_scope, the scope named only in the detail', async () => {
      await withApp({}, async (origin) => {
        const answer = await get(origin, '/orders', bearer(mint({ scope: 'openid orders/write' })));
        const challenge = await expectRefusal(answer, 403, 'ERR_SCOPE_MISSING', 'insufficient_scope');
        assert.doesNotMatch(answer.text + challenge.error_description, /orders\/read/);
        const allowed = await get(origin, '/orders', bearer(mint({ scope: 'openid orders/read' })));
        assert.equal(allowed.status, 200, allowed.text);
      });
    });

    test('a group required by the verifier config itself answers 403 too', async () => {
      await withApp({ verifier: { ...config, groups: 'staff' } }, async (origin) => {
        const answer = await get(origin, '/me', bearer(mint({ groups: ['readers'] })));
        await expectRefusal(answer, 403, 'ERR_GROUP_MISSING', 'insufficient_scope');
      });
    });

    test('roles: editors and admins hold the editor role, others get 403', async () => {
      await withApp({}, async (origin) => {
        for (const groups of [['editors'], ['admins']]) {
          const answer = await get(origin, '/editor', bearer(mint({ groups })));
          assert.equal(answer.status, 200, `${groups}: ${answer.text}`);
        }
        const refused = await get(origin, '/editor', bearer(mint({ groups: ['readers'] })));
        await expectRefusal(refused, 403, 'ERR_GROUP_MISSING', 'insufficient_scope');
      });
    });

    test('predicate: a user may read their own record, an admin any, others get 403 ERR_FORBIDDEN', async () => {
      await withApp({}, async (origin) => {
        const own = await get(origin, '/users/user-7', bearer(mint({ sub: 'user-7' })));
        assert.equal(own.status, 200, own.text);
        const admin = await get(origin, '/users/user-7', bearer(mint({ sub: 'boss', groups: ['admins'] })));
        assert.equal(admin.status, 200, admin.text);
        const other = await get(origin, '/users/user-7', bearer(mint({ sub: 'user-8' })));
        await expectRefusal(other, 403, 'ERR_FORBIDDEN', 'insufficient_scope');
      });
    });

    test('keys unavailable (JWKS answers 500): 503 without a challenge', async () => {
      const failing = await failingJwksServer();
      try {
        const verifier = new CognitoVerifier({ ...config, jwksUri: `${failing.origin}/jwks.json` });
        await withApp({ verifier }, async (origin) => {
          const answer = await get(origin, '/me', bearer(mint()));
          assert.equal(answer.status, 503, answer.text);
          assert.equal(answer.body.code, 'ERR_JWKS_FETCH_FAILED');
          assert.equal(answer.headers.get('www-authenticate'), null);
        });
      } finally {
        await failing.close();
      }
    });

    test('keys unavailable (JWKS port closed): 503', async () => {
      const port = await closedPort();
      const verifier = new CognitoVerifier({ ...config, jwksUri: `http://127.0.0.1:${port}/jwks.json` });
      await withApp({ verifier }, async (origin) => {
        const answer = await get(origin, '/me', bearer(mint()));
        assert.equal(answer.status, 503, answer.text);
        assert.equal(answer.body.code, 'ERR_JWKS_FETCH_FAILED');
      });
    });

    test('claim text never reaches the client; the token never appears in answers', async () => {
      await withApp({}, async (origin) => {
        const hostile = mint({ claims: { iss: 'https://evil.example/"\\\r\nX-Injected: 1 \u00e9\u2028' } });
        const answer = await get(origin, '/me', bearer(hostile));
        const challenge = await expectRefusal(answer, 401, 'ERR_ISSUER_MISMATCH', 'invalid_token');
        assert.equal(challenge.error_description, 'the token was not issued for this API');
        assert.doesNotMatch(answer.text, /evil/);
        assert.ok(!answer.text.includes(hostile));
      });
    });

    test('exposeErrorDetail: the detail is sent, made safe for WWW-Authenticate; the token never appears', async () => {
      await withApp({ exposeErrorDetail: true }, async (origin) => {
        const hostile = mint({ claims: { iss: 'https://evil.example/"\\\r\nX-Injected: 1 \u00e9\u2028' } });
        const answer = await get(origin, '/me', bearer(hostile));
        const challenge = await expectRefusal(answer, 401, 'ERR_ISSUER_MISMATCH', 'invalid_token', true);
        assert.match(challenge.error_description ?? '', /evil\.example/);
        assert.equal(answer.headers.get('x-injected'), null);
        for (const [, value] of answer.headers) assert.ok(!value.includes(hostile));
        const [, , signature = ''] = hostile.split('.');
        assert.ok(!answer.text.includes(hostile) && !answer.text.includes(signature));
      });
    });

    test('exposeErrorDetail: a missing group is named in the body and the challenge', async () => {
      await withApp({ exposeErrorDetail: true }, async (origin) => {
        const answer = await get(origin, '/admin', bearer(mint({ groups: ['readers'] })));
        const challenge = await expectRefusal(answer, 403, 'ERR_GROUP_MISSING', 'insufficient_scope', true);
        assert.match(challenge.error_description ?? '', /admins/);
        assert.match(String(answer.body.message), /admins/);
      });
    });

    test('onError is told of every refusal with the detailed error and the framework request', async () => {
      const seen: { code: unknown; message: string; method: string; path: string }[] = [];
      const onError = (error: unknown, request: SeenRequest) => {
        assert.ok(error instanceof CognitoJwtError);
        seen.push({ code: error.code, message: error.message, ...request });
      };
      await withApp({ onError }, async (origin) => {
        await get(origin, '/me');
        await get(origin, '/admin', bearer(mint({ groups: ['readers'] })));
        await get(origin, '/me', bearer(mint({ expiresIn: -60 })));
        const fine = await get(origin, '/me', bearer(mint()));
        assert.equal(fine.status, 200);
      });
      assert.deepEqual(
        seen.map(({ code, method, path }) => [code, method, path]),
        [
          ['ERR_TOKEN_MISSING', 'GET', '/me'],
          ['ERR_GROUP_MISSING', 'GET', '/admin'],
          ['ERR_TOKEN_EXPIRED', 'GET', '/me'],
        ],
      );
      assert.match(seen[1]?.message ?? '', /admins/);
      assert.match(seen[2]?.message ?? '', /token expired at /);
    });

    test('onError is told of forwarded errors too; an error it throws goes to the framework', async () => {
      const seen: unknown[] = [];
      await withApp(
        { forwardErrors: true, onError: (error) => seen.push((error as CognitoJwtError).code) },
        async (origin) => {
          const missing = await get(origin, '/me');
          assert.deepEqual([missing.status, missing.body], [418, { forwarded: 'ERR_TOKEN_MISSING' }]);
        },
      );
      assert.deepEqual(seen, ['ERR_TOKEN_MISSING']);
      const throwing = () => {
        throw new Error('logger down');
      };
      await withApp({ onError: throwing }, async (origin) => {
        const answer = await get(origin, '/me');
        assert.deepEqual([answer.status, answer.body], [418, { forwarded: 'Error: logger down' }]);
      });
    });

    test('credentialsRequired: false lets anonymous requests through, but not bad tokens', async () => {
      await withApp({ credentialsRequired: false }, async (origin) => {
        const anonymous = await get(origin, '/me');
        assert.equal(anonymous.status, 200, anonymous.text);
        assert.deepEqual(anonymous.body, { anonymous: true });
        const signedIn = await get(origin, '/me', bearer(mint({ sub: 'user-3' })));
        assert.equal(signedIn.body.sub, 'user-3');
        const bad = await get(origin, '/me', bearer(mint({ expiresIn: -1 })));
        await expectRefusal(bad, 401, 'ERR_TOKEN_EXPIRED', 'invalid_token');
        const guarded = await get(origin, '/signed-in');
        await expectRefusal(guarded, 401, 'ERR_TOKEN_MISSING', undefined);
        const admin = await get(origin, '/admin');
        await expectRefusal(admin, 401, 'ERR_TOKEN_MISSING', undefined);
      });
    });

    test('a custom extractor reads the token from a cookie', async () => {
      await withApp({ cookie: 'session' }, async (origin) => {
        const answer = await get(origin, '/me', { cookie: `theme=dark; session=${mint({ sub: 'user-4' })}` });
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.sub, 'user-4');
        const headerOnly = await get(origin, '/me', bearer(mint()));
        await expectRefusal(headerOnly, 401, 'ERR_TOKEN_MISSING', undefined);
      });
    });

    test('forwardErrors hands every refusal to the framework error handler', async () => {
      await withApp({ forwardErrors: true }, async (origin) => {
        const missing = await get(origin, '/me');
        assert.equal(missing.status, 418, missing.text);
        assert.deepEqual(missing.body, { forwarded: 'ERR_TOKEN_MISSING' });
        const forbidden = await get(origin, '/admin', bearer(mint()));
        assert.deepEqual([forbidden.status, forbidden.body], [418, { forwarded: 'ERR_GROUP_MISSING' }]);
      });
    });

    test('a bad verifier config fails when the app is built, not on a request', async () => {
      await assert.rejects(
        startApp({ verifier: { userPoolId: 'no pool', clientId: CLIENT, tokenUse: 'access' } }),
        { code: 'ERR_CONFIG_INVALID' },
      );
      await assert.rejects(startApp({ verifier: new CognitoVerifier(config), realm: 'say "hi"' }), {
        code: 'ERR_CONFIG_INVALID',
      });
      await assert.rejects(startApp({ verifier: config, exposeErrorDetail: 'yes' as never }), {
        code: 'ERR_CONFIG_INVALID',
        message: /exposeErrorDetail must be true or false/,
      });
    });
  });
}
