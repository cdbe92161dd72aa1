/**
 * Prometheus metrics through `prom-client`, an optional peer dependency loaded here only (never by
 * the library): decisions by outcome and code, a latency histogram, JWKS fetches and verified-token
 * cache lookups. With several workers each keeps its own registry and the primary process adds up
 * those of the workers that are listening (prom-client's `AggregatorRegistry.aggregate`); a worker
 * asked for `/metrics` asks the primary.
 */
import cluster, { type Worker } from 'node:cluster';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ConfigError } from '../errors.ts';
import { JWKS_EVENTS, type JwksEventMessages } from '../keys/events.ts';
import { REVOCATION_EVENTS, type RevocationEventMessages } from '../revocation/events.ts';
import type { Decision } from './decide.ts';

type PromClient = typeof import('prom-client');

/** What the server records and serves. */
export interface ServiceMetrics {
  decision(decision: Decision, seconds: number): void;
  /** A verified token was served from the verified-token cache (`true`) or checked in full. */
  tokenCache(hit: boolean): void;
  /** Report the revocation mirror's entries per pool on each scrape (`cognito_jwt_revocation_entries`). */
  revocationEntries(read: () => readonly { userPoolId: string; entries: number }[]): void;
  /** The text for `/metrics`: this process's, or every worker's added up. */
  render(): Promise<{ contentType: string; body: string }>;
  close(): void;
}

/**
 * `prom-client`, or `undefined` when it is not installed.
 *
 * ```ts
 * const client = await loadPromClient();
 * ```
 */
export async function loadPromClient(): Promise<PromClient | undefined> {
  try {
    const loaded = (await import('prom-client')) as PromClient & { default?: PromClient };
    return loaded.Registry ? loaded : loaded.default;
  } catch {
    return undefined;
  }
}

/**
 * The metrics of one process. `required`: throw when prom-client is missing (the config asked for
 * metrics); otherwise return `undefined` then.
 *
 * ```ts
 * const metrics = await createMetrics({ required: false });
 * ```
 */
export async function createMetrics(options: { required: boolean }): Promise<ServiceMetrics | undefined> {
  const client = await loadPromClient();
  if (!client) {
    if (options.required) {
      throw new ConfigError(
        'metrics need the prom-client package: npm install prom-client (or set "metrics": false)',
      );
    }
    return undefined;
  }
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'cognito_jwt_' });
  const decisions = new client.Counter({
    name: 'cognito_jwt_decisions_total',
    help: 'Auth decisions by outcome (allow, deny, unavailable, error), code and proxy contract.',
    labelNames: ['outcome', 'code', 'contract'] as const,
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'cognito_jwt_decision_duration_seconds',
    help: 'Time from reading an auth request to answering it.',
    labelNames: ['outcome'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const fetches = new client.Counter({
    name: 'cognito_jwt_jwks_fetches_total',
    help: 'JWKS fetches by result (success, failure) and reason (load, refresh, max-age, kid-miss).',
    labelNames: ['result', 'reason'] as const,
    registers: [registry],
  });
  const cacheLookups = new client.Counter({
    name: 'cognito_jwt_token_cache_lookups_total',
    help: 'Verified tokens by whether the verified-token cache served them (hit) or they were checked in full (miss).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of ['hit', 'miss']) cacheLookups.inc({ result }, 0);
  const onSuccess = (message: unknown) =>
    fetches.inc({ result: 'success', reason: (message as JwksEventMessages['fetchSuccess']).reason });
  const onFailure = (message: unknown) =>
    fetches.inc({ result: 'failure', reason: (message as JwksEventMessages['fetchFailure']).reason });
  subscribe(JWKS_EVENTS.fetchSuccess, onSuccess);
  subscribe(JWKS_EVENTS.fetchFailure, onFailure);
  // Workers share the host's clock: their values are averaged, not added up.
  const clockOffset = new client.Gauge({
    name: 'cognito_jwt_clock_offset_seconds',
    help: "This host's clock minus the JWKS server's, from the last JWKS answer's Date header (1 s resolution; positive: this host is ahead).",
    labelNames: ['jwks_uri'] as const,
    aggregator: 'average',
    registers: [registry],
  });
  const onClockOffset = (message: unknown) => {
    const { jwksUri, offsetMs } = message as JwksEventMessages['clockOffset'];
    clockOffset.set({ jwks_uri: jwksUri }, offsetMs / 1000);
  };
  subscribe(JWKS_EVENTS.clockOffset, onClockOffset);
  let readEntries: () => readonly { userPoolId: string; entries: number }[] = () => [];
  new client.Gauge({
    name: 'cognito_jwt_revocation_entries',
    help: 'Entries in this process\'s revocation mirror, per user pool (pool="": sessions revoked without their pool).',
    labelNames: ['pool'] as const,
    registers: [registry],
    // Every worker mirrors the same list: the primary reports the largest, not the sum.
    aggregator: 'max',
    collect() {
      this.reset();
      for (const { userPoolId, entries } of readEntries()) this.set({ pool: userPoolId }, entries);
    },
  });
  const capacity = new client.Counter({
    name: 'cognito_jwt_revocation_capacity_events_total',
    help: 'Times a pool of the revocation mirror reached a level of maxEntriesPerPool: warning (80 %), full (the cap: sessions folded into per-user cut-offs), overflow (every token of the pool issued up to then refused), ok (back under 80 %).',
    labelNames: ['pool', 'level'] as const,
    registers: [registry],
  });
  const onCapacity = (message: unknown) => {
    const { userPoolId, level } = message as RevocationEventMessages['capacity'];
    capacity.inc({ pool: userPoolId, level });
  };
  subscribe(REVOCATION_EVENTS.capacity, onCapacity);

  const answerPrimary = (message: { type?: string; id?: number }) => {
    if (message?.type !== WORKER_METRICS_REQUEST) return;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: WORKER_METRICS_RESPONSE, id: message.id, metrics }),
      (error: Error) =>
        process.send?.({ type: WORKER_METRICS_RESPONSE, id: message.id, error: error.message }),
    );
  };
  if (cluster.isWorker) process.on('message', answerPrimary);

  // Each label set's child, looked up once: prom-client hashes the label object on every
  // inc()/observe() given labels. Outcomes, codes and contracts are few, so these stay small.
  const decisionChildren = new Map<string, { inc(): void }>();
  const latencyChildren = new Map<string, { observe(value: number): void }>();
  const cacheChildren = {
    hit: cacheLookups.labels({ result: 'hit' }),
    miss: cacheLookups.labels({ result: 'miss' }),
  };

  return {
    decision({ outcome, code, contract }, seconds) {
      const key = `${outcome} ${code} ${contract}`;
      let counter = decisionChildren.get(key);
      if (counter === undefined) {
        counter = decisions.labels({ outcome, code, contract });
        decisionChildren.set(key, counter);
      }
      counter.inc();
      let histogram = latencyChildren.get(outcome);
      if (histogram === undefined) {
        histogram = latency.labels({ outcome });
        latencyChildren.set(outcome, histogram);
      }
      histogram.observe(seconds);
    },
    revocationEntries(read) {
      readEntries = read;
    },
    tokenCache(hit) {
      (hit ? cacheChildren.hit : cacheChildren.miss).inc();
    },
    async render() {
      const body = cluster.isWorker ? await askPrimary() : await registry.metrics();
      return { contentType: registry.contentType, body };
    },
    close() {
      unsubscribe(JWKS_EVENTS.fetchSuccess, onSuccess);
      unsubscribe(JWKS_EVENTS.fetchFailure, onFailure);
      unsubscribe(JWKS_EVENTS.clockOffset, onClockOffset);
      unsubscribe(REVOCATION_EVENTS.capacity, onCapacity);
      process.off('message', answerPrimary);
    },
  };
}

/** The IPC message a worker sends to ask for every worker's metrics, and the answer. */
export const METRICS_REQUEST = 'cognito-jwt:metrics-request';
export const METRICS_RESPONSE = 'cognito-jwt:metrics-response';
/** The primary asking one worker for its registry (as JSON), and that worker's answer. */
const WORKER_METRICS_REQUEST = 'cognito-jwt:worker-metrics-request';
const WORKER_METRICS_RESPONSE = 'cognito-jwt:worker-metrics-response';
/** How long the primary waits for a listening worker's registry. */
const WORKER_ANSWER_MS = 5_000;
/**
 * How long a worker waits for the primary's sum: longer than the primary waits for a worker, so
 * a silent worker is reported by name rather than as a silent primary.
 */
const PRIMARY_ANSWER_MS = WORKER_ANSWER_MS + 2_000;

/** One end of an IPC channel: `process` in a worker, a cluster `Worker` in the primary. */
interface IpcEnd {
  send(message: object): unknown;
  on(event: 'message', listener: (message: IpcAnswer) => void): unknown;
  off(event: 'message', listener: (message: IpcAnswer) => void): unknown;
}

interface IpcAnswer {
  type?: string;
  id?: number;
  body?: string;
  metrics?: unknown[];
  error?: string;
}

let nextRequest = 0;

/**
 * Send `{ type, id }` through `end` and resolve with the `answerType` message of the same id;
 * its `error` rejects, and so does no answer within `timeoutMs`.
 */
function askOverIpc(end: IpcEnd, type: string, answerType: string, timeoutMs: number, silence: string) {
  const id = nextRequest++;
  return new Promise<IpcAnswer>((resolve, reject) => {
    const timer = setTimeout(() => {
      end.off('message', onMessage);
      reject(new Error(silence));
    }, timeoutMs);
    const onMessage = (message: IpcAnswer) => {
      if (message?.type !== answerType || message.id !== id) return;
      clearTimeout(timer);
      end.off('message', onMessage);
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message);
    };
    end.on('message', onMessage);
    end.send({ type, id });
  });
}

async function askPrimary(): Promise<string> {
  const answer = await askOverIpc(
    process as unknown as IpcEnd,
    METRICS_REQUEST,
    METRICS_RESPONSE,
    PRIMARY_ANSWER_MS,
    'the primary process did not answer the metrics request',
  );
  return answer.body ?? '';
}

/**
 * In the primary process: answer workers' metrics requests with the metrics of every worker in
 * `listeningWorkers()` added up. A worker still starting (or restarting) is left out rather than
 * waited for; one that is listening but does not answer fails the request.
 *
 * ```ts
 * await serveClusterMetrics(() => [...listening]);
 * ```
 */
export async function serveClusterMetrics(listeningWorkers: () => Worker[]): Promise<void> {
  const client = await loadPromClient();
  if (!client) return;
  const askWorker = async (worker: Worker) =>
    (
      await askOverIpc(
        worker,
        WORKER_METRICS_REQUEST,
        WORKER_METRICS_RESPONSE,
        WORKER_ANSWER_MS,
        `worker ${worker.id} did not send its metrics within ${WORKER_ANSWER_MS} ms`,
      )
    ).metrics ?? [];
  const gather = async () => {
    const answers = await Promise.all(
      listeningWorkers()
        .filter((worker) => worker.isConnected())
        .map(askWorker),
    );
    return client.AggregatorRegistry.aggregate(
      answers as Parameters<typeof client.AggregatorRegistry.aggregate>[0],
    ).metrics();
  };
  cluster.on('message', (worker, message: IpcAnswer) => {
    if (message?.type !== METRICS_REQUEST) return;
    gather().then(
      (body) => worker.isConnected() && worker.send({ type: METRICS_RESPONSE, id: message.id, body }),
      (error: Error) =>
        worker.isConnected() && worker.send({ type: METRICS_RESPONSE, id: message.id, error: error.message }),
    );
  });
}
