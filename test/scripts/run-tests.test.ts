/**
 * The test runner (scripts/run-tests.mjs) on small suites of its own: a passing file, a folder
 * without tests, a file without tests, and a file whose event loop blocks. A blocked process never reaches node:test's
 * per-test timeout (a timer in that process), so the runner must notice the silence, print where
 * the blocked main thread is (scripts/event-loop-watch.mjs), and stop instead of hanging CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-runner-'));
  await writeFile(
    join(dir, 'passing.test.mjs'),
    "import { test } from 'node:test';\ntest('adds', () => { if (1 + 1 !== 2) throw new Error('no'); });\n",
  );
  // Helpers but no test, as a file whose tests were all moved elsewhere.
  await writeFile(
    join(dir, 'no-tests.test.mjs'),
    "import assert from 'node:assert/strict';\nexport const isTwo = (value) => assert.equal(value, 2);\n",
  );
  await writeFile(
    join(dir, 'blocked.test.mjs'),
    [
      "import { createServer } from 'node:http';",
      "import { test } from 'node:test';",
      "test('blocks its event loop while a server listens', async () => {",
      '  const server = createServer();',
      "  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));",
      '  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // line 6',
      '});',
      '',
    ].join('\n'),
  );
});

after(() => rm(dir, { recursive: true, force: true }));

/** This process's environment without what marks it as a node:test child (a nested run would skip its files). */
function outerEnv(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _context, TEST_STALL_DIR: _dir, ...env } = process.env;
  return env;
}

/** Run the runner on `files`; resolves with its exit code and everything it printed. */
async function runRunner(files: string[], env: Record<string, string> = {}, cwd = ROOT) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'scripts/run-tests.mjs'), ...files.map((file) => join(dir, file))],
      { cwd, env: { ...outerEnv(), ...env }, timeout: 60_000 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

test('a passing file passes, and the stall watch stays silent', async () => {
  const { code, output } = await runRunner(['passing.test.mjs'], { TEST_EVENT_LOOP_STALL_MS: '2000' });
  assert.equal(code, 0, output);
  assert.match(output, /ℹ pass 1/);
  assert.doesNotMatch(output, /event loop has not run/);
});

test('a folder without test files fails instead of passing with nothing run', async () => {
  const { code, output } = await runRunner([], {}, dir); // dir has no test/ folder
  assert.notEqual(code, 0, output);
  assert.match(output, /no test files found under test\//);
});

test('a file that runs no test fails the run, though Node 20 counts it as a passing test', async () => {
  const { code, output } = await runRunner(['passing.test.mjs', 'no-tests.test.mjs']);
  assert.equal(code, 1, output);
  assert.match(output, /ℹ pass 2/, 'node:test itself counts the empty file as a pass');
  assert.match(output, /test files that ran no test:\n {2}\S*no-tests\.test\.mjs$/m);
  assert.doesNotMatch(output, /test files that ran no test:[\s\S]*passing\.test\.mjs/);
});

test('a blocked event loop: the runner prints the blocked line and stops the run', async () => {
  const started = performance.now();
  const { code, output } = await runRunner(['blocked.test.mjs'], {
    TEST_EVENT_LOOP_STALL_MS: '2000',
    TEST_STALL_MS: '6000',
  });
  assert.equal(code, 1, output);
  assert.match(output, /blocked\.test\.mjs \(pid \d+\): its event loop has not run for \d+ s/);
  assert.match(output, /at .*blocked\.test\.mjs:6:\d+/, 'the stack names the Atomics.wait line');
  assert.match(output, /the test run was stopped: it stalled/);
  assert.ok(performance.now() - started < 45_000, 'stopped long before the 120 s test timeout');
});
