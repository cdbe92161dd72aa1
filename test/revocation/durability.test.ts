import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { createClient } from 'redis';
import { startFleet } from '../../bench/revocation-fleet.ts';
import { REVOCATION_EVENTS, RevocationList } from '../../src/revocation/index.ts';
import { buildJwks, generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { startRedisServer } from '../helpers/redis-server.ts';

const POOL = 'eu-west-1_Durable1';
const CLIENT = 'client-1';
const key = generateKeyPair();
const jwks = buildJwks(key);
const issuer = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;
const ENTRIES = 'cognito-jwt:revocation:entries';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function adminOf(t: import('node:test').TestContext, url: string) {
  const admin = createClient({ url });
  admin.on('error', () => {});
  await admin.connect();
  t.after(() => admin.destroy());
  return admin;
}

test('a member removed behind the lists back (no version change, no message) is found by the heartbeat digest and written back', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const admin = await adminOf(t, redis.url);
  const holder = new RevocationList({
    redis: { url: redis.url },
    onUnavailable: 'reject',
    heartbeatMs: 100,
    maxStalenessMs: 1_000,
  });
  t.after(() => holder.close());
  await holder.ready;
  await holder.revokeSession('kept-by-the-mirror');
  const reseeds: unknown[] = [];
  const onReseed = (message: unknown) => reseeds.push(message);
  subscribe(REVOCATION_EVENTS.reseed, onReseed);
  t.after(() => unsubscribe(REVOCATION_EVENTS.reseed, onReseed));
  const [member] = (await admin.sendCommand(['ZRANGE', ENTRIES, '0', '-1'])) as string[];
  assert.ok(member);
  await admin.sendCommand(['ZREM', ENTRIES, member]);
  // The version is what it was: only the content tells.
  await until(
    async () => ((await admin.sendCommand(['ZCARD', ENTRIES])) as number) === 1,
    5_000,
    'the holder to write the entry back',
  );
  // The event follows the write's reply, which can reach the holder after ZCARD already shows it.
  await until(() => reseeds.length > 0, 5_000, 'the reseed event');
  assert.equal(reseeds.length, 1);
  const late = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => late.close());
  await late.ready;
  assert.equal(late.isRevoked({ origin_jti: 'kept-by-the-mirror' }), true);
});

test('a list that read the emptied store hears what a returning holder writes back (the write-back is versioned and published)', async (t) => {
  const redis = await startRedisServer(); // no persistence: a restart loses everything
  t.after(() => redis.stop());
  const settings = {
    redisUrl: redis.url,
    userPoolId: POOL,
    clientId: CLIENT,
    jwks,
    onUnavailable: 'reject',
    heartbeatMs: 100,
    maxStalenessMs: 1_000,
  };
  const fleet = await startFleet(1, settings);
  t.after(() => fleet.stop());
  const token = mintAccessToken({ key, issuer, clientId: CLIENT });
  const writer = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  await writer.ready;
  const { origin_jti } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
    origin_jti: string;
  };
  await writer.revokeSession(origin_jti);
  await writer.close();
  await fleet.waitForAll(token, (code) => code === 'ERR_TOKEN_REVOKED', 10_000);

  const holder = fleet.members[0]!.child;
  holder.kill('SIGSTOP'); // the only holder is away while Redis restarts empty
  t.after(() => holder.kill('SIGCONT'));
  await redis.kill();
  await redis.restart();
  const late = new RevocationList({
    redis: { url: redis.url },
    onUnavailable: 'reject',
    heartbeatMs: 100,
    maxStalenessMs: 1_000,
  });
  t.after(() => late.close());
  await late.ready;
  assert.equal(late.isRevoked({ origin_jti }), false, 'the store lost it');
  holder.kill('SIGCONT');
  await until(() => late.isRevoked({ origin_jti }), 5_000, 'the late list to hear the write-back');
});

test('ready settles while Redis is down: reject fails after readyTimeoutMs naming the cause (and the list turns current once Redis answers); accept resolves at once', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  await redis.kill();
  const url = `redis://default:s3cret@127.0.0.1:${redis.port}`;
  const rejecting = new RevocationList({ redis: { url }, onUnavailable: 'reject', readyTimeoutMs: 1_500 });
  t.after(() => rejecting.close());
  const accepting = new RevocationList({ redis: { url }, onUnavailable: 'accept', readyTimeoutMs: 60_000 });
  t.after(() => accepting.close());
  const started = Date.now();
  await accepting.ready;
  assert.ok(Date.now() - started < 1_000, 'accept does not wait for Redis');
  assert.equal(accepting.status.state, 'starting');
  const error = await rejecting.ready.then(
    () => assert.fail('ready resolved without Redis'),
    (error: Error & { code?: string }) => error,
  );
  assert.equal(error.code, 'ERR_REVOCATION_UNAVAILABLE');
  assert.match(error.message, /did not complete its first read within 1500 ms/);
  assert.match(error.message, /ECONNREFUSED/);
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${redis.port}`));
  assert.doesNotMatch(error.message, /s3cret/);
  await redis.restart();
  await until(() => rejecting.status.state === 'current', 10_000, 'the list to turn current');
  await until(() => accepting.status.state === 'current', 10_000, 'the accepting list to turn current');
});

test('closing a list whose first read never came settles ready at once', async () => {
  const list = new RevocationList({ redis: { url: 'redis://127.0.0.1:1' }, onUnavailable: 'reject' });
  await list.close();
  await assert.rejects(list.ready, { code: 'ERR_REVOCATION_UNAVAILABLE', message: /closed/ });
});

test('the store settings are read at start: allkeys-* and persistence off are warned about; AOF with noeviction is quiet; CONFIG refused falls back to INFO', async (t) => {
  const risky = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
  t.after(() => risky.stop());
  const reports: unknown[] = [];
  const onSettings = (message: unknown) => reports.push(message);
  subscribe(REVOCATION_EVENTS.storeSettings, onSettings);
  t.after(() => unsubscribe(REVOCATION_EVENTS.storeSettings, onSettings));
  const open = async (url: string) => {
    const list = new RevocationList({ redis: { url }, onUnavailable: 'reject' });
    t.after(() => list.close());
    await list.ready;
    return list.status.storeWarnings;
  };
  const riskyWarnings = await open(risky.url);
  assert.equal(riskyWarnings.length, 2, riskyWarnings.join('\n'));
  assert.match(riskyWarnings[0]!, /maxmemory_policy is allkeys-lru/);
  assert.match(riskyWarnings[1]!, /persistence is off/);
  assert.deepEqual(reports[0], {
    maxmemoryPolicy: 'allkeys-lru',
    persistence: 'off',
    warnings: riskyWarnings,
  });

  const durable = await startRedisServer({ persistence: true });
  t.after(() => durable.stop());
  assert.deepEqual(await open(durable.url), []);

  // As on ElastiCache: CONFIG is refused, and no RDB save has happened yet.
  const managed = await startRedisServer({ args: ['--rename-command', 'CONFIG', '""'] });
  t.after(() => managed.stop());
  const managedWarnings = await open(managed.url);
  assert.equal(managedWarnings.length, 1);
  assert.match(managedWarnings[0]!, /could not tell whether Redis persists/);
});
