// `serve --check`: what it prints and what it refuses. The command runs in this process (as the CLI
// runs it); only the optional-package check spawns real processes, whose resolver hides the package.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serveCommand } from '../../src/cli/commands/serve.ts';
import { generateKeyPair } from '../../src/testing/index.ts';
import { freePort } from '../helpers/proxy-process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const HIDE = fileURLToPath(new URL('../helpers/hide-packages.mjs', import.meta.url));

async function configFile(t: TestContext, config: unknown, text = JSON.stringify(config)): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-check-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'service.json');
  await writeFile(file, text);
  return file;
}

/** `serve --check --config file` in this process: the exit code (2 for a thrown config error) and what it wrote. */
async function check(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  const channel = {
    line: (text = '') => {
      stdout += `${text}\n`;
    },
    paint: (_: unknown, text: string) => text,
  };
  try {
    const code = await serveCommand.run(['--check', '--config', file], {
      terminal: { out: channel, err: channel },
      stdin: undefined as never,
      now: Date.now,
    });
    return { code, stdout, stderr: '' };
  } catch (error) {
    return { code: 2, stdout, stderr: (error as Error).message };
  }
}

interface Run {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

function serve(args: string[], env: Record<string, string>): Run {
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

test("serve --check prints what will happen: each route's requirement, the key count of a snapshot, the ALB mode, the revocation store (its password hidden)", async (t) => {
  const key = generateKeyPair({ kid: 'snap-1' });
  const other = generateKeyPair({ kid: 'snap-2' });
  const pool = 'eu-west-1_AbC123';
  const jwksUri = `https://cognito-idp.eu-west-1.amazonaws.com/${pool}/.well-known/jwks.json`;
  const snapshot = await configFile(t, {
    jwksUri,
    fetchedAt: new Date().toISOString(),
    keys: [key.publicJwk, other.publicJwk],
  });
  const config = {
    listen: { host: '0.0.0.0', port: 9180, maxConnections: 100 },
    admin: { listen: { port: 9181 } },
    pools: [{ userPoolId: pool, clientId: ['app'], tokenUse: 'access', jwks: snapshot }],
    roles: { editor: ['editors'], auditor: ['auditors'] },
    routes: [
      { path: '/health', methods: ['GET'], require: 'anonymous' },
      { path: '/admin*/**', require: { groups: ['admins', 'ops'] } },
      { path: '/orders/**', methods: ['GET', 'HEAD'], require: 'authenticated' },
      { path: '/orders/**', require: { scopes: ['orders/write', 'orders/admin'], match: 'all' } },
      { path: '/review/**', require: { roles: ['editor', 'auditor'], match: 'all' } },
      { path: '/**', require: 'authenticated' },
    ],
    revocation: { redis: { url: 'redis://user:s3cret@10.0.0.5:6379' }, onUnavailable: 'reject' },
    workers: 1,
  };
  let run = await check(await configFile(t, config));
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.match(out, /listen +0\.0\.0\.0:9180, 1 worker; .*at most 100 connections per worker/);
  assert.match(out, /admin +127\.0\.0\.1:9181 \(\/healthz, \/readyz, \/metrics\)/);
  assert.match(out, /keys +2 keys from the snapshot .*service\.json; refreshed from https:\/\/cognito-idp/);
  assert.match(out, /alb +off/);
  assert.match(out, /GET +\/health {2}→ anonymous/);
  assert.match(out, /\* +\/admin\*\/\*\* {2}→ groups any of admins, ops/);
  assert.match(out, /GET,HEAD +\/orders\/\*\* {2}→ authenticated/);
  assert.match(out, /\* +\/orders\/\*\* {2}→ scopes all of orders\/write, orders\/admin/);
  assert.match(out, /\/review\/\*\* {2}→ roles all of editor, auditor/);
  assert.match(
    out,
    /revoke +redis redis:\/\/user:\*\*\*@10\.0\.0\.5:6379; while it cannot be trusted: reject/,
  );
  assert.doesNotMatch(out, /undefined|s3cret/);

  const alb = {
    albArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188',
    issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${pool}`,
    clientId: 'app',
  };
  run = await check(
    await configFile(t, {
      pools: [{ userPoolId: pool, clientId: ['app'], tokenUse: 'access' }],
      alb,
      revocation: { store: 'memory' },
    }),
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /alb +on: x-amzn-oidc-data from arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer\/app\/web\/50dc6c495c0c9188/,
  );
  assert.match(run.stdout, /keys +fetched at start from https:\/\/cognito-idp/);
  assert.match(run.stdout, /revoke +memory/);
  assert.doesNotMatch(run.stdout, /undefined/);
});

test('serve --check builds the sign-in session store on a Redis Cluster (passwords hidden), and refuses url beside cluster', async (t) => {
  const session = {
    domain: 'myapp.auth.eu-west-1.amazoncognito.com',
    clientId: 'web',
    appOrigin: 'https://app.example.com',
    secrets: ['at-least-32-characters-from-openssl-rand-base64-32'],
  };
  const pools = [{ userPoolId: 'eu-west-1_AbC123', clientId: ['web'], tokenUse: 'access' }];
  const cluster = { rootNodes: ['rediss://app:s3cret@10.0.0.5:6379', 'rediss://app:s3cret@10.0.0.6:6379'] };
  let run = await check(
    await configFile(t, {
      pools,
      session: { ...session, store: { redis: { cluster, keyPrefix: 'app:session:' } } },
    }),
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /session +sign-in for web at https:\/\/app\.example\.com; sessions in redis cluster rediss:\/\/app:\*\*\*@10\.0\.0\.5:6379,rediss:\/\/app:\*\*\*@10\.0\.0\.6:6379/,
  );
  assert.doesNotMatch(run.stdout, /s3cret|undefined/);

  run = await check(
    await configFile(t, {
      pools,
      session: { ...session, store: { redis: { url: 'redis://10.0.0.5:6379', cluster } } },
    }),
  );
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /session\.store\.redis: the Redis session store takes url \(one node\) or cluster \(a Redis Cluster\), not both/,
  );
  run = await check(
    await configFile(t, { pools, session: { ...session, store: { redis: { cluster: { rootNodes: [] } } } } }),
  );
  assert.equal(run.code, 2);
  assert.match(run.stderr, /session\.store\.redis: cluster\.rootNodes must be a non-empty array/);
});

test('serve --check refuses a config file that names a key twice, with its JSON path', async (t) => {
  const file = await configFile(
    t,
    undefined,
    `{ "pools": [{ "userPoolId": "eu-west-1_AbC123", "clientId": ["app"], "tokenUse": "access" }],
       "routes": [{ "path": "/admin/**", "require": { "groups": ["admins"] } }, { "path": "/**", "require": "authenticated" }],
       "routes": [{ "path": "/**", "require": "anonymous" }] }`,
  );
  const run = await check(file);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /names the key routes twice/);
  assert.doesNotMatch(run.stdout, /config valid/);
});

test('metrics: true without prom-client: --check and start-up both stop at once with "npm install prom-client"', async (t) => {
  const pools = [{ userPoolId: 'eu-west-1_AbC123', clientId: ['app'], tokenUse: 'access' }];
  const hidden = { NODE_OPTIONS: `--import ${HIDE}`, HIDE_PACKAGES: 'prom-client' };
  const wanted = await configFile(t, { pools, metrics: true, workers: 2 });
  // The control: the same process with nothing hidden finds prom-client.
  let run = serve(['--check', '--config', wanted], { NODE_OPTIONS: `--import ${HIDE}`, HIDE_PACKAGES: '' });
  assert.equal(await run.exited, 0, run.output().stderr);
  assert.match(run.output().stdout, /metrics +on, \/metrics on the auth port/);

  run = serve(['--check', '--config', wanted], hidden);
  assert.equal(await run.exited, 2, run.output().stdout);
  assert.match(run.output().stderr, /metrics need the prom-client package: npm install prom-client/);

  const port = await freePort();
  run = serve(['--config', wanted, '--port', String(port)], hidden);
  t.after(() => run.child.kill('SIGKILL'));
  assert.equal(await run.exited, 2, 'start-up stops before forking workers');
  assert.match(run.output().stderr, /npm install prom-client/);
  assert.doesNotMatch(run.output().stdout, /worker exited/);

  // Not asked for: metrics are off, and --check says why.
  run = serve(['--check', '--config', await configFile(t, { pools })], hidden);
  assert.equal(await run.exited, 0, run.output().stderr);
  assert.match(run.output().stdout, /metrics +off \(prom-client is not installed\)/);
});
