import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { measureFailover } from '../../bench/cluster-failover.ts';
import { REVOCATION_SETTINGS } from '../../bench/revocation.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Keeps the revocation benchmark from rotting: a --quick run must finish and report every measure.
// Nothing here is about speed (the machine running tests is busy).
test('the revocation benchmark runs with --quick and reports every measure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-revocation-bench-'));
  try {
    const file = join(dir, 'revocation.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/revocation.ts', '--quick', '--json', file],
      { cwd: ROOT, timeout: 110_000 },
    );
    assert.match(stdout, /propagation/);
    const report = JSON.parse(readFileSync(file, 'utf8'));
    const quick = REVOCATION_SETTINGS.quick;
    assert.equal(report.propagation.revocations, quick.revocations);
    assert.ok(report.propagation.p50Ms > 0 && report.propagation.p99Ms >= report.propagation.p50Ms);
    assert.ok(report.isRevoked.nsPerCall > 0 && report.isRevoked.mirrorEntries >= quick.mirrorEntries);
    assert.ok(report.isRevoked.mapHasNsPerCall > 0, 'the plain Map baseline is measured in the same run');
    assert.ok(report.verification.onOpsPerSec > 0 && report.verification.offOpsPerSec > 0);
    assert.equal(report.large.entries, quick.largeEntries);
    assert.ok(Number.isFinite(report.large.reconcileMs) && Number.isFinite(report.large.rssMb));
    // Sessions revoked with their owner are read through their own path: all of them held.
    assert.equal(report.largeOwned.entries, quick.largeEntries);
    assert.ok(Number.isFinite(report.largeOwned.firstReadMs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The same for the cluster failover benchmark: one round must see every milestone it times.
test('the cluster failover benchmark sees the cluster recover, a write, a sharded message and the mirror catch up', async () => {
  const round = await measureFailover(500);
  for (const milestone of ['ok', 'write', 'message', 'mirror'] as const) {
    assert.ok(Number.isFinite(round[milestone]), `${milestone} not seen: ${JSON.stringify(round)}`);
  }
});
