/**
 * The load balancer verifier on the Web platform (`src/platform/web.ts`, Web Crypto), run in a
 * child process whose tsconfig maps `#platform` to it: a key on the wrong curve must be refused as
 * `ERR_KEY_INVALID`, as on Node, never with the raw `DOMException` Web Crypto rejects with.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TEST_DIR = fileURLToPath(new URL('..', import.meta.url));

// Runs in the child: each outcome as one JSON line.
const PROBE = `
import { PLATFORM } from '#platform';
import { AlbVerifier } from '../../src/alb/index.ts';
import { DEFAULT_TEST_ALB_ARN, generateAlbKeyPair, mintAlbToken, startAlbKeyServer } from '../../src/testing/index.ts';

const good = generateAlbKeyPair();
const p384 = generateAlbKeyPair({ namedCurve: 'P-384' });
const server = await startAlbKeyServer({ keys: [good, p384] });
const verifier = new AlbVerifier({ albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null, keysUrl: server.keysUrl });
const outcome = async (name: string, key: typeof good) => {
  try {
    const claims = await verifier.verify(mintAlbToken({ key }));
    return { name, ok: typeof claims.sub === 'string' };
  } catch (error) {
    const { constructor, code, message } = error as { constructor: { name: string }; code?: string; message: string };
    return { name, error: constructor.name, code, message };
  }
};
const results = [
  { name: 'platform', platform: PLATFORM },
  await outcome('p384 first', p384),
  await outcome('p384 again', p384),
  await outcome('p256 first', good),
  await outcome('p256 held', good),
  { name: 'requests', count: server.requestCount },
];
await server.close();
for (const result of results) console.log(JSON.stringify(result));
`;

test('Web platform: an ALB key on the wrong curve is ERR_KEY_INVALID, not a raw DOMException', async () => {
  const dir = await mkdtemp(join(TEST_DIR, '.tmp-alb-web-'));
  try {
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { paths: { '#platform': ['../../src/platform/web.ts'] } },
      }),
    );
    await writeFile(join(dir, 'probe.ts'), PROBE);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(dir, 'probe.ts')], {
      env: { ...process.env, TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json') },
      timeout: 60_000,
    });
    type Outcome = { name: string; error?: string; code?: string; message?: string };
    const lines = stdout.trim().split('\n');
    const results: Record<string, Outcome> = Object.fromEntries(
      lines.map((line) => JSON.parse(line) as Outcome).map((result) => [result.name, result]),
    );
    const outcome = (name: string): Outcome => results[name] ?? assert.fail(`no "${name}" in ${stdout}`);
    assert.deepEqual(results.platform, { name: 'platform', platform: 'web' });
    assert.equal(outcome('p384 first').error, 'CognitoJwtError', JSON.stringify(results['p384 first']));
    assert.equal(outcome('p384 first').code, 'ERR_KEY_INVALID');
    assert.match(outcome('p384 first').message ?? '', /is unusable: not a P-256 public key/);
    assert.equal(outcome('p384 again').code, 'ERR_KEY_INVALID');
    assert.match(outcome('p384 again').message ?? '', /not asked again/);
    assert.deepEqual(results['p256 first'], { name: 'p256 first', ok: true });
    assert.deepEqual(results['p256 held'], { name: 'p256 held', ok: true });
    assert.deepEqual(results.requests, { name: 'requests', count: 2 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
