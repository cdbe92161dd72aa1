/**
 * What every Redis session store must do, whatever Redis it runs on (one node, a cluster): two
 * "processes" (two stores, two `CognitoSession`s) share sessions; a refresh happens once across them;
 * sessions are listed and ended per user; a sign-out or a revocation ends a session everywhere. Call
 * it inside a `describe`: it starts the backend, the stores and the app, registers these tests, and
 * returns what further tests of that backend need.
 *
 * ```ts
 * describe('sessions on one node', () => {
 *   const suite = sharedSessionStoreSuite(async () => {
 *     const redis = await startRedisServer();
 *     return { backend: redis, options: { url: redis.url }, stop: () => redis.stop() };
 *   });
 *   test('…', async () => { const b = await suite.signIn('someone'); … });
 * });
 * ```
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type CognitoSession,
  openRedisSessionStore,
  type RedisSessionStoreOptions,
  type SessionRead,
  type SessionRequest,
  type SessionStore,
} from '../../src/session/index.ts';
import { rejectsCode } from './assert-error.ts';
import { otherSession, type SessionFixture, startSessionApp } from './session-app.ts';
import { ScriptedBrowser } from './sign-in-client.ts';

/** A running Redis and how the two processes' stores reach it. */
export interface SessionStoreBackend<Backend> {
  readonly backend: Backend;
  /** The app's store options, and the other process's (default: the same). */
  readonly options: RedisSessionStoreOptions;
  readonly otherOptions?: RedisSessionStoreOptions;
  stop(): Promise<void>;
}

export interface SessionStoreSuite<Backend> {
  readonly backend: Backend;
  readonly fixture: SessionFixture;
  /** The app's store, and the other process's. */
  readonly storeA: SessionStore;
  readonly storeB: SessionStore;
  /** The second "process": its own CognitoSession and Redis client, its own clock. */
  readonly other: CognitoSession;
  browser(): ScriptedBrowser;
  /** The browser's cookies as a request the other process reads. */
  asRequest(b: ScriptedBrowser, method?: string): SessionRequest;
  /** A browser signed in as `sub` through the app. */
  signIn(sub: string): Promise<ScriptedBrowser>;
}

/** Start `start`'s Redis, two stores on it and the app; register the tests every store must pass. */
export function sharedSessionStoreSuite<Backend>(
  start: () => Promise<SessionStoreBackend<Backend>>,
): SessionStoreSuite<Backend> {
  let running: SessionStoreBackend<Backend>;
  let fixture: SessionFixture;
  let storeA: SessionStore;
  let storeB: SessionStore;
  let other: CognitoSession;
  let otherOffset = 0;

  before(async () => {
    running = await start();
    storeA = await openRedisSessionStore(running.options);
    storeB = await openRedisSessionStore(running.otherOptions ?? running.options);
    fixture = await startSessionApp({ session: { store: storeA } });
    other = otherSession(fixture, {
      revocationList: fixture.revocations,
      store: storeB,
      clock: () => Date.now() + otherOffset * 1000,
    });
  });
  after(async () => {
    await fixture?.close();
    await storeA?.close();
    await storeB?.close();
    await running?.stop();
  });

  const suite: SessionStoreSuite<Backend> = {
    get backend() {
      return running.backend;
    },
    get fixture() {
      return fixture;
    },
    get storeA() {
      return storeA;
    },
    get storeB() {
      return storeB;
    },
    get other() {
      return other;
    },
    browser: () => new ScriptedBrowser(fixture.appOrigin, fixture.listenOrigin),
    asRequest: (b, method = 'GET') => {
      const cookie = b.cookieHeader();
      return { method, url: '/api/me', header: (name) => (name === 'cookie' ? cookie : undefined) };
    },
    signIn: async (sub) => {
      const b = suite.browser();
      fixture.op.signInAs({ sub, groups: ['users'] });
      const { response, visited } = await b.follow('/page');
      assert.equal(response.status, 200, visited.join('\n'));
      return b;
    },
  };
  const { signIn, asRequest } = suite;

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

  return suite;
}
