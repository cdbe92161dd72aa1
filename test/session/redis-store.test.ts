import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createClient } from 'redis';
import { ConfigError } from '../../src/errors.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import { CognitoSession, openRedisSessionStore } from '../../src/session/index.ts';
import { rejectsCode } from '../helpers/assert-error.ts';
import { startRedisServer } from '../helpers/redis-server.ts';
import { SECRET, startSessionApp } from '../helpers/session-app.ts';
import { sharedSessionStoreSuite } from '../helpers/session-store-suite.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';

describe('sessions kept in Redis: two processes share them', () => {
  const suite = sharedSessionStoreSuite(async () => {
    const redis = await startRedisServer();
    return { backend: redis, options: { url: redis.url }, stop: () => redis.stop() };
  });
  const { signIn, asRequest } = suite;

  test('a cookie-mode session cookie is no session in store mode', async () => {
    const cookieMode = await startSessionApp();
    try {
      const b = new ScriptedBrowser(cookieMode.appOrigin, cookieMode.listenOrigin);
      cookieMode.op.signInAs({ sub: 'store-user-6' });
      await b.follow('/page');
      const cookie = b.cookieHeader();
      await rejectsCode(
        suite.other.read({
          method: 'GET',
          url: '/',
          header: (name) => (name === 'cookie' ? cookie : undefined),
        }),
        'ERR_SESSION_INVALID',
      );
    } finally {
      await cookieMode.close();
    }
  });

  test('while Redis is down a read answers ERR_SESSION_STORE_UNAVAILABLE (503), and works once it is back', async () => {
    const b = await signIn('store-user-7');
    await suite.backend.kill();
    try {
      const refused = await b.request('/api/me');
      assert.equal(refused.status, 503);
      assert.equal(((await refused.json()) as { code: string }).code, 'ERR_SESSION_STORE_UNAVAILABLE');
    } finally {
      await suite.backend.restart();
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

  test('a store opened while Redis is away answers ERR_SESSION_STORE_UNAVAILABLE within its command deadline, and works once Redis is up', async () => {
    const redis = await startRedisServer();
    await redis.kill(); // the port is known, nothing listens on it
    const store = await openRedisSessionStore({ url: redis.url, commandTimeoutMs: 300 });
    try {
      // Before the fix the first command waited for a connection that never came.
      await rejectsCode(store.get('store-user-away', 'sid'), 'ERR_SESSION_STORE_UNAVAILABLE');
      await redis.restart();
      let answer: unknown = 'unanswered';
      for (let i = 0; i < 100 && answer === 'unanswered'; i++) {
        answer = await store.get('store-user-away', 'sid').catch(() => 'unanswered');
        if (answer === 'unanswered') await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(answer, undefined);
    } finally {
      await store.close();
      await redis.stop();
    }
  });

  // The durability rule the revocation list keeps: a sign-out is never undone by Redis losing
  // writes. Here Redis comes back from a snapshot taken before the sign-out, so the ended session
  // is in the store again; the revocation list (whose mirrors restore what a store forgot) still
  // refuses its tokens in a process that never saw the sign-out.
  test('a signed-out session that Redis brings back from an older snapshot stays refused', async () => {
    const b = await signIn('store-user-8');
    const old = asRequest(b);
    const raw = createClient({ url: suite.backend.url });
    await raw.connect();
    try {
      await raw.sendCommand(['SAVE']); // dump.rdb now holds the live session
    } finally {
      await raw.quit();
    }
    await b.request('/auth/sign-out', { method: 'POST', headers: { origin: suite.fixture.appOrigin } });
    assert.deepEqual(await suite.other.listSessions('store-user-8'), []);
    await suite.backend.kill();
    await suite.backend.restart(); // loads dump.rdb: the session is back
    try {
      let listed = await suite.other.listSessions('store-user-8').catch(() => undefined);
      for (let i = 0; i < 100 && listed === undefined; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        listed = await suite.other.listSessions('store-user-8').catch(() => undefined);
      }
      assert.equal(listed?.length, 1, 'the snapshot brought the ended session back');
      await rejectsCode(suite.other.read(old), 'ERR_TOKEN_REVOKED');
    } finally {
      await rm(join(suite.backend.dir, 'dump.rdb'), { force: true });
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

  test('url or cluster: checked as the revocation list checks its redis options, with the same words', async () => {
    const seed = 'redis://127.0.0.1:1';
    const cases: [object, RegExp][] = [
      [
        { url: seed, cluster: { rootNodes: [seed] } },
        /takes url \(one node\) or cluster \(a Redis Cluster\), not both/,
      ],
      [
        { cluster: { rootNodes: [] } },
        /cluster\.rootNodes must be a non-empty array of redis:\/\/ or rediss:\/\/ URLs/,
      ],
      [{ cluster: {} }, /cluster\.rootNodes must be a non-empty array/],
      [
        { cluster: { rootNodes: [seed, 'rediss://127.0.0.1:2'] } },
        /cluster\.rootNodes mix redis:\/\/ and rediss:\/\//,
      ],
      [
        { cluster: { rootNodes: ['http://127.0.0.1:1'] } },
        /cluster\.rootNodes\[0\] must start with redis:\/\/ or rediss:\/\//,
      ],
      [{ cluster: { rootNodes: [seed], tls: true } }, /cluster options: unknown option "tls"/],
      [{ cluster: { rootNodes: [seed], topologyRefreshMs: 0 } }, /cluster\.topologyRefreshMs/],
      [{}, /needs url \(one node\) or cluster: \{ rootNodes \}/],
    ];
    for (const [options, message] of cases) {
      const error = await openRedisSessionStore(options as never).then(
        () => assert.fail(`accepted ${JSON.stringify(options)}`),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, message);
      // The revocation list says the same of its `redis` options (there, named `redis.…`).
      const listError = (() => {
        try {
          new RevocationList({ redis: options, onUnavailable: 'reject' } as never);
        } catch (caught) {
          return caught as Error;
        }
        return assert.fail(`the list accepted ${JSON.stringify(options)}`);
      })();
      assert.match(listError.message, message);
      assert.equal(
        listError.message
          .replace(/^RevocationList: /, '')
          .replaceAll('redis.', '')
          .replace(/^redis /, ''),
        error.message.replace(/^the Redis session store /, ''),
      );
    }
    await assert.rejects(
      () => openRedisSessionStore({ cluster: { rootNodes: [seed] }, keyPrefix: 'app:{x}:' }),
      /no braces/,
      'on a cluster too the user is the hash tag: the prefix holds none',
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
