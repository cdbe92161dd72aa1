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
 */
import { Agent, request } from 'node:http';

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

export async function pacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const { port, path, headers, rate, durationS, connections } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const total = Math.max(1, Math.round(rate * durationS));
  const interval = 1000 / rate;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
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

  const send = (due: number) => {
    const outgoing = request(
      { host: '127.0.0.1', port, path, method: 'GET', agent, headers: headers() },
      (response) => {
        const status = String(response.statusCode);
        response.on('end', () => {
          latencies.push(performance.now() - due);
          statuses[status] = (statuses[status] ?? 0) + 1;
          settle();
        });
        response.resume();
      },
    );
    outgoing.on('error', () => {
      errors++;
      settle();
    });
    outgoing.end();
  };

  const start = performance.now();
  await new Promise<void>((resolve) => {
    // Timers fire at best every millisecond: each tick sends every request that has come due,
    // stamped with its own due time.
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        send(start + sent * interval);
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
  agent.destroy();
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
