/**
 * Browser sign-in through `serve` behind Debian's nginx, with the nginx config of docs/service.md
 * ("Sign-in with nginx") as printed: a Cognito-like provider, the service, an echo upstream, and a
 * scripted browser that follows redirects over plain HTTP. In both session modes: in Redis, and
 * in the cookie.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RevocationList } from '../../src/revocation/index.ts';
import type { EchoedRequest, EchoUpstream } from '../helpers/echo-upstream.ts';
import { type Nginx, startNginx } from '../helpers/nginx.ts';
import type { TestCognitoProvider } from '../helpers/oidc-provider.ts';
import { freePort } from '../helpers/proxy-process.ts';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { serviceDocBlock, substitute } from '../helpers/service-doc.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';
import { type SignInService, startSignInService } from '../helpers/sign-in-service.ts';

/** The documented block on the test's ports; the cookie has no `__Host-` prefix on http://localhost. */
function signInBlock(port: number, servicePort: number, upstreamPort: number): string {
  // Every session-cookie name loses its `__Host-` prefix.
  return substitute(serviceDocBlock('Sign-in with nginx', 'nginx').replaceAll('__Host-session', 'session'), [
    ['server 127.0.0.1:9180;', `server 127.0.0.1:${servicePort};`],
    ['listen 80;', `listen 127.0.0.1:${port};`],
    ['proxy_pass http://127.0.0.1:8080;', `proxy_pass http://127.0.0.1:${upstreamPort};`],
  ]);
}

const TOKEN_TTL = 4;
/** Enough groups in both tokens to make a session in the cookie two chunks. */
const MANY_GROUPS = Array.from({ length: 25 }, (_, i) => `a-rather-long-group-name-${i}`);

for (const mode of ['redis', 'cookie'] as const)
  describe(`sign-in through nginx and serve, sessions in the ${mode}`, () => {
    let redis: RedisServer;
    let op: TestCognitoProvider;
    let fleet: SignInService;
    let upstream: EchoUpstream;
    let nginx: Nginx;
    let revocations: RevocationList;
    let appOrigin: string;

    before(async () => {
      redis = await startRedisServer();
      const port = await freePort();
      fleet = await startSignInService({ port, mode, redisUrl: redis.url, tokenTtlSeconds: TOKEN_TTL });
      ({ op, upstream, appOrigin } = fleet);
      nginx = await startNginx({
        servicePort: fleet.servicePort,
        upstreamPort: upstream.port,
        port,
        block: (listen) => signInBlock(listen, fleet.servicePort, upstream.port),
      });
      revocations = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
      await revocations.ready;
    });
    after(async () => {
      await nginx?.stop();
      await fleet?.close();
      await revocations?.close();
      await redis?.stop();
    });

    const browser = () => new ScriptedBrowser(appOrigin, nginx.origin);
    const lastSeen = (): EchoedRequest => upstream.requests.at(-1) as EchoedRequest;
    const signIn = async (sub: string, groups: string[] = ['users']) => {
      const b = browser();
      b.jar(appOrigin).set('theme', 'dark');
      op.signInAs({ sub, groups, email: `${sub}@example.com` });
      const { response, visited } = await b.follow('/page?x=1&y=2');
      assert.equal(response.status, 200, `${visited.join('\n')}\n${await nginx.errorLog()}`);
      assert.ok(visited.some((url) => url.startsWith(`${appOrigin}/oauth2/start?rd=`)));
      assert.ok(visited.some((url) => url.startsWith(`${appOrigin}/oauth2/callback?`)));
      assert.equal(new URL(visited.at(-1) as string).pathname, '/page');
      assert.equal(lastSeen().url, '/page?x=1&y=2', 'back where the browser started');
      return b;
    };

    test('a browser signs in; the upstream gets the identity headers and never the session cookie', async () => {
      const b = await signIn(`${mode}-user-1`);
      const seen = lastSeen();
      assert.equal(seen.headers['x-auth-request-sub'], `${mode}-user-1`);
      assert.equal(seen.headers['x-auth-request-groups'], 'users');
      assert.equal(seen.headers['x-auth-request-token-use'], 'access');
      assert.doesNotMatch(String(seen.headers.cookie ?? ''), /session\./);
      assert.match(String(seen.headers.cookie ?? ''), /theme=dark/);
      // The route rules apply to the session: no admins group, no /admin.
      const admin = await b.request('/admin/panel');
      assert.equal(admin.status, 403);
      if (mode === 'redis') {
        const names = [...b.jar(appOrigin).keys()].filter((name) => name.startsWith('session'));
        assert.deepEqual(names, ['session.0']);
      }
    });

    if (mode === 'cookie')
      test('a session cut into two cookies: the upstream gets neither chunk', async () => {
        const b = await signIn(`${mode}-user-chunks`, MANY_GROUPS);
        const chunks = [...b.jar(appOrigin).keys()].filter((name) => name.startsWith('session.'));
        assert.deepEqual(chunks.sort(), ['session.0', 'session.1']);
        const seen = lastSeen();
        assert.doesNotMatch(String(seen.headers.cookie ?? ''), /session\./);
        assert.match(String(seen.headers.cookie ?? ''), /theme=dark/);
      });

    test('the session lives past the access token expiry (a refresh in the auth request)', async () => {
      const b = await signIn(`${mode}-user-2`);
      const cookie = b.cookieHeader();
      const refreshes = op.count('token:refresh_token');
      // Tokens live 4 s and are renewed at half their life: wait past it.
      await new Promise((resolve) => setTimeout(resolve, (TOKEN_TTL / 2 + 0.5) * 1000));
      const page = await b.request('/page');
      assert.equal(page.status, 200);
      assert.equal(((await page.json()) as EchoedRequest).headers['x-auth-request-sub'], `${mode}-user-2`);
      assert.equal(op.count('token:refresh_token'), refreshes + 1);
      if (mode === 'redis') assert.equal(b.cookieHeader(), cookie, 'the cookie never changes');
      else assert.notEqual(b.cookieHeader(), cookie, 'nginx carried the refreshed cookie');
    });

    test('sign-out (POST, same origin) ends the session: the old cookie is sent to sign in again', async () => {
      const b = await signIn(`${mode}-user-3`);
      const old = b.cookieHeader();
      const cross = await b.request('/oauth2/sign_out', {
        method: 'POST',
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(cross.status, 403);
      const viaGet = await b.request('/oauth2/sign_out');
      assert.equal(viaGet.status, 403, 'a GET sign-out is refused');
      const out = await b.request('/oauth2/sign_out', { method: 'POST', headers: { origin: appOrigin } });
      assert.equal(out.status, 303);
      assert.equal(new URL(out.headers.get('location') as string).pathname, '/logout');
      upstream.reset();
      const replay = await b.request('/page', { headers: { cookie: old } });
      // Redis mode: the session is gone from the store. Cookie mode: its origin_jti is on the revocation list.
      assert.equal(replay.status, 302);
      assert.equal(replay.headers.get('location'), '/oauth2/start?rd=/page');
      assert.equal(upstream.requests.length, 0);
    });

    test('a revocation of the user ends the session', async () => {
      const b = await signIn(`${mode}-user-4`);
      await revocations.revokeUser({ userPoolId: op.userPoolId, sub: `${mode}-user-4` });
      let answer = await b.request('/page');
      for (let i = 0; i < 40 && answer.status === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        answer = await b.request('/page');
      }
      assert.equal(answer.status, 302);
      assert.match(answer.headers.get('location') as string, /\/oauth2\/start\?rd=\/page$/);
    });

    test('a return address off the app is refused at /oauth2/start, and says nothing of the config', async () => {
      const b = browser();
      const away = await b.request('/oauth2/start?rd=https://evil.example/');
      assert.equal(away.status, 400);
      const body = (await away.json()) as { code: string; message: string };
      assert.equal(body.code, 'ERR_REDIRECT_INVALID');
      assert.doesNotMatch(JSON.stringify(body), new RegExp(op.clientId));
    });
  });
