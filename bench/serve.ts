/**
 * `npm run bench:serve [-- --quick] [-- --json FILE] [-- --markdown FILE]`: the verification
 * service under load with autocannon, each configuration against a reference measured alongside:
 *
 * - the service alone (1 and 2 workers) against a no-op `node:http` server in its own process
 *   with as many workers;
 * - the service behind nginx `auth_request` against nginx making the same round trip to a no-op
 *   auth server.
 *
 * Workloads: one token repeated; distinct tokens with the verified-token cache off (each one really
 * verified); one token repeated with 10 % invalid tokens mixed in (their 401s are expected, not
 * errors). For each: the maximum requests/s, then p50/p99 latency at a fixed rate (`overallRate`)
 * of half that maximum. Errors are failed connections, timeouts and unexpected statuses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
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

const args = benchArgs('npm run bench:serve', '1 s per measurement', 'the table');

const settings = args.quick
  ? { durationS: 1, warmupS: 0, connections: 16, distinctTokens: 200 }
  : { durationS: 10, warmupS: 3, connections: 32, distinctTokens: 2_000 };
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

type WorkloadName = 'repeated' | 'fresh' | 'invalid-10%';
const WORKLOADS: readonly WorkloadName[] = ['repeated', 'fresh', 'invalid-10%'];

/** One measured row. */
export interface ServeResult {
  setup: string;
  workload: WorkloadName | 'any';
  reference: boolean;
  maxRequestsPerSec: number;
  /** Latency at half the maximum rate. */
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Answers by status over both phases. */
  statuses: Record<string, number>;
  /** This row over its reference, by max requests/s. */
  ratio?: number;
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

async function startService(
  build: Build,
  configDir: string,
  issuer: string,
  workers: number,
  tokenCache: boolean,
): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const file = join(configDir, `service-${port}.json`);
  await writeFile(
    file,
    JSON.stringify({
      pools: [{ userPoolId: POOL, issuer, clientId: [CLIENT], tokenUse: 'access' }],
      routes: [{ path: '/**', require: 'authenticated' }],
      tokenCache,
      log: { level: 'warn' },
      metrics: false,
    }),
  );
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
    { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT },
  );
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

async function cannon(
  target: Target,
  pick: () => string,
  overallRate?: number,
  durationS = settings.durationS,
) {
  const result = await autocannon({
    url: `http://127.0.0.1:${target.host}`,
    connections: settings.connections,
    duration: durationS,
    ...(overallRate === undefined ? {} : { overallRate }),
    requests: [
      {
        method: 'GET',
        path: target.path,
        setupRequest: (request: { headers?: Record<string, string> }) => {
          const headers: Record<string, string> = { authorization: `Bearer ${pick()}` };
          if (target.direct) {
            headers['x-original-method'] = 'GET';
            headers['x-original-uri'] = '/orders/42';
          }
          request.headers = headers;
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

async function measure(
  setup: string,
  workload: WorkloadName | 'any',
  target: Target,
  pick: () => string,
  reference: boolean,
): Promise<ServeResult> {
  log(`${setup}, ${workload}: warm-up, then the maximum rate`);
  if (settings.warmupS > 0) await cannon(target, pick, undefined, settings.warmupS);
  const max = await cannon(target, pick);
  const maxRate = max.requests.average;
  log(`${setup}, ${workload}: ${Math.round(maxRate)} req/s; latency at ${Math.round(maxRate / 2)} req/s`);
  const half = await cannon(target, pick, Math.max(1, Math.round(maxRate / 2)));
  const statuses = statusesOf(max);
  for (const [status, count] of Object.entries(statusesOf(half)))
    statuses[status] = (statuses[status] ?? 0) + count;
  const expected = workload === 'invalid-10%' ? ['200', '401'] : ['200'];
  const unexpected = Object.entries(statuses)
    .filter(([status]) => !expected.includes(status))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    setup,
    workload,
    reference,
    maxRequestsPerSec: Math.round(maxRate),
    p50Ms: half.latency.p50,
    p99Ms: half.latency.p99,
    errors: max.errors + max.timeouts + half.errors + half.timeouts + unexpected,
    statuses,
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
const key = generateKeyPair();
const jwks = await startJwksServer({ keys: [key] });
const results: ServeResult[] = [];
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

  for (const workers of [1, 2]) {
    const noop = await startNoop(dir, workers);
    const reference = await measure(
      `no-op node:http, ${workers} worker${workers > 1 ? 's' : ''}`,
      'any',
      { name: 'noop', host: String(noop.port), path: '/auth/nginx', direct: true },
      tokenPicker('repeated', tokens),
      true,
    );
    results.push(reference);
    await stopChild(noop.child);
    for (const workload of WORKLOADS) {
      const service = await startService(build, dir, issuer, workers, workload !== 'fresh');
      const row = await measure(
        `service, ${workers} worker${workers > 1 ? 's' : ''}`,
        workload,
        { name: 'service', host: String(service.port), path: '/auth/nginx', direct: true },
        tokenPicker(workload, tokens),
        false,
      );
      row.ratio = row.maxRequestsPerSec / reference.maxRequestsPerSec;
      results.push(row);
      await stopChild(service.child);
    }
  }

  // Behind nginx: nginx's auth_request round trip to a no-op server is the reference.
  const noop = await startNoop(dir, 1);
  const nginxNoop = await startBenchNginx(noop.port, dir);
  const nginxReference = await measure(
    'nginx auth_request → no-op',
    'any',
    { name: 'nginx', host: String(nginxNoop.port), path: '/orders/42', direct: false },
    tokenPicker('repeated', tokens),
    true,
  );
  results.push(nginxReference);
  await nginxNoop.stop();
  await stopChild(noop.child);
  for (const workload of WORKLOADS) {
    const service = await startService(build, dir, issuer, 1, workload !== 'fresh');
    const nginx = await startBenchNginx(service.port, dir);
    const row = await measure(
      'nginx auth_request → service, 1 worker',
      workload,
      { name: 'nginx', host: String(nginx.port), path: '/orders/42', direct: false },
      tokenPicker(workload, tokens),
      false,
    );
    row.ratio = row.maxRequestsPerSec / nginxReference.maxRequestsPerSec;
    results.push(row);
    await nginx.stop();
    await stopChild(service.child);
  }
} finally {
  await jwks.close();
  await rm(dir, { recursive: true, force: true });
  build.remove();
}

const table = [
  '| setup | workload | max req/s | × reference | p50 ms at ½ max | p99 ms at ½ max | errors |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (row) =>
      `| ${row.setup} | ${row.reference ? 'reference' : row.workload} | ${row.maxRequestsPerSec} | ${
        row.ratio === undefined ? '1' : row.ratio.toFixed(2)
      } | ${row.p50Ms} | ${row.p99Ms} | ${row.errors} |`,
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
    check('service alone, repeated token / no-op', repeated.ratio, 0.8, true);
  if (fresh?.ratio !== undefined) check('service alone, fresh tokens / no-op', fresh.ratio, 0.4, true);
  const worstP99 = Math.max(...results.filter((row) => !row.reference).map((row) => row.p99Ms));
  check('worst p99 at half the maximum rate', worstP99, 10, false, ' ms');
  return lines;
}

const machine = `${availableParallelism()} cores, Node ${process.versions.node}, ${settings.connections} connections, ${settings.durationS} s per phase${args.quick ? ' (--quick: the numbers mean nothing)' : ''}`;
console.log(`\n${machine}\n\n${table}\n\nTargets\n${targets().join('\n')}`);
if (args.json) {
  await writeFile(
    args.json,
    JSON.stringify({ quick: args.quick, settings, machine, results, targets: targets() }, null, 2),
  );
}
if (args.markdown) await writeFile(args.markdown, `${machine}\n\n${table}\n`);
