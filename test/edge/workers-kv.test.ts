/**
 * The Workers + Hono example of docs/edge.md, run as written in miniflare (workerd) with a real KV
 * namespace: a first isolate fetches the JWKS and saves it to KV; a second instance on the same KV
 * storage starts from KV without a JWKS request; a broken KV binding is reported on `storeFailure`
 * and costs a fetch, never a verification.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import {
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  startJwksServer,
} from '../../src/testing/index.ts';
import { buildPackage, removeDir } from './fixture.ts';

const POOL = 'local_kv1';
const EXAMPLE_CONFIG = "{ userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' }";

/** The doc's Workers block, as written, but for the pool on loopback. */
function exampleFromDocs(issuer: string): string {
  const markdown = readFileSync(new URL('../../docs/edge.md', import.meta.url), 'utf8');
  const block = [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .find((code) => code.includes("onJwksEvent('storeFailure'"));
  assert.ok(block, 'docs/edge.md has the Workers + KV example');
  assert.ok(block.includes(EXAMPLE_CONFIG), 'the example config is where the test expects it');
  return block.replace(
    EXAMPLE_CONFIG,
    `{ userPoolId: '${POOL}', issuer: '${issuer}', clientId: 'app-client-id', tokenUse: 'access' }`,
  );
}

describe('the docs/edge.md Workers example in miniflare, with a real KV namespace', {
  concurrency: false,
}, () => {
  const key = generateKeyPair({ kid: 'kv-key' });
  let dir: string;
  let persist: string;
  let jwks: JwksServer;
  let script: string;
  const workers: Miniflare[] = [];
  let output = '';

  before(async () => {
    [dir, jwks] = await Promise.all([buildPackage(), startJwksServer({ keys: [key] })]);
    persist = mkdtempSync(join(tmpdir(), 'workers-kv-'));
    writeFileSync(join(dir, 'worker-kv.ts'), exampleFromDocs(jwks.issuer(POOL)));
    const result = await build({
      entryPoints: [join(dir, 'worker-kv.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      logLevel: 'silent',
    });
    script = result.outputFiles[0]!.text;
  });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.dispose()));
    await jwks?.close();
    if (dir) removeDir(dir);
    if (persist) removeDir(persist);
  });

  const start = (bindings: { kv: boolean }) => {
    const keep = (stream: Readable) =>
      stream.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
    const worker = new Miniflare({
      modules: true,
      script,
      compatibilityDate: '2026-04-01',
      ...(bindings.kv ? { kvNamespaces: ['KEYS'], kvPersist: persist } : { bindings: { KEYS: {} } }),
      handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
        keep(stdout);
        keep(stderr);
      },
    });
    workers.push(worker);
    return worker;
  };
  const me = async (worker: Miniflare) => {
    const token = mintAccessToken({
      key,
      issuer: jwks.issuer(POOL),
      clientId: 'app-client-id',
      sub: 'kv-user',
    });
    const response = await worker.dispatchFetch('http://worker/api/me', {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: await response.text() };
  };

  it('the first isolate fetches the JWKS once and saves it to KV', async () => {
    const first = start({ kv: true });
    assert.deepEqual(await me(first), { status: 200, body: '{"sub":"kv-user"}' });
    assert.equal(jwks.requestCount, 1);
    let saved: { jwksUri?: string; keys?: { kid: string }[] } | null = null;
    const kv = (await first.getKVNamespace('KEYS')) as unknown as {
      get(key: string, type: 'json'): Promise<typeof saved>;
    };
    const deadline = Date.now() + 10_000;
    while (saved === null && Date.now() < deadline) {
      saved = await kv.get(jwks.jwksUri(POOL), 'json');
      if (saved === null) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(saved?.jwksUri, jwks.jwksUri(POOL));
    assert.deepEqual(
      saved?.keys?.map((jwk) => jwk.kid),
      ['kv-key'],
    );
    await first.dispose();
    workers.splice(workers.indexOf(first), 1);
  });

  it('a second instance (a fresh isolate) on the same KV verifies its first token without a JWKS fetch', async () => {
    const second = start({ kv: true });
    assert.deepEqual(await me(second), { status: 200, body: '{"sub":"kv-user"}' });
    assert.equal(jwks.requestCount, 1, 'the keys came from KV');
  });

  it('a broken KV binding is reported on storeFailure and costs a fetch, not a verification', async () => {
    const broken = start({ kv: false });
    assert.deepEqual(await me(broken), { status: 200, body: '{"sub":"kv-user"}' });
    assert.equal(jwks.requestCount, 2);
    const deadline = Date.now() + 5_000;
    while (!/JWKS snapshot save/.test(output) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(
      output,
      /JWKS snapshot load for http:\/\/127\.0\.0\.1:\d+\/local_kv1\/\.well-known\/jwks\.json failed: TypeError/,
    );
    assert.match(output, /JWKS snapshot save for .* failed: TypeError/);
  });
});
