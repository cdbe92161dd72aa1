// Runs every test file under test/ with node:test through tsx, fails when no test ran, and stops
// a run that stalls.
// (On Node 20, `node --test test/` finds no .ts files, so the files are listed here.)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const only = process.argv.slice(2);
const files =
  only.length > 0
    ? only
    : !existsSync('test')
      ? []
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
const workDir = mkdtempSync(join(tmpdir(), 'cognito-jwt-tests-'));
const reportFile = join(workDir, 'file-report.json');
const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
// A test process whose event loop is blocked never reaches its own timeout. Each one runs
// scripts/event-loop-watch.mjs, which writes the blocked main thread's stack to workDir; when the
// suite prints nothing for this long (more than the per-test timeout), the runner prints those
// stacks and stops the run instead of holding CI until its limit.
const stallMs = Number(process.env.TEST_STALL_MS ?? 180_000);
const args = [
  '--import',
  'tsx',
  '--import',
  join(import.meta.dirname, 'event-loop-watch.mjs'),
  '--test',
  '--test-timeout=120000',
  `--test-concurrency=${concurrency}`,
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  // A second report: the slowest files, and files that ran no test (scripts/test-file-reporter.mjs).
  `--test-reporter=${join(import.meta.dirname, 'test-file-reporter.mjs')}`,
  `--test-reporter-destination=${reportFile}`,
  ...files,
];
const child = spawn(process.execPath, args, {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, TEST_STALL_DIR: workDir },
});
let tail = '';
let stalled = false;
let stallTimer;
const watchForStall = () => {
  clearTimeout(stallTimer);
  stallTimer = setTimeout(onStall, stallMs);
};
function onStall() {
  stalled = true;
  console.error(`\nno test output for ${stallMs / 1000} s; blocked test processes:`);
  const reports = readdirSync(workDir).filter((name) => name.startsWith('stall-'));
  for (const name of reports) console.error(readFileSync(join(workDir, name), 'utf8'));
  if (reports.length === 0) console.error('  none: a test is waiting on something that never settles');
  // The test processes are the runner's children; on Linux, stop them too rather than orphan them.
  for (const pid of process.platform === 'linux' ? descendants(child.pid) : []) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  child.kill('SIGKILL');
}

/** Every process below `rootPid` (from /proc), children before their parents. */
function descendants(rootPid) {
  const children = new Map();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const order = [];
  const visit = (pid) => {
    for (const next of children.get(pid) ?? []) visit(next);
    if (pid !== rootPid) order.push(pid);
  };
  visit(rootPid);
  return order;
}
watchForStall();
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk).slice(-4096);
  watchForStall();
});
/** What the second reporter wrote: each file's time, and the files that ran no test. */
function readFileReport() {
  try {
    return JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch {
    return { durations: [], empty: [] };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The slowest test files: where the suite's wall time goes. */
function printSlowestFiles(durations, count) {
  durations.sort((a, b) => b[1] - a[1]);
  console.log(`\nslowest test files (of ${durations.length}, ${concurrency} at a time), their tests' time:`);
  for (const [file, ms] of durations.slice(0, count)) {
    console.log(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${relative(process.cwd(), file)}`);
  }
}

child.on('close', (code) => {
  clearTimeout(stallTimer);
  if (stalled) {
    rmSync(workDir, { recursive: true, force: true });
    console.error('the test run was stopped: it stalled');
    process.exit(1);
  }
  const report = readFileReport();
  printSlowestFiles(report.durations, 10);
  if (report.empty.length > 0) {
    // A file whose tests were all removed, or never registered (a describe left unawaited in a
    // helper), would otherwise pass as one test.
    console.error(
      `test files that ran no test:\n${report.empty.map((file) => `  ${relative(process.cwd(), file)}`).join('\n')}`,
    );
    process.exit(1);
  }
  const passed = Number(/ℹ pass (\d+)/.exec(tail)?.[1] ?? 0);
  const failed = Number(/ℹ fail (\d+)/.exec(tail)?.[1] ?? 0);
  if (code === 0 && passed === 0) {
    console.error('the test runner reported 0 passing tests: treating that as a failure');
    process.exit(1);
  }
  if (code !== 0 || failed > 0) process.exit(code || 1);
});
