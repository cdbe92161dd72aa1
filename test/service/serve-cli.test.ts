// `cognito-jwt serve` as a real process (run from the sources through tsx): config checks, the
// environment, workers on node:cluster with their metrics added up, and SIGTERM.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, mintAccessToken, startJwksServer } from '../../src/testing/index.ts';
import { freePort } from '../helpers/proxy-process.ts';
import { CLIENT, POOL } from './harness.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

function serve(args: string[], env: Record<string, string> = {}): Run {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('COGNITO_JWT_')),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args], {
    env: { ...clean, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => ({ stdout, stderr }), exited };
}

async function configFile(t: TestContext, config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-serve-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'service.json');
  await writeFile(file, JSON.stringify(config));
  return file;
}

const ROUTES = [
  { path: '/public/**', require: 'anonymous' },
  { path: '/**', require: 'authenticated' },
];

test('serve --check: a valid config prints a summary and exits 0; a typo exits 2 naming the closest key', async (t) => {
  const pools = [{ userPoolId: 'eu-west-1_AbC123', clientId: ['app'], tokenUse: 'access' }];
  let run = serve(['--check', '--config', await configFile(t, { pools, routes: ROUTES, workers: 2 })]);
  assert.equal(await run.exited, 0, run.output().stderr);
  assert.match(run.output().stdout, /config valid/);
  assert.match(run.output().stdout, /pool +eu-west-1_AbC123 \(access tokens; app\)/);
  assert.match(run.output().stdout, /\/public\/\*\* +→ anonymous/);

  run = serve(['--check', '--config', await configFile(t, { pools, rotues: ROUTES })]);
  assert.equal(await run.exited, 2);
  assert.match(run.output().stderr, /unknown option "rotues"; did you mean "routes"\?/);

  run = serve(['--check', '--config', await configFile(t, { pools: [{ ...pools[0], clientID: 'x' }] })]);
  assert.equal(await run.exited, 2);
  assert.match(run.output().stderr, /pools\[0\]: pool: unknown option "clientID"; did you mean "clientId"\?/);

  run = serve(['--check', '--config', await configFile(t, { userPoolId: 'eu-west-1_AbC123' })]);
  assert.equal(await run.exited, 2);
  assert.match(run.output().stderr, /"userPoolId" does not belong here: put it in an entry of "pools"/);

  run = serve(['--check'], {
    COGNITO_JWT_USER_POOL_ID: 'eu-west-1_AbC123',
    COGNITO_JWT_CLIENT_ID: 'app',
    COGNITO_JWT_TOKEN_USE: 'id',
    COGNITO_JWT_PROT: '1',
  });
  assert.equal(await run.exited, 2);
  assert.match(
    run.output().stderr,
    /unknown environment variable COGNITO_JWT_PROT; did you mean COGNITO_JWT_PORT\?/,
  );

  run = serve(['--check', '--workers', '3'], {
    COGNITO_JWT_USER_POOL_ID: 'eu-west-1_AbC123',
    COGNITO_JWT_CLIENT_ID: 'app,other',
    COGNITO_JWT_TOKEN_USE: 'id',
    COGNITO_JWT_PORT: '9999',
  });
  assert.equal(await run.exited, 0, run.output().stderr);
  assert.match(run.output().stdout, /listen +127\.0\.0\.1:9999, 3 workers/);
  assert.match(run.output().stdout, /\(id tokens; app, other\)/);
});

/** `serve --workers 2` on a free port, returned once both workers listen with their keys. */
async function serveTwoWorkers(t: TestContext) {
  const key = generateKeyPair();
  const jwks = await startJwksServer({ keys: [key] });
  t.after(() => jwks.close());
  const port = await freePort();
  const file = await configFile(t, {
    pools: [{ userPoolId: POOL, issuer: jwks.issuer(POOL), clientId: [CLIENT], tokenUse: 'access' }],
    routes: ROUTES,
    log: { level: 'warn' },
  });
  const run = serve(['--config', file, '--port', String(port), '--workers', '2']);
  t.after(() => run.child.kill('SIGKILL'));
  const origin = `http://127.0.0.1:${port}`;
  let ready = false;
  for (let attempt = 0; attempt < 400 && !ready; attempt++) {
    ready = await fetch(`${origin}/readyz`).then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(ready, `ready: ${run.output().stderr}${run.output().stdout}`);
  // One worker may answer while the other still starts (a loaded machine): /metrics adds up the
  // listening workers only, so wait until it shows both workers' start-up JWKS fetches.
  let fetchesSeen = 0;
  for (let attempt = 0; attempt < 400 && fetchesSeen < 2; attempt++) {
    const answer = await fetch(`${origin}/metrics`);
    fetchesSeen = answer.status === 200 ? successfulFetches(await answer.text()) : 0;
    if (fetchesSeen < 2) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(fetchesSeen, 2, 'both workers listening, each with its keys');
  return { run, origin, port, key, issuer: jwks.issuer(POOL) };
}

/** The sum of the successful JWKS fetches in a /metrics text. */
function successfulFetches(metrics: string): number {
  return [...metrics.matchAll(/^cognito_jwt_jwks_fetches_total\{result="success",[^}]*\} (\d+)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

test('serve --workers 2: both answer on one port, /metrics adds up every worker, SIGTERM stops cleanly', async (t) => {
  const { run, origin, key, issuer } = await serveTwoWorkers(t);
  const token = mintAccessToken({ key, issuer, clientId: CLIENT });
  const total = 40;
  for (let i = 0; i < total; i++) {
    // A new connection each time, so the kernel can hand them to either worker.
    const answer = await fetch(`${origin}/auth/nginx`, {
      headers: {
        'x-original-method': 'GET',
        'x-original-uri': '/x',
        authorization: `Bearer ${token}`,
        connection: 'close',
      },
    });
    assert.equal(answer.status, 200);
  }
  const metricsAnswer = await fetch(`${origin}/metrics`);
  const metrics = await metricsAnswer.text();
  assert.equal(metricsAnswer.status, 200, metrics);
  const allowed = /cognito_jwt_decisions_total\{outcome="allow",code="OK",contract="nginx"\} (\d+)/.exec(
    metrics,
  );
  assert.equal(
    Number(allowed?.[1]),
    total,
    `the allowed decisions of both workers, added up:\n${metrics
      .split('\n')
      .filter((line) => line.startsWith('cognito_jwt_decisions'))
      .join('\n')}`,
  );
  // Still one successful JWKS fetch per worker (its reason label depends on whether a request
  // reached the worker before its start-up load ended, so the reasons are summed).
  assert.equal(successfulFetches(metrics), 2, metrics);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.output().stderr);
  await assert.rejects(fetch(`${origin}/healthz`));
});

interface Answer {
  status: number;
  body: string;
  /** The client side's port: the same one means the same connection, so the same worker. */
  clientPort: number;
}

function get(agent: Agent, port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpGet({ host: '127.0.0.1', port, path, agent }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, clientPort: request.socket!.localPort! }),
      );
    });
    request.on('error', reject);
  });
}

/** The processes `pid` started (Linux). */
function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
}

/** Which of `pids` holds the server side of the loopback connection from `clientPort` (Linux). */
function processHolding(serverPort: number, clientPort: number, pids: number[]): number | undefined {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  const row = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find(
      (fields) => fields[1] === `0100007F:${hex(serverPort)}` && fields[2] === `0100007F:${hex(clientPort)}`,
    );
  const socket = `socket:[${row?.[9]}]`;
  return pids.find((pid) =>
    readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === socket;
      } catch {
        return false; // closed while we looked
      }
    }),
  );
}

test('serve --workers 2: a silent worker or a silent primary makes /metrics a 500 in seconds, not a hang; the next scrape works', async (t) => {
  const { run, port } = await serveTwoWorkers(t);
  const primary = run.child.pid!;
  const workers = childPids(primary);
  assert.equal(workers.length, 2, `the workers: ${workers}`);
  t.after(() => {
    for (const pid of [primary, ...workers]) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {} // already gone
    }
  });
  // One kept-alive connection: every request below reaches the same worker.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const first = await get(agent, port, '/healthz');
  assert.equal(first.status, 200);
  const asked = processHolding(port, first.clientPort, workers);
  assert.ok(asked !== undefined, 'the worker holding the connection');
  const other = workers.find((pid) => pid !== asked)!;
  /**
   * Stop `pid`, ask for /metrics on the kept connection, continue `pid`: the answer is a 500 and
   * the asked worker logs `cause` (the worker's log line may follow its answer by a moment);
   * then the next scrape is a 200 again.
   */
  const scrapeWhileStopped = async (pid: number, cause: RegExp) => {
    process.kill(pid, 'SIGSTOP');
    const answer = await get(agent, port, '/metrics');
    process.kill(pid, 'SIGCONT');
    assert.equal(answer.clientPort, first.clientPort, 'the same connection');
    assert.deepEqual([answer.status, answer.body], [500, '{"code":"ERR_INTERNAL"}']);
    const failure = new RegExp(`"request failed".*"${cause.source}"`);
    for (let attempt = 0; attempt < 100 && !failure.test(run.output().stdout); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(run.output().stdout, failure);
    const next = await get(agent, port, '/metrics');
    assert.equal(next.status, 200, next.body);
    return next;
  };
  // The other worker stops: the primary names it after 5 s.
  await scrapeWhileStopped(other, /worker \d+ did not send its metrics within 5000 ms/);
  // The primary stops: the asked worker gives up after 7 s.
  const answer = await scrapeWhileStopped(primary, /the primary process did not answer the metrics request/);
  assert.equal(successfulFetches(answer.body), 2, 'both workers counted again');
});

test('serve with one worker runs in the process and exits 0 on SIGTERM', async (t) => {
  const port = await freePort();
  const run = serve(['--port', String(port), '--workers', '1', '--log-level', 'warn'], {
    COGNITO_JWT_USER_POOL_ID: 'eu-west-1_AbC123',
    COGNITO_JWT_CLIENT_ID: 'any',
    COGNITO_JWT_TOKEN_USE: 'access',
  });
  t.after(() => run.child.kill('SIGKILL'));
  let up = false;
  for (let attempt = 0; attempt < 400 && !up; attempt++) {
    up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (!up) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(up, run.output().stderr);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.output().stderr);
});
