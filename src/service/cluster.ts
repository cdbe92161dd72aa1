/**
 * `--workers N` on `node:cluster`: the primary forks N workers that share the listening socket
 * (the operating system spreads connections) and each run the whole service with their own key
 * cache, verified-token cache and revocation mirror. The primary restarts a worker that dies, adds
 * up their metrics, and on SIGTERM / SIGINT asks each to finish what it has in flight and stops.
 */
import cluster, { type Worker } from 'node:cluster';
import type { ServiceSettings } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { serveClusterMetrics } from './metrics.ts';
import { checkOptionalPeers } from './preflight.ts';
import { type RunningService, startService } from './server.ts';

/** Restarts allowed within {@link RESTART_WINDOW_MS} before the primary gives up (a crash loop). */
const MAX_RESTARTS = 10;
const RESTART_WINDOW_MS = 60_000;

/**
 * Run the service until SIGTERM or SIGINT: in this process with one worker, else as a cluster
 * primary (called again in each worker, which then runs one service). Resolves with the exit code.
 *
 * ```ts
 * process.exitCode = await runService(await loadServiceConfig('service.json'));
 * ```
 */
export async function runService(settings: ServiceSettings): Promise<number> {
  // A missing optional package is named once, here, not in every worker's crash loop.
  if (cluster.isPrimary) await checkOptionalPeers(settings);
  const logger = createLogger({
    level: settings.logLevel,
    decisions: settings.decisionLevel,
    allowed: settings.allowedLevel,
  });
  if (settings.workers > 1 && cluster.isPrimary) return runPrimary(settings, logger);
  const service = await startService(settings, { logger });
  if (!cluster.isWorker) return untilSignal(service);
  process.send?.({ type: 'cognito-jwt:listening', url: service.url });
  const code = await untilSignal(service);
  // The IPC channel to the primary would keep a worker alive: its work is done, so it leaves now.
  process.exit(code);
}

function untilSignal(service: RunningService): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      service.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // A worker whose primary went away stops too.
    if (cluster.isWorker) process.once('disconnect', stop);
  });
}

async function runPrimary(settings: ServiceSettings, logger: Logger): Promise<number> {
  // Workers that said they listen: the ones whose metrics /metrics adds up.
  const listeningWorkers = new Set<Worker>();
  await serveClusterMetrics(() => [...listeningWorkers]);
  let stopping = false;
  const restarts: number[] = [];
  const fork = (): Worker => cluster.fork();
  for (let i = 0; i < settings.workers; i++) fork();
  let announced = false;
  cluster.on('message', (worker, message: { type?: string; url?: string }) => {
    if (message?.type !== 'cognito-jwt:listening') return;
    listeningWorkers.add(worker);
    if (!announced && listeningWorkers.size === settings.workers) {
      announced = true;
      logger.log('info', 'all workers listening', { url: message.url, workers: settings.workers });
    }
  });
  return new Promise((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      listeningWorkers.delete(worker);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(0);
        return;
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
      logger.log('error', 'worker exited', { worker: worker.id, code, signal });
      if (restarts.length > MAX_RESTARTS) {
        logger.log('error', 'workers keep exiting: stopping', { restarts: restarts.length });
        stopping = true;
        for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(1);
        return;
      }
      fork();
    });
    const stop = () => {
      if (stopping) return;
      stopping = true;
      logger.log('info', 'stopping workers');
      const workers = Object.values(cluster.workers ?? {});
      if (workers.length === 0) resolve(0);
      for (const worker of workers) worker?.process.kill('SIGTERM');
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
