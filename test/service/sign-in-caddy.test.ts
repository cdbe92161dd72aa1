/**
 * Browser sign-in through `serve` behind Debian's Caddy, with the Caddyfile of docs/service.md
 * ("Sign-in with Caddy") as printed: a Cognito-like provider, the service, an echo upstream, and a
 * scripted browser that follows redirects over plain HTTP. In both session modes. (A refresh in
 * cookie mode is not carried by Caddy, as the doc says; the nginx test covers refreshes.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Caddy, startCaddy } from '../helpers/caddy.ts';
import type { EchoedRequest } from '../helpers/echo-upstream.ts';
import { freePort } from '../helpers/proxy-process.ts';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { serviceDocBlock, substitute } from '../helpers/service-doc.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';
import { type SignInService, startSignInService } from '../helpers/sign-in-service.ts';

/** The documented site block on the test's ports; the cookie has no `__Host-` prefix on http://localhost. */
function signInBlock(port: number, servicePort: number, upstreamPort: number): string {
  // Every session-cookie name loses its `__Host-` prefix.
  return substitute(
    serviceDocBlock('Sign-in with Caddy', 'caddyfile').replaceAll('__Host-session', 'session'),
    [
      ['app.example.com {', `http://127.0.0.1:${port} {`],
      ['reverse_proxy /oauth2/* 127.0.0.1:9180', `reverse_proxy /oauth2/* 127.0.0.1:${servicePort}`],
      ['forward_auth 127.0.0.1:9180 {', `forward_auth 127.0.0.1:${servicePort} {`],
      ['reverse_proxy 127.0.0.1:8080', `reverse_proxy 127.0.0.1:${upstreamPort}`],
    ],
  );
}

/** Enough groups in both tokens to make a session in the cookie two chunks. */
const MANY_GROUPS = Array.from({ length: 25 }, (_, i) => `a-rather-long-group-name-${i}`);

for (const mode of ['redis', 'cookie'] as const)
  describe(`sign-in through Caddy and serve, sessions in the ${mode}`, () => {
    let redis: RedisServer;
    let fleet: SignInService;
    let caddy: Caddy;

    before(async () => {
      redis = await startRedisServer();
      const port = await freePort();
      fleet = await startSignInService({ port, mode, redisUrl: redis.url });
      caddy = await startCaddy({
        servicePort: fleet.servicePort,
        upstreamPort: fleet.upstream.port,
        port,
        block: (listen) => signInBlock(listen, fleet.servicePort, fleet.upstream.port),
      });
    });
    after(async () => {
      await caddy?.stop();
      await fleet?.close();
      await redis?.stop();
    });

    const browser = () => new ScriptedBrowser(fleet.appOrigin, caddy.origin);
    const lastSeen = (): EchoedRequest => fleet.upstream.requests.at(-1) as EchoedRequest;
    const signIn = async (sub: string, groups: string[] = ['users']) => {
      const b = browser();
      b.jar(fleet.appOrigin).set('theme', 'dark');
      fleet.op.signInAs({ sub, groups, email: `${sub}@example.com` });
      const first = await b.request('/page?x=1&y=2');
      assert.equal(first.status, 302, caddy.output());
      assert.equal(first.headers.get('location'), '/oauth2/start?rd=/page?x=1&y=2');
      const { response, visited } = await b.follow('/page?x=1&y=2');
      assert.equal(response.status, 200, `${visited.join('\n')}\n${caddy.output()}`);
      assert.ok(visited.some((url) => url.startsWith(`${fleet.appOrigin}/oauth2/callback?`)));
      assert.equal(new URL(visited.at(-1) as string).pathname, '/page');
      assert.equal(lastSeen().url, '/page?x=1&y=2', 'back where the browser started');
      return b;
    };

    test('an unauthenticated browser signs in; the upstream gets the identity headers and never the session cookie', async () => {
      await signIn(`${mode}-user-1`);
      const seen = lastSeen();
      assert.equal(seen.headers['x-auth-request-sub'], `${mode}-user-1`);
      assert.equal(seen.headers['x-auth-request-groups'], 'users');
      assert.equal(seen.headers['x-auth-request-token-use'], 'access');
      assert.doesNotMatch(String(seen.headers.cookie ?? ''), /session/);
      assert.match(String(seen.headers.cookie ?? ''), /theme=dark/);
    });

    if (mode === 'cookie')
      test('a session cut into two cookies: the upstream gets neither chunk', async () => {
        const b = await signIn(`${mode}-user-chunks`, MANY_GROUPS);
        const chunks = [...b.jar(fleet.appOrigin).keys()].filter((name) => name.startsWith('session.'));
        assert.deepEqual(chunks.sort(), ['session.0', 'session.1']);
        const seen = lastSeen();
        assert.doesNotMatch(String(seen.headers.cookie ?? ''), /session/);
        assert.match(String(seen.headers.cookie ?? ''), /theme=dark/);
      });

    test('a route rule refuses a signed-in user without the group: 403, and the upstream is not asked', async () => {
      const b = await signIn(`${mode}-user-2`);
      fleet.upstream.reset();
      const admin = await b.request('/admin/panel');
      assert.equal(admin.status, 403);
      assert.equal(((await admin.json()) as { code: string }).code, 'ERR_GROUP_MISSING');
      assert.equal(fleet.upstream.requests.length, 0);
    });

    test('sign-out (POST, same origin) ends the session: the old cookie is sent to sign in again', async () => {
      const b = await signIn(`${mode}-user-3`);
      const old = b.cookieHeader();
      const out = await b.request('/oauth2/sign_out', {
        method: 'POST',
        headers: { origin: fleet.appOrigin },
      });
      assert.equal(out.status, 303);
      assert.equal(new URL(out.headers.get('location') as string).pathname, '/logout');
      fleet.upstream.reset();
      const replay = await b.request('/page', { headers: { cookie: old } });
      assert.equal(replay.status, 302);
      assert.equal(replay.headers.get('location'), '/oauth2/start?rd=/page');
      assert.equal(fleet.upstream.requests.length, 0);
    });
  });
