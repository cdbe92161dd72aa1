import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { COLD_START_VARIANTS } from '../../bench/cold-start.ts';
import { RULES } from '../../bench/fixtures.ts';
import { VARIANTS, WORKLOADS } from '../../bench/variants.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

// Keeps the benchmark from rotting: a --quick run must finish and report every variant.
// Its numbers mean nothing on a busy test machine, so nothing here is about speed.
test('the benchmark runs with --quick and its JSON holds every variant, workload and extra', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-bench-smoke-'));
  try {
    const file = join(dir, 'bench.json');
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--json', file],
      { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
    );
    assert.match(stdout, /Targets/);
    const report = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(report.quick, true);

    assert.deepEqual(
      report.workloads.map((workload: { name: string }) => workload.name),
      [...WORKLOADS],
    );
    for (const workload of report.workloads) {
      const expected = VARIANTS.filter((variant) => !variant.only || variant.only.includes(workload.name));
      assert.deepEqual(
        workload.results.map((row: { variant: string }) => row.variant).sort(),
        expected.map((variant) => variant.name).sort(),
        workload.name,
      );
      for (const row of workload.results) {
        assert.ok(
          row.medianOpsPerSec > 0 && Number.isFinite(row.ratioToLimit),
          `${workload.name} ${row.variant}`,
        );
        assert.equal(row.samples.length, report.settings.rounds);
      }
    }

    // Every compared verifier must enforce every rule; only the reference rows may not.
    for (const variant of report.variants) {
      if (variant.reference) continue;
      for (const use of ['access', 'id']) {
        for (const rule of RULES)
          assert.equal(variant.checks[use][rule], true, `${variant.variant} ${use} ${rule}`);
      }
    }

    assert.deepEqual(
      report.coldStart.map((row: { variant: string }) => row.variant),
      [...COLD_START_VARIANTS],
    );
    for (const row of report.coldStart) {
      assert.ok(row.importMs > 0 && row.importToVerifiedMs > row.importMs, row.variant);
      assert.ok(row.cpuToVerifiedMs > 0, row.variant);
    }
    assert.ok(
      report.targets.some((target: { target: string }) => target.target.startsWith('cold start: importing')),
    );

    assert.deepEqual(
      report.flood.map((row: { library: string }) => row.library),
      ['cognito-jwt', 'aws-jwt-verify', 'jose', 'jsonwebtoken + jwks-rsa'],
    );
    for (const row of report.flood) assert.equal(row.allRejected, true, row.library);

    assert.deepEqual(
      report.memory.map((row: { cache: boolean }) => row.cache),
      [true, false],
    );
    for (const row of report.memory) assert.equal(row.tokens, report.settings.memoryTokens);
    assert.ok(report.targets.length >= 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the revision comparison runs with --quick and prints both revisions against the limit', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'bench/compare-revisions.ts', '--quick', '--base', 'HEAD'],
    { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  for (const row of [
    'limit',
    'HEAD, cache',
    'working tree, cache',
    'HEAD, no cache',
    'working tree, no cache',
  ]) {
    assert.match(stdout, new RegExp(`^\\| ${row} \\| \\d+ \\| \\d+\\.\\d{3} \\|$`, 'm'), row);
  }
  assert.match(stdout, /^working tree \/ HEAD, no cache: \d+\.\d{3}$/m);
});
