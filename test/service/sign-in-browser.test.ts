/**
 * A real browser through the whole fleet: Debian's chromium (headless, trusting a test CA made
 * here with openssl, see test/helpers/chromium.ts) → Debian's nginx over TLS, with the config of
 * docs/service.md ("Sign-in with nginx") as printed, only the listen line (TLS), the certificate
 * and the ports swapped → `serve` with a `session` block → the echo upstream. In both session
 * modes: sign in, reach the upstream with the identity headers, live past the access token's
 * expiry, sign out with a same-origin POST from the page, and be refused with the old cookie.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Cookie } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.ts';
import type { EchoedRequest } from '../helpers/echo-upstream.ts';
import { type Nginx, startNginx } from '../helpers/nginx.ts';
import { freePort } from '../helpers/proxy-process.ts';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { serviceDocBlock, substitute } from '../helpers/service-doc.ts';
import { type SignInService, startSignInService } from '../helpers/sign-in-service.ts';
import { makeTestCertificates } from '../helpers/test-ca.ts';

const TOKEN_TTL = 4;

/** The documented block on the test's ports, listening with TLS. */
function signInBlock(dir: string, port: number, servicePort: number, upstreamPort: number): string {
  return substitute(serviceDocBlock('Sign-in with nginx', 'nginx'), [
    ['server 127.0.0.1:9180;', `server 127.0.0.1:${servicePort};`],
    [
      'listen 80;',
      `listen 127.0.0.1:${port} ssl;\n  ssl_certificate ${dir}/server.pem;\n  ssl_certificate_key ${dir}/server.key;`,
    ],
    ['proxy_pass http://127.0.0.1:8080;', `proxy_pass http://127.0.0.1:${upstreamPort};`],
  ]);
}

const sessionCookies = (cookies: readonly Cookie[]) =>
  cookies.filter((cookie) => cookie.name.startsWith('__Host-session.'));

for (const mode of ['redis', 'cookie'] as const)
  describe(`chromium through nginx over TLS and serve, sessions in the ${mode}`, {
    skip: !chromiumAvailable && 'chromium, certutil or openssl missing',
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-sign-in-browser-'));
    let redis: RedisServer;
    let fleet: SignInService;
    let nginx: Nginx;
    let context: BrowserContext;

    before(async () => {
      const tls = makeTestCertificates();
      writeFileSync(join(dir, 'ca.pem'), tls.caPem);
      writeFileSync(join(dir, 'server.pem'), tls.certPem);
      writeFileSync(join(dir, 'server.key'), tls.keyPem);
      redis = await startRedisServer();
      const port = await freePort();
      fleet = await startSignInService({
        port,
        https: true,
        mode,
        redisUrl: redis.url,
        tokenTtlSeconds: TOKEN_TTL,
      });
      nginx = await startNginx({
        servicePort: fleet.servicePort,
        upstreamPort: fleet.upstream.port,
        port,
        block: (listen) => signInBlock(dir, listen, fleet.servicePort, fleet.upstream.port),
      });
      context = await launchChromium(dir, join(dir, 'ca.pem'));
    });
    after(async () => {
      await context?.close();
      await nginx?.stop();
      await fleet?.close();
      await redis?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('signs in, reaches the upstream with the identity headers, lives past token expiry, signs out; the old cookie is refused', {
      timeout: 60_000,
    }, async () => {
      const { op, upstream, appOrigin } = fleet;
      const page = await context.newPage();
      const sub = `browser-${mode}`;

      // Sign in: nginx's 401 → /oauth2/start → the provider → /oauth2/callback → back to /page.
      op.signInAs({ sub, groups: ['users'], email: `${sub}@example.com` });
      const landed = await page.goto(`${appOrigin}/page?x=1`);
      assert.equal(landed?.status(), 200, await nginx.errorLog());
      assert.equal(page.url(), `${appOrigin}/page?x=1`);
      assert.equal(op.count('token:authorization_code'), 1);
      const signedIn = sessionCookies(await context.cookies(appOrigin));
      assert.equal(signedIn.length, 1);
      assert.equal(signedIn[0]?.secure, true);
      assert.equal(signedIn[0]?.httpOnly, true);

      // What the upstream received (it echoes it): the identity headers from the session, never the
      // cookie. (Chromium also asks for /favicon.ico, so the page, not the upstream's last request.)
      const echoed = async () => JSON.parse((await page.textContent('body')) as string) as EchoedRequest;
      const seen = await echoed();
      assert.ok(upstream.requests.some((request) => request.url === '/page?x=1'));
      assert.equal(seen.url, '/page?x=1');
      assert.equal(seen.headers['x-auth-request-sub'], sub);
      assert.equal(seen.headers['x-auth-request-groups'], 'users');
      assert.equal(seen.headers['x-auth-request-token-use'], 'access');
      assert.doesNotMatch(String(seen.headers.cookie ?? ''), /session\./);

      // Past the access token's expiry: the next request refreshes inside the auth request.
      const refreshes = op.count('token:refresh_token');
      await new Promise((resolve) => setTimeout(resolve, (TOKEN_TTL + 1) * 1000));
      const later = await page.goto(`${appOrigin}/later`);
      assert.equal(later?.status(), 200);
      const after = await echoed();
      assert.equal(after.url, '/later');
      assert.equal(after.headers['x-auth-request-sub'], sub);
      assert.equal(op.count('token:refresh_token'), refreshes + 1);
      assert.equal(op.count('token:authorization_code'), 1, 'no second sign-in');
      const refreshed = sessionCookies(await context.cookies(appOrigin));
      assert.equal(refreshed.length, 1);
      const setCookie = (await later?.headerValue('set-cookie')) ?? '';
      if (mode === 'redis') {
        assert.deepEqual(refreshed, signedIn, 'the cookie never changes');
        assert.doesNotMatch(setCookie, /__Host-session/);
      } else {
        assert.match(setCookie, /^__Host-session\.0=/, 'nginx carried the refreshed cookie');
        assert.notEqual(refreshed[0]?.value, signedIn[0]?.value);
      }
      const fromPage = await page.evaluate(async () => (await fetch('/api/me')).status);
      assert.equal(fromPage, 200);

      // Sign out: a same-origin POST from the page (the browser adds Origin). The 303 to the
      // provider's /logout is not followed: that would sign straight in again (no login form).
      const old = sessionCookies(await context.cookies(appOrigin));
      const [out, outType] = await Promise.all([
        page.waitForResponse(`${appOrigin}/oauth2/sign_out`),
        page.evaluate(
          async () => (await fetch('/oauth2/sign_out', { method: 'POST', redirect: 'manual' })).type,
        ),
      ]);
      assert.equal(outType, 'opaqueredirect');
      assert.equal(await out.request().headerValue('origin'), appOrigin);
      assert.equal(out.status(), 303);
      assert.ok(out.headers().location?.startsWith(`${op.origin}/logout?`), out.headers().location);
      assert.equal(sessionCookies(await context.cookies(appOrigin)).length, 0, 'the cookie is cleared');

      // The old cookie, put back in the browser, is refused: sent to sign in, the upstream not reached.
      await context.addCookies(old);
      upstream.reset();
      const [replay, type] = await Promise.all([
        page.waitForResponse(`${appOrigin}/page`),
        page.evaluate(async () => (await fetch('/page', { redirect: 'manual' })).type),
      ]);
      assert.equal(type, 'opaqueredirect');
      assert.equal(replay.status(), 302);
      assert.equal(replay.headers().location, '/oauth2/start?rd=/page');
      assert.match(
        (await replay.request().headerValue('cookie')) ?? '',
        /__Host-session\.0=/,
        'the old cookie was sent',
      );
      assert.equal(upstream.requests.length, 0);
      await page.close();
    });
  });
