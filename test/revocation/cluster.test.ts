/**
 * The revocation list on a real Redis Cluster (3 masters + 3 replicas on loopback): a revocation
 * reaches three verifier processes through sharded pub/sub, every key of the list sits in one slot,
 * and the single-node key names are unchanged outside cluster mode.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFleet } from '../../bench/revocation-fleet.ts';
import { decodeUnverified } from '../../src/index.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import { buildJwks, generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { startRedisCluster } from '../helpers/redis-cluster.ts';

const POOL = 'eu-west-1_ClusterPool';
const CLIENT = 'client-1';
const key = generateKeyPair();
const issuer = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;
const mint = () => mintAccessToken({ key, issuer, clientId: CLIENT });
const originJti = (token: string) => decodeUnverified(token).payload.origin_jti as string;

test('cluster options: a prefix without a {…} hash tag, url beside cluster and unknown keys are refused at construction', () => {
  const make = (redis: object) => () => new RevocationList({ redis, onUnavailable: 'reject' } as never);
  assert.throws(make({ cluster: { rootNodes: ['redis://127.0.0.1:1'] }, keyPrefix: 'app:' }), /hash tag/);
  assert.throws(make({ cluster: { rootNodes: ['redis://127.0.0.1:1'] }, keyPrefix: 'app:{}' }), /hash tag/);
  assert.throws(
    make({ url: 'redis://127.0.0.1:1', cluster: { rootNodes: ['redis://127.0.0.1:1'] } }),
    /not both/,
  );
  assert.throws(make({ cluster: { rootNodes: [] } }), /rootNodes/);
  assert.throws(make({ cluster: { rootNodes: ['redis://a:1', 'rediss://b:1'] } }), /mix/);
  assert.throws(make({ cluster: { rootNodes: ['redis://a:1'], tls: true } }), /tls/);
  assert.throws(make({}), /url \(one node\) or cluster/);
});

test('Redis Cluster: a revocation reaches three verifier processes; every key sits in one slot', async (t) => {
  const cluster = await startRedisCluster();
  t.after(() => cluster.stop());
  const fleet = await startFleet(3, {
    redisUrl: cluster.urls[0],
    redisCluster: cluster.urls,
    userPoolId: POOL,
    clientId: CLIENT,
    jwks: buildJwks(key),
    onUnavailable: 'reject',
    heartbeatMs: 100,
    maxStalenessMs: 1_000,
  });
  t.after(() => fleet.stop());
  const writer = new RevocationList({
    redis: { cluster: { rootNodes: [cluster.urls[3] as string] } },
    onUnavailable: 'reject',
  });
  t.after(() => writer.close());
  await writer.ready;
  const token = mint();
  assert.deepEqual(await fleet.verifyAll(token), ['ok', 'ok', 'ok']);
  const startedAt = performance.now();
  await writer.revokeSession(originJti(token));
  const elapsed = await fleet.waitForAll(token, (code) => code === 'ERR_TOKEN_REVOKED', 5_000);
  t.diagnostic(
    `refused by all three within ${Math.round(Math.max(...elapsed) + 0)} ms of polling (${Math.round(performance.now() - startedAt)} ms since the write began)`,
  );
  const master = await cluster.masterOf('{cognito-jwt:revocation}:entries');
  const slots = new Set<string>();
  for (const name of ['entries', 'version', 'epoch', 'digest', 'changes:2']) {
    slots.add(await cluster.cli(master, 'CLUSTER', 'KEYSLOT', `{cognito-jwt:revocation}:${name}`));
  }
  assert.equal(slots.size, 1);
  assert.equal(await cluster.cli(master, 'ZCARD', '{cognito-jwt:revocation}:entries'), '1');
  // Sharded pub/sub: the channel is a shard channel, not a global one.
  assert.match(await cluster.cli(master, 'PUBSUB', 'SHARDCHANNELS'), /\{cognito-jwt:revocation\}:changes:2/);
  assert.equal(await cluster.cli(master, 'PUBSUB', 'CHANNELS'), '');
});
