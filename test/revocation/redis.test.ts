import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { createClient } from 'redis';
import { startFleet } from '../../bench/revocation-fleet.ts';
import { CognitoVerifier, decodeUnverified } from '../../src/index.ts';
import { REVOCATION_EVENTS, RevocationList, type UnavailableBehaviour } from '../../src/revocation/index.ts';
import { buildJwks, generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { startRedisServer } from '../helpers/redis-server.ts';

const key = generateKeyPair();
const POOL = 'eu-west-1_FleetPool';
const CLIENT = 'client-1';
const jwks = buildJwks(key);
const issuer = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;
const mint = (sub = 'user-1', now?: number) =>
  mintAccessToken({ key, issuer, clientId: CLIENT, sub, ...(now === undefined ? {} : { now }) });
const originJti = (token: string) => decodeUnverified(token).payload.origin_jti as string;
const childSettings = (redisUrl: string, onUnavailable: UnavailableBehaviour = 'reject') => ({
  redisUrl,
  userPoolId: POOL,
  clientId: CLIENT,
  jwks,
  onUnavailable,
  heartbeatMs: 100,
  maxStalenessMs: 1_000,
});
const revoked = (code: string) => code === 'ERR_TOKEN_REVOKED';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('several verifier processes and one revoker: every revocation is refused everywhere; other sessions and later tokens keep working', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const fleet = await startFleet(3, childSettings(redis.url));
  t.after(() => fleet.stop());
  const revoker = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => revoker.close());
  await revoker.ready;

  const sessions = Array.from({ length: 5 }, () => mint('user-1'));
  const other = mint('user-1');
  for (const token of [...sessions, other])
    assert.deepEqual(await fleet.verifyAll(token), ['ok', 'ok', 'ok']);
  for (const token of sessions) {
    await revoker.revokeSession(originJti(token), { userPoolId: POOL });
    await fleet.waitForAll(token, revoked, 10_000); // generous bound; timing is the benchmark's job
  }
  assert.deepEqual(await fleet.verifyAll(other), ['ok', 'ok', 'ok'], 'another session of the same user');

  // User cut-off across processes: issued at or before it refused, issued after accepted.
  const cutoff = Math.floor(Date.now() / 1000) * 1000 - 5_000;
  const atCutoff = mint('user-2', cutoff + 999);
  const afterCutoff = mint('user-2', cutoff + 1_000);
  await revoker.revokeUser({ userPoolId: POOL, sub: 'user-2', cutoff });
  await fleet.waitForAll(atCutoff, revoked, 10_000);
  assert.deepEqual(await fleet.verifyAll(afterCutoff), ['ok', 'ok', 'ok']);
});

test('Redis killed while verifiers run: a revocation during the outage fails loudly; after the restart nothing revoked is accepted', async (t) => {
  const redis = await startRedisServer(); // no persistence: the restart loses everything
  t.after(() => redis.stop());
  const fleet = await startFleet(2, childSettings(redis.url));
  t.after(() => fleet.stop());
  const revoker = new RevocationList({
    redis: { url: redis.url, commandTimeoutMs: 500 },
    onUnavailable: 'reject',
  });
  t.after(() => revoker.close());
  await revoker.ready;
  const before = mint();
  const during = mint();
  const after = mint();
  const untouched = mint();
  await revoker.revokeSession(originJti(before));
  await fleet.waitForAll(before, revoked, 10_000);

  await redis.kill();
  await assert.rejects(revoker.revokeSession(originJti(during)), {
    code: 'ERR_REVOCATION_UNAVAILABLE',
    status: 503,
  });
  // Outage: what the mirrors hold is still refused; past maxStalenessMs the rest is 503 ('reject').
  await fleet.waitForAll(untouched, (code) => code === 'ERR_REVOCATION_UNAVAILABLE', 10_000);
  assert.deepEqual(await fleet.verifyAll(before), ['ERR_TOKEN_REVOKED', 'ERR_TOKEN_REVOKED']);

  await redis.restart();
  await fleet.waitForAll(untouched, (code) => code === 'ok', 15_000);
  // The retry the failure asked for, once the revoker has reconnected.
  await until(
    () =>
      revoker.revokeSession(originJti(during)).then(
        () => true,
        () => false,
      ),
    15_000,
    'the revoker to reconnect',
  );
  await revoker.revokeSession(originJti(after));
  for (const token of [before, during, after]) await fleet.waitForAll(token, revoked, 10_000);

  // The mirrors wrote back what the empty store had lost: a process started now refuses `before` too.
  const late = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => late.close());
  await late.ready;
  assert.equal(late.isRevoked(decodeUnverified(before).payload), true);
  assert.equal(late.isRevoked(decodeUnverified(untouched).payload), false);
});

test('a subscriber disconnected while revocations happened catches up on reconnect; a lost message is found by the heartbeat', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  t.after(() => admin.destroy());
  const reasons: string[] = [];
  const onResync = (message: unknown) => reasons.push((message as { reason: string }).reason);
  subscribe(REVOCATION_EVENTS.resync, onResync);
  t.after(() => unsubscribe(REVOCATION_EVENTS.resync, onResync));
  /** An entry written straight into the store, with the version moved and no message sent. */
  const writeSilently = async (originJti: string) => {
    const expiresAt = String(Date.now() + 60_000);
    await admin.sendCommand([
      'ZADD',
      'cognito-jwt:revocation:entries',
      expiresAt,
      `s\t${originJti}\t${expiresAt}`,
    ]);
    await admin.sendCommand(['INCR', 'cognito-jwt:revocation:version']);
  };

  /** A list on this Redis with its own heartbeat; closed after the test. */
  const startList = async (heartbeatMs: number, maxStalenessMs: number) => {
    const list = new RevocationList({
      redis: { url: redis.url },
      onUnavailable: 'reject',
      heartbeatMs,
      maxStalenessMs,
    });
    t.after(() => list.close());
    await list.ready;
    return list;
  };

  // A change the subscriber never hears of, then its pub/sub connection dropped. Its heartbeat is
  // slow (two beats, 10 s, before it would call a gap lost), so only the resync it runs when it
  // reconnects can find the change.
  const away = await startList(5_000, 60_000);
  await writeSilently('missed-while-away');
  await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
  await until(() => away.isRevoked({ origin_jti: 'missed-while-away' }), 8_000, 'catch-up on reconnect');
  // Neither the heartbeat (10 s) nor the periodic reconcile (5 min) can have found it in that time.
  assert.ok(reasons.includes('reconnect'), reasons.join(', '));
  assert.ok(!reasons.includes('lost-message'), reasons.join(', '));

  // Connected all along, with a fast heartbeat: a change whose message never came (the version moves,
  // no message) is found a heartbeat later.
  const connected = await startList(100, 1_000);
  reasons.length = 0;
  await writeSilently('silent-entry');
  await until(
    () => connected.isRevoked({ origin_jti: 'silent-entry' }),
    10_000,
    'the heartbeat to find the gap',
  );
  assert.ok(reasons.includes('lost-message'), reasons.join(', '));
});

for (const onUnavailable of ['reject', 'accept'] as const) {
  test(`staleness past maxStalenessMs with onUnavailable '${onUnavailable}'`, async (t) => {
    const redis = await startRedisServer();
    t.after(() => redis.stop());
    const list = new RevocationList({
      redis: { url: redis.url, commandTimeoutMs: 200 },
      onUnavailable,
      heartbeatMs: 100,
      maxStalenessMs: 500,
    });
    t.after(() => list.close());
    await list.ready;
    // With 'accept', ready does not wait for Redis: wait for the first read here.
    await until(() => list.status.state === 'current', 10_000, 'the first read');
    const verifier = new CognitoVerifier(
      { userPoolId: POOL, clientId: CLIENT, tokenUse: 'access', jwks },
      { isRevoked: list.isRevoked },
    );
    const cached = mint();
    const revokedToken = mint();
    verifier.verifySync(cached);
    await list.revokeSession(originJti(revokedToken));
    const accepted: unknown[] = [];
    const onAccepted = (message: unknown) => accepted.push(message);
    subscribe(REVOCATION_EVENTS.acceptedUnchecked, onAccepted);
    t.after(() => unsubscribe(REVOCATION_EVENTS.acceptedUnchecked, onAccepted));

    redis.pause(); // sockets stay open, nothing answers: a quiet channel that is in fact dead
    t.after(() => redis.resume());
    await until(() => list.status.state === 'stale', 5_000, 'the list to go stale');
    assert.throws(
      () => verifier.verifySync(revokedToken),
      { code: 'ERR_TOKEN_REVOKED' },
      'held entries still refuse',
    );
    if (onUnavailable === 'reject') {
      assert.throws(() => verifier.verifySync(cached), { code: 'ERR_REVOCATION_UNAVAILABLE', status: 503 });
      assert.throws(() => verifier.verifySync(mint()), { code: 'ERR_REVOCATION_UNAVAILABLE' });
      assert.equal(verifier.tokenCache?.size, 0, 'the throw dropped the cached token');
      assert.equal(accepted.length, 0);
    } else {
      assert.equal(verifier.verifySync(cached).sub, 'user-1');
      assert.equal(verifier.verifySync(mint()).sub, 'user-1');
      assert.equal(accepted.length, 2);
    }
    redis.resume();
    await until(() => list.status.state === 'current', 10_000, 'the list to be current again');
    assert.equal(verifier.verifySync(cached).sub, 'user-1');
  });
}

test('an event loop that stalled past maxStalenessMs refuses at its first check, before the stale timer can run; a heartbeat makes it current again', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const list = new RevocationList({
    redis: { url: redis.url },
    onUnavailable: 'reject',
    heartbeatMs: 100,
    maxStalenessMs: 1_000,
  });
  t.after(() => list.close());
  await list.ready;
  const claims = decodeUnverified(mint('stalled-user')).payload as Parameters<typeof list.isRevoked>[0];
  // From a fresh confirmation (a loaded machine can delay one), so only the stall below can age it.
  await until(() => list.status.stalenessMs < 200, 5_000, 'a heartbeat to confirm the mirror');
  assert.equal(list.isRevoked(claims), false);
  // A stall (a stopped process, a long synchronous task): no timer, no message, no heartbeat runs.
  const resumeAt = Date.now() + 1_300;
  while (Date.now() < resumeAt) {}
  assert.throws(() => list.isRevoked(claims), { code: 'ERR_REVOCATION_UNAVAILABLE' });
  await until(() => list.status.state === 'current', 5_000, 'a heartbeat to confirm the mirror');
  assert.equal(list.isRevoked(claims), false);
});

test('expiry: entries vanish from the mirror after their lifetime (injected clock); Redis prunes by its own clock', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  let now = Date.now();
  const list = new RevocationList({
    redis: { url: redis.url },
    onUnavailable: 'reject',
    tokenLifetimeSeconds: 60,
    sweepIntervalMs: 10,
    clock: () => now,
  });
  t.after(() => list.close());
  await list.ready;
  await list.revokeSession('short-lived');
  assert.equal(list.size, 1);
  now += 361_000; // 60 s lifetime + 300 s tolerance
  await until(() => list.size === 0, 5_000, 'the sweep');
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  t.after(() => admin.destroy());
  // An entry past its expiry by Redis's clock (and the margin) goes with the next write.
  const old = String(Date.now() - 400_000);
  await admin.sendCommand(['ZADD', 'cognito-jwt:revocation:entries', old, `s\tlong-gone\t${old}`]);
  await list.revokeSession('next');
  const members = (await admin.sendCommand([
    'ZRANGE',
    'cognito-jwt:revocation:entries',
    '0',
    '-1',
  ])) as string[];
  assert.ok(!members.includes(`s\tlong-gone\t${old}`), members.join(', '));
  assert.ok(
    members.some((member) => member.startsWith('s\tshort-lived\t')),
    'the writer clock does not prune',
  );
});

test('a writer whose clock runs 30 minutes ahead prunes nothing that is still live (Redis TIME, not the writer)', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const honest = new RevocationList({
    redis: { url: redis.url },
    onUnavailable: 'reject',
    tokenLifetimeSeconds: 300,
  });
  t.after(() => honest.close());
  await honest.ready;
  await honest.revokeSession('ten-minutes-left'); // 300 s + 300 s tolerance
  const ahead = new RevocationList({
    redis: { url: redis.url },
    onUnavailable: 'reject',
    clock: () => Date.now() + 30 * 60_000,
  });
  t.after(() => ahead.close());
  await ahead.ready;
  await ahead.revokeSession('from-the-future');
  const late = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => late.close());
  await late.ready;
  assert.equal(late.isRevoked({ origin_jti: 'ten-minutes-left' }), true);
  assert.equal(late.isRevoked({ origin_jti: 'from-the-future' }), true);
});

test('a full read pages through entries that share one expiry (more than a page of them) without losing any', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  t.after(() => admin.destroy());
  const same = String(Date.now() + 3_600_000);
  const later = String(Date.now() + 7_200_000);
  const members: string[] = [];
  for (let i = 0; i < 25_000; i++) members.push(same, `s\ttie-${i}\t${same}`);
  for (let i = 0; i < 10; i++) members.push(later, `s\tlater-${i}\t${later}`);
  members.push(same, 'not an entry of this library');
  await admin.sendCommand(['ZADD', 'cognito-jwt:revocation:entries', ...members]);
  const list = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => list.close());
  await list.ready;
  assert.equal(list.size, 25_010);
  assert.equal(list.isRevoked({ origin_jti: 'tie-24999' }), true);
  assert.equal(list.isRevoked({ origin_jti: 'later-9' }), true);
});

test('a full read of sessions revoked with their owners keeps every owner, across pools, pages and a cut-off read first; revoking a user then drops exactly its sessions', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  t.after(() => admin.destroy());
  const pools = ['eu-west-1_OwnedA', 'eu-west-1_OwnedB'];
  const base = Date.now() + 3_600_000;
  // 20 000 users in runs of 5 000 per pool: the first 10 000 hold two sessions, the rest one; a few
  // subs and ids are not lowercase UUIDs (the mirror keeps those aside).
  const userOf = (n: number) => ({
    userPoolId: pools[Math.floor(n / 5_000) % 2] as string,
    sub: n % 997 === 0 ? `User-${n}` : `${n.toString(16).padStart(8, '0')}-1111-4000-8000-000000000000`,
  });
  const written = new Map<string, { userPoolId: string; sub: string }>();
  const members: string[] = [];
  for (let i = 0; i < 30_000; i++) {
    const owner = userOf(i % 20_000);
    const originJti =
      i % 1_009 === 0 ? `Session-${i}` : `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
    // Five expiries: the read (latest first) switches pools several times.
    const expiresAt = base + (i % 5);
    written.set(originJti, owner);
    members.push(String(expiresAt), `o\t${owner.userPoolId}\t${owner.sub}\t${originJti}\t${expiresAt}`);
  }
  // A cut-off outliving user 7's sessions, read before them: they are folded into it as they come.
  const folded = userOf(7);
  const cutoffExpiry = base + 60_000;
  members.push(
    String(cutoffExpiry),
    `u\t${folded.userPoolId}\t${folded.sub}\t${Math.floor(Date.now() / 1000)}\t${cutoffExpiry}`,
  );
  await admin.sendCommand(['ZADD', 'cognito-jwt:revocation:entries', ...members]);
  const list = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => list.close());
  await list.ready;
  const foldedIds = [...written].filter(([, owner]) => owner.sub === folded.sub).map(([id]) => id);
  assert.equal(foldedIds.length, 2);
  assert.equal(list.size, 30_000 - 2 + 1);
  const sessions = list.entries().filter((entry) => entry.kind === 'session');
  assert.equal(sessions.length, 30_000 - 2);
  for (const entry of sessions) assert.deepEqual(entry.owner, written.get(entry.originJti), entry.originJti);
  // One user with two sessions, one with one, one whose sub is kept aside: each cut-off replaces them.
  for (const n of [3, 15_000, 997]) {
    const owner = userOf(n);
    const ids = [...written].filter(([, o]) => o.sub === owner.sub).map(([id]) => id);
    const before = list.size;
    await list.revokeUser(owner);
    assert.equal(list.size, before - ids.length + 1, owner.sub);
    for (const id of ids) assert.equal(list.isRevoked({ origin_jti: id }), false, id);
  }
});
