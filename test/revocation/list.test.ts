import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { CognitoVerifier, decodeUnverified } from '../../src/index.ts';
import { REVOCATION_EVENTS, RevocationList } from '../../src/revocation/index.ts';
import { buildJwks, generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';

const key = generateKeyPair();
const POOL_A = 'eu-west-1_PoolAAA';
const POOL_B = 'eu-west-1_PoolBBB';
const CLIENT = 'client-1';
const jwks = buildJwks(key);
const regional = (pool: string) => `https://cognito-idp.eu-west-1.amazonaws.com/${pool}`;
const multiRegion = (pool: string) => `https://issuer-cognito-idp.eu-west-1.amazonaws.com/${pool}`;

function verifierFor(list: RevocationList) {
  return new CognitoVerifier(
    [
      { userPoolId: POOL_A, clientId: CLIENT, tokenUse: 'access', jwks },
      { userPoolId: POOL_B, clientId: CLIENT, tokenUse: 'access', jwks },
    ],
    { isRevoked: list.isRevoked },
  );
}

function originJti(token: string): string {
  return decodeUnverified(token).payload.origin_jti as string;
}

test('a revoked session is refused, fresh or cached; another session of the same user keeps working', async () => {
  const list = new RevocationList({ store: 'memory' });
  await list.ready;
  const verifier = verifierFor(list);
  const sub = 'user-1';
  const first = mintAccessToken({ key, issuer: regional(POOL_A), clientId: CLIENT, sub });
  const second = mintAccessToken({ key, issuer: regional(POOL_A), clientId: CLIENT, sub });
  verifier.verifySync(first); // now cached
  await list.revokeSession(originJti(first));
  assert.throws(() => verifier.verifySync(first), { code: 'ERR_TOKEN_REVOKED', status: 401 });
  assert.equal(verifier.verifySync(second).sub, sub);
  assert.equal(list.size, 1);
  await list.close();
});

test('the user cut-off refuses tokens issued at or before it (one-second resolution) and accepts later ones', async () => {
  const list = new RevocationList({ store: 'memory' });
  const verifier = verifierFor(list);
  const sub = 'user-2';
  const cutoff = Math.floor(Date.now() / 1000) * 1000 - 10_000 + 400; // 400 ms into a second
  const mint = (now: number) =>
    mintAccessToken({ key, issuer: regional(POOL_A), clientId: CLIENT, sub, now });
  const before = mint(cutoff - 5_000);
  const sameSecondLater = mint(cutoff + 500); // iat is the cut-off's second: inclusive
  const after = mint(cutoff + 1_000);
  await list.revokeUser({ userPoolId: POOL_A, sub, cutoff });
  assert.throws(() => verifier.verifySync(before), { code: 'ERR_TOKEN_REVOKED' });
  assert.throws(() => verifier.verifySync(sameSecondLater), { code: 'ERR_TOKEN_REVOKED' });
  assert.equal(verifier.verifySync(after).sub, sub);
  // A token without origin_jti (revocation off for the app client) is caught by the cut-off too.
  const noOrigin = mintAccessToken({
    key,
    issuer: regional(POOL_A),
    clientId: CLIENT,
    sub,
    now: cutoff - 1_000,
    claims: { origin_jti: undefined },
  });
  assert.throws(() => verifier.verifySync(noOrigin), { code: 'ERR_TOKEN_REVOKED' });
});

test('pools are kept apart, and both issuers of one pool are caught', async () => {
  const list = new RevocationList({ store: 'memory' });
  const verifier = verifierFor(list);
  const sub = 'same-sub-in-two-pools';
  const now = Date.now() - 2_000;
  await list.revokeUser({ userPoolId: POOL_A, sub });
  for (const issuer of [regional(POOL_A), multiRegion(POOL_A)]) {
    assert.throws(() => verifier.verifySync(mintAccessToken({ key, issuer, clientId: CLIENT, sub, now })), {
      code: 'ERR_TOKEN_REVOKED',
    });
  }
  for (const issuer of [regional(POOL_B), multiRegion(POOL_B)]) {
    assert.equal(verifier.verifySync(mintAccessToken({ key, issuer, clientId: CLIENT, sub, now })).sub, sub);
  }
});

test('entries vanish after their lifetime (injected clock): the bound is the pool lifetime plus 300 s of clock tolerance', async () => {
  let now = Date.now();
  const list = new RevocationList({
    store: 'memory',
    tokenLifetimeSeconds: 3_600,
    poolTokenLifetimeSeconds: { [POOL_A]: 600 },
    sweepIntervalMs: 5,
    clock: () => now,
  });
  await list.revokeSession('session-default-bound');
  await list.revokeSession('session-pool-a', { userPoolId: POOL_A });
  await list.revokeUser({ userPoolId: POOL_A, sub: 'u' });
  const expiries = Object.fromEntries(
    list
      .entries()
      .map((entry) => [entry.kind === 'session' ? entry.originJti : entry.sub, entry.expiresAt - now]),
  );
  assert.equal(expiries['session-default-bound'], 3_900_000);
  assert.equal(expiries['session-pool-a'], 900_000);
  assert.ok(expiries.u! > 900_000 && expiries.u! <= 901_000);
  now += 901_000;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(
    list.entries().map((entry) => entry.kind === 'session' && entry.originJti),
    ['session-default-bound'],
  );
  now += 3_000_000;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(list.size, 0);
  await list.close();
});

test('options are checked: a Redis list needs onUnavailable; unknown keys are named', () => {
  assert.throws(() => new RevocationList({ redis: { url: 'redis://127.0.0.1:1' } } as never), {
    code: 'ERR_CONFIG_INVALID',
    message: /onUnavailable is required/,
  });
  assert.throws(() => new RevocationList({ store: 'memory', maxStalenesMs: 5 } as never), {
    message: /did you mean "maxStalenessMs"/,
  });
  assert.throws(() => new RevocationList({ redis: { url: 'http://x' }, onUnavailable: 'reject' }), {
    message: /redis:\/\//,
  });
  assert.throws(
    () => new RevocationList({ redis: { url: 'redis://h', db: 1 } as never, onUnavailable: 'accept' }),
    {
      message: /unknown option "db"/,
    },
  );
  const list = new RevocationList({ store: 'memory' });
  assert.rejects(list.revokeSession(''), { code: 'ERR_CONFIG_INVALID' });
  assert.rejects(list.revokeUser({ userPoolId: 'not a pool', sub: 'x' }), { code: 'ERR_CONFIG_INVALID' });
});

test('before ready: reject throws ERR_REVOCATION_UNAVAILABLE (503), accept lets the token through and publishes an event', async () => {
  // Nothing listens on port 1: the list never becomes ready.
  const rejecting = new RevocationList({ redis: { url: 'redis://127.0.0.1:1' }, onUnavailable: 'reject' });
  const accepting = new RevocationList({ redis: { url: 'redis://127.0.0.1:1' }, onUnavailable: 'accept' });
  const claims = { iss: regional(POOL_A), sub: 's', iat: 1, origin_jti: 'o' };
  assert.throws(() => rejecting.isRevoked(claims), { code: 'ERR_REVOCATION_UNAVAILABLE', status: 503 });
  const events: unknown[] = [];
  const listener = (message: unknown) => events.push(message);
  subscribe(REVOCATION_EVENTS.acceptedUnchecked, listener);
  try {
    assert.equal(accepting.isRevoked(claims), false);
  } finally {
    unsubscribe(REVOCATION_EVENTS.acceptedUnchecked, listener);
  }
  assert.equal(events.length, 1);
  assert.equal(rejecting.status.state, 'starting');
  await Promise.all([rejecting.close(), accepting.close()]);
  await assert.rejects(rejecting.ready, { code: 'ERR_REVOCATION_UNAVAILABLE' });
});

test('a hook that throws something else fails closed with ERR_REVOCATION_UNAVAILABLE and drops the cached token', () => {
  let broken = false;
  const verifier = new CognitoVerifier(
    { userPoolId: POOL_A, clientId: CLIENT, tokenUse: 'access', jwks },
    {
      isRevoked: () => {
        if (broken) throw new TypeError('boom');
        return false;
      },
    },
  );
  const token = mintAccessToken({ key, issuer: regional(POOL_A), clientId: CLIENT });
  verifier.verifySync(token);
  assert.equal(verifier.tokenCache?.size, 1);
  broken = true;
  assert.throws(() => verifier.verifySync(token), { code: 'ERR_REVOCATION_UNAVAILABLE', status: 503 });
  assert.equal(verifier.tokenCache?.size, 0);
});
