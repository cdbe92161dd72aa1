// Runs every test file under test/ with node:test through tsx, and fails when no test ran.
// (On Node 20, `node --test test/` finds no .ts files, so the files are listed here.)
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const only = process.argv.slice(2);
const files =
  only.length > 0
    ? only
    : readdirSync('test', { recursive: true })
        .map(String)
        .filter((file) => file.endsWith('.test.ts'))
        .map((file) => join('test', file))
        .sort();
if (files.length === 0) {
  console.error('no test files found under test/');
  process.exit(1);
}

// A test that never settles fails after two minutes (with its name) instead of holding CI until its limit.
// (On Node 20 the timeout also bounds each file as a whole.)
// Files run in parallel processes: most of their time is spent waiting on loopback servers and
// child processes, not on the CPU. Node's default is one file at a time on a 2-core machine
// (available parallelism - 1). TEST_CONCURRENCY overrides it (1 runs the files one by one).
const durationsFile = join(mkdtempSync(join(tmpdir(), 'cognito-jwt-tests-')), 'durations.json');
const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
const args = [
  '--import',
  'tsx',
  '--test',
  '--test-timeout=120000',
  `--test-concurrency=${concurrency}`,
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  // A second report, only to list the slowest files at the end.
  `--test-reporter=${join(import.meta.dirname, 'test-durations-reporter.mjs')}`,
  `--test-reporter-destination=${durationsFile}`,
  ...files,
];
const child = spawn(process.execPath, args, {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk).slice(-4096);
});
/** The slowest test files: where the suite's wall time goes. */
function slowestFiles(count) {
  let durations = [];
  try {
    durations = JSON.parse(readFileSync(durationsFile, 'utf8'));
  } catch {
    return;
  } finally {
    rmSync(dirname(durationsFile), { recursive: true, force: true });
  }
  durations.sort((a, b) => b[1] - a[1]);
  console.log(`\nslowest test files (of ${durations.length}, ${concurrency} at a time), their tests' time:`);
  for (const [file, ms] of durations.slice(0, count)) {
    console.log(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file.replace(`${process.cwd()}/`, '')}`);
  }
}

child.on('close', (code) => {
  slowestFiles(10);
  const passed = Number(/ℹ pass (\d+)/.exec(tail)?.[1] ?? 0);
  const failed = Number(/ℹ fail (\d+)/.exec(tail)?.[1] ?? 0);
  if (code === 0 && passed === 0) {
    console.error('the test runner reported 0 passing tests: treating that as a failure');
    process.exit(1);
  }
  if (code !== 0 || failed > 0) process.exit(code || 1);
});
