/**
 * Run one documentation block in a child process (doc-host.ts + doc-sandbox.ts) and talk to it.
 *
 * ```ts
 * const run = startBlock(project.fileOf(block), { given: { token }, cognitoOrigin: pool.origin });
 * const { origin } = await run.listening();   // a server block: its free port
 * const result = await run.invoke(event);       // a Lambda block: call its handler
 * const { code, stdout } = await run.exit();    // a script block: wait for its end
 * await run.stop();
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = join(dirname(fileURLToPath(import.meta.url)), 'doc-host.ts');

export interface BlockRunOptions {
  /** Values of the block's `given` names. */
  given?: Record<string, unknown>;
  /** Where Cognito's hosts are routed: a loopback JWKS server's origin. */
  cognitoOrigin?: string;
}

interface Message {
  type: string;
  [field: string]: unknown;
}

export interface BlockRun {
  readonly child: ChildProcess;
  /** What the block printed so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** The first server the block started (on a free port instead of the README's fixed one). */
  listening(): Promise<{ origin: string; port: number }>;
  /** The block's module finished loading (top-level await included). */
  ready(): Promise<{ exports: string[] }>;
  invoke(event: unknown): Promise<unknown>;
  exit(): Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export function startBlock(file: string, options: BlockRunOptions = {}): BlockRun {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    DOCTEST_GIVEN: JSON.stringify(options.given ?? {}),
  };
  if (options.cognitoOrigin !== undefined) env.DOCTEST_COGNITO_ORIGIN = options.cognitoOrigin;
  const child = spawn(process.execPath, ['--import', 'tsx', HOST, file], {
    cwd: dirname(file),
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.once('exit', (code) => {
      // Let the pipes drain before reporting what was printed.
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
  });
  const waitFor = (type: string, match: (message: Message) => boolean = () => true) =>
    new Promise<Message>((resolve, reject) => {
      const onMessage = (message: Message) => {
        if (message.type === type && match(message)) {
          child.off('message', onMessage);
          resolve(message);
        }
      };
      child.on('message', onMessage);
      void exited.then(({ code }) =>
        reject(new Error(`the block ended (exit ${code}) before "${type}"\n${stdout}\n${stderr}`)),
      );
    });
  const listening = waitFor('listening');
  const ready = waitFor('ready');
  // Nobody may be waiting for these: a script block ends without listening.
  listening.catch(() => {});
  ready.catch(() => {});
  let nextId = 0;
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    listening: async () => {
      const { port, family } = await listening;
      const host = family === 'IPv6' ? '[::1]' : '127.0.0.1';
      return { origin: `http://${host}:${port}`, port: port as number };
    },
    ready: async () => ({ exports: (await ready).exports as string[] }),
    invoke: async (event) => {
      const id = nextId++;
      const answer = waitFor('result', (message) => message.id === id);
      child.send({ type: 'invoke', id, event });
      const result = await answer;
      if ('error' in result) throw new Error(String(result.error));
      return result.value;
    },
    exit: () => exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
