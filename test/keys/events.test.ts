import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { CognitoJwtError } from '../../src/errors.ts';
import {
  eventChannelName,
  JWKS_EVENTS,
  type JwksEventMessages,
  type JwksEventName,
  publish,
} from '../../src/keys/events.ts';
import { JwksCache } from '../../src/keys/jwks-cache.ts';
import { generateKeyPair } from '../../src/testing/index.ts';
import { manualClock, recordEvents, settle, startFaultServer } from '../helpers/fault-server.ts';

const [a, b, c] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];

test('the channel names are the documented ones', () => {
  assert.deepEqual(JWKS_EVENTS, {
    fetchStart: 'cognito-jwt:jwks:fetch-start',
    fetchSuccess: 'cognito-jwt:jwks:fetch-success',
    fetchFailure: 'cognito-jwt:jwks:fetch-failure',
    keysAdded: 'cognito-jwt:jwks:keys-added',
    keysRemoved: 'cognito-jwt:jwks:keys-removed',
    keyRejected: 'cognito-jwt:jwks:key-rejected',
    kidMiss: 'cognito-jwt:jwks:kid-miss',
    cooldownSkip: 'cognito-jwt:jwks:cooldown-skip',
    staleServed: 'cognito-jwt:jwks:stale-served',
    backoff: 'cognito-jwt:jwks:backoff',
    clockOffset: 'cognito-jwt:jwks:clock-offset',
    storeFailure: 'cognito-jwt:jwks:store-failure',
  });
  // publish() builds each name from its key instead of reading the table: the same names.
  for (const event of Object.keys(JWKS_EVENTS) as JwksEventName[]) {
    assert.equal(eventChannelName(event), JWKS_EVENTS[event], event);
  }
});

test('without a subscriber, no message is even built', () => {
  publish('fetchStart', () => assert.fail('built a message nobody listens to'));
  const seen: unknown[] = [];
  const listener = (message: unknown) => seen.push(message);
  subscribe(JWKS_EVENTS.fetchStart, listener);
  try {
    publish('fetchStart', () => ({ jwksUri: 'u', reason: 'load' }));
  } finally {
    unsubscribe(JWKS_EVENTS.fetchStart, listener);
  }
  assert.deepEqual(seen, [{ jwksUri: 'u', reason: 'load' }]);
});

test('a life of a key set, event by event, with the documented fields', async (t) => {
  const server = await startFaultServer({ keys: { keys: [a.publicJwk, { ...b.publicJwk, alg: 'HS256' }] } });
  t.after(() => server.close());
  const recorder = recordEvents();
  t.after(() => recorder.stop());
  const time = manualClock();
  const uri = server.jwksUri('local_EventPool');
  const cache = new JwksCache({ clock: time.clock, backoffMs: 1_000 });

  await cache.load(uri);
  assert.deepEqual(
    recorder.events.map((event) => event.name),
    ['fetchStart', 'clockOffset', 'keyRejected', 'keysAdded', 'fetchSuccess'],
  );
  assert.deepEqual(recorder.of('fetchStart'), [{ jwksUri: uri, reason: 'load' }]);
  assert.match(recorder.of('keyRejected')[0]!.error.message, /alg must be "RS256"/);
  assert.deepEqual(recorder.of('keysAdded'), [{ jwksUri: uri, kids: [a.kid] }]);
  const [success] = recorder.of('fetchSuccess');
  assert.equal(typeof success?.durationMs, 'number');
  assert.deepEqual(
    { ...success, durationMs: 0 },
    {
      jwksUri: uri,
      reason: 'load',
      durationMs: 0,
      httpStatus: 200,
      kids: [a.kid],
      maxAgeMs: 600_000,
    },
  );

  // b's key was refused: the kid is known to be unusable, so it says why and does not refetch.
  await assert.rejects(cache.getKey(uri, b.kid), { code: 'ERR_KEY_INVALID', message: /alg must be "RS256"/ });
  assert.equal(recorder.of('fetchStart').length, 1);

  server.setKeys([c]);
  await assert.rejects(cache.getKey(uri, b.kid), { code: 'ERR_KEY_INVALID' });
  await assert.rejects(cache.getKey(uri, 'unpublished'), { code: 'ERR_KEY_NOT_FOUND' });
  assert.deepEqual(recorder.of('fetchStart')[1], { jwksUri: uri, reason: 'kid-miss' });
  assert.deepEqual(recorder.of('keysAdded')[1], { jwksUri: uri, kids: [c.kid] });
  assert.deepEqual(recorder.of('keysRemoved'), [{ jwksUri: uri, kids: [a.kid] }]);
  assert.deepEqual(recorder.of('kidMiss'), [{ jwksUri: uri, kid: 'unpublished' }]);

  await assert.rejects(cache.getKey(uri, 'another'), { code: 'ERR_KID_COOLDOWN' });
  assert.deepEqual(recorder.of('cooldownSkip'), [{ jwksUri: uri, kid: 'another', retryInMs: 30_000 }]);

  server.behave({ kind: 'status', status: 503 });
  time.advance(10 * 60_000);
  cache.getKeySync(uri, c.kid);
  await settle(cache, uri);
  const [failure] = recorder.of('fetchFailure');
  assert.ok(failure?.error instanceof CognitoJwtError, 'the failure carries the error');
  assert.deepEqual(
    { ...failure, durationMs: 0, error: undefined },
    {
      jwksUri: uri,
      reason: 'max-age',
      durationMs: 0,
      httpStatus: 503,
      code: 'ERR_JWKS_FETCH_FAILED',
      error: undefined,
    },
  );
  const [backoff] = recorder.of('backoff');
  assert.equal(backoff?.failures, 1);
  assert.ok(backoff.retryInMs >= 500 && backoff.retryInMs <= 1_000, `retry in ${backoff.retryInMs} ms`);
  assert.deepEqual(recorder.of('staleServed'), [
    { jwksUri: uri, ageMs: 600_000, usableForMs: 24 * 3_600_000, kids: [c.kid] },
  ]);
  assert.equal(recorder.events.at(-1)?.name, 'staleServed');
});

test('the README subscribe example works as written', async (t) => {
  const server = await startFaultServer({ keys: [a] });
  t.after(() => server.close());
  server.behave({ kind: 'status', status: 500 });
  const lines: string[] = [];
  const listener = (message: unknown) => {
    const { jwksUri, httpStatus, durationMs, code } = message as JwksEventMessages['fetchFailure'];
    lines.push(
      `JWKS ${jwksUri} failed (${code}, HTTP ${httpStatus ?? '-'}) after ${durationMs.toFixed(0)} ms`,
    );
  };
  subscribe(JWKS_EVENTS.fetchFailure, listener);
  t.after(() => unsubscribe(JWKS_EVENTS.fetchFailure, listener));
  const uri = server.jwksUri('local_P');
  await assert.rejects(new JwksCache().load(uri), { code: 'ERR_JWKS_FETCH_FAILED' });
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]!,
    new RegExp(
      `^JWKS ${uri.replace(/[.]/g, '\\.')} failed \\(ERR_JWKS_FETCH_FAILED, HTTP 500\\) after \\d+ ms$`,
    ),
  );
});
