import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import {
  REVOCATION_EVENTS,
  type RevocationEventMessages,
  RevocationList,
} from '../../src/revocation/index.ts';

const POOL = 'eu-west-1_CapPool';
const OTHER_POOL = 'eu-west-1_Elsewhere';
const iss = (pool: string) => `https://cognito-idp.eu-west-1.amazonaws.com/${pool}`;

function capacityEvents(list: RevocationList) {
  const seen: RevocationEventMessages['capacity'][] = [];
  const listener = (message: unknown) => {
    const report = message as RevocationEventMessages['capacity'];
    if (report.source === list) seen.push(report);
  };
  subscribe(REVOCATION_EVENTS.capacity, listener);
  return { seen, stop: () => unsubscribe(REVOCATION_EVENTS.capacity, listener) };
}

test('maxEntriesPerPool: a warning at 80 %, full at the cap; the pool never holds more, and no revoked session is accepted', async () => {
  let now = 1_900_000_000_000;
  const list = new RevocationList({ store: 'memory', maxEntriesPerPool: 10, clock: () => now });
  const events = capacityEvents(list);
  try {
    const issuedAt = Math.floor(now / 1000) - 60;
    for (let i = 0; i < 10; i++) {
      await list.revokeSession(`s-${i}`, { userPoolId: POOL, sub: `user-${i % 3}` });
      now += 1_000;
    }
    assert.deepEqual(
      events.seen.map((e) => e.level),
      ['warning', 'full'],
    );
    // Past the cap: the users' sessions fold into one cut-off each.
    await list.revokeSession('s-10', { userPoolId: POOL, sub: 'user-1' });
    const pool = list.status.pools.find((p) => p.userPoolId === POOL)!;
    assert.ok(pool.entries <= 10, `${pool.entries} entries`);
    assert.ok(pool.folded > 0);
    for (let i = 0; i <= 10; i++) {
      assert.equal(
        list.isRevoked({ iss: iss(POOL), sub: `user-${i % 3}`, iat: issuedAt, origin_jti: `s-${i}` }),
        true,
        `session s-${i}`,
      );
    }
    // Another user of the pool, and the same user signing in again later, are accepted.
    assert.equal(list.isRevoked({ iss: iss(POOL), sub: 'someone', iat: issuedAt, origin_jti: 'x' }), false);
    const later = Math.ceil(now / 1000) + 1;
    assert.equal(list.isRevoked({ iss: iss(POOL), sub: 'user-0', iat: later, origin_jti: 'y' }), false);
  } finally {
    events.stop();
    await list.close();
  }
});

test('one user signing out over and over at the cap cannot lock the pool out: the sessions fold into one cut-off', async () => {
  let now = 1_900_000_000_000;
  const list = new RevocationList({ store: 'memory', maxEntriesPerPool: 100, clock: () => now });
  try {
    for (let i = 0; i < 99; i++)
      await list.revokeSession(`other-${i}`, { userPoolId: POOL, sub: `other-${i}` });
    for (let i = 0; i < 1_000; i++) {
      now += 2_000; // sign in, sign out
      await list.revokeSession(`churn-${i}`, { userPoolId: POOL, sub: 'churner' });
      const signedInAgain = Math.ceil(now / 1000) + 1;
      // Every revoked session of the churner stays refused; the churner's next session works.
      assert.equal(
        list.isRevoked({ iss: iss(POOL), sub: 'churner', iat: signedInAgain - 3, origin_jti: `churn-${i}` }),
        true,
      );
      assert.equal(
        list.isRevoked({ iss: iss(POOL), sub: 'churner', iat: signedInAgain, origin_jti: 'new' }),
        false,
      );
    }
    const pool = list.status.pools.find((p) => p.userPoolId === POOL)!;
    assert.ok(pool.entries <= 100);
    assert.notEqual(pool.level, 'overflow');
    // Everyone else of the pool is unaffected, old tokens included.
    assert.equal(list.isRevoked({ iss: iss(POOL), sub: 'bystander', iat: 1, origin_jti: 'b' }), false);
    for (let i = 0; i < 99; i++) {
      assert.equal(
        list.isRevoked({ iss: iss(POOL), sub: `other-${i}`, iat: 1, origin_jti: `other-${i}` }),
        true,
      );
    }
  } finally {
    await list.close();
  }
});

test('overflow: when folding frees no room the pool refuses every token issued up to now, never accepts a revoked one, and recovers when entries expire', async () => {
  let now = 1_900_000_000_000;
  const list = new RevocationList({
    store: 'memory',
    maxEntriesPerPool: 5,
    tokenLifetimeSeconds: 600,
    sweepIntervalMs: 5,
    clock: () => now,
  });
  const events = capacityEvents(list);
  try {
    const before = Math.floor(now / 1000) - 10;
    for (let i = 0; i < 8; i++) await list.revokeSession(`s-${i}`, { userPoolId: POOL, sub: `u-${i}` });
    assert.equal(list.status.pools.find((p) => p.userPoolId === POOL)?.level, 'overflow');
    assert.ok(events.seen.some((e) => e.level === 'overflow'));
    for (let i = 0; i < 8; i++) {
      assert.equal(
        list.isRevoked({ iss: iss(POOL), sub: `u-${i}`, iat: before, origin_jti: `s-${i}` }),
        true,
      );
    }
    // Fail closed for the pool's older tokens, open for new ones and for other pools.
    assert.equal(list.isRevoked({ iss: iss(POOL), sub: 'x', iat: before, origin_jti: 'x' }), true);
    assert.equal(
      list.isRevoked({ iss: iss(POOL), sub: 'x', iat: Math.ceil(now / 1000) + 1, origin_jti: 'x' }),
      false,
    );
    assert.equal(list.isRevoked({ iss: iss(OTHER_POOL), sub: 'x', iat: before, origin_jti: 'x' }), false);
    // Sessions revoked without their pool have their own bucket, also capped.
    for (let i = 0; i < 6; i++) await list.revokeSession(`bare-${i}`);
    assert.equal(list.status.pools.find((p) => p.userPoolId === '')?.level, 'overflow');
    assert.equal(list.isRevoked({ iss: iss(OTHER_POOL), sub: 'x', iat: before, origin_jti: 'bare-5' }), true);
    now += 1_000_000;
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(list.size, 0);
    assert.equal(list.isRevoked({ iss: iss(POOL), sub: 'x', iat: before, origin_jti: 'x' }), false);
    assert.equal(events.seen.at(-1)?.level, 'ok');
  } finally {
    events.stop();
    await list.close();
  }
});

test('maxEntriesPerPool is checked; sub needs userPoolId', async () => {
  assert.throws(() => new RevocationList({ store: 'memory', maxEntriesPerPool: 0 }), {
    code: 'ERR_CONFIG_INVALID',
  });
  const list = new RevocationList({ store: 'memory' });
  await assert.rejects(list.revokeSession('a', { sub: 'u' }), { message: /sub needs userPoolId/ });
  await list.close();
});
