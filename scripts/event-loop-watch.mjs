// Preloaded into every test process by scripts/run-tests.mjs. node:test's per-test timeout is a
// timer in the test's own process, so it never fires when that process stops running its event
// loop (a synchronous wait, an endless loop, a deadlock with the module loader's thread). This
// module starts a worker thread that notices a main thread silent for STALL_MS and, through the
// inspector, pauses it to read where it is. The stack goes to TEST_STALL_DIR (read by the runner
// when it stops a stalled run) and to stderr. It only reports: stopping the run is the runner's job.
import { writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

const STALL_MS = Number(process.env.TEST_EVENT_LOOP_STALL_MS ?? 30_000);
const BEAT_MS = 500;

if (isMainThread && process.env.TEST_STALL_DIR) {
  const heartbeat = new Int32Array(new SharedArrayBuffer(4));
  setInterval(() => Atomics.add(heartbeat, 0, 1), BEAT_MS).unref();
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { heartbeat, directory: process.env.TEST_STALL_DIR, argv: process.argv },
    execArgv: [], // no TypeScript loader and no second watcher in the worker
  });
  worker.unref();
} else if (!isMainThread && workerData?.heartbeat) {
  await watch(workerData);
}

async function watch({ heartbeat, directory, argv }) {
  let last = Atomics.load(heartbeat, 0);
  let lastChange = Date.now();
  let reported = false;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, BEAT_MS));
    const now = Atomics.load(heartbeat, 0);
    if (now !== last) {
      last = now;
      lastChange = Date.now();
      reported = false;
    } else if (!reported && Date.now() - lastChange >= STALL_MS) {
      reported = true;
      const stack = await mainThreadStack();
      const file = argv.slice(1).find((arg) => /\.test\.[cm]?[jt]s$/.test(arg)) ?? argv[1];
      const text =
        `● ${file} (pid ${process.pid}): its event loop has not run for ${Math.round((Date.now() - lastChange) / 1000)} s\n` +
        `  main thread stack:\n${stack.map((line) => `    ${line}`).join('\n')}\n`;
      writeFileSync(join(directory, `stall-${process.pid}.txt`), text);
      writeSync(2, text);
    }
  }
}

/** Pause the main thread through the inspector and list its frames; resumes it afterwards. */
async function mainThreadStack() {
  // Connected only now: most test processes never need it.
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connectToMainThread();
  const post = (method, params = {}) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  const urls = new Map();
  session.on('Debugger.scriptParsed', ({ params }) => urls.set(params.scriptId, params.url));
  const paused = new Promise((resolve) => session.once('Debugger.paused', ({ params }) => resolve(params)));
  const answer = Promise.all([post('Debugger.enable'), post('Debugger.pause')]).then(() => paused);
  const timeout = new Promise((resolve) => setTimeout(resolve, 5_000, undefined));
  const params = await Promise.race([answer, timeout]);
  if (params === undefined) return ['(no JavaScript frame reachable within 5 s: blocked in native code)'];
  const frames = params.callFrames.map(
    (frame) =>
      `at ${frame.functionName || '<anonymous>'} (${urls.get(frame.location.scriptId) || 'native'}:${frame.location.lineNumber + 1}:${frame.location.columnNumber + 1})`,
  );
  await post('Debugger.resume').catch(() => {});
  session.disconnect();
  return frames.length > 0 ? frames : ['(no frames)'];
}
