import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseTime, relativeWords, spanWords } from '../../src/cli/time.ts';
import { CognitoJwtError } from '../../src/errors.ts';

test('parseTime reads ISO dates and epoch seconds, and refuses anything else as a usage error', () => {
  assert.equal(parseTime('--at', '1714564800'), 1714564800000);
  assert.equal(parseTime('--at', '1714564800.5'), 1714564800500);
  assert.equal(parseTime('--at', '2024-05-01T12:00:00Z'), Date.UTC(2024, 4, 1, 12));
  assert.equal(parseTime('--at', '2024-05-01T14:00:00+02:00'), Date.UTC(2024, 4, 1, 12));
  for (const bad of ['yesterday', '', '2024-13-45', '1714564800ms', 'Wed, 01 May 2024 12:00:00 GMT']) {
    assert.throws(() => parseTime('--at', bad), { code: 'ERR_CONFIG_INVALID' }, bad);
  }
});

test('parseDuration reads seconds and units; negative only where allowed', () => {
  assert.equal(parseDuration('--expires-in', '90'), 90);
  assert.equal(parseDuration('--expires-in', '90s'), 90);
  assert.equal(parseDuration('--expires-in', '15m'), 900);
  assert.equal(parseDuration('--expires-in', '15min'), 900);
  assert.equal(parseDuration('--expires-in', '1h'), 3600);
  assert.equal(parseDuration('--expires-in', '7d'), 604800);
  assert.equal(parseDuration('--expires-in', '-1h', { allowNegative: true }), -3600);
  assert.throws(
    () => parseDuration('--clock-tolerance', '-5'),
    (error: unknown) => {
      assert.ok(error instanceof CognitoJwtError);
      assert.equal(
        error.message,
        '--clock-tolerance must be a non-negative duration such as 30, 30s, 15m, 1h or 7d, got "-5"',
      );
      return true;
    },
  );
  assert.throws(() => parseDuration('--expires-in', '1 week'), { code: 'ERR_CONFIG_INVALID' });
});

test('spanWords rounds to one unit without ever saying "60 min" or "60 s"', () => {
  assert.equal(spanWords(0), '0 s');
  assert.equal(spanWords(59.4), '59 s');
  assert.equal(spanWords(59.6), '1 min');
  assert.equal(spanWords(2520), '42 min');
  assert.equal(spanWords(3569), '59 min');
  assert.equal(spanWords(3599), '1 h');
  assert.equal(spanWords(-3 * 3600), '3 h');
  assert.equal(spanWords(47 * 3600), '47 h');
  assert.equal(spanWords(48 * 3600), '2 d');
});

test('relativeWords phrases each time claim in both directions', () => {
  const now = 1_700_000_000;
  assert.equal(relativeWords('exp', now + 2520, now), 'expires in 42 min');
  assert.equal(relativeWords('exp', now - 3 * 3600, now), 'expired 3 h ago');
  assert.equal(relativeWords('exp', now, now), 'expired 0 s ago', 'a token is expired at exp');
  assert.equal(relativeWords('iat', now + 5, now), 'issued 5 s in the future');
  assert.equal(relativeWords('iat', now - 120, now), 'issued 2 min ago');
  assert.equal(relativeWords('nbf', now + 60, now), 'not valid for another 1 min');
  assert.equal(relativeWords('auth_time', now - 86400 * 3, now), 'signed in 3 d ago');
});
