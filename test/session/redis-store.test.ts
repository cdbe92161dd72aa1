import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'redis';
import { ConfigError } from '../../src/errors.ts';
import {
  CognitoSession,
  openRedisSessionStore,
  type SessionRead,
  type SessionRequest,
  type SessionStore,
} from '../../src/session/index.ts';
import { rejectsCode } from '../helpers/assert-error.ts';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { otherSession, SECRET, type SessionFixture, startSessionApp } from '../helpers/session-app.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';

describe('sessions kept in Redis: two processes share them', () => {
  let redis: RedisServer;
  let fixture: SessionFixture;
  let storeA: SessionStore;
  let storeB: SessionStore;
  /** The second "process": its own CognitoSession and Redis client, its own clock. */
  let other: CognitoSession;
  let otherOffset = 0;

  before(async () => {
    redis = await startRedisServer();
    storeA = await openRedisSessionStore({ url: redis.url });
    storeB = await openRedisSessionStore({ url: redis.url });
    fixture = await startSessionApp({ session: { store: storeA } });
    other = otherSession(fixture, {
      revocationList: fixture.revocations,
      store: storeB,
      clock: () => Date.now() + otherOffset * 1000,
    });
  });
  after(async () => {
    await fixture.close();
    await storeA.close();
    await storeB.close();
    await redis.stop();
  });

  const browser = () => new ScriptedBrowser(fixture.appOrigin, fixture.listenOrigin);
  const asRequest = (b: ScriptedBrowser, method = 'GET'): SessionRequest => {
    const cookie = b.cookieHeader();
    return { method, url: '/api/me', header: (name) => (name === 'cookie' ? cookie : undefined) };
  };
  const signIn = async (sub: string) => {
    const b = browser();
    fixture.op.signInAs({ sub, groups: ['users'] });
    const { response, visited } = await b.follow('/page');
    assert.equal(response.status, 200, visited.join('\n'));
    return b;
  };

  test('the cookie holds only a sealed session id; another process reads the session from Redis', async () => {
    const b = await signIn('store-user-1');
    const jar = b.jar(fixture.appOrigin);
    const names = [...jar.keys()].filter((name) => name.startsWith('session'));
    assert.deepEqual(names, ['session.0']);
    assert.ok((jar.get('session.0') as string).length < 200, 'no token in the cookie');
    assert.doesNotMatch(jar.get('session.0') as string, /eyJ/);
    const read = await other.read(asRequest(b));
    assert.equal(read.claims.sub, 'store-user-1');
    assert.deepEqual(read.cookies, []);
  });

  test('past expiry, both processes at once refresh once, and the cookie never changes', async () => {
    const b = await signIn('store-user-2');
    const cookie = b.cookieHeader();
    const refreshes = fixture.op.count('token:refresh_token');
    let viaApp: Response;
    let viaOther: SessionRead;
    let again: typeof viaOther;
    fixture.advance(3600);
    otherOffset = 3600;
    try {
      [viaApp, viaOther, again] = await Promise.all([
        b.request('/api/me'),
        other.read(asRequest(b)),
        other.read(asRequest(b)),
      ]);
      assert.equal(viaApp.status, 200);
      assert.equal(viaOther.claims.sub, 'store-user-2');
      assert.equal(again.accessToken, viaOther.accessToken);
      assert.deepEqual(viaOther.cookies, []);
      assert.equal(fixture.op.count('token:refresh_token'), refreshes + 1, 'one refresh across processes');
      assert.equal(b.cookieHeader(), cookie, 'the cookie did not change');
    } finally {
      fixture.advance(-3600);
      otherOffset = 0;
    }
    const [next] = await Promise.all([other.read(asRequest(b)), b.request('/api/me')]);
    assert.equal(fixture.op.count('token:refresh_token'), refreshes + 1);
    assert.equal(next.accessToken, viaOther.accessToken, 'every process reads the refreshed tokens');
  });

  test('sessions are listed per user; sign-out ends one everywhere, endSessions ends the rest', async () => {
    const first = await signIn('store-user-3');
    const second = await signIn('store-user-3');
    const listed = await other.listSessions('store-user-3');
    assert.equal(listed.length, 2);
    for (const one of listed) assert.ok(one.endsAt > one.lastSeenAt && one.lastSeenAt >= one.createdAt);

    const signOut = await first.request('/auth/sign-out', {
      method: 'POST',
      headers: { origin: fixture.appOrigin },
    });
    assert.equal(signOut.status, 303);
    assert.equal((await other.listSessions('store-user-3')).length, 1);

    assert.equal((await second.request('/api/me')).status, 200);
    assert.equal(await other.endSessions('store-user-3'), 1);
    const refused = await second.request('/api/me');
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { code: string }).code, 'ERR_SESSION_ENDED');
    assert.deepEqual(await other.listSessions('store-user-3'), []);
  });

  test('an old cookie of a signed-out session is refused by every process', async () => {
    const b = await signIn('store-user-4');
    const old = asRequest(b);
    await b.request('/auth/sign-out', { method: 'POST', headers: { origin: fixture.appOrigin } });
    await rejectsCode(other.read(old), 'ERR_SESSION_ENDED');
  });

  test('a revocation of the user ends the session in the store', async () => {
    const b = await signIn('store-user-5');
    await fixture.revocations.revokeUser({ userPoolId: fixture.op.userPoolId, sub: 'store-user-5' });
    const refused = await b.request('/api/me');
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { code: string }).code, 'ERR_TOKEN_REVOKED');
    assert.deepEqual(await other.listSessions('store-user-5'), []);
  });

  test('a cookie-mode session cookie is no session in store mode', async () => {
    const cookieMode = await startSessionApp();
    try {
      const b = new ScriptedBrowser(cookieMode.appOrigin, cookieMode.listenOrigin);
      cookieMode.op.signInAs({ sub: 'store-user-6' });
      await b.follow('/page');
      const cookie = b.cookieHeader();
      await rejectsCode(
        other.read({ method: 'GET', url: '/', header: (name) => (name === 'cookie' ? cookie : undefined) }),
        'ERR_SESSION_INVALID',
      );
    } finally {
      await cookieMode.close();
    }
  });

  test('while Redis is down a read answers ERR_SESSION_STORE_UNAVAILABLE (503), and works once it is back', async () => {
    const b = await signIn('store-user-7');
    await redis.kill();
    try {
      const refused = await b.request('/api/me');
      assert.equal(refused.status, 503);
      assert.equal(((await refused.json()) as { code: string }).code, 'ERR_SESSION_STORE_UNAVAILABLE');
    } finally {
      await redis.restart();
    }
    // Nothing persisted (--save ''): the session is gone with the data, and says so.
    let answer = await b.request('/api/me');
    for (let i = 0; i < 100 && answer.status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer = await b.request('/api/me');
    }
    assert.equal(answer.status, 401);
    assert.equal(((await answer.json()) as { code: string }).code, 'ERR_SESSION_ENDED');
  });

  // The durability rule the revocation list keeps: a sign-out is never undone by Redis losing
  // writes. Here Redis comes back from a snapshot taken before the sign-out, so the ended session
  // is in the store again; the revocation list (whose mirrors restore what a store forgot) still
  // refuses its tokens in a process that never saw the sign-out.
  test('a signed-out session that Redis brings back from an older snapshot stays refused', async () => {
    const b = await signIn('store-user-8');
    const old = asRequest(b);
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      await raw.sendCommand(['SAVE']); // dump.rdb now holds the live session
    } finally {
      await raw.quit();
    }
    await b.request('/auth/sign-out', { method: 'POST', headers: { origin: fixture.appOrigin } });
    assert.deepEqual(await other.listSessions('store-user-8'), []);
    await redis.kill();
    await redis.restart(); // loads dump.rdb: the session is back
    try {
      let listed = await other.listSessions('store-user-8').catch(() => undefined);
      for (let i = 0; i < 100 && listed === undefined; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        listed = await other.listSessions('store-user-8').catch(() => undefined);
      }
      assert.equal(listed?.length, 1, 'the snapshot brought the ended session back');
      await rejectsCode(other.read(old), 'ERR_TOKEN_REVOKED');
    } finally {
      await rm(join(redis.dir, 'dump.rdb'), { force: true });
    }
  });
});

describe('the session store options', () => {
  test('are checked when the store is opened and when the session is built', async () => {
    await assert.rejects(() => openRedisSessionStore({ url: 'http://127.0.0.1:6379' }), ConfigError);
    await assert.rejects(
      () => openRedisSessionStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'a{b}' }),
      /no braces/,
    );
    await assert.rejects(
      () => openRedisSessionStore({ url: 'redis://127.0.0.1:6379', keyprefix: 'x' } as never),
      /keyPrefix/,
    );
    assert.throws(
      () =>
        new CognitoSession({
          domain: 'myapp.auth.eu-west-1.amazoncognito.com',
          clientId: 'app',
          verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app', tokenUse: 'access' },
          appOrigin: 'https://app.example.com',
          secrets: [SECRET],
          store: { redis: { url: 'redis://127.0.0.1:6379' } } as never,
        }),
      /store must be a session store/,
    );
  });

  test('listSessions without a store is a configuration mistake', async () => {
    const session = new CognitoSession({
      domain: 'myapp.auth.eu-west-1.amazoncognito.com',
      clientId: 'app',
      verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app', tokenUse: 'access' },
      appOrigin: 'https://app.example.com',
      secrets: [SECRET],
    });
    await assert.rejects(() => session.listSessions('someone'), ConfigError);
  });
});
