/**
 * The JWKS endpoint misbehaving, on a real loopback server, seen through CognitoVerifier.verify
 * with real signed tokens: what callers get, how many requests reach the endpoint, how long it takes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, type TestContext, test } from 'node:test';
import { CognitoJwtError, type ErrorCode } from '../../src/errors.ts';
import { generateKeyPair, mintAccessToken, type TestKeyPair } from '../../src/testing/index.ts';
import { CognitoVerifier, type VerifierOptions } from '../../src/verify/verifier.ts';
import {
  type Behaviour,
  type FaultServer,
  manualClock,
  recordEvents,
  settle,
  startFaultServer,
} from '../helpers/fault-server.ts';

const [a, b, c, attacker] = [generateKeyPair(), generateKeyPair(), generateKeyPair(), generateKeyPair()] as [
  TestKeyPair,
  TestKeyPair,
  TestKeyPair,
  TestKeyPair,
];
const POOL = 'local_FaultPool';
const CLIENT = 'fault-client';
const MINUTE = 60_000;

interface Setup {
  server: FaultServer;
  issuer: string;
  uri: string;
  time: ReturnType<typeof manualClock>;
  verifier: CognitoVerifier<{ userPoolId: string; issuer: string; clientId: string; tokenUse: 'access' }>;
  /** A fresh token, signed now (by the manual clock) with `key`. */
  token(key: TestKeyPair, kid?: string): string;
}

async function setup(t: TestContext, keys: TestKeyPair[], options: VerifierOptions = {}): Promise<Setup> {
  const server = await startFaultServer({ keys });
  t.after(() => server.close());
  const time = manualClock();
  const issuer = server.issuer(POOL);
  const verifier = new CognitoVerifier(
    { userPoolId: POOL, issuer, clientId: CLIENT, tokenUse: 'access' },
    { clock: time.clock, ...options },
  );
  const token = (key: TestKeyPair, kid?: string) =>
    mintAccessToken({
      key,
      issuer,
      clientId: CLIENT,
      now: time.now,
      expiresIn: 24 * 3600,
      ...(kid ? { header: { kid } } : {}),
    });
  return { server, issuer, uri: server.jwksUri(POOL), time, verifier, token };
}

async function rejection(promise: Promise<unknown>): Promise<CognitoJwtError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof CognitoJwtError, `expected a CognitoJwtError, got ${error}`);
  return error;
}

const MiB = 1024 * 1024;
const faults: { label: string; behaviour: Behaviour; code: ErrorCode; message: RegExp }[] = [
  {
    label: 'HTTP 500',
    behaviour: { kind: 'status', status: 500 },
    code: 'ERR_JWKS_FETCH_FAILED',
    message: /HTTP 500/,
  },
  {
    label: 'HTTP 503',
    behaviour: { kind: 'status', status: 503 },
    code: 'ERR_JWKS_FETCH_FAILED',
    message: /HTTP 503/,
  },
  {
    label: 'HTTP 404',
    behaviour: { kind: 'status', status: 404 },
    code: 'ERR_JWKS_FETCH_FAILED',
    message: /HTTP 404/,
  },
  {
    label: 'an HTML page',
    behaviour: {
      kind: 'body',
      body: '<!doctype html><title>Maintenance</title>',
      contentType: 'text/html; charset=utf-8',
    },
    code: 'ERR_JWKS_INVALID',
    message: /content type/,
  },
  {
    label: 'invalid JSON',
    behaviour: { kind: 'body', body: '{"keys": [{', contentType: 'application/json' },
    code: 'ERR_JWKS_INVALID',
    message: /not valid JSON/,
  },
  {
    label: 'JSON without keys',
    behaviour: { kind: 'body', body: '{"message":"ok"}', contentType: 'application/json' },
    code: 'ERR_JWKS_INVALID',
    message: /"keys" array/,
  },
  {
    label: 'keys of the wrong type',
    behaviour: {
      kind: 'body',
      body: JSON.stringify({ keys: [{ kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }, 'not-a-key', 42] }),
      contentType: 'application/json',
    },
    code: 'ERR_JWKS_INVALID',
    message: /holds no usable key/,
  },
  {
    label: 'a 64 MiB body',
    behaviour: { kind: 'huge', bytes: 64 * MiB },
    code: 'ERR_JWKS_FETCH_FAILED',
    message: /larger than the 1048576 bytes allowed/,
  },
  {
    label: 'the connection reset mid-body',
    behaviour: { kind: 'reset', afterBytes: 200 },
    code: 'ERR_JWKS_FETCH_FAILED',
    message: /reading the body failed/,
  },
  {
    label: 'a redirect',
    behaviour: { kind: 'redirect', location: 'http://127.0.0.2:9/jwks.json' },
    code: 'ERR_JWKS_FETCH_FAILED',
    message: /redirects are refused/,
  },
];

describe('faults at cold start: a typed 503, a fast failure while backing off, recovery on the next fetch', () => {
  for (const fault of faults) {
    test(fault.label, async (t) => {
      const { server, time, verifier, token } = await setup(t, [a]);
      server.behaveOnce(fault.behaviour);
      const error = await rejection(verifier.verify(token(a)));
      assert.equal(error.code, fault.code);
      assert.equal(error.status, 503);
      assert.match(error.message, fault.message);
      assert.equal(server.requestCount, 1);

      const again = await rejection(verifier.verify(token(a)));
      assert.equal(again.code, 'ERR_JWKS_FETCH_FAILED');
      assert.match(again.message, /next attempt in \d+ ms/);
      assert.equal(server.requestCount, 1);

      time.advance(1_000); // the first backoff is at most 1 s
      assert.equal((await verifier.verify(token(a))).client_id, CLIENT);
      assert.equal(server.requestCount, 2);
    });
  }

  for (const [label, behaviour] of [
    ['a server that never answers', { kind: 'hang' }],
    ['a body dripped one byte at a time', { kind: 'drip', body: '{"keys":[]}'.padEnd(400), intervalMs: 25 }],
  ] as const) {
    test(`${label}: timeout within the configured time`, async (t) => {
      const { server, verifier, token } = await setup(t, [a], { timeoutMs: 500 });
      server.behaveOnce(behaviour);
      const started = performance.now();
      const error = await rejection(verifier.verify(token(a)));
      const ms = performance.now() - started;
      console.log(`${label}: ERR_JWKS_FETCH_FAILED after ${ms.toFixed(0)} ms (timeoutMs 500)`);
      assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
      assert.match(error.message, /no complete answer within 500 ms/);
      assert.ok(ms >= 490 && ms < 500 + 1_500, `failed after ${ms} ms`);
      assert.equal(server.requestCount, 1);
    });
  }

  test('a redirect to another host: that host never sees a request', async (t) => {
    const elsewhere = await startFaultServer({ keys: [attacker], host: '127.0.0.2' });
    t.after(() => elsewhere.close());
    const { server, verifier, token } = await setup(t, [a]);
    server.behave({ kind: 'redirect', location: elsewhere.jwksUri(POOL) });
    assert.equal((await rejection(verifier.verify(token(attacker)))).code, 'ERR_JWKS_FETCH_FAILED');
    assert.equal(elsewhere.requestCount, 0);
  });
});

describe('faults on refresh: known keys keep working, the failure is typed and reported', () => {
  for (const fault of faults) {
    test(fault.label, async (t) => {
      const { server, uri, time, verifier, token } = await setup(t, [a]);
      const recorder = recordEvents();
      t.after(() => recorder.stop());
      await verifier.hydrate();
      server.behave(fault.behaviour);
      time.advance(10 * MINUTE); // past max age: this verification starts a background refresh
      assert.equal((await verifier.verify(token(a))).client_id, CLIENT);
      await settle(verifier.jwksCache, uri);
      const [failure] = recorder.of('fetchFailure');
      assert.equal(failure?.code, fault.code);
      assert.match(failure?.error.message ?? '', fault.message);
      assert.equal(recorder.of('staleServed').length, 1);
      assert.equal(verifier.jwksCache.inspect(uri).state, 'failing');
      for (let index = 0; index < 20; index++)
        assert.equal((await verifier.verify(token(a))).client_id, CLIENT);
      assert.equal(server.requestCount, 2);
      const error = await rejection(verifier.jwksCache.refresh(uri));
      assert.equal(error.code, fault.code);
    });
  }
});

describe('rotation, floods and outages', () => {
  test('rotation mid-traffic: 1 000 concurrent verifications, every token of the new set verifies', async (t) => {
    const { server, uri, verifier, token } = await setup(t, [a]);
    await verifier.hydrate();
    server.behave({ kind: 'jwks', delayMs: 50 }); // a slow endpoint, so callers pile up on the fetch
    const signers = Array.from({ length: 1_000 }, (_, index) => (index < 300 ? a : [a, b, c][index % 3]!));
    const tokens = signers.map((key) => token(key));
    const started = performance.now();
    const pending: Promise<PromiseSettledResult<unknown>>[] = [];
    for (let wave = 0; wave < 10; wave++) {
      if (wave === 3) server.setKeys([b, c]); // a retires; b and c sign from now on
      for (let index = wave * 100; index < wave * 100 + 100; index++) {
        // Settle each at once, so a rejection is handled while later waves are still being sent.
        pending.push(Promise.allSettled([verifier.verify(tokens[index]!)]).then(([result]) => result!));
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const results = await Promise.all(pending);
    const ms = performance.now() - started;
    const fetches = server.requestCount - 1;
    let retiredAccepted = 0;
    let retiredRejected = 0;
    for (const [index, result] of results.entries()) {
      if (signers[index] !== a) {
        assert.equal(
          result.status,
          'fulfilled',
          `token ${index} of the new set: ${(result as PromiseRejectedResult).reason}`,
        );
      } else if (result.status === 'fulfilled') retiredAccepted++;
      else {
        retiredRejected++;
        assert.ok(['ERR_KEY_NOT_FOUND', 'ERR_KID_COOLDOWN'].includes(result.reason.code), result.reason.code);
      }
    }
    console.log(
      `rotation: 1000 verifications in ${ms.toFixed(0)} ms, ${fetches} fetch(es); ` +
        `retired key: ${retiredAccepted} accepted before the refresh, ${retiredRejected} rejected after`,
    );
    assert.ok(fetches >= 1 && fetches <= 2, `${fetches} fetches`);
    assert.ok(retiredAccepted >= 300, 'tokens of the old key verified until the refresh');
    assert.deepEqual(verifier.jwksCache.inspect(uri).kids, [b.kid, c.kid]);
    assert.equal((await rejection(verifier.verify(token(a)))).status, 401);
  });

  test('10 000 tokens with random unknown kids within one second: at most one fetch', async (t) => {
    const { server, verifier, token } = await setup(t, [a]);
    await verifier.hydrate();
    const mintStarted = performance.now();
    const flood = Array.from({ length: 10_000 }, () => token(attacker, randomBytes(32).toString('base64')));
    const valid = Array.from({ length: 500 }, () => token(a));
    const mintMs = performance.now() - mintStarted;
    const outcomes = new Map<string, number>();
    const latencies: number[] = [];
    const validLatencies: number[] = [];
    const started = performance.now();
    const pending: Promise<void>[] = [];
    for (let batch = 0; batch < 10; batch++) {
      for (let index = batch * 1_000; index < batch * 1_000 + 1_000; index++) {
        const sent = performance.now();
        pending.push(
          verifier.verify(flood[index]!).then(
            () => assert.fail('a token with an unknown kid was accepted'),
            (error: CognitoJwtError) => {
              outcomes.set(error.code, (outcomes.get(error.code) ?? 0) + 1);
              if (error.code === 'ERR_KID_COOLDOWN') latencies.push(performance.now() - sent);
            },
          ),
        );
        if (index % 20 === 0) {
          pending.push(
            verifier.verify(valid[index / 20]!).then((claims) => {
              assert.equal(claims.client_id, CLIENT);
              validLatencies.push(performance.now() - sent);
            }),
          );
        }
      }
      // The first batch shares the one fetch: wait for it to settle, so the count of cooldown
      // refusals below does not depend on how fast a loaded machine answers that fetch.
      if (batch === 0) await Promise.all(pending);
      else await new Promise((resolve) => setTimeout(resolve, 70));
    }
    const launchMs = performance.now() - started;
    await Promise.all(pending);
    const ms = performance.now() - started;
    const fetches = server.requestCount - 1;
    const worst = (list: number[]) => Math.max(...list).toFixed(1);
    console.log(
      `unknown-kid flood: minted in ${mintMs.toFixed(0)} ms; launched over ${launchMs.toFixed(0)} ms, all settled ` +
        `after ${ms.toFixed(0)} ms; ${fetches} fetch(es); outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; ` +
        `slowest cooldown rejection ${worst(latencies)} ms; ${validLatencies.length} valid tokens verified, ` +
        `slowest ${worst(validLatencies)} ms`,
    );
    // The cooldown runs on the injected clock, so the count below holds however long a loaded
    // machine takes to launch the flood; the launch time is printed above, not asserted.
    assert.ok(fetches <= 1, `${fetches} fetches`);
    assert.equal(validLatencies.length, 500);
    assert.equal((outcomes.get('ERR_KID_COOLDOWN') ?? 0) + (outcomes.get('ERR_KEY_NOT_FOUND') ?? 0), 10_000);
    assert.ok(
      (outcomes.get('ERR_KID_COOLDOWN') ?? 0) >= 9_000,
      'all but the first batch fail on the cooldown',
    );
    // Not a speed bound: a rejection that waited for a JWKS request would take the fetch deadline (5 s).
    assert.ok(Math.max(...latencies) < 5_000, 'cooldown rejections do not wait for a fetch');
  });

  test('the endpoint down for longer than the max age: stale keys keep verifying, no fetch storm', async (t) => {
    const { server, uri, time, verifier, token } = await setup(t, [a]);
    const recorder = recordEvents();
    t.after(() => recorder.stop());
    const fetchTimes: number[] = [];
    await verifier.hydrate();
    const outageStart = time.now;
    server.behave({ kind: 'status', status: 503 });
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    const { JWKS_EVENTS } = await import('../../src/keys/events.ts');
    const onStart = () => fetchTimes.push(time.now - outageStart);
    subscribe(JWKS_EVENTS.fetchStart, onStart);
    t.after(() => unsubscribe(JWKS_EVENTS.fetchStart, onStart));

    let verified = 0;
    for (let elapsed = 0; elapsed < 2 * 60 * MINUTE; elapsed += 2_000) {
      time.advance(2_000);
      assert.equal((await verifier.verify(token(a))).client_id, CLIENT);
      verified++;
      await settle(verifier.jwksCache, uri);
    }
    const requests = server.requestCount - 1;
    const gaps = fetchTimes.slice(1).map((at, index) => at - fetchTimes[index]!);
    console.log(
      `outage of 2 h (simulated), a verification every 2 s: ${verified} verified, ${requests} requests; ` +
        `first fetch at +${fetchTimes[0]! / 1000} s; gaps between fetches (s): ${gaps.map((gap) => Math.round(gap / 1000)).join(' ')}`,
    );
    assert.ok(requests >= 10 && requests <= 60, `${requests} requests`);
    assert.equal(recorder.of('fetchFailure').length, requests);
    assert.equal(recorder.of('staleServed').length, requests);
    assert.ok(
      recorder.of('staleServed').every((message) => message.usableForMs > 0 && message.kids[0] === a.kid),
    );
    for (const [index, gap] of gaps.entries()) {
      const ceiling = Math.min(300_000, 1_000 * 2 ** index);
      assert.ok(gap >= ceiling / 2, `gap ${index + 1} was ${gap} ms, below half the ${ceiling} ms backoff`);
    }
    assert.equal(verifier.jwksCache.inspect(uri).state, 'failing');

    server.behave({ kind: 'jwks' });
    for (
      let elapsed = 0;
      elapsed < 6 * MINUTE && verifier.jwksCache.inspect(uri).state !== 'fresh';
      elapsed += 2_000
    ) {
      time.advance(2_000);
      await verifier.verify(token(a));
      await settle(verifier.jwksCache, uri);
    }
    assert.equal(verifier.jwksCache.inspect(uri).state, 'fresh');
  });

  test('a kid removed upstream is rejected after the next refresh, even for a token verified before', async (t) => {
    const { server, uri, time, verifier, token } = await setup(t, [a, b]);
    const before = token(a);
    assert.equal((await verifier.verify(before)).client_id, CLIENT);
    server.setKeys([b]);
    time.advance(10 * MINUTE);
    assert.equal((await verifier.verify(token(a))).client_id, CLIENT); // still trusted while refreshing
    await settle(verifier.jwksCache, uri);
    assert.equal((await rejection(verifier.verify(before))).code, 'ERR_KEY_NOT_FOUND');
    assert.equal((await rejection(verifier.verify(token(a)))).code, 'ERR_KID_COOLDOWN');
    assert.throws(() => verifier.verifySync(token(a)), { code: 'ERR_KEY_NOT_FOUND' });
    assert.equal((await verifier.verify(token(b))).client_id, CLIENT);
  });

  test('several pools: a token naming an unconfigured issuer causes no request at all', async (t) => {
    const server = await startFaultServer({ keys: [a] });
    t.after(() => server.close());
    const verifier = new CognitoVerifier([
      {
        userPoolId: 'local_PoolOne',
        issuer: server.issuer('local_PoolOne'),
        clientId: CLIENT,
        tokenUse: 'access',
      },
      {
        userPoolId: 'local_PoolTwo',
        issuer: server.issuer('local_PoolTwo'),
        clientId: CLIENT,
        tokenUse: 'id',
      },
    ]);
    for (const issuer of [
      server.issuer('local_PoolThree'),
      `${server.issuer('local_PoolOne')}/`,
      'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_PoolOne',
    ]) {
      for (let index = 0; index < 100; index++) {
        const forged = mintAccessToken({
          key: attacker,
          issuer,
          clientId: CLIENT,
          header: { kid: `k${index}` },
        });
        assert.equal((await rejection(verifier.verify(forged))).code, 'ERR_ISSUER_MISMATCH');
      }
    }
    assert.equal(server.requestCount, 0);
    const real = mintAccessToken({ key: a, issuer: server.issuer('local_PoolOne'), clientId: CLIENT });
    assert.equal((await verifier.verify(real)).client_id, CLIENT);
    assert.equal(server.requestCount, 1);
  });
});
