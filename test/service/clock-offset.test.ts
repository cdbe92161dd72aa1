import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../src/service/metrics.ts';
import { startHarness } from './harness.ts';

test('/metrics: the clock offset from the last JWKS answer, per JWKS URL', async (t) => {
  const metrics = await createMetrics({ required: true });
  assert.ok(metrics);
  const harness = await startHarness(t, {}, { metrics });
  t.after(() => metrics.close());
  await harness.request('/auth/nginx', {
    headers: {
      'x-original-uri': '/orders/1',
      'x-original-method': 'GET',
      authorization: `Bearer ${harness.access()}`,
    },
  });
  const text = await (await harness.request('/metrics')).text();
  assert.match(text, /# HELP cognito_jwt_clock_offset_seconds This host's clock minus the JWKS server's/);
  const match = /cognito_jwt_clock_offset_seconds\{jwks_uri="([^"]+)"\} (-?[\d.e-]+)/.exec(text);
  assert.ok(match, text);
  assert.equal(match[1], harness.jwks.jwksUri('local_service1'));
  // Same host, same clock: zero within Date's resolution and the round trip.
  assert.ok(Math.abs(Number(match[2])) < 2, match[2]);
});
