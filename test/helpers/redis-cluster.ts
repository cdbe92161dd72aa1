/**
 * Runs a real Redis Cluster on loopback from Debian's `redis-server` and `redis-cli`: three masters
 * and three replicas on free ports, `cluster-node-timeout` 1 000 ms so a failover takes seconds,
 * each node in its own temporary directory, no persistence; ready once every replica has synced.
 * Stop it after the test.
 *
 * ```ts
 * const cluster = await startRedisCluster();
 * t.after(() => cluster.stop());
 * const list = new RevocationList({ redis: { cluster: { rootNodes: cluster.urls } }, onUnavailable: 'reject' });
 * await cluster.killMasterOf('{cognito-jwt:revocation}:entries'); await cluster.waitForOk();
 * ```
 *
 * A lost write, forced: `cutReplication(key)` leaves the slot's replica behind its master, so what is
 * written next is acknowledged by the master alone; a failover then promotes a replica that lacks it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RedisClusterNode {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
}

export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** Every node's `redis://127.0.0.1:{port}`: the seed list for `cluster.rootNodes`. */
  readonly urls: string[];
  /** `redis-cli -p port …` on one node, its output trimmed. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The port of the master that serves `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILL the master of `key`'s slot (no shutdown, no final save); returns its port. */
  killMasterOf(key: string): Promise<number>;
  /** The port of the replica of the master on `port`. */
  replicaOf(port: number): Promise<number>;
  /**
   * Stop the replication of `key`'s slot: the replica is given a wrong `masterauth` (the master has
   * no password, so AUTH fails and its handshakes keep failing) and the master drops its replica link.
   * From then on the master alone holds what is written; a failover loses it.
   */
  cutReplication(key: string): Promise<{ master: number; replica: number }>;
  /** A read command on a replica (`READONLY` first, so it answers for its master's slots). */
  readReplica(port: number, ...args: string[]): Promise<string>;
  /** Wait until every live node reports `cluster_state:ok` and `key`'s slot has a live master. */
  waitForOk(key?: string, timeoutMs?: number): Promise<void>;
  /** Kill every node and remove their directories. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const alive = (node: RedisClusterNode) => node.child.exitCode === null && node.child.signalCode === null;

/** Start 3 masters + 3 replicas and wait for `cluster_state:ok`. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-redis-cluster-'));
  const nodes: RedisClusterNode[] = [];
  const cli = async (port: number, ...args: string[]) =>
    (await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 })).stdout.trim();
  const stop = async () => {
    await Promise.all(
      nodes.filter(alive).map(
        (node) =>
          new Promise<void>((resolve) => {
            node.child.once('exit', () => resolve());
            node.child.kill('SIGCONT');
            node.child.kill('SIGKILL');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '1000',
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      );
      nodes.push({ port, url: `redis://127.0.0.1:${port}`, child });
    }
    for (const node of nodes) {
      const deadline = Date.now() + 10_000;
      while (!(await listening(node.port))) {
        if (!alive(node)) throw new Error(`redis-server on ${node.port} exited early`);
        if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${node.port}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const masterOf = async (key: string) => {
    for (const node of nodes.filter(alive)) {
      try {
        const slot = await cli(node.port, 'CLUSTER', 'KEYSLOT', key);
        const shards = await cli(node.port, 'CLUSTER', 'SLOTS');
        // redis-cli prints each slot range as: from, to, then [ip, port, id] of master and replicas.
        const lines = shards.split('\n');
        for (let i = 0; i + 4 < lines.length; i++) {
          const from = Number(lines[i]);
          const to = Number(lines[i + 1]);
          if (
            Number.isInteger(from) &&
            Number.isInteger(to) &&
            lines[i + 2] === '127.0.0.1' &&
            from <= Number(slot) &&
            Number(slot) <= to
          ) {
            return Number(lines[i + 3]);
          }
        }
      } catch {
        // try the next node
      }
    }
    throw new Error(`no master found for ${key}`);
  };
  const waitForOk = async (key?: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let ok = true;
      for (const node of nodes.filter(alive)) {
        const info = await cli(node.port, 'CLUSTER', 'INFO').catch(() => '');
        if (!info.includes('cluster_state:ok')) ok = false;
      }
      if (ok && key !== undefined) {
        const port = await masterOf(key).catch(() => undefined);
        const node = nodes.find((one) => one.port === port);
        ok = node !== undefined && alive(node);
      }
      if (ok) return;
      if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const replicaOf = async (port: number) => {
    // CLUSTER NODES: `id host:port@bus flags master-id …`, one line per node.
    const lines = (await cli(port, 'CLUSTER', 'NODES')).split('\n').map((line) => line.split(' '));
    const id = lines.find((fields) => fields[2]?.includes('myself'))?.[0];
    const replica = lines.find(
      (fields) => fields[3] === id && fields[2]?.includes('slave') && !fields[2].includes('fail'),
    );
    if (replica === undefined) throw new Error(`the master on ${port} has no live replica`);
    return Number((replica[1] as string).split('@')[0]?.split(':')[1]);
  };
  await waitForOk();
  // A replica still in its first sync counts as disconnected since it started: it would refuse to
  // take over from a master killed now ("data age" too old), and the cluster would stay down.
  const syncDeadline = Date.now() + 30_000;
  for (const node of nodes) {
    for (;;) {
      const info = await cli(node.port, 'INFO', 'replication');
      if (info.includes('role:master') || info.includes('master_link_status:up')) break;
      if (Date.now() > syncDeadline) throw new Error(`the replica on ${node.port} did not sync`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    nodes,
    urls: nodes.map((node) => node.url),
    cli,
    masterOf,
    killMasterOf: async (key) => {
      const port = await masterOf(key);
      const node = nodes.find((one) => one.port === port) as RedisClusterNode;
      await new Promise<void>((resolve) => {
        node.child.once('exit', () => resolve());
        node.child.kill('SIGKILL');
      });
      return port;
    },
    replicaOf,
    cutReplication: async (key) => {
      const master = await masterOf(key);
      const replica = await replicaOf(master);
      await cli(replica, 'CONFIG', 'SET', 'masterauth', 'not-the-password');
      await cli(master, 'CLIENT', 'KILL', 'TYPE', 'replica');
      // The replica notices the dropped link and fails its next handshake: wait until it is down.
      const deadline = Date.now() + 10_000;
      while (!(await cli(replica, 'INFO', 'replication')).includes('master_link_status:down')) {
        if (Date.now() > deadline) throw new Error(`the replica on ${replica} still replicates`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return { master, replica };
    },
    readReplica: async (port, ...args) =>
      new Promise<string>((resolve, reject) => {
        // redis-cli sends each stdin line as a command on one connection: READONLY holds for the next.
        const child = execFile('redis-cli', ['-p', String(port)], { timeout: 10_000 }, (error, stdout) =>
          error ? reject(error) : resolve(stdout.trim().split('\n').slice(1).join('\n')),
        );
        child.stdin?.end(`READONLY\n${args.join(' ')}\n`);
      }),
    waitForOk,
    stop,
  };
}
