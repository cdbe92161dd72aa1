import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../src/service/log.ts';
import { openRevocation } from '../../src/service/revocation.ts';
import { startRedisServer } from '../helpers/redis-server.ts';

test('the service logs each change of the mirror: current → stale (with the store error) → current, and the size', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const logger: Logger = {
    log: (level, message, fields = {}) => lines.push({ level, message, fields }),
    decision: () => {},
  };
  const revocation = openRevocation(
    {
      redis: { url: redis.url, commandTimeoutMs: 200 },
      onUnavailable: 'reject',
      heartbeatMs: 50,
      maxStalenessMs: 300,
    },
    logger,
  );
  t.after(() => revocation.close());
  const waitFor = async (message: string) => {
    const deadline = Date.now() + 10_000;
    while (!lines.some((line) => line.message === message)) {
      if (Date.now() > deadline) assert.fail(`no "${message}" in ${JSON.stringify(lines)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return lines.find((line) => line.message === message)!;
  };
  await waitFor('revocation list current');
  assert.equal(revocation.size(), 0);
  await redis.kill();
  const stale = await waitFor('revocation list stale');
  assert.equal(stale.level, 'warn');
  assert.match(String(stale.fields.cause), /ECONNREFUSED|Socket closed/i);
  lines.length = 0;
  await redis.restart();
  const current = await waitFor('revocation list current');
  assert.equal(current.level, 'info');
  assert.equal(current.fields.reason, 'confirmed');
});
