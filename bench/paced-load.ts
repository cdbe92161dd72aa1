/**
 * Latency at a fixed request rate, measured the way users meet it: requests arrive evenly spaced
 * (open loop), and each one's latency runs from the moment it was due, not from when a free
 * connection let it go (so a stall counts against every request that waited behind it).
 *
 * Why not autocannon's `overallRate`: it gives each connection a quota per second, which the
 * connection spends in one burst at the start of the second before idling; "half the maximum
 * rate" then means full speed half the time. It also corrects for coordinated omission with an
 * expected interval of `ceil(1 / rate)` ms, which is 1 ms at any rate above 1 per second, so every
 * response slower than 1 ms adds synthetic samples below it. Both push p99 towards the latency of
 * a saturated server.
 *
 * Why raw sockets and not `node:http`: at half of a no-op server's maximum (about 14 000 requests
 * a second here) `node:http`'s client needs a core of its own, and the requests queue in the load
 * generator instead of the server. This client writes each request as one string and reads
 * answers by `Content-Length` or the last chunk, which is all the servers measured here send.
 * Requests go out on 1 ms timer ticks, so a latency includes up to a tick of the generator's own
 * lateness: a floor of about 1 ms under the p50, the same for every target.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export interface PacedLoadOptions {
  port: number;
  path: string;
  /** The headers of the next request (called once per request, in order). */
  headers: () => Record<string, string>;
  /** Requests per second, spread evenly. */
  rate: number;
  durationS: number;
  /** Keep-alive connections at most (requests due while all are busy wait in line, and that wait counts). */
  connections: number;
}

export interface PacedLoadResult {
  sent: number;
  /** Requests that got a whole answer. */
  completed: number;
  /** Connection errors, and requests still unanswered 5 s after the last one was due. */
  errors: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
}

/** The `q` quantile (0–1) of ascending `sorted`, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Where the answer at the start of `text` ends, and its status; `undefined` while it is incomplete. */
export function answerEnd(text: string): { end: number; status: string } | undefined {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const head = text.slice(0, headEnd).toLowerCase();
  const status = text.slice(9, 12);
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) {
    const end = headEnd + 4 + Number(length[1]);
    return text.length >= end ? { end, status } : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(head)) {
    let at = headEnd + 4;
    for (;;) {
      const lineEnd = text.indexOf('\r\n', at);
      if (lineEnd === -1) return undefined;
      const size = Number.parseInt(text.slice(at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error(`bad chunk size in ${JSON.stringify(text.slice(at, lineEnd))}`);
      const next = lineEnd + 2 + size + 2;
      if (text.length < next) return undefined;
      if (size === 0) return { end: next, status };
      at = next;
    }
  }
  // No length and not chunked: a body-less answer (204, 304) here.
  return { end: headEnd + 4, status };
}

interface Connection {
  socket: Socket;
  buffered: string;
  /** When the request in flight was due; `undefined` when the connection is free. */
  due: number | undefined;
}

export async function pacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const { port, path, headers, rate, durationS, connections } = options;
  const total = Math.max(1, Math.round(rate * durationS));
  const interval = 1000 / rate;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const waiting: number[] = []; // due times of requests waiting for a free connection
  const free: Connection[] = [];
  let sent = 0;
  let errors = 0;
  let settled = 0;
  let allSettled: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allSettled = resolve;
  });
  const settle = () => {
    settled++;
    if (settled === total) allSettled();
  };

  const send = (connection: Connection, due: number) => {
    connection.due = due;
    let request = `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n`;
    for (const [name, value] of Object.entries(headers())) request += `${name}: ${value}\r\n`;
    connection.socket.write(`${request}\r\n`, 'latin1');
  };
  const release = (connection: Connection) => {
    connection.due = undefined;
    const due = waiting.shift();
    if (due === undefined) free.push(connection);
    else send(connection, due);
  };

  const pool: Connection[] = await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<Connection>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          socket.setNoDelay(true);
          const connection: Connection = { socket, buffered: '', due: undefined };
          socket.setEncoding('latin1');
          socket.on('data', (chunk: string) => {
            connection.buffered += chunk;
            for (;;) {
              const answer = answerEnd(connection.buffered);
              if (answer === undefined || connection.due === undefined) return;
              latencies.push(performance.now() - connection.due);
              statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
              connection.buffered = connection.buffered.slice(answer.end);
              settle();
              release(connection);
            }
          });
          socket.on('error', () => {
            if (connection.due !== undefined) {
              errors++;
              connection.due = undefined;
              settle();
            }
          });
          socket.once('connect', () => resolve(connection));
          socket.once('error', reject);
        }),
    ),
  );
  free.push(...pool);

  const start = performance.now();
  await new Promise<void>((resolve) => {
    // Timers fire at best every millisecond: each tick sends every request that has come due,
    // stamped with its own due time.
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const due = start + sent * interval;
        const connection = free.pop();
        if (connection === undefined) waiting.push(due);
        else send(connection, due);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, Math.min(1, start + sent * interval - now)));
      else resolve();
    };
    tick();
  });
  const timedOut = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 5_000).unref()),
  ]);
  if (timedOut) errors += total - settled;
  for (const connection of pool) connection.socket.destroy();
  latencies.sort((a, b) => a - b);
  return {
    sent,
    completed: latencies.length,
    errors,
    statuses,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

/** {@link pacedLoad}'s options in a form a file can carry: request i sends `headerCycle[i % length]`. */
export interface PacedLoadSpec extends Omit<PacedLoadOptions, 'headers'> {
  headerCycle: readonly Record<string, string>[];
}

/**
 * {@link pacedLoad} from a process of its own. Run in the process that just drove autocannon
 * (its garbage, its sockets), the generator itself stalled now and then, and a stall counts
 * against every request due behind it: the service's p99 read 27–78 ms where a fresh process
 * measured 4–13 ms against the same service. `dir` holds the spec file.
 */
export async function pacedLoadInChild(spec: PacedLoadSpec, dir: string): Promise<PacedLoadResult> {
  const file = join(dir, `paced-${spec.port}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), file],
    { maxBuffer: 1 << 20, timeout: (spec.durationS + 60) * 1000 },
  );
  return JSON.parse(stdout) as PacedLoadResult;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as PacedLoadSpec;
  let next = 0;
  const result = await pacedLoad({
    ...spec,
    headers: () => spec.headerCycle[next++ % spec.headerCycle.length] as Record<string, string>,
  });
  process.stdout.write(JSON.stringify(result));
}
