/**
 * The same verifier in the real runtimes, each from its npm package (node_modules/.bin): Node,
 * Bun, Deno, and workerd through miniflare WITHOUT nodejs_compat (no Buffer, no node:*). All run
 * the shared vectors against the package as installed, resolving `#platform` by their own
 * conditions; JWKS from a loopback server, and from snapshots. A runtime that cannot run fails
 * its test with the reason: nothing is skipped.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import {
  buildPackageDir,
  measureBundles,
  measureParts,
  WEB_BUNDLE_CEILING_GZIP_BYTES,
} from '../../bench/bundle-size.ts';
import { mintIdToken } from '../../src/testing/index.ts';
import {
  BIN,
  buildPackage,
  type EdgeInput,
  type EdgeJwks,
  type EdgeKeys,
  expectedExtras,
  makeInput,
  makeKeys,
  removeDir,
  startEdgeJwks,
} from './fixture.ts';

const run = promisify(execFile);
const WEB_CONDITIONS = ['workerd', 'worker', 'browser'];

let dir: string;
let keys: EdgeKeys;
let jwks: EdgeJwks;
let input: EdgeInput;
let inputFile: string;

before(async () => {
  keys = makeKeys();
  [dir, jwks] = await Promise.all([buildPackage(), startEdgeJwks(keys)]);
  input = makeInput(jwks.origin, keys);
  inputFile = join(dir, 'input.json');
  writeFileSync(inputFile, JSON.stringify(input));
});

after(async () => {
  await jwks?.close();
  if (dir) removeDir(dir);
});

/** Every vector and extra as expected; the pool's JWKS fetched twice (first load, then the rotation). */
function assertOutcomes(
  runtime: string,
  results: Record<string, string>,
  sync: boolean,
  poolFetches: number,
) {
  const expected: Record<string, string> = { ...expectedExtras(sync) };
  for (const vector of input.vectors) expected[vector.name] = vector.expect;
  assert.deepEqual(results, expected, `${runtime}: outcomes differ from the vectors`);
  assert.equal(jwks.requests.get('pool'), poolFetches, `${runtime}: requests to the pool's JWKS`);
}

/** Run a runtime's binary; a missing or broken binary fails with what it said. */
async function runBinary(name: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(join(BIN, name), args, {
      cwd: dir,
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    });
    return stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    assert.fail(`${name} could not run the vectors: ${message}\n${stderr ?? ''}`);
  }
}

describe('the shared vectors in each runtime', { concurrency: false }, () => {
  it('node (the installed package, node:crypto)', async () => {
    jwks.requests.clear();
    const { runVectors } = (await import(pathToFileURL(join(dir, 'runner.mjs')).href)) as {
      runVectors(input: EdgeInput): Promise<Record<string, string>>;
    };
    assertOutcomes('node', await runVectors(input), true, 3);
  });

  it('bun', async () => {
    jwks.requests.clear();
    const version = (await runBinary('bun', ['--version'])).trim();
    const results = JSON.parse(await runBinary('bun', ['bun-main.mjs', inputFile]));
    assertOutcomes(`bun ${version}`, results, true, 3);
  });

  it('deno', async () => {
    jwks.requests.clear();
    const results = JSON.parse(
      await runBinary('deno', [
        'run',
        '--allow-net=127.0.0.1',
        `--allow-read=${dir}`,
        'deno-main.mjs',
        inputFile,
      ]),
    );
    assertOutcomes('deno', results, false, 3);
  });
});

describe('workerd (miniflare, no nodejs_compat)', { concurrency: false }, () => {
  let worker: Miniflare;
  let bundle: string;

  before(async () => {
    const result = await build({
      entryPoints: [join(dir, 'worker.mjs')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: WEB_CONDITIONS,
      metafile: true,
      logLevel: 'silent',
    });
    bundle = result.outputFiles[0]!.text;
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(
      inputs.some((file) => file.endsWith('cognito-jwt/dist/platform/web.js')),
      inputs.join('\n'),
    );
    assert.ok(!inputs.some((file) => file.endsWith('platform/node.js')), 'the Node platform was bundled');
    worker = new Miniflare({ modules: true, script: bundle, compatibilityDate: '2026-04-01' });
  });

  after(async () => {
    await worker?.dispose();
  });

  const post = async (path: string, body: unknown) => {
    const response = await worker.dispatchFetch(`http://worker${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return response.json() as Promise<Record<string, unknown>>;
  };

  it('the worker bundle (and its Hono adapter) imports nothing from node:', () => {
    assert.doesNotMatch(bundle, /\bfrom\s*["']node:|import\(["']node:|require\(["']node:/);
  });

  it('the shared vectors', async () => {
    jwks.requests.clear();
    assertOutcomes('workerd', (await post('/vectors', input)) as Record<string, string>, false, 3);
  });

  const slowInput = (pool: string) => {
    const issuer = `${jwks.origin}/${pool}`;
    const token = mintIdToken({
      key: keys.a,
      userPoolId: input.userPoolId,
      clientId: input.clientId,
      issuer,
    });
    return { userPoolId: input.userPoolId, clientId: input.clientId, issuer, token, verifier: pool };
  };

  it('two concurrent requests that both need the first fetch share it', async () => {
    const body = slowInput('slow-pair');
    const answers = await Promise.all([post('/verify', body), post('/verify', body)]);
    assert.deepEqual(
      answers.map((answer) => answer.outcome),
      ['ok', 'ok'],
    );
    assert.equal(jwks.requests.get('slow-pair'), 1, 'one JWKS request for both');
  });

  it('the request that started the fetch ends first: with waitUntil the fetch lives on and is shared', async () => {
    const body = slowInput('slow-ctx');
    await post('/start-and-leave', body);
    const answer = await post('/verify', body);
    assert.equal(answer.outcome, 'ok');
    assert.equal(jwks.requests.get('slow-ctx'), 1, 'the second request joined the first fetch');
  });

  it('the request that started the fetch ends first, no context: nobody waits forever', async () => {
    const body = { ...slowInput('slow-none'), context: 'none' };
    await post('/start-and-leave', body);
    const answer = await post('/verify', body);
    assert.equal(answer.outcome, 'ok', JSON.stringify(answer));
    // Either workerd kept the orphaned fetch alive (1 request), or it was abandoned and fetched again (2).
    const requests = jwks.requests.get('slow-none') ?? 0;
    assert.ok(requests === 1 || requests === 2, `requests: ${requests}`);
    console.log(
      `# workerd, starter gone without waitUntil: ${requests} JWKS request(s), joiner answered in ${answer.ms} ms`,
    );
  });

  it('the Hono adapter on Workers: 200 with the claims, 401 with a Bearer challenge', async () => {
    const headers = { 'x-edge-input': JSON.stringify(input) };
    const ok = await worker.dispatchFetch('http://worker/hono/me', {
      headers: { ...headers, authorization: `Bearer ${input.idToken}` },
    });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.deepEqual(await ok.json(), { sub: 'user-1' });
    const denied = await worker.dispatchFetch('http://worker/hono/me', { headers });
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  it('the Hono adapter on Workers: two concurrent first requests share one JWKS fetch, kept alive by waitUntil', async () => {
    const { token, ...pool } = slowInput('slow-hono');
    const request = () =>
      worker.dispatchFetch('http://worker/hono-pool/me', {
        headers: { 'x-edge-input': JSON.stringify(pool), authorization: `Bearer ${token}` },
      });
    const responses = await Promise.all([request(), request()]);
    for (const response of responses) {
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(typeof ((await response.json()) as { sub?: unknown }).sub, 'string');
    }
    assert.equal(jwks.requests.get('slow-hono'), 1, 'one JWKS request for both');
    // The request that started the fetch lent it its waitUntil (the one that joined had no need).
    const calls = responses.map((response) => Number(response.headers.get('x-wait-until-calls')));
    assert.ok(
      calls.some((count) => count >= 1),
      `waitUntil calls per request: ${calls.join(', ')}`,
    );
  });
});

describe('which platform each bundler set-up resolves', () => {
  const resolveWith = async (options: {
    platform: 'browser' | 'node' | 'neutral';
    conditions?: string[];
  }) => {
    const result = await build({
      stdin: { contents: "export { CognitoVerifier } from 'cognito-jwt';", resolveDir: dir },
      bundle: true,
      write: false,
      format: 'esm',
      metafile: true,
      logLevel: 'silent',
      ...options,
    });
    // The seam's entry (node.js or web.js), not the modules it loads itself (proxy.js, https-fetch.js).
    return Object.keys(result.metafile.inputs).find((file) => /\/platform\/(node|web)\.js$/.test(file));
  };

  it('esbuild for Workers (workerd, worker, browser) and for browsers: Web Crypto', async () => {
    assert.match(
      (await resolveWith({ platform: 'browser', conditions: WEB_CONDITIONS })) ?? '',
      /platform\/web\.js$/,
    );
    assert.match((await resolveWith({ platform: 'browser' })) ?? '', /platform\/web\.js$/);
    assert.match(
      (await resolveWith({ platform: 'neutral', conditions: ['edge-light', 'worker'] })) ?? '',
      /web\.js$/,
    );
  });

  it('esbuild for Node: node:crypto', async () => {
    assert.match((await resolveWith({ platform: 'node' })) ?? '', /platform\/node\.js$/);
  });
});

describe('bench/bundle-size.ts (npm run bench:bundle)', () => {
  it('measures both verifiers in one run; ours imports nothing from node:', async (t) => {
    // The bench's own module-by-module build, not the bundled one of the runtimes above: its
    // breakdown and parts name each source module.
    const modules = await buildPackageDir();
    t.after(() => removeDir(modules));
    const sizes = await measureBundles(modules);
    assert.deepEqual(
      sizes.map((size) => size.name),
      ['cognito-jwt CognitoVerifier (web)', 'aws-jwt-verify CognitoJwtVerifier'],
    );
    for (const size of sizes) assert.ok(size.gzippedBytes > 1000 && size.minifiedBytes > size.gzippedBytes);
    assert.deepEqual(sizes[0]!.nodeImports, []);
    assert.ok(
      sizes[0]!.gzippedBytes <= WEB_BUNDLE_CEILING_GZIP_BYTES,
      `the web bundle of CognitoVerifier is ${sizes[0]!.gzippedBytes} bytes gzipped, over CI's ceiling of ${WEB_BUNDLE_CEILING_GZIP_BYTES} (the budget, 14 KB, is not met yet)`,
    );
    // The breakdown adds up to the bundle, and only the verifier's own modules are in ours.
    const ours = sizes[0]!;
    const summed = ours.modules.reduce((total, module) => total + module.bytes, 0);
    assert.ok(summed <= ours.minifiedBytes && summed > ours.minifiedBytes * 0.95, `${summed}`);
    const cache = ours.modules.find((module) => module.path === 'cognito-jwt/dist/keys/jwks-cache.js');
    assert.ok(cache);
    // Each module's gzipped cost is measured on its own part of the bundle (gzip shares text across
    // modules, so the costs add up to a little less than the whole).
    const summedGzip = ours.modules.reduce((total, module) => total + module.gzippedBytes, 0);
    assert.ok(summedGzip <= ours.gzippedBytes && summedGzip > ours.gzippedBytes * 0.8, `${summedGzip}`);
    assert.ok(
      cache.gzippedBytes > 1000 && cache.gzippedBytes < ours.gzippedBytes / 2,
      `${cache.gzippedBytes}`,
    );
    for (const door of ['alb/', 'authz/', 'revocation/', 'adapters/', 'oauth/', 'testing/', 'cli/']) {
      assert.ok(!ours.modules.some((module) => module.path.includes(`/dist/${door}`)), `${door} was bundled`);
    }
    // Its parts are measured from the same files, and each is smaller than the whole.
    const parts = await measureParts(modules);
    assert.equal(parts.length, 2);
    for (const part of parts) {
      assert.deepEqual(part.nodeImports, []);
      assert.ok(part.minifiedBytes > 1000 && part.minifiedBytes < ours.minifiedBytes, part.name);
    }
    assert.ok(parts[0]!.minifiedBytes < parts[1]!.minifiedBytes);
    console.log(
      `# bundle sizes (min / gz bytes): ${sizes.map((s) => `${s.name} ${s.minifiedBytes} / ${s.gzippedBytes}`).join('; ')}`,
    );
  });

  it('the package as shipped (bundled by npm run build) gives a web bundle under the same ceiling', async () => {
    const [shipped] = await measureBundles(dir);
    assert.deepEqual(shipped!.nodeImports, []);
    assert.ok(
      shipped!.gzippedBytes <= WEB_BUNDLE_CEILING_GZIP_BYTES,
      `${shipped!.gzippedBytes} bytes gzipped from the bundled dist/, over the ceiling of ${WEB_BUNDLE_CEILING_GZIP_BYTES}`,
    );
  });
});
