// Run by bench/revocation.ts with --expose-gc: how much a mirror of the store given in argv[2]
// costs in memory, and how long a full read takes at start and as a periodic reconcile: wall time
// (what the resync event reports) and this process's CPU time (what a busy machine distorts less;
// the process does nothing else meanwhile but a heartbeat a second).
import { subscribe } from 'node:diagnostics_channel';
import { REVOCATION_EVENTS, type RevocationEventMessages, RevocationList } from '../src/revocation/index.ts';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const reads: RevocationEventMessages['resync'][] = [];
let onPeriod: () => void = () => {};
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const cpuAt: Partial<Record<'start' | 'period', number>> = {};
subscribe(REVOCATION_EVENTS.resync, (message) => {
  const { reason } = message as RevocationEventMessages['resync'];
  reads.push(message as RevocationEventMessages['resync']);
  if (reason === 'start' || reason === 'period') cpuAt[reason] ??= cpuMs();
  if (reason === 'period') onPeriod();
});

// Load the Redis client first, so the start-up read's CPU time is the read's, not module loading.
await import('../src/revocation/redis-store.ts');
gc();
const before = process.memoryUsage();
const startCpu = cpuMs();
const list = new RevocationList({
  redis: { url: process.argv[2]! },
  onUnavailable: 'reject',
  reconcileIntervalMs: 1_000,
  readyTimeoutMs: 600_000, // the read is what is measured: never give up on it
});
await list.ready;
gc();
const readyCpu = cpuMs();
await new Promise<void>((resolve) => {
  onPeriod = resolve;
});
gc();
const after = process.memoryUsage();
const first = reads.find((read) => read.reason === 'start');
const period = reads.find((read) => read.reason === 'period');
process.send?.({
  entries: list.size,
  rssMb: (after.rss - before.rss) / 2 ** 20,
  heapMb: (after.heapUsed - before.heapUsed) / 2 ** 20,
  firstReadMs: first?.durationMs ?? Number.NaN,
  reconcileMs: period?.durationMs ?? Number.NaN,
  firstReadCpuMs: (cpuAt.start ?? Number.NaN) - startCpu,
  reconcileCpuMs: (cpuAt.period ?? Number.NaN) - readyCpu,
});
await list.close();
