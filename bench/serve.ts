/**
 * `npm run bench:serve [-- --quick] [-- --json FILE] [-- --markdown FILE] [-- --background N]`:
 * the verification service under load with autocannon, with the shipped defaults (a log line per
 * refusal, written to a file as a log collector would take it; metrics on), each configuration
 * against a reference measured in the same rounds:
 *
 * - the service alone (1 and 2 workers) against a no-op `node:http` server in its own process
 *   with as many workers;
 * - the service behind nginx `auth_request` against nginx making the same round trip to a no-op
 *   auth server.
 *
 * Workloads: one token repeated; distinct tokens with the verified-token cache off (each one really
 * verified); one token repeated with 10 % invalid tokens mixed in (their 401s are expected, not
 * errors); and, with 1 worker, the repeated token with a log line for every allowed request too
 * (`log.allowed: 'info'`), to show what that line costs.
 *
 * One reference per run cannot carry a ratio: the machine moves by a third between runs. So every
 * process of a setup runs at once, and the maximum rate is measured in several short rounds, each
 * round visiting the reference and every variant in a rotating order; a variant's ratio is the
 * median of its per-round ratios to that round's reference, reported with the spread. Latency is
 * then taken at a fixed rate of half each target's median maximum, with requests evenly spaced
 * and timed from when each was due, by a generator in a process of its own (paced-load.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, mintAccessToken, startJwksServer } from '../src/testing/index.ts';
import { nginxServerBlock } from '../test/helpers/nginx.ts';
import { freePort, startProxyProcess } from '../test/helpers/proxy-process.ts';
import { benchArgs } from './args.ts';
import { type Build, buildPlainJs } from './build.ts';
import { pacedLoadInChild } from './paced-load.ts';

const args = benchArgs('npm run bench:serve', '1 s per measurement', 'the table');

const settings = args.quick
  ? { rounds: 1, durationS: 1, warmupS: 0, connections: 16, distinctTokens: 200 }
  : { rounds: 7, durationS: 2, warmupS: 1, connections: 32, distinctTokens: 2_000 };
/** The part of autocannon's result this benchmark reads (the package ships no types). */
interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number | string }>;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: object) => Promise<CannonResult>;

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const POOL = 'local_bench1';
const CLIENT = 'bench-client';
const started = performance.now();
const log = (message: string) =>
  process.stderr.write(`[bench:serve ${((performance.now() - started) / 1000).toFixed(1)} s] ${message}\n`);

type WorkloadName = 'repeated' | 'fresh' | 'invalid-10%' | 'repeated, every decision logged';
const WORKLOADS: readonly WorkloadName[] = ['repeated', 'fresh', 'invalid-10%'];

/** One measured row. */
export interface ServeResult {
  setup: string;
  workload: WorkloadName | 'any';
  reference: boolean;
  /** Median over the rounds. */
  maxRequestsPerSec: number;
  /** Latency at half the median maximum rate. */
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Answers by status over every phase. */
  statuses: Record<string, number>;
  /** This row over its reference, by max requests/s: the median of the per-round ratios. */
  ratio?: number;
  /** The smallest and largest per-round ratio. */
  ratioSpread?: [number, number];
}

interface Target {
  name: string;
  host: string;
  /** Path and the headers that make it an nginx-contract auth request (direct), or a client request (through nginx). */
  path: string;
  direct: boolean;
}

async function waitForHttp(url: string, what: string, child?: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await fetch(url).then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not answer ${url}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The no-op reference: answers 200 to everything, in its own process, with `workers` cluster workers. */
async function startNoop(configDir: string, workers: number): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const source = `
    const cluster = require('node:cluster');
    const http = require('node:http');
    if (cluster.isPrimary && ${workers} > 1) {
      for (let i = 0; i < ${workers}; i++) cluster.fork();
      process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM'); process.exit(0); });
    } else {
      const server = http.createServer((req, res) => { res.writeHead(200); res.end(); });
      server.keepAliveTimeout = 75000;
      server.listen(${port}, '127.0.0.1');
      process.on('SIGTERM', () => process.exit(0));
    }`;
  // A file, not -e: cluster workers run the primary's script again.
  const file = join(configDir, `noop-${port}.cjs`);
  await writeFile(file, source);
  const child = spawn(process.execPath, [file], { stdio: 'ignore' });
  await waitForHttp(`http://127.0.0.1:${port}/`, 'the no-op server', child);
  return { port, child };
}

/** How one service process is set up; everything not named is the shipped default. */
interface Variant {
  workload: WorkloadName;
  tokenCache: boolean;
  /** A line for every allowed request too (`log.allowed: 'info'`); the default logs refusals only. */
  everyDecisionLogged: boolean;
}

function variantsFor(workers: number): Variant[] {
  const variants: Variant[] = WORKLOADS.map((workload) => ({
    workload,
    tokenCache: workload !== 'fresh',
    everyDecisionLogged: false,
  }));
  if (workers === 1) {
    variants.push({
      workload: 'repeated, every decision logged',
      tokenCache: true,
      everyDecisionLogged: true,
    });
  }
  return variants;
}

async function startService(
  build: Build,
  configDir: string,
  issuer: string,
  workers: number,
  variant: Variant,
): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const file = join(configDir, `service-${port}.json`);
  // No `metrics` setting and, but for one variant, no `log`: the defaults users get (metrics on, a line per refusal).
  const config: Record<string, unknown> = {
    pools: [{ userPoolId: POOL, issuer, clientId: [CLIENT], tokenUse: 'access' }],
    routes: [{ path: '/**', require: 'authenticated' }],
    tokenCache: variant.tokenCache,
  };
  if (variant.everyDecisionLogged) config.log = { allowed: 'info' };
  await writeFile(file, JSON.stringify(config));
  // Decision lines go to a file, as a log collector would take them from stdout.
  const logFd = openSync(join(configDir, `service-${port}.log`), 'w');
  const child = spawn(
    process.execPath,
    [
      join(build.dir, 'cli/main.js'),
      'serve',
      '--config',
      file,
      '--port',
      String(port),
      '--workers',
      String(workers),
    ],
    { stdio: ['ignore', logFd, 'inherit'], cwd: ROOT },
  );
  closeSync(logFd);
  await waitForHttp(`http://127.0.0.1:${port}/readyz`, 'the service', child);
  return { port, child };
}

async function startBenchNginx(
  authPort: number,
  dir: string,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const root = await mkdtemp(join(dir, 'nginx-'));
  // nginx workers may run as another user (nobody, when started as root): let them read the file.
  await chmod(dir, 0o755);
  await chmod(root, 0o755);
  await writeFile(join(root, 'ok.txt'), 'ok');
  // The documented block, except that the protected content is a static file instead of an
  // upstream: both sides of the comparison then differ only in who answers the auth subrequest.
  const block = nginxServerBlock({ port, servicePort: authPort, upstreamPort: 1 }).replace(
    /proxy_pass http:\/\/127\.0\.0\.1:1;/,
    `root ${root}; try_files /ok.txt =404;`,
  );
  const config = `
worker_processes 1;
pid ${root}/nginx.pid;
error_log ${root}/error.log error;
events { worker_connections 4096; }
http {
  access_log off;
  # nginx closes a client connection after 1000 requests by default; autocannon counts the race as an error.
  keepalive_requests 10000000;
  client_body_temp_path ${root}/client_body;
  proxy_temp_path ${root}/proxy;
  fastcgi_temp_path ${root}/fastcgi;
  uwsgi_temp_path ${root}/uwsgi;
  scgi_temp_path ${root}/scgi;
${block}
}`;
  const file = join(root, 'nginx.conf');
  await writeFile(file, config);
  const proxy = await startProxyProcess(
    'nginx',
    '/usr/sbin/nginx',
    ['-p', root, '-c', file, '-g', 'daemon off;'],
    port,
  );
  return { port, stop: proxy.stop };
}

/** The headers of the i-th request of a workload. */
function tokenPicker(workload: WorkloadName, tokens: { valid: string[]; invalid: string[] }) {
  let index = 0;
  return (): string => {
    index++;
    if (workload === 'fresh') return tokens.valid[index % tokens.valid.length]!;
    if (workload === 'invalid-10%' && index % 10 === 0)
      return tokens.invalid[(index / 10) % tokens.invalid.length]!;
    return tokens.valid[0]!;
  };
}

/** The headers of one request: the token, and the proxy's contract headers when asked directly. */
function requestHeaders(target: Target, pick: () => string): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${pick()}` };
  if (target.direct) {
    headers['x-original-method'] = 'GET';
    headers['x-original-uri'] = '/orders/42';
  }
  return headers;
}

/** The maximum rate: autocannon's connections each send their next request as soon as one is answered. */
async function cannon(target: Target, pick: () => string, durationS = settings.durationS) {
  const result = await autocannon({
    url: `http://127.0.0.1:${target.host}`,
    connections: settings.connections,
    duration: durationS,
    requests: [
      {
        method: 'GET',
        path: target.path,
        setupRequest: (request: { headers?: Record<string, string> }) => {
          request.headers = requestHeaders(target, pick);
          return request;
        },
      },
    ],
  });
  return result;
}

function statusesOf(result: CannonResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [status, stat] of Object.entries(result.statusCodeStats ?? {})) {
    counts[status] = Number(stat.count);
  }
  return counts;
}

/** A target measured in rounds, with what it measured so far. */
interface Measured {
  row: ServeResult;
  target: Target;
  pick: () => string;
  expected: readonly string[];
  rates: number[];
}

function record(measured: Measured, result: CannonResult): void {
  for (const [status, count] of Object.entries(statusesOf(result)))
    measured.row.statuses[status] = (measured.row.statuses[status] ?? 0) + count;
  measured.row.errors += result.errors + result.timeouts;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Measure a reference and its variants together: a warm-up each, then `settings.rounds` rounds of
 * the maximum rate in a rotating order (so no target always runs first or after the same one),
 * then latency at half each one's median maximum. The reference is `measured[0]`.
 */
async function measureSetup(measured: Measured[]): Promise<void> {
  const setup = measured[0]?.row.setup ?? '';
  log(`${setup}: warm-up`);
  if (settings.warmupS > 0) {
    for (const item of measured) await cannon(item.target, item.pick, settings.warmupS);
  }
  for (let round = 0; round < settings.rounds; round++) {
    for (let step = 0; step < measured.length; step++) {
      const item = measured[(round + step) % measured.length] as Measured;
      const result = await cannon(item.target, item.pick);
      record(item, result);
      item.rates.push(result.requests.average);
    }
    log(
      `${setup}: round ${round + 1}/${settings.rounds}: ${measured.map((item) => Math.round(item.rates.at(-1) ?? 0)).join(' / ')} req/s`,
    );
  }
  const reference = measured[0] as Measured;
  for (const item of measured) {
    item.row.maxRequestsPerSec = Math.round(median(item.rates));
    if (item !== reference) {
      const ratios = item.rates.map((rate, round) => rate / (reference.rates[round] as number));
      item.row.ratio = median(ratios);
      item.row.ratioSpread = [Math.min(...ratios), Math.max(...ratios)];
    }
    // Latency at half the maximum, with requests evenly spaced (see paced-load.ts for why not autocannon).
    // From a fresh process, with the workload's requests written out (see pacedLoadInChild).
    const half = await pacedLoadInChild(
      {
        port: Number(item.target.host),
        path: item.target.path,
        headerCycle: Array.from({ length: settings.distinctTokens }, () =>
          requestHeaders(item.target, item.pick),
        ),
        rate: Math.max(1, Math.round(item.row.maxRequestsPerSec / 2)),
        durationS: settings.durationS,
        connections: settings.connections,
      },
      dir,
    );
    for (const [status, count] of Object.entries(half.statuses))
      item.row.statuses[status] = (item.row.statuses[status] ?? 0) + count;
    item.row.errors += half.errors;
    item.row.p50Ms = Math.round(half.p50Ms * 10) / 10;
    item.row.p99Ms = Math.round(half.p99Ms * 10) / 10;
    item.row.errors += Object.entries(item.row.statuses)
      .filter(([status]) => !item.expected.includes(status))
      .reduce((sum, [, count]) => sum + count, 0);
    results.push(item.row);
  }
}

function measuredRow(
  setup: string,
  workload: WorkloadName | 'any',
  target: Target,
  pick: () => string,
  reference: boolean,
): Measured {
  return {
    row: { setup, workload, reference, maxRequestsPerSec: 0, p50Ms: 0, p99Ms: 0, errors: 0, statuses: {} },
    target,
    pick,
    expected: workload === 'invalid-10%' ? ['200', '401'] : ['200'],
    rates: [],
  };
}

const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-bench-serve-'));
// The service runs as the published package does: plain JavaScript, no TypeScript loader (tsx's
// keepNames wrappers alone cost several microseconds per decision).
const build = buildPlainJs();
// The sources may reach Node's crypto through the "#platform" import map: point it at the Node seam.
if (existsSync(join(build.dir, 'platform/node.js'))) {
  writeFileSync(
    join(build.dir, 'package.json'),
    JSON.stringify({ type: 'module', imports: { '#platform': './platform/node.js' } }),
  );
}
// A stated background load: CPU-bound processes for the whole run.
const background = Array.from({ length: args.background }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
const key = generateKeyPair();
const jwks = await startJwksServer({ keys: [key] });
const results: ServeResult[] = [];
const children: ChildProcess[] = [];
const stops: (() => Promise<void>)[] = [];
try {
  const issuer = jwks.issuer(POOL);
  log(`minting ${settings.distinctTokens} tokens`);
  const valid = Array.from({ length: settings.distinctTokens }, () =>
    mintAccessToken({ key, issuer, clientId: CLIENT }),
  );
  // A valid header and payload with another token's signature: parsed, then refused by the RSA check.
  const invalid = valid.slice(0, 100).map((token, i) => {
    const other = valid[(i + 1) % valid.length]!.split('.')[2];
    return `${token.split('.').slice(0, 2).join('.')}.${other}`;
  });
  const tokens = { valid, invalid };
  const direct = (port: number): Target => ({
    name: 'direct',
    host: String(port),
    path: '/auth/nginx',
    direct: true,
  });
  const viaNginx = (port: number): Target => ({
    name: 'nginx',
    host: String(port),
    path: '/orders/42',
    direct: false,
  });

  for (const workers of [1, 2]) {
    const label = `${workers} worker${workers > 1 ? 's' : ''}`;
    const noop = await startNoop(dir, workers);
    children.push(noop.child);
    const measured = [
      measuredRow(
        `no-op node:http, ${label}`,
        'any',
        direct(noop.port),
        tokenPicker('repeated', tokens),
        true,
      ),
    ];
    for (const variant of variantsFor(workers)) {
      const service = await startService(build, dir, issuer, workers, variant);
      children.push(service.child);
      measured.push(
        measuredRow(
          `service, ${label}`,
          variant.workload,
          direct(service.port),
          tokenPicker(variant.workload, tokens),
          false,
        ),
      );
    }
    await measureSetup(measured);
    await Promise.all(children.splice(0).map(stopChild));
  }

  // Behind nginx: nginx's auth_request round trip to a no-op server is the reference.
  const noop = await startNoop(dir, 1);
  children.push(noop.child);
  const nginxNoop = await startBenchNginx(noop.port, dir);
  stops.push(nginxNoop.stop);
  const measured = [
    measuredRow(
      'nginx auth_request → no-op',
      'any',
      viaNginx(nginxNoop.port),
      tokenPicker('repeated', tokens),
      true,
    ),
  ];
  for (const workload of WORKLOADS) {
    const service = await startService(build, dir, issuer, 1, {
      workload,
      tokenCache: workload !== 'fresh',
      everyDecisionLogged: false,
    });
    children.push(service.child);
    const nginx = await startBenchNginx(service.port, dir);
    stops.push(nginx.stop);
    measured.push(
      measuredRow(
        'nginx auth_request → service, 1 worker',
        workload,
        viaNginx(nginx.port),
        tokenPicker(workload, tokens),
        false,
      ),
    );
  }
  await measureSetup(measured);
} finally {
  await Promise.all(stops.map((stop) => stop()));
  await Promise.all(children.map(stopChild));
  for (const child of background) child.kill('SIGKILL');
  await jwks.close();
  await rm(dir, { recursive: true, force: true });
  build.remove();
}

const table = [
  '| setup | workload | max req/s (median) | × reference (median) | spread over rounds | p50 ms at ½ max | p99 ms at ½ max | errors |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (row) =>
      `| ${row.setup} | ${row.reference ? 'reference' : row.workload} | ${row.maxRequestsPerSec} | ${
        row.ratio === undefined ? '1' : row.ratio.toFixed(2)
      } | ${row.ratioSpread === undefined ? '' : row.ratioSpread.map((ratio) => ratio.toFixed(2)).join('–')} | ${row.p50Ms} | ${row.p99Ms} | ${row.errors} |`,
  ),
].join('\n');

/** The targets, each with how far the result is from it. */
function targets(): string[] {
  const lines: string[] = [];
  const service1 = results.filter((row) => row.setup === 'service, 1 worker');
  const check = (name: string, value: number, goal: number, atLeast: boolean, unit = '') =>
    lines.push(
      `${(atLeast ? value >= goal : value <= goal) ? 'met ' : 'MISS'}  ${name}: ${value.toFixed(2)}${unit} (target ${atLeast ? '≥' : '≤'} ${goal}${unit})`,
    );
  const errors = results.reduce((sum, row) => sum + row.errors, 0);
  check('errors over every run', errors, 0, false);
  const repeated = service1.find((row) => row.workload === 'repeated');
  const fresh = service1.find((row) => row.workload === 'fresh');
  if (repeated?.ratio !== undefined)
    check('service alone (1 worker, shipped defaults), repeated token / no-op', repeated.ratio, 0.9, true);
  if (fresh?.ratio !== undefined)
    check('service alone (1 worker, shipped defaults), fresh tokens / no-op', fresh.ratio, 0.5, true);
  const worstP99 = Math.max(...service1.map((row) => row.p99Ms));
  check('worst p99 of the service alone (1 worker) at half its maximum rate', worstP99, 10, false, ' ms');
  return lines;
}

const machine = `${availableParallelism()} cores, Node ${process.versions.node}, ${settings.connections} connections, ${settings.rounds} rounds of ${settings.durationS} s, ${args.background} CPU-bound background process${args.background === 1 ? '' : 'es'}${args.quick ? ' (--quick: the numbers mean nothing)' : ''}`;
console.log(`\n${machine}\n\n${table}\n\nTargets\n${targets().join('\n')}`);
if (args.json) {
  await writeFile(
    args.json,
    JSON.stringify({ quick: args.quick, settings, machine, results, targets: targets() }, null, 2),
  );
}
if (args.markdown) await writeFile(args.markdown, `${machine}\n\n${table}\n`);
