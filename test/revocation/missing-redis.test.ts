import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HIDE = ['--import', 'tsx', '--import', './test/helpers/without-redis.mjs'];

/** Run node with the `redis` package hidden; never rejects. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...HIDE, ...args], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const SERVICE_ENV = {
  COGNITO_JWT_USER_POOL_ID: 'eu-west-1_AbC123',
  COGNITO_JWT_CLIENT_ID: 'client-1',
  COGNITO_JWT_TOKEN_USE: 'access',
  COGNITO_JWT_REDIS_URL: 'redis://127.0.0.1:1',
};

test('without the redis package, the library, the CLI, serve --check and serve each name npm install redis', async () => {
  const library = await run([
    '--input-type=module',
    '-e',
    `import { RevocationList } from './src/revocation/index.ts';
     const list = new RevocationList({ redis: { url: 'redis://127.0.0.1:1' }, onUnavailable: 'accept' });
     await list.ready.then(() => console.log('ready'), (error) => console.log(error.code, error.message));`,
  ]);
  assert.match(library.stdout, /ERR_CONFIG_INVALID .*npm install redis/);

  const cli = await run(['src/cli/main.ts', 'revoke', '--redis', 'redis://127.0.0.1:1', '--origin-jti', 'x']);
  assert.equal(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /npm install redis/);

  const check = await run(['src/cli/main.ts', 'serve', '--check'], SERVICE_ENV);
  assert.equal(check.code, 2, check.stderr);
  assert.match(check.stderr, /npm install redis/);

  const serve = await run(['src/cli/main.ts', 'serve', '--port', '0', '--workers', '1'], SERVICE_ENV);
  assert.equal(serve.code, 2, serve.stderr);
  assert.match(serve.stderr, /npm install redis/);
});

test('without the redis package, the session store, on one node or a cluster, names npm install redis', async () => {
  const opened = await run([
    '--input-type=module',
    '-e',
    `import { openRedisSessionStore } from './src/session/index.ts';
     for (const options of [{ url: 'redis://127.0.0.1:1' }, { cluster: { rootNodes: ['redis://127.0.0.1:1'] } }]) {
       await openRedisSessionStore(options).then(() => console.log('opened'), (error) => console.log(error.code, error.message));
     }`,
  ]);
  const lines = opened.stdout.trim().split('\n');
  assert.equal(lines.length, 2, opened.stdout + opened.stderr);
  for (const line of lines)
    assert.match(
      line,
      /^ERR_CONFIG_INVALID the Redis session store needs the 'redis' package.*npm install redis/,
    );
});
