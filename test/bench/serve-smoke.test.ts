import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

// Keeps `npm run bench:serve` from rotting: a --quick run must measure every setup and workload
// and see only the statuses it expects (200, and 401 for the invalid tokens). Nothing here is
// about speed: the numbers of a quick run on a busy test machine mean nothing.
test('bench:serve --quick measures every setup and workload, with only expected statuses', {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-bench-serve-smoke-'));
  try {
    const file = join(dir, 'serve.json');
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/serve.ts', '--quick', '--json', file],
      {
        cwd: ROOT,
        timeout: 280_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    assert.match(stdout, /Targets/);
    const report = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(report.quick, true);
    const rows = report.results.map(
      (row: { setup: string; workload: string }) => `${row.setup} / ${row.workload}`,
    );
    const expected: string[] = [];
    for (const workers of ['1 worker', '2 workers']) {
      expected.push(`no-op node:http, ${workers} / any`);
      for (const workload of ['repeated', 'fresh', 'invalid-10%'])
        expected.push(`service, ${workers} / ${workload}`);
      if (workers === '1 worker') expected.push('service, 1 worker / repeated, every decision logged');
    }
    expected.push('nginx auth_request → no-op / any');
    for (const workload of ['repeated', 'fresh', 'invalid-10%']) {
      expected.push(`nginx auth_request → service, 1 worker / ${workload}`);
    }
    assert.deepEqual(rows, expected);
    for (const row of report.results) {
      assert.ok(row.maxRequestsPerSec > 0, `${row.setup} ${row.workload}`);
      const statuses = Object.keys(row.statuses).sort();
      assert.deepEqual(
        statuses,
        row.workload === 'invalid-10%' ? ['200', '401'] : ['200'],
        `${row.setup} ${row.workload}`,
      );
      assert.equal(row.errors, 0, `${row.setup} ${row.workload}`);
      if (!row.reference) {
        assert.ok(row.ratio > 0, `${row.setup} ${row.workload}: a ratio to its reference`);
        assert.equal(row.ratioSpread.length, 2);
      }
    }
    assert.equal(report.targets.length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
