import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { otherSession, type SessionFixture, startSessionApp } from '../helpers/session-app.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';

for (const newOriginJtiOnRefresh of [false, true])
  describe(`sign-in through a Cognito-like provider, with Express (a refresh ${newOriginJtiOnRefresh ? 'changes' : 'keeps'} origin_jti)`, () => {
    let fixture: SessionFixture;
    before(async () => {
      fixture = await startSessionApp({ provider: { newOriginJtiOnRefresh } });
    });
    after(() => fixture.close());

    const browser = () => new ScriptedBrowser(fixture.appOrigin, fixture.listenOrigin);

    test('a page without a session redirects to sign-in; an API path answers 401; a public path answers', async () => {
      const b = browser();
      const page = await b.request('/page?x=1');
      assert.equal(page.status, 303);
      assert.equal(page.headers.get('location'), '/auth/sign-in?return_to=%2Fpage%3Fx%3D1');
      const api = await b.request('/api/me');
      assert.equal(api.status, 401);
      assert.equal(((await api.json()) as { code: string }).code, 'ERR_SESSION_MISSING');
      assert.equal((await b.request('/health')).status, 200);
    });

    test('sign in, read a page and the API, refresh past expiry, sign out, and the old cookie is refused', async () => {
      const b = browser();
      fixture.op.signInAs({ sub: 'user-1', groups: ['admins'], email: 'u1@example.com' });
      const { response, visited } = await b.follow('/page?x=1');
      assert.equal(response.status, 200, visited.join('\n'));
      assert.equal(await response.text(), 'page of user-1');
      const callback = visited.find((url) => url.includes('/auth/callback'));
      assert.ok(callback, 'the browser came back through the callback');
      const authorize = new URL(visited.find((url) => url.includes('/oauth2/authorize?')) as string);
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorize.searchParams.get('nonce'));
      assert.ok(authorize.searchParams.get('state'));
      const jar = b.jar(fixture.appOrigin);
      assert.deepEqual(
        [...jar.keys()].filter((name) => name.startsWith('session')),
        ['session.0', 'session.1'].filter((name) => jar.has(name)),
      );
      assert.equal(
        [...jar.keys()].filter((name) => name.includes('signin')).length,
        0,
        'the pre-sign-in cookie is gone',
      );

      const me = await b.request('/api/me');
      assert.deepEqual(await me.json(), { sub: 'user-1', groups: ['admins'] });
      const oldCookie = b.cookieHeader();

      const refreshes = fixture.op.count('token:refresh_token');
      fixture.advance(3600); // the access token is past its renewal time for the session
      const [first, second] = await Promise.all([b.request('/api/me'), b.request('/api/me')]);
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(fixture.op.count('token:refresh_token'), refreshes + 1, 'one refresh for both requests');
      assert.notEqual(b.cookieHeader(), oldCookie, 'the refreshed session is a new cookie');
      const refreshedCookie = b.cookieHeader();
      fixture.advance(-3600);

      const cross = await b.request('/auth/sign-out', {
        method: 'POST',
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(cross.status, 403);
      const signOut = await b.request('/auth/sign-out', {
        method: 'POST',
        headers: { origin: fixture.appOrigin },
      });
      assert.equal(signOut.status, 303);
      const logout = new URL(signOut.headers.get('location') as string);
      assert.equal(logout.pathname, '/logout');
      assert.equal(logout.searchParams.get('client_id'), fixture.op.clientId);
      assert.equal(logout.searchParams.get('logout_uri'), `${fixture.appOrigin}/`);
      assert.equal(fixture.op.count('revoke'), 1);
      // The list learns whose session it was, so it can fold a user's sessions when a pool fills up.
      const revoked = fixture.revocations.entries().filter((entry) => entry.kind === 'session');
      assert.ok(revoked.length > 0);
      for (const entry of revoked) {
        assert.equal(entry.kind === 'session' && entry.owner?.userPoolId, fixture.op.userPoolId);
        assert.match(String(entry.kind === 'session' && entry.owner?.sub), /^[\w-]+$/);
      }
      const afterLogout = await b.follow(logout.href);
      assert.equal(
        afterLogout.visited[1],
        `${fixture.appOrigin}/`,
        'Cognito sends the browser to the sign-out URL',
      );
      assert.equal(fixture.op.count('logout'), 1);

      for (const cookie of [oldCookie, refreshedCookie]) {
        const again = await fetch(`${fixture.listenOrigin}/api/me`, { headers: { cookie } });
        assert.equal(again.status, 401);
        assert.equal(
          ((await again.json()) as { code: string }).code,
          'ERR_SESSION_ENDED',
          'this process knows',
        );
        // Another process (a new session object) shares only the revocation list with this one.
        const other = otherSession(fixture, { revocationList: fixture.revocations });
        const read = other.read({
          method: 'GET',
          url: '/api/me',
          header: (name) => (name === 'cookie' ? cookie : undefined),
        });
        await assert.rejects(read, { code: 'ERR_TOKEN_REVOKED' });
      }
    });
  });
