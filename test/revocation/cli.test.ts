import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Channel, Terminal } from '../../src/cli/output.ts';
import { runCli } from '../../src/cli/run.ts';
import { decodeUnverified } from '../../src/index.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import { generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { startRedisCluster } from '../helpers/redis-cluster.ts';
import { startRedisServer } from '../helpers/redis-server.ts';

function capture(): { terminal: Terminal; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const channel = (lines: string[]): Channel => ({
    line: (text = '') => lines.push(text),
    paint: (_, text) => text,
  });
  return { terminal: { out: channel(out), err: channel(err) }, out, err };
}

async function revoke(args: string[], stdin: string | undefined = undefined) {
  const io = capture();
  const code = await runCli(['revoke', ...args], {
    terminal: io.terminal,
    stdin: stdin === undefined ? process.stdin : Readable.from([stdin]),
    now: Date.now,
  });
  return { code, stdout: io.out.join('\n'), stderr: io.err.join('\n') };
}

test('cognito-jwt revoke: a session, a user, the list; every running list learns them', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const watcher = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => watcher.close());
  await watcher.ready;
  const url = `redis://default:s3cret@127.0.0.1:${redis.port}`; // the default user takes any password without requirepass

  const session = await revoke([
    '--redis',
    url,
    '--origin-jti',
    'origin-1',
    '--user-pool-id',
    'eu-west-1_AbC123',
  ]);
  assert.equal(session.code, 0, session.stderr);
  assert.match(session.stderr, /revoked session origin-1/);
  assert.doesNotMatch(session.stderr, /s3cret/);
  const cutoff = String(Math.floor(Date.now() / 1000) - 60);
  const user = await revoke([
    '--redis',
    redis.url,
    '--sub',
    'user-9',
    '--user-pool-id',
    'eu-west-1_AbC123',
    '--cutoff',
    cutoff,
  ]);
  assert.equal(user.code, 0, user.stderr);
  const iss = 'https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123';
  for (;;) {
    if (
      watcher.isRevoked({ origin_jti: 'origin-1' }) &&
      watcher.isRevoked({ iss, sub: 'user-9', iat: Number(cutoff) })
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const listed = await revoke(['--redis', redis.url, '--list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const kinds = JSON.parse(listed.stdout)
    .entries.map((entry: { kind: string }) => entry.kind)
    .sort();
  assert.deepEqual(kinds, ['session', 'user']);
});

test('cognito-jwt revoke: usage mistakes exit 2, an unreachable Redis exits 3 with ERR_REVOCATION_UNAVAILABLE', async () => {
  assert.equal((await revoke(['--origin-jti', 'x'])).code, 2);
  assert.equal((await revoke(['--redis', 'redis://127.0.0.1:1', '--origin-jti', 'x', '--sub', 'y'])).code, 2);
  assert.equal((await revoke(['--redis', 'redis://127.0.0.1:1', '--sub', 'y'])).code, 2);
  assert.equal((await revoke(['--redis', 'http://127.0.0.1:1', '--list'])).code, 2);
  const down = await revoke(['--redis', 'redis://127.0.0.1:1', '--origin-jti', 'x', '--timeout', '300']);
  assert.equal(down.code, 3);
  assert.match(down.stderr, /ERR_REVOCATION_UNAVAILABLE/);
  const help = await revoke(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--origin-jti ID/);
});

test('cognito-jwt revoke: the URL from COGNITO_JWT_REDIS_URL or --redis-file; a warning when the write created the store; --token - revokes a session or a user without printing the token', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-revoke-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const urlFile = join(dir, 'redis-url');
  writeFileSync(urlFile, `redis://default:s3cret@127.0.0.1:${redis.port}\n`);

  const first = await revoke(['--redis-file', urlFile, '--origin-jti', 'first-ever']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /warning .*this write created it/);
  assert.doesNotMatch(first.stderr, /s3cret/);

  const saved = process.env.COGNITO_JWT_REDIS_URL;
  process.env.COGNITO_JWT_REDIS_URL = redis.url;
  t.after(() => {
    if (saved === undefined) delete process.env.COGNITO_JWT_REDIS_URL;
    else process.env.COGNITO_JWT_REDIS_URL = saved;
  });
  const second = await revoke(['--origin-jti', 'second']);
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /created it/);

  const key = generateKeyPair();
  const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123';
  const token = mintAccessToken({ key, issuer, clientId: 'c', sub: 'user-from-token' });
  const session = await revoke(['--token', '-'], `Bearer ${token}\n`);
  assert.equal(session.code, 0, session.stderr);
  const claims = decodeUnverified(token).payload;
  // The session is stored with the pool and user its token names: lists can fold it at their cap.
  const reader = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  await reader.ready;
  const held = reader
    .entries()
    .find((entry) => entry.kind === 'session' && entry.originJti === claims.origin_jti);
  await reader.close();
  assert.deepEqual(held?.kind === 'session' ? held.owner : held, {
    userPoolId: 'eu-west-1_AbC123',
    sub: 'user-from-token',
  });
  const userRun = await revoke(['--token', '-', '--user', '--json'], token);
  assert.equal(userRun.code, 0, userRun.stderr);
  for (const run of [session, userRun]) {
    assert.ok(!`${run.stdout}${run.stderr}`.includes(token.split('.')[2]!), 'the token is never printed');
  }
  const watcher = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => watcher.close());
  await watcher.ready;
  // The user's cut-off now covers the session too (the mirror folds the user's sessions into it).
  assert.equal(
    watcher.isRevoked({
      origin_jti: claims.origin_jti,
      iss: issuer,
      sub: 'user-from-token',
      iat: claims.iat,
    }),
    true,
  );
  assert.equal(watcher.isRevoked({ iss: issuer, sub: 'user-from-token', iat: claims.iat }), true);
  assert.equal((await revoke(['--token', token])).code, 2, 'a token on the command line is refused');
  const noOrigin = mintAccessToken({ key, issuer, clientId: 'c', claims: { origin_jti: undefined } });
  const refused = await revoke(['--token', '-'], noOrigin);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--token - --user/);
});

test('cognito-jwt revoke --cluster: seeds from --redis (repeated) or --redis-file lines; the write lands in the hash-tagged keys and reaches a mirror on the cluster', async (t) => {
  const cluster = await startRedisCluster();
  t.after(() => cluster.stop());
  const watcher = new RevocationList({
    redis: { cluster: { rootNodes: [cluster.urls[2] as string] } },
    onUnavailable: 'reject',
  });
  t.after(() => watcher.close());
  await watcher.ready;
  const [first, second] = cluster.urls as [string, string];
  const withPassword = first.replace('redis://', 'redis://default:s3cret@'); // no requirepass: any password

  const session = await revoke([
    '--cluster',
    '--redis',
    withPassword,
    '--redis',
    second,
    '--origin-jti',
    'on-cluster',
  ]);
  assert.equal(session.code, 0, session.stderr);
  assert.match(
    session.stderr,
    /revoked session on-cluster in the Redis Cluster at redis:\/\/127\.0\.0\.1:\d+ \(and 1 more seed\)/,
  );
  assert.doesNotMatch(session.stderr, /s3cret/);
  while (!watcher.isRevoked({ origin_jti: 'on-cluster' }))
    await new Promise((resolve) => setTimeout(resolve, 20));
  const master = await cluster.masterOf('{cognito-jwt:revocation}:entries');
  assert.match(
    await cluster.cli(master, 'ZRANGE', '{cognito-jwt:revocation}:entries', '0', '-1'),
    /^s\ton-cluster\t/m,
  );

  const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-revoke-cluster-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const seeds = join(dir, 'seeds');
  writeFileSync(seeds, `${cluster.urls[4]}\n\n${cluster.urls[5]}\n`);
  const listed = await revoke(['--cluster', '--redis-file', seeds, '--list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    JSON.parse(listed.stdout).entries.map((entry: { originJti?: string }) => entry.originJti),
    ['on-cluster'],
  );

  // Several URLs without --cluster, and a prefix without a hash tag on a cluster, are usage errors.
  assert.equal((await revoke(['--redis', first, '--redis', second, '--list'])).code, 2);
  const untagged = await revoke(['--cluster', '--redis', first, '--key-prefix', 'app:', '--list']);
  assert.equal(untagged.code, 2);
  assert.match(untagged.stderr, /hash tag/);
  const down = await revoke([
    '--cluster',
    '--redis',
    'redis://127.0.0.1:1',
    '--origin-jti',
    'x',
    '--timeout',
    '300',
  ]);
  assert.equal(down.code, 3);
  assert.match(down.stderr, /ERR_REVOCATION_UNAVAILABLE/);
  assert.match(down.stderr, /the Redis Cluster at redis:\/\/127\.0\.0\.1:1 did not answer/);
});
