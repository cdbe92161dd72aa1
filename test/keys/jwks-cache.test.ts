import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { CognitoJwtError } from '../../src/errors.ts';
import { JwksCache, type JwksCacheOptions } from '../../src/keys/jwks-cache.ts';
import { buildJwks, generateKeyPair, type TestKeyPair } from '../../src/testing/index.ts';
import {
  type FaultServer,
  manualClock,
  recordEvents,
  settle,
  startFaultServer,
} from '../helpers/fault-server.ts';

const [a, b, c] = [generateKeyPair(), generateKeyPair(), generateKeyPair()] as [
  TestKeyPair,
  TestKeyPair,
  TestKeyPair,
];
const MINUTE = 60_000;

interface Setup {
  server: FaultServer;
  uri: string;
  time: ReturnType<typeof manualClock>;
  cache: JwksCache;
}

async function setup(t: TestContext, keys: TestKeyPair[], options: JwksCacheOptions = {}): Promise<Setup> {
  const server = await startFaultServer({ keys });
  t.after(() => server.close());
  const time = manualClock();
  const cache = new JwksCache({ clock: time.clock, ...options });
  return { server, uri: server.jwksUri('local_pool'), time, cache };
}

async function rejection(promise: Promise<unknown>): Promise<CognitoJwtError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof CognitoJwtError, `expected a CognitoJwtError, got ${error}`);
  return error;
}

describe('max age', () => {
  test('keys past their max age are served at once and refreshed once, in the background', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a]);
    await cache.load(uri);
    time.advance(10 * MINUTE - 1);
    assert.equal(cache.getKeySync(uri, a.kid)?.kid, a.kid);
    assert.equal(cache.inspect(uri).state, 'fresh');
    assert.equal(server.requestCount, 1);

    time.advance(1);
    server.setKeys([a, b]);
    server.behaveOnce({ kind: 'jwks', delayMs: 300 });
    const keys = await Promise.all(Array.from({ length: 50 }, () => cache.getKey(uri, a.kid)));
    assert.ok(
      keys.every((key) => key.kid === a.kid),
      'every caller got the known key',
    );
    // Every caller already has its key while the refresh is still under way: nobody waited for it.
    assert.equal(cache.inspect(uri).refreshing, true);
    assert.equal(cache.inspect(uri).state, 'stale');
    await settle(cache, uri);
    assert.equal(server.requestCount, 2);
    assert.equal(cache.inspect(uri).state, 'fresh');
    assert.deepEqual(cache.inspect(uri).kids, [a.kid, b.kid]);
  });

  for (const [header, expectedMs] of [
    ['max-age=120', 2 * MINUTE],
    ['max-age=5', MINUTE],
    ['public, max-age=86400', 60 * MINUTE],
  ] as const) {
    test(`Cache-Control: ${header} → max age ${expectedMs / 1000} s (floor 1 min, ceiling 1 h)`, async (t) => {
      const { server, uri, time, cache } = await setup(t, [a]);
      server.behave({ kind: 'jwks', headers: { 'cache-control': header } });
      const recorder = recordEvents();
      t.after(() => recorder.stop());
      await cache.load(uri);
      assert.equal(recorder.of('fetchSuccess')[0]?.maxAgeMs, expectedMs);
      time.advance(expectedMs - 1);
      assert.equal(cache.inspect(uri).state, 'fresh');
      time.advance(1);
      assert.equal(cache.inspect(uri).state, 'stale');
      cache.getKeySync(uri, a.kid);
      await settle(cache, uri);
      assert.equal(server.requestCount, 2);
    });
  }

  test('a server max-age overrides the configured maxAgeMs only within the bounds', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a], { maxAgeMs: 5_000 });
    await cache.load(uri);
    time.advance(5_000);
    assert.equal(cache.inspect(uri).state, 'stale');
    server.behave({ kind: 'jwks', headers: { 'cache-control': 'max-age=0' } });
    await cache.refresh(uri);
    time.advance(59_999);
    assert.equal(cache.inspect(uri).state, 'fresh');
  });
});

describe('unknown kids and the cooldown', () => {
  test('concurrent callers share one fetch', async (t) => {
    const { server, uri, cache } = await setup(t, [a]);
    server.behaveOnce({ kind: 'jwks', delayMs: 100 });
    const keys = await Promise.all(Array.from({ length: 100 }, () => cache.getKey(uri, a.kid)));
    assert.equal(keys.length, 100);
    assert.equal(server.requestCount, 1);
  });

  test('the cooldown counts from the end of the fetch an unknown kid caused', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a]);
    const recorder = recordEvents();
    t.after(() => recorder.stop());
    await cache.load(uri);
    server.behaveOnce({ kind: 'jwks', delayMs: 200 });
    const miss = cache.getKey(uri, 'unknown-1');
    await server.waitForRequests(2);
    time.advance(10_000); // the fetch takes 10 s by the cache's clock
    assert.equal((await rejection(miss)).code, 'ERR_KEY_NOT_FOUND');
    assert.deepEqual(recorder.of('kidMiss'), [{ jwksUri: uri, kid: 'unknown-1' }]);

    time.advance(25_000); // 35 s after the fetch started, 25 s after it ended
    const skipped = await rejection(cache.getKey(uri, 'unknown-2'));
    assert.equal(skipped.code, 'ERR_KID_COOLDOWN');
    assert.equal(skipped.status, 401);
    assert.equal(skipped.claim, 'kid');
    assert.match(
      skipped.message,
      /fetched for an unknown kid 25000 ms ago; it is not fetched again for another 5000 ms/,
    );
    assert.deepEqual(recorder.of('cooldownSkip'), [{ jwksUri: uri, kid: 'unknown-2', retryInMs: 5_000 }]);
    assert.equal(server.requestCount, 2);

    time.advance(5_000);
    assert.equal((await rejection(cache.getKey(uri, 'unknown-3'))).code, 'ERR_KEY_NOT_FOUND');
    assert.equal(server.requestCount, 3);
  });

  test('during the cooldown, unknown kids fail fast without a request and known kids keep working', async (t) => {
    const { server, uri, cache } = await setup(t, [a]);
    await cache.load(uri);
    await rejection(cache.getKey(uri, 'first-unknown'));
    assert.equal(server.requestCount, 2);
    server.behave({ kind: 'hang' }); // any request now would hang: none may be made
    const results = await Promise.allSettled(
      Array.from({ length: 1_000 }, (_, index) =>
        index % 10 === 0 ? cache.getKey(uri, a.kid) : cache.getKey(uri, `unknown-${index}`),
      ),
    );
    for (const [index, result] of results.entries()) {
      if (index % 10 === 0) assert.equal(result.status === 'fulfilled' && result.value.kid, a.kid);
      else assert.equal(result.status === 'rejected' && result.reason.code, 'ERR_KID_COOLDOWN');
    }
    assert.equal(server.requestCount, 2);
  });

  test('a background max-age refresh does not use up the unknown-kid budget', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a]);
    await cache.load(uri);
    time.advance(10 * MINUTE);
    cache.getKeySync(uri, a.kid);
    await settle(cache, uri);
    assert.equal(server.requestCount, 2);
    server.setKeys([a, b]); // rotation published right after the scheduled refresh
    assert.equal((await cache.getKey(uri, b.kid)).kid, b.kid);
    assert.equal(server.requestCount, 3);
  });

  test('load() and refresh() do not use up the unknown-kid budget either', async (t) => {
    const { server, uri, cache } = await setup(t, [a]);
    await cache.load(uri);
    await cache.refresh(uri);
    server.setKeys([a, b]);
    assert.equal((await cache.getKey(uri, b.kid)).kid, b.kid);
    assert.equal(server.requestCount, 3);
  });

  test('attacker kids delay a real rotation by one cooldown at most', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a]);
    await cache.load(uri);
    assert.equal((await rejection(cache.getKey(uri, 'attacker-0'))).code, 'ERR_KEY_NOT_FOUND');
    server.setKeys([a, b]); // the pool rotates just after the attacker's fetch
    for (let second = 1; second < 30; second++) {
      time.advance(1_000);
      const attacks = await Promise.allSettled(
        Array.from({ length: 20 }, (_, index) => cache.getKey(uri, `attacker-${second}-${index}`)),
      );
      assert.ok(
        attacks.every((attack) => attack.status === 'rejected' && attack.reason.code === 'ERR_KID_COOLDOWN'),
        'attacker kids fail on the cooldown',
      );
      if (second % 10 === 0)
        assert.equal((await rejection(cache.getKey(uri, b.kid))).code, 'ERR_KID_COOLDOWN');
    }
    assert.equal(server.requestCount, 2);
    time.advance(1_000); // 30 s after the attacker's fetch ended
    assert.equal((await cache.getKey(uri, b.kid)).kid, b.kid);
    assert.equal(server.requestCount, 3);
  });

  test('cooldownMs: 0 refetches for every unknown kid (still single-flight)', async (t) => {
    const { server, uri, cache } = await setup(t, [a], { cooldownMs: 0 });
    await cache.load(uri);
    await rejection(cache.getKey(uri, 'x'));
    await rejection(cache.getKey(uri, 'y'));
    assert.equal(server.requestCount, 3);
  });
});

describe('failures', () => {
  test('failed fetches back off exponentially with jitter, capped; no request while backing off', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a], { backoffMs: 1_000, maxBackoffMs: 8_000 });
    const recorder = recordEvents();
    t.after(() => recorder.stop());
    server.behave({ kind: 'status', status: 503 });
    for (let failure = 1; failure <= 6; failure++) {
      const requests = server.requestCount;
      const error = await rejection(cache.getKey(uri, a.kid));
      assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
      assert.equal(error.status, 503);
      assert.equal(server.requestCount, requests + 1);
      const backoff = recorder.of('backoff').at(-1)!;
      assert.equal(backoff.failures, failure);
      const ceiling = Math.min(8_000, 1_000 * 2 ** (failure - 1));
      assert.ok(
        backoff.retryInMs >= ceiling / 2 && backoff.retryInMs <= ceiling,
        `retry in ${backoff.retryInMs} ms after failure ${failure}`,
      );
      time.advance(backoff.retryInMs - 1);
      const waiting = await rejection(cache.getKey(uri, a.kid));
      assert.equal(waiting.code, 'ERR_JWKS_FETCH_FAILED');
      assert.match(waiting.message, /HTTP 503\); next attempt in 1 ms/);
      assert.equal(server.requestCount, requests + 1);
      time.advance(1);
    }
    assert.equal(cache.inspect(uri).state, 'failing');
    assert.equal(cache.inspect(uri).failures, 6);
    server.behave({ kind: 'jwks' });
    assert.equal((await cache.getKey(uri, a.kid)).kid, a.kid);
    assert.equal(cache.inspect(uri).failures, 0);
    assert.equal(cache.inspect(uri).state, 'fresh');
  });

  test('stale-if-error: known keys are served for staleIfErrorMs past their max age, then not', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a], { staleIfErrorMs: 60 * MINUTE });
    const recorder = recordEvents();
    t.after(() => recorder.stop());
    await cache.load(uri);
    server.behave({ kind: 'status', status: 500 });
    time.advance(10 * MINUTE);
    assert.equal(cache.getKeySync(uri, a.kid)?.kid, a.kid);
    await settle(cache, uri);
    assert.equal(cache.inspect(uri).state, 'failing');
    assert.equal(cache.inspect(uri).usable, true);
    assert.equal(cache.inspect(uri).lastError?.code, 'ERR_JWKS_FETCH_FAILED');
    assert.deepEqual(recorder.of('staleServed'), [
      { jwksUri: uri, ageMs: 10 * MINUTE, usableForMs: 60 * MINUTE, kids: [a.kid] },
    ]);
    time.advance(60 * MINUTE - 1);
    assert.equal((await cache.getKey(uri, a.kid)).kid, a.kid);
    time.advance(1);
    assert.equal(cache.getKeySync(uri, a.kid), undefined);
    assert.equal(cache.inspect(uri).usable, false);
    await settle(cache, uri);
    const error = await rejection(cache.getKey(uri, a.kid));
    assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
    assert.equal(error.status, 503);
    server.behave({ kind: 'jwks' });
    time.advance(10 * MINUTE); // past any backoff
    assert.equal((await cache.getKey(uri, a.kid)).kid, a.kid);
    assert.equal(cache.inspect(uri).state, 'fresh');
  });

  test('staleIfErrorMs: 0 — keys past their max age are not used: callers wait for the refresh', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a], { staleIfErrorMs: 0 });
    await cache.load(uri);
    time.advance(10 * MINUTE);
    assert.equal(cache.inspect(uri).state, 'expired');
    server.setKeys([b]);
    server.behaveOnce({ kind: 'status', status: 500 });
    assert.equal(cache.getKeySync(uri, a.kid), undefined);
    assert.equal((await rejection(cache.getKey(uri, a.kid))).code, 'ERR_JWKS_FETCH_FAILED');
    time.advance(1_000);
    assert.equal((await rejection(cache.getKey(uri, a.kid))).code, 'ERR_KEY_NOT_FOUND');
    assert.equal((await cache.getKey(uri, b.kid)).kid, b.kid);
  });

  for (const [label, behaviour] of [
    ['JSON without keys', { kind: 'body', body: '{"kids":[]}', contentType: 'application/json' }],
    ['keys of the wrong type', { kind: 'body', body: '{"keys":"none"}', contentType: 'application/json' }],
    [
      'keys that are all unusable',
      {
        kind: 'body',
        body: '{"keys":[{"kty":"EC","kid":"e","crv":"P-256"}]}',
        contentType: 'application/json',
      },
    ],
  ] as const) {
    test(`${label}: ERR_JWKS_INVALID, recorded as a failure that backs off like any other`, async (t) => {
      const { server, uri, cache } = await setup(t, [a]);
      const recorder = recordEvents();
      t.after(() => recorder.stop());
      server.behave(behaviour);
      const error = await rejection(cache.getKey(uri, a.kid));
      assert.equal(error.code, 'ERR_JWKS_INVALID');
      assert.equal(error.status, 503);
      assert.equal(cache.inspect(uri).failures, 1);
      assert.equal(recorder.of('fetchFailure')[0]?.code, 'ERR_JWKS_INVALID');
      assert.equal(recorder.of('backoff').length, 1);
      await rejection(cache.getKey(uri, a.kid));
      assert.equal(server.requestCount, 1);
    });
  }
});

describe('key set changes', () => {
  test('a kid removed upstream is no longer trusted after the next refresh', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a, b]);
    const recorder = recordEvents();
    t.after(() => recorder.stop());
    await cache.load(uri);
    server.setKeys([b]);
    time.advance(10 * MINUTE);
    assert.equal(cache.getKeySync(uri, a.kid)?.kid, a.kid); // served while the refresh runs
    await settle(cache, uri);
    assert.deepEqual(recorder.of('keysRemoved'), [{ jwksUri: uri, kids: [a.kid] }]);
    assert.equal(cache.getKeySync(uri, a.kid), undefined);
    assert.equal((await rejection(cache.getKey(uri, a.kid))).code, 'ERR_KEY_NOT_FOUND');
    assert.equal((await cache.getKey(uri, b.kid)).kid, b.kid);
  });

  test('refresh() during a background refresh sent before a removal is answered by a new request: the removed key goes', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a, b]);
    await cache.load(uri);
    time.advance(10 * MINUTE);
    // The background refresh's request leaves now; its answer, slow, still lists a.
    server.behaveOnce({ kind: 'jwks', delayMs: 300, keys: [a, b] });
    assert.equal(cache.getKeySync(uri, a.kid)?.kid, a.kid);
    await server.waitForRequests(2);
    assert.equal(cache.inspect(uri).refreshing, true);

    server.setKeys([b]); // a is removed upstream, and then the operator asks for a refresh
    const calledAt = performance.now();
    await cache.refresh(uri);
    assert.equal(server.requestCount, 3, 'the refresh sent its own request');
    assert.ok(server.requests[2]!.at >= calledAt, 'sent after the call');
    assert.deepEqual(cache.inspect(uri).kids, [b.kid]);
    assert.equal(cache.getKeySync(uri, a.kid), undefined);
    assert.equal((await rejection(cache.getKey(uri, a.kid))).code, 'ERR_KEY_NOT_FOUND');
  });

  test('refresh() callers arriving during a fetch share one new request, even when that fetch fails', async (t) => {
    const { server, uri, cache } = await setup(t, [a]);
    await cache.load(uri);
    server.behaveOnce({ kind: 'status', status: 503 });
    server.setKeys([b]);
    const first = cache.refresh(uri); // its request gets the 503
    await server.waitForRequests(2);
    const later = Array.from({ length: 20 }, () => cache.refresh(uri));
    assert.equal((await rejection(first)).code, 'ERR_JWKS_FETCH_FAILED');
    await Promise.all(later);
    assert.equal(server.requestCount, 3);
    assert.deepEqual(cache.inspect(uri).kids, [b.kid]);
    assert.equal(cache.inspect(uri).state, 'fresh');
  });

  test('two refresh() calls in a row: the second asks again once the first request is answered', async (t) => {
    const { server, uri, cache } = await setup(t, [a]);
    await cache.load(uri);
    server.setKeys([b]);
    await Promise.all([cache.refresh(uri), cache.refresh(uri)]);
    // The second call came while the first call's request was under way: it asked again after it.
    assert.equal(server.requestCount, 3);
    assert.deepEqual(cache.inspect(uri).kids, [b.kid]);
  });

  test('a loaded snapshot wins over the answer of a fetch that was under way', async (t) => {
    const { server, uri, cache } = await setup(t, [a]);
    server.behaveOnce({ kind: 'jwks', delayMs: 200 });
    const refreshing = cache.refresh(uri);
    await server.waitForRequests(1);
    cache.loadSnapshot(uri, buildJwks(b));
    await refreshing;
    assert.deepEqual(cache.inspect(uri).kids, [b.kid]);
  });

  test('an answer that arrives after a newer one is ignored', async (t) => {
    const { server, uri, cache } = await setup(t, [b], { timeoutMs: 300 });
    server.behaveOnce({ kind: 'jwks', delayMs: 600, keys: [a] });
    assert.equal((await rejection(cache.refresh(uri))).code, 'ERR_JWKS_FETCH_FAILED');
    await cache.refresh(uri);
    assert.deepEqual(cache.inspect(uri).kids, [b.kid]);
    await new Promise((resolve) => setTimeout(resolve, 400)); // the old answer has been sent by now
    assert.deepEqual(cache.inspect(uri).kids, [b.kid]);
    assert.equal(server.requestCount, 2);
  });

  test('at most 100 keys of a JWKS are kept', async (t) => {
    const many = { keys: Array.from({ length: 101 }, (_, index) => ({ ...a.publicJwk, kid: `k${index}` })) };
    const { uri, cache } = await setup(t, []);
    const recorder = recordEvents();
    t.after(() => recorder.stop());
    cache.loadSnapshot(uri, many);
    assert.equal(cache.inspect(uri).kids.length, 100);
    assert.equal(cache.getKeySync(uri, 'k100'), undefined);
    assert.match(
      recorder.of('keyRejected')[0]?.error.message ?? '',
      /the JWKS has 101 keys; only 100 are kept/,
    );
  });

  test('one bad key does not spoil the others', async (t) => {
    const { server, uri, cache } = await setup(t, [a]);
    server.setKeys({ keys: [{ ...b.publicJwk, kty: 'oct' }, a.publicJwk] });
    await cache.load(uri);
    assert.deepEqual(cache.inspect(uri).kids, [a.kid]);
  });
});

describe('introspection and options', () => {
  test('inspect() reports kids, fetchedAt and state through the life of a key set', async (t) => {
    const { server, uri, time, cache } = await setup(t, [a], { staleIfErrorMs: MINUTE });
    assert.deepEqual(cache.inspect(uri), {
      jwksUri: uri,
      kids: [],
      fetchedAt: undefined,
      state: 'empty',
      usable: false,
      refreshing: false,
      failures: 0,
      lastError: undefined,
      clockOffset: undefined,
    });
    const loading = cache.load(uri);
    assert.equal(cache.inspect(uri).refreshing, true);
    await loading;
    const loadedAt = time.now;
    assert.deepEqual(cache.inspect(uri).kids, [a.kid]);
    assert.equal(cache.inspect(uri).fetchedAt?.getTime(), loadedAt);
    assert.equal(cache.inspect(uri).state, 'fresh');
    time.advance(10 * MINUTE);
    assert.equal(cache.inspect(uri).state, 'stale');
    time.advance(MINUTE);
    assert.equal(cache.inspect(uri).state, 'expired');
    server.behave({ kind: 'status', status: 500 });
    await rejection(cache.refresh(uri));
    assert.equal(cache.inspect(uri).state, 'failing');
    assert.equal(cache.inspect(uri).failures, 1);
    cache.loadSnapshot(uri, buildJwks(c), { pinned: true });
    assert.equal(cache.inspect(uri).state, 'pinned');
    assert.deepEqual(cache.jwksUris, [uri]);
  });

  test('bad options throw ERR_CONFIG_INVALID at construction', () => {
    for (const [name, value] of [
      ['timeoutMs', 0],
      ['maxBytes', -1],
      ['cooldownMs', Number.NaN],
      ['maxAgeMs', 0],
      ['staleIfErrorMs', Number.POSITIVE_INFINITY],
      ['backoffMs', -5],
      ['maxBackoffMs', '10'],
    ] as const) {
      assert.throws(() => new JwksCache({ [name]: value }), { code: 'ERR_CONFIG_INVALID' }, name);
    }
  });

  test('an injected fetch is used for every request', async () => {
    const seen: string[] = [];
    const cache = new JwksCache({
      fetch: async (input) => {
        seen.push(String(input));
        return new Response(JSON.stringify(buildJwks(a)), {
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    const uri = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example/.well-known/jwks.json';
    assert.equal((await cache.getKey(uri, a.kid)).kid, a.kid);
    assert.deepEqual(seen, [uri]);
  });

  test('a fetch that rejects with a non-CognitoJwtError becomes ERR_JWKS_FETCH_FAILED', async () => {
    const cache = new JwksCache({
      fetch: () => Promise.reject(new TypeError('proxy exploded')),
    });
    const error = await rejection(cache.load('https://example.invalid/jwks.json'));
    assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
    assert.match(error.message, /proxy exploded/);
  });
});
