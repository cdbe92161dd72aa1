// The service behind real proxies: Debian's nginx (auth_request) and Caddy (forward_auth), each
// started from the config docs/service.md documents, in front of an upstream that echoes what it
// received. Every refusal is checked twice: the client's status, and that the upstream saw nothing.
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { RevocationList } from '../../src/revocation/list.ts';
import { generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { startCaddy } from '../helpers/caddy.ts';
import { type EchoUpstream, startEchoUpstream } from '../helpers/echo-upstream.ts';
import { startNginx } from '../helpers/nginx.ts';
import { startRedisServer } from '../helpers/redis-server.ts';
import { CLIENT, POOL, rawRequest, startHarness } from './harness.ts';

interface Proxy {
  readonly origin: string;
  stop(): Promise<void>;
}

type StartProxy = (options: { servicePort: number; upstreamPort: number }) => Promise<Proxy>;

const PROXIES: [string, StartProxy][] = [
  ['nginx auth_request', startNginx],
  ['Caddy forward_auth', startCaddy],
];

/** The paths that must not reach /admin for a user outside "admins" (each normalises to /admin, or cannot be normalised). */
const BYPASSES = [
  '/public/%2e%2e/admin',
  '/public/%2E%2E/admin',
  '/public/.%2e/admin',
  '/public/../admin',
  '//admin',
  '/admin;x',
  '/admin;x/users',
  '/public/..;/admin',
  '/admin%2Fusers',
  '/public%2F..%2Fadmin',
  '/public/%252e%252e/admin',
  '/ADMIN',
  '/Admin/users',
  '/public/%2e%2e%2fadmin',
];

const IDENTITY = ['user', 'sub', 'groups', 'scope', 'client-id', 'token-use', 'email'];

async function setUp(t: TestContext, start: StartProxy) {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  // Case-insensitive paths, as for an upstream whose router ignores case: /ADMIN is /admin.
  const harness = await startHarness(t, {
    caseSensitivePaths: false,
    revocation: { redis: { url: redis.url }, onUnavailable: 'reject' },
  });
  await waitUntilReady(harness.service.url);
  // Another process's view of the same list: what an operator's "revoke" writes to.
  const revoker = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => revoker.close());
  await revoker.ready;
  const upstream = await startEchoUpstream();
  t.after(() => upstream.close());
  const proxy = await start({
    servicePort: Number(new URL(harness.service.url).port),
    upstreamPort: upstream.port,
  });
  t.after(() => proxy.stop());
  return { harness, upstream, proxy, revoker };
}

async function waitUntilReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await fetch(`${url}/readyz`)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the service did not become ready');
}

function originJti(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).origin_jti;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

async function refused(
  proxy: Proxy,
  upstream: EchoUpstream,
  path: string,
  headers: Record<string, string | string[]>,
  statuses: number[],
) {
  upstream.reset();
  const answer = await rawRequest(proxy.origin, 'GET', path, headers);
  assert.ok(
    statuses.includes(answer.status),
    `${path}: expected ${statuses.join(' or ')}, got ${answer.status}`,
  );
  assert.equal(upstream.requests.length, 0, `${path} reached the upstream`);
  return answer;
}

for (const [name, start] of PROXIES) {
  test(`${name}: the service decides and the proxy obeys`, async (t) => {
    const { harness, upstream, proxy, revoker } = await setUp(t, start);
    const user = (options = {}) => harness.access({ username: 'Zoë', groups: ['staff', 'a,b'], ...options });

    await t.test('a valid token reaches the upstream with the identity headers', async () => {
      upstream.reset();
      const token = user({ sub: 'sub-1' });
      const answer = await rawRequest(proxy.origin, 'GET', '/orders/42?page=2', bearer(token));
      assert.equal(answer.status, 200, answer.body);
      assert.equal(upstream.requests.length, 1);
      const seen = upstream.requests[0]!;
      assert.equal(seen.url, '/orders/42?page=2');
      assert.equal(seen.headers['x-auth-request-user'], 'Zo%C3%AB');
      assert.equal(decodeURIComponent(seen.headers['x-auth-request-user'] as string), 'Zoë');
      assert.equal(seen.headers['x-auth-request-sub'], 'sub-1');
      assert.equal(seen.headers['x-auth-request-groups'], 'staff,a%2Cb');
      assert.equal(seen.headers['x-auth-request-scope'], 'aws.cognito.signin.user.admin');
      assert.equal(seen.headers['x-auth-request-client-id'], CLIENT);
      assert.equal(seen.headers['x-auth-request-token-use'], 'access');
      // Access tokens carry no email: the service answers it empty, and no client value replaces it.
      assert.ok(!seen.headers['x-auth-request-email'], 'no email header value');
    });

    await t.test('an admin reaches /admin', async () => {
      upstream.reset();
      const answer = await rawRequest(
        proxy.origin,
        'GET',
        '/admin/users',
        bearer(user({ groups: ['admins'] })),
      );
      assert.equal(answer.status, 200);
      assert.equal(upstream.requests[0]?.headers['x-auth-request-groups'], 'admins');
    });

    await t.test(
      'forged, expired, wrong-client, wrong-group tokens and no token are refused before the upstream',
      async () => {
        const stranger = generateKeyPair({ kid: harness.key.kid });
        const forged = mintAccessToken({
          key: stranger,
          issuer: harness.jwks.issuer(POOL),
          clientId: CLIENT,
        });
        const cases: [string, string, Record<string, string>, number][] = [
          ['forged', '/orders/1', bearer(forged), 401],
          ['expired', '/orders/1', bearer(user({ expiresIn: -60 })), 401],
          ['wrong client', '/orders/1', bearer(user({ clientId: 'another-client' })), 401],
          ['wrong group', '/admin/users', bearer(user()), 403],
          ['no token', '/orders/1', {}, 401],
          ['not a JWT', '/orders/1', bearer('not-a-token'), 401],
        ];
        for (const [what, path, headers, status] of cases) {
          const answer = await refused(proxy, upstream, path, headers, [status]);
          if (status === 401) {
            assert.match(
              String(answer.headers['www-authenticate']),
              /^Bearer/,
              `${what}: the challenge reaches the client`,
            );
          }
        }
      },
    );

    await t.test('a revoked session is refused, and its other tokens with it', async () => {
      const token = user();
      upstream.reset();
      assert.equal(
        (await rawRequest(proxy.origin, 'GET', '/orders/1', bearer(token))).status,
        200,
        'valid first',
      );
      const sibling = user({ claims: { origin_jti: originJti(token) } });
      await revoker.revokeSession(originJti(token));
      // The service's mirror hears of it through Redis pub/sub, within milliseconds.
      let status = 200;
      for (let attempt = 0; attempt < 100 && status === 200; attempt++) {
        upstream.reset();
        status = (await rawRequest(proxy.origin, 'GET', '/orders/1', bearer(token))).status;
        if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(status, 401, 'the token that was cached as valid is refused now');
      assert.equal(upstream.requests.length, 0);
      const answer = await refused(proxy, upstream, '/orders/1', bearer(sibling), [401]);
      assert.match(String(answer.headers['www-authenticate']), /the token has been revoked/);
    });

    await t.test(
      "a client's own X-Auth-Request-* headers never reach the upstream as verified values",
      async () => {
        const forgedIdentity = {
          'x-auth-request-user': 'admin',
          'x-auth-request-sub': 'someone-else',
          'x-auth-request-groups': 'admins',
          'x-auth-request-email': 'boss@example.com',
          'x-auth-request-claims': 'eyJzdWIiOiJib3NzIn0',
        };
        // nginx passes the client's headers to the auth request: the service refuses them (400),
        // which nginx shows as 500. Caddy's documented config deletes them before asking.
        if (name.startsWith('nginx')) {
          await refused(proxy, upstream, '/orders/7', { ...forgedIdentity, ...bearer(user()) }, [500]);
          await refused(proxy, upstream, '/public/page', forgedIdentity, [500]);
          return;
        }
        // With a valid token: the verified values replace the client's.
        upstream.reset();
        let answer = await rawRequest(proxy.origin, 'GET', '/orders/7', {
          ...forgedIdentity,
          ...bearer(user({ sub: 'sub-7' })),
        });
        assert.equal(answer.status, 200);
        let seen = upstream.requests[0]!.headers;
        assert.equal(seen['x-auth-request-user'], 'Zo%C3%AB');
        assert.equal(seen['x-auth-request-sub'], 'sub-7');
        assert.equal(seen['x-auth-request-groups'], 'staff,a%2Cb');
        assert.ok(!seen['x-auth-request-email'], `email: ${seen['x-auth-request-email']}`);
        assert.ok(!seen['x-auth-request-claims'], 'claims header');
        // Without a token, on an anonymous route: nothing of the client's survives.
        upstream.reset();
        answer = await rawRequest(proxy.origin, 'GET', '/public/page', forgedIdentity);
        assert.equal(answer.status, 200);
        seen = upstream.requests[0]!.headers;
        for (const header of [...IDENTITY, 'claims']) {
          assert.ok(
            !seen[`x-auth-request-${header}`],
            `x-auth-request-${header}: ${seen[`x-auth-request-${header}`]}`,
          );
        }
        // Without a token on a protected route: refused.
        await refused(proxy, upstream, '/orders/7', forgedIdentity, [401]);
      },
    );

    await t.test('two Authorization headers are refused, not one of them chosen', async () => {
      // nginx refuses a duplicate Authorization itself (400). Caddy passes both to the service, which
      // refuses them (401); it would forward both upstream.
      const tokens = [user({ sub: 'me' }), user({ sub: 'someone-else', groups: ['admins'] })];
      const status = name.startsWith('nginx') ? 400 : 401;
      const answer = await refused(
        proxy,
        upstream,
        '/orders/1',
        { authorization: tokens.map((token) => `Bearer ${token}`) },
        [status],
      );
      if (status === 401) {
        assert.match(String(answer.headers['www-authenticate']), /^Bearer error="invalid_token"/);
      }
    });

    await t.test('path bypasses are refused through the proxy too', async () => {
      const token = user();
      for (const path of BYPASSES) {
        // nginx refuses some spellings itself (400); the service refuses the rest (403).
        await refused(proxy, upstream, path, bearer(token), [400, 403, 404]);
      }
      // The same spellings without a token never get past either.
      for (const path of BYPASSES) await refused(proxy, upstream, path, {}, [400, 401, 403, 404]);
      // What normalises into the public area is public, as it is for the upstream.
      upstream.reset();
      const answer = await rawRequest(proxy.origin, 'GET', '/admin/../public/page', {});
      assert.ok(answer.status === 200 || answer.status === 400, `status ${answer.status}`);
    });

    await t.test('with the service down the proxy denies (no fail-open)', async () => {
      const token = user({ groups: ['admins'] });
      await harness.service.close();
      await refused(proxy, upstream, '/orders/1', bearer(token), [500, 502, 503]);
      await refused(proxy, upstream, '/public/page', {}, [500, 502, 503]);
    });

    assert.ok(
      !harness.logLines.some((line) => line.includes('eyJ')),
      'no log line holds a token (or any base64url JSON)',
    );
  });
}
