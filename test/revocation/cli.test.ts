import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Channel, Terminal } from '../../src/cli/output.ts';
import { runCli } from '../../src/cli/run.ts';
import { RevocationList } from '../../src/revocation/index.ts';
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

async function revoke(args: string[]) {
  const io = capture();
  const code = await runCli(['revoke', ...args], {
    terminal: io.terminal,
    stdin: process.stdin,
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
