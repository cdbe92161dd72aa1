/**
 * Runs Debian's `redis-server` as a child process on a free loopback port in a temporary
 * directory, for tests of the Redis revocation store. Kill it, pause it, restart it on the same
 * port to test outages.
 *
 * ```ts
 * const redis = await startRedisServer();
 * t.after(() => redis.stop());
 * const list = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
 * redis.kill(); await redis.restart();
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** `true`: `--appendonly yes` (every write survives a restart); default `--save ''` (nothing does). */
  persistence?: boolean;
  /** More `redis-server` arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']` or `['--replicaof', host, port]`. */
  args?: readonly string[];
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:{port}` */
  readonly url: string;
  /** SIGKILL: no shutdown, no final save. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its sockets open but answers nothing (a "quiet" dead channel). */
  pause(): void;
  resume(): void;
  /** Start again on the same port and directory (after {@link kill}). */
  restart(): Promise<void>;
  /** Kill it and remove its directory. */
  stop(): Promise<void>;
  /** The server's data directory (its dump.rdb). */
  readonly dir: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited early: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server did not listen on ${port}: ${output()}`);
}

/** Start a private `redis-server` on 127.0.0.1. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.persistence ? 'yes' : 'no',
    '--protected-mode',
    'yes',
    ...(options.args ?? []),
  ];
  let child: ChildProcess;
  let output = '';
  const launch = async () => {
    output = '';
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk) => {
      output = (output + chunk).slice(-4000);
    });
    child.stderr?.on('data', (chunk) => {
      output = (output + chunk).slice(-4000);
    });
    await waitForPort(port, child, () => output);
  };
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    kill,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    restart: launch,
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
