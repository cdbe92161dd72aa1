import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, test } from 'node:test';
import { Hono } from 'hono';
import { cognitoAuth } from '../../src/adapters/hono.ts';
import {
  CognitoJwtError,
  CognitoVerifier,
  clientMessage,
  JWKS_EVENTS,
  type JwksEventMessages,
} from '../../src/index.ts';
import { estimateClockOffset } from '../../src/keys/clock-offset.ts';
import { generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { type SkewedJwksServer, startSkewedJwksServer } from '../helpers/tls-jwks-server.ts';

describe('estimateClockOffset', () => {
  const date = 'Mon, 07 Dec 2026 10:00:00 GMT';
  const at = Date.parse(date);

  test("Date's 1 s resolution: the server's midpoint is Date + 0.5 s; half the round trip widens the doubt", () => {
    assert.deepEqual(estimateClockOffset(date, null, at + 60_400, at + 60_600), {
      offsetMs: 60_000,
      uncertaintyMs: 600,
      measuredAt: at + 60_600,
    });
    assert.equal(estimateClockOffset(date, null, at - 30_000, at - 30_000)?.offsetMs, -30_500);
  });

  test("a cached answer's Age moves the server's time on (and adds its own second of doubt)", () => {
    const offset = estimateClockOffset(date, '120', at + 121_000, at + 121_000);
    assert.equal(offset?.offsetMs, 0);
    assert.equal(offset?.uncertaintyMs, 1000);
    assert.equal(estimateClockOffset(date, 'junk', at, at)?.offsetMs, -500, 'an unreadable Age counts as 0');
  });

  test('no Date, or an unreadable one: no estimate', () => {
    assert.equal(estimateClockOffset(null, null, 0, 0), undefined);
    assert.equal(estimateClockOffset('yesterday', null, 0, 0), undefined);
  });
});

describe('against a loopback JWKS server with a skewed Date', () => {
  const key = generateKeyPair({ kid: 'clock' });
  let server: SkewedJwksServer;
  before(async () => {
    server = await startSkewedJwksServer({ keys: [key] });
  });
  after(() => server.close());

  /** A verifier on a host whose clock runs `skew()` ms ahead of the real one (the server's). */
  const verifierOn = (pool: string, skew: () => number) =>
    new CognitoVerifier(
      { userPoolId: pool, issuer: server.issuer(pool), clientId: 'c', tokenUse: 'access' },
      { clock: () => Date.now() + skew() },
    );
  const failure = async (promise: Promise<unknown>) =>
    promise.then(
      () => assert.fail('accepted'),
      (error: unknown) => {
        assert.ok(error instanceof CognitoJwtError);
        return error;
      },
    );

  test('every JWKS answer publishes the offset, and inspect() shows it', async () => {
    server.dateOffsetMs = -90_000; // the server is 90 s behind: this host is 90 s ahead
    const seen: JwksEventMessages['clockOffset'][] = [];
    const listener = (message: unknown) => seen.push(message as JwksEventMessages['clockOffset']);
    subscribe(JWKS_EVENTS.clockOffset, listener);
    try {
      const verifier = verifierOn('offset_pool', () => 0);
      await verifier.hydrate();
      const { jwksUri } = verifier.issuers[0]!;
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.jwksUri, jwksUri);
      assert.ok(Math.abs(seen[0]!.offsetMs - 90_000) <= seen[0]!.uncertaintyMs, JSON.stringify(seen[0]));
      assert.ok(seen[0]!.uncertaintyMs >= 500 && seen[0]!.uncertaintyMs < 2_000);
      assert.equal(verifier.jwksCache.inspect(jwksUri).clockOffset?.offsetMs, seen[0]!.offsetMs);
      server.ageSeconds = 30; // a cache in front held it 30 s: the server is 60 s behind
      await verifier.jwksCache.refresh(jwksUri);
      assert.ok(Math.abs(seen[1]!.offsetMs - 60_000) <= seen[1]!.uncertaintyMs, JSON.stringify(seen[1]));
      assert.equal(seen[1]!.ageSeconds, 30);
    } finally {
      unsubscribe(JWKS_EVENTS.clockOffset, listener);
      server.dateOffsetMs = 0;
      server.ageSeconds = undefined;
    }
  });

  test('expired here but not by the server: the message says the clock explains it, with the threshold', async () => {
    const verifier = verifierOn('ahead_pool', () => 60_000);
    const token = mintAccessToken({ key, issuer: server.issuer('ahead_pool'), clientId: 'c', expiresIn: 30 });
    const error = await failure(verifier.verify(token));
    assert.equal(error.code, 'ERR_TOKEN_EXPIRED');
    assert.match(
      error.message,
      /^token expired at .*; this host's clock is 60 s ahead of the JWKS server's \(± 1 s, from its Date header\), more than the 5 s threshold, and by the JWKS server's clock it has not expired yet: synchronise this host's clock \(NTP\)$/,
    );
    assert.doesNotMatch(clientMessage(error.code), /clock/i);
  });

  test('a cached token that expires here first says so too', async () => {
    let skew = 60_000;
    const verifier = verifierOn('cached_pool', () => skew);
    const token = mintAccessToken({
      key,
      issuer: server.issuer('cached_pool'),
      clientId: 'c',
      expiresIn: 90,
    });
    await verifier.verify(token); // fetched (offset +60 s) and cached
    skew = 100_000; // the host has drifted on; by the measured offset, the server is at +40 s < 90 s
    const error = await failure(verifier.verify(token));
    assert.equal(error.code, 'ERR_TOKEN_EXPIRED');
    assert.match(error.message, /this host's clock is 60 s ahead .* has not expired yet/);
  });

  test('not yet valid here but valid by the server: said for a host that is behind', async () => {
    const verifier = verifierOn('behind_pool', () => -60_000);
    const now = Date.now();
    const token = mintAccessToken({
      key,
      issuer: server.issuer('behind_pool'),
      clientId: 'c',
      now: now - 60_000,
      claims: { nbf: Math.floor(now / 1000) - 10 },
    });
    const error = await failure(verifier.verify(token));
    assert.equal(error.code, 'ERR_TOKEN_NOT_YET_VALID');
    assert.match(error.message, /this host's clock is 60 s behind the JWKS server's .* it is already valid/);
  });

  test('an offset under the threshold, or one that does not explain the refusal, adds nothing', async () => {
    const small = verifierOn('small_pool', () => 3_000);
    const justExpired = mintAccessToken({
      key,
      issuer: server.issuer('small_pool'),
      clientId: 'c',
      expiresIn: 1,
    });
    const error = await failure(small.verify(justExpired));
    assert.doesNotMatch(error.message, /clock/);
    const ahead = verifierOn('long_expired_pool', () => 60_000);
    const longExpired = mintAccessToken({
      key,
      issuer: server.issuer('long_expired_pool'),
      clientId: 'c',
      expiresIn: -3_600,
    });
    assert.doesNotMatch((await failure(ahead.verify(longExpired))).message, /clock/);
  });

  test('the client text never mentions the clock: a Hono app answers with the fixed sentence', async () => {
    const verifier = verifierOn('hono_pool', () => 60_000);
    const app = new Hono();
    app.use('*', cognitoAuth({ verifier }));
    app.get('/', (c) => c.text('ok'));
    const token = mintAccessToken({ key, issuer: server.issuer('hono_pool'), clientId: 'c', expiresIn: 30 });
    const response = await app.request('/', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 401);
    const text = `${await response.text()} ${response.headers.get('www-authenticate')}`;
    assert.match(text, /ERR_TOKEN_EXPIRED/);
    assert.doesNotMatch(text, /clock|NTP|threshold/i);
  });
});
