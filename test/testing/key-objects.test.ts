/**
 * Node 20 hangs for good when a key that `generateKeyPairSync` returned is exported while the
 * garbage collector frees that call's internal job: export holds the key's lock and allocates,
 * the collection runs the job's destructor, and the destructor waits for the lock its own thread
 * holds (seen as a hang of test/oauth/client.test.ts about once in 150 runs; gdb showed
 * KeyObjectHandle::ExportJWK → Heap::CollectGarbage → ~KeyGenJob → pthread_mutex_lock).
 *
 * Each case runs in a plain Node child process (the package's source as JavaScript, no loader)
 * with V8 collecting every 3 allocations, so a collection often lands inside an export within a
 * few hundred keys. The bare Node pattern hangs; the test kit's keys (generateKeyObjects:
 * re-imported from DER, with locks of their own) do not.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { type Build, buildPlainJs, moduleUrl } from '../../bench/build.ts';

let build: Build;
before(() => {
  build = buildPlainJs();
});
after(() => build.remove());
/** A child that prints nothing for this long is hung (a round takes a few milliseconds). */
const SILENCE_MS = 5_000;

/** Run `body` (run once per round, as module code) `rounds` times with frequent collections. */
function runRounds(imports: string, body: string, rounds: number): Promise<{ hung: boolean; done: number }> {
  const source = `${imports}
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--gc-interval=3');
for (let round = 1; round <= ${rounds}; round++) {
  ${body}
  if (round % 25 === 0) console.log(round);
}
console.log('done');
`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((settle) => {
    let done = 0;
    let timer = setTimeout(() => hang(), SILENCE_MS * 3); // start-up included
    const hang = () => {
      child.kill('SIGKILL');
      settle({ hung: true, done });
    };
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n').filter(Boolean)) {
        if (line === 'done') {
          clearTimeout(timer);
          settle({ hung: false, done: rounds });
          return;
        }
        done = Number(line);
      }
      clearTimeout(timer);
      timer = setTimeout(hang, SILENCE_MS);
    });
    child.on('exit', () => clearTimeout(timer));
  });
}

test("the test kit's keys survive collections that hang Node 20's own keys", async (t) => {
  // Both children run at once: the kit's keys, which must never hang, and the bare Node pattern
  // as a control. The control's hang is a race (of 6 runs of 3 000 rounds here, 4 hung after 300
  // to 675 rounds and 2 never did; CI once saw no hang in 1 000), so it is reported, not
  // asserted: a run where it did not hang is weaker evidence, never a failure.
  const [kit, control] = await Promise.all([
    runRounds(
      `import { generateAlbKeyPair, generateKeyPair } from ${JSON.stringify(moduleUrl(build, 'testing/index.js'))};`,
      `const key = generateKeyPair({ modulusLength: 512 });
  key.privateKey.export({ format: 'jwk' });
  key.publicKey.export({ format: 'jwk' });
  const alb = generateAlbKeyPair();
  alb.privateKey.export({ format: 'jwk' });`,
      600,
    ),
    runRounds(
      "import { generateKeyPairSync } from 'node:crypto';",
      "generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ format: 'jwk' });",
      1_000,
    ),
  ]);
  t.diagnostic(
    `control on Node ${process.versions.node}: ${control.hung ? `hung after ${control.done} to ${control.done + 25} rounds` : 'no hang in 1 000 rounds'}`,
  );
  assert.equal(kit.hung, false, `the kit's keys hung after ${kit.done} rounds`);
});
