/**
 * Verifier child processes for the fleet tests and the revocation benchmark: fork them, ask each
 * to verify tokens, wait until every one refuses (or accepts) a token.
 *
 * ```ts
 * const fleet = await startFleet(3, settings);
 * await fleet.waitForAll(token, (code) => code === 'ERR_TOKEN_REVOKED', 5000);
 * ```
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./revocation-child.ts', import.meta.url));

export interface VerifierProcess {
  readonly child: ChildProcess;
  /** The outcome of each token: `'ok'` or an error code. */
  verify(tokens: string[]): Promise<string[]>;
  /**
   * Start verifying `token` in a loop; resolves once the loop runs, with a promise of the moment
   * (`performance.timeOrigin + performance.now()`) the process first refused it.
   */
  watch(token: string): Promise<{ refused: Promise<number> }>;
}

export interface Fleet {
  readonly members: readonly VerifierProcess[];
  /** The outcome of one token in every process. */
  verifyAll(token: string): Promise<string[]>;
  /** Poll every process until each gives an outcome that `done` accepts; resolves to the elapsed ms per process. */
  waitForAll(token: string, done: (outcome: string) => boolean, timeoutMs: number): Promise<number[]>;
  stop(): Promise<void>;
}

function startMember(settings: object): Promise<VerifierProcess> {
  const child = fork(CHILD, [JSON.stringify(settings)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, (results: string[]) => void>();
  const watching = new Map<number, { started: () => void; refused: (at: number) => void }>();
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`verifier child exited with ${code}`)));
    child.on(
      'message',
      (message: { ready?: true; id?: number; results?: string[]; watching?: true; refusedAt?: number }) => {
        const watcher = watching.get(message.id!);
        if (watcher && message.watching) return watcher.started();
        if (watcher && message.refusedAt !== undefined) {
          watching.delete(message.id!);
          return watcher.refused(message.refusedAt);
        }
        if (message.ready) {
          resolve({
            child,
            verify: (tokens) =>
              new Promise((done) => {
                const id = nextId++;
                waiting.set(id, done);
                child.send({ id, tokens });
              }),
            watch: (token) =>
              new Promise((started) => {
                const id = nextId++;
                let refused!: (at: number) => void;
                const refusedAt = new Promise<number>((resolve) => {
                  refused = resolve;
                });
                watching.set(id, { started: () => started({ refused: refusedAt }), refused });
                child.send({ id, watch: token });
              }),
          });
          return;
        }
        const done = waiting.get(message.id!);
        waiting.delete(message.id!);
        done?.(message.results!);
      },
    );
  });
}

/** Fork `count` verifier processes, each with its own Redis-backed revocation list, and wait until each is ready. */
export async function startFleet(count: number, settings: object): Promise<Fleet> {
  const members = await Promise.all(Array.from({ length: count }, () => startMember(settings)));
  return {
    members,
    verifyAll: async (token) =>
      (await Promise.all(members.map((member) => member.verify([token])))).map((r) => r[0]!),
    waitForAll: (token, done, timeoutMs) =>
      Promise.all(
        members.map(async (member) => {
          const startedAt = performance.now();
          for (;;) {
            const [outcome] = await member.verify([token]);
            const elapsed = performance.now() - startedAt;
            if (done(outcome!)) return elapsed;
            if (elapsed > timeoutMs) throw new Error(`still ${outcome} after ${timeoutMs} ms`);
            await new Promise((resolve) => setImmediate(resolve));
          }
        }),
      ),
    stop: async () => {
      await Promise.all(
        members.map(
          (member) =>
            new Promise<void>((resolve) => {
              if (member.child.exitCode !== null) return resolve();
              member.child.removeAllListeners('exit');
              member.child.once('exit', () => resolve());
              member.child.send('close');
              setTimeout(() => member.child.kill('SIGKILL'), 3000).unref();
            }),
        ),
      );
    },
  };
}
