import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RevocationList } from '../../src/revocation/index.ts';
import { createMetrics } from '../../src/service/metrics.ts';
import { startRedisServer } from '../helpers/redis-server.ts';
import { POOL, startHarness } from '../service/harness.ts';

test("/metrics: the revocation mirror's entries per pool, and its capacity events at 80 % and at the cap", async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const metrics = await createMetrics({ required: true });
  assert.ok(metrics);
  t.after(() => metrics.close());
  const harness = await startHarness(
    t,
    {
      revocation: {
        redis: { url: redis.url },
        onUnavailable: 'reject',
        heartbeatMs: 100,
        maxStalenessMs: 1_000,
        maxEntriesPerPool: 5,
      },
    },
    { metrics },
  );
  const revoker = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => revoker.close());
  await revoker.ready;
  for (let i = 0; i < 5; i++) await revoker.revokeSession(`s-${i}`, { userPoolId: POOL, sub: `u-${i}` });
  await revoker.revokeSession('bare');
  const deadline = Date.now() + 10_000;
  let text = '';
  while (!text.includes(`cognito_jwt_revocation_entries{pool="${POOL}"} 5`)) {
    if (Date.now() > deadline) assert.fail(`no entries gauge of 5 in:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    text = await (await harness.request('/metrics')).text();
  }
  assert.match(text, /cognito_jwt_revocation_entries\{pool=""\} 1\n/);
  assert.match(
    text,
    new RegExp(`cognito_jwt_revocation_capacity_events_total\\{pool="${POOL}",level="warning"\\} 1\\n`),
  );
  assert.match(
    text,
    new RegExp(`cognito_jwt_revocation_capacity_events_total\\{pool="${POOL}",level="full"\\} 1\\n`),
  );
});
