// Every example config in docs/service.md, as printed: each passes `serve --check`, and each runs
// against a loopback pool through a small matrix of requests. The matrix asks what a config must
// never do whatever its purpose: let a method fall through a scoped rule to a weaker one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { serveCommand } from '../../src/cli/commands/serve.ts';
import type { ServiceConfig } from '../../src/service/config.ts';
import { generateKeyPair } from '../../src/testing/index.ts';
import { extractFences, ROOT } from '../helpers/doc-blocks.ts';
import { type Harness, nginxAsk, startHarness } from './harness.ts';

const DOC = 'docs/service.md';

interface Example {
  id: string;
  heading: string;
  config: ServiceConfig;
}

/** A config a shell block writes (`cat > service.json <<'EOF' … EOF`), as in the quick start. */
const HEREDOC = /cat > \S+\.json <<'EOF'\n([\s\S]*?)\nEOF/g;

/**
 * The configs of the doc: its JSON blocks and the ones its shell blocks write. A fragment without
 * `pools` is shown as an addition to the first full one.
 */
function examples(): Example[] {
  const fences = extractFences(readFileSync(join(ROOT, DOC), 'utf8'), DOC);
  const parsed = fences.flatMap((fence) =>
    fence.lang === 'json'
      ? [{ fence, json: JSON.parse(fence.code) as ServiceConfig }]
      : [...fence.code.matchAll(HEREDOC)].map((match) => ({
          fence,
          json: JSON.parse(match[1]!) as ServiceConfig,
        })),
  );
  const base = parsed.find(({ json }) => json.pools !== undefined)!.json;
  return parsed.map(({ fence, json }) => ({
    id: fence.id,
    heading: fence.heading,
    config: json.pools === undefined ? { ...base, ...json } : json,
  }));
}

/** `serve --check` on the example, in this process (the command exactly as the CLI runs it). */
async function check(t: TestContext, example: Example): Promise<{ code: number; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-doc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'service.json');
  await writeFile(file, JSON.stringify(example.config));
  // A snapshot the config names by a relative path (the quick start's jwks.json): a JWKS there.
  for (const pool of example.config.pools) {
    if (typeof pool.jwks === 'string') {
      await writeFile(join(dir, pool.jwks), JSON.stringify({ keys: [generateKeyPair().publicJwk] }));
    }
  }
  let out = '';
  const channel = {
    line: (text = '') => {
      out += `${text}\n`;
    },
    paint: (_: unknown, text: string) => text,
  };
  try {
    const code = await serveCommand.run(['--check', '--config', file], {
      terminal: { out: channel, err: channel },
      stdin: undefined as never,
      now: Date.now,
    });
    return { code, out };
  } catch (error) {
    return { code: -1, out: `${out}${(error as Error).message}` };
  }
}

test('every example config in docs/service.md passes serve --check', async (t) => {
  const all = examples();
  assert.ok(all.length >= 7, `found ${all.length} examples`);
  assert.ok(
    all.some((example) => example.heading === 'Quick start'),
    "the quick start's config",
  );
  const results = [];
  for (const example of all) results.push(await check(t, example));
  for (const [index, { code, out }] of results.entries()) {
    assert.equal(code, 0, `${all[index]!.id}: ${out}`);
    assert.match(out, /config valid/, all[index]!.id);
    assert.doesNotMatch(out, /undefined/, all[index]!.id);
  }
});

test('the container examples (ingress-nginx, Envoy, Traefik) listen on every interface', () => {
  const containers = examples().filter((example) => /ingress-nginx|Envoy|Traefik/.test(example.heading));
  assert.deepEqual(
    containers.map((example) => example.heading),
    ['ingress-nginx', 'Envoy', 'Traefik'],
  );
  for (const example of containers) assert.equal(example.config.listen?.host, '0.0.0.0', example.id);
});

const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'PROPPATCH', 'PURGE'];
const READ = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A concrete path a pattern matches: `*` and globs become `x`, `**` two more segments. */
function samplePath(pattern: string): string {
  const path = pattern
    .split('/')
    .map((segment) => (segment === '**' ? 'x/y' : segment.replaceAll('*', 'x')))
    .join('/');
  return path === '' ? '/' : path;
}

/** The example run on the harness's loopback pool, on loopback ports, with an in-memory list. */
function runnable(config: ServiceConfig): Partial<ServiceConfig> {
  const { pools: _pools, listen: _listen, keys: _keys, admin, revocation, ...rest } = config;
  return {
    ...rest,
    ...(admin === undefined ? {} : { admin: { listen: { host: '127.0.0.1', port: 0 } } }),
    ...(revocation === undefined ? {} : { revocation: { store: 'memory' } }),
  };
}

function ask(
  harness: Harness,
  method: string,
  uri: string,
  token: string | undefined,
  cookie: string | undefined,
) {
  const headers: Record<string, string> =
    token === undefined
      ? {}
      : cookie
        ? { cookie: `${cookie}=${token}` }
        : { authorization: `Bearer ${token}` };
  return nginxAsk(harness, method, uri, headers);
}

test('every example: a method a scoped rule does not name never falls through to a weaker rule (only read methods are named as exceptions)', async (t) => {
  for (const example of examples()) {
    await t.test(example.id, async (t) => {
      const harness = await startHarness(t, runnable(example.config));
      const cookie = example.config.token?.cookie;
      const mint = example.config.pools[0]?.tokenUse === 'id' ? harness.id : harness.access;
      // A valid token with no group and no scope: it must be refused wherever a rule asks for one.
      const bare = mint({ groups: [], scope: '' });
      const routes = example.config.routes ?? [];
      for (const [index, route] of routes.entries()) {
        if (typeof route.require === 'string') continue;
        const path = samplePath(route.path);
        for (const method of METHODS) {
          // Methods an earlier rule on the same path names on purpose (the read methods).
          const named = routes
            .slice(0, index)
            .some(
              (earlier) =>
                earlier.methods?.includes(method) &&
                samplePath(earlier.path) === path &&
                earlier.require !== 'anonymous',
            );
          if (named) {
            assert.ok(READ.has(method), `${example.id}: ${method} ${path} is an exception but writes`);
            continue;
          }
          if (route.methods !== undefined && !route.methods.includes(method) && !READ.has(method)) {
            assert.fail(`${example.id}: ${method} ${path} is not covered by the scoped rule ${index}`);
          }
          if (route.methods !== undefined && !route.methods.includes(method)) continue;
          const answer = await ask(harness, method, path, bare, cookie);
          assert.equal(answer.status, 403, `${example.id}: ${method} ${path} with a bare token`);
        }
      }
    });
  }
});

test('the start config, request by request', async (t) => {
  const start = examples().find((example) => example.heading === 'Start')!;
  assert.ok(start, 'the Start section shows a config');
  const harness = await startHarness(t, runnable(start.config));
  const bare = harness.access();
  const writer = harness.access({ scope: 'orders/write' });
  const admin = harness.access({ groups: ['admins'] });
  const matrix: [string, string, string | undefined, number][] = [
    ['GET', '/health', undefined, 200],
    ['POST', '/health', undefined, 401],
    ['GET', '/public/a', undefined, 200],
    ['GET', '/orders/1', bare, 200],
    ['HEAD', '/orders/1', bare, 200],
    ['PATCH', '/orders/1', bare, 403],
    ['POST', '/orders', bare, 403],
    ['PROPPATCH', '/orders/1', bare, 403],
    ['PATCH', '/orders/1', writer, 200],
    ['DELETE', '/orders/1', writer, 200],
    ['GET', '/admin', bare, 403],
    ['GET', '/admin.json', bare, 403],
    ['GET', '/admin-console/x', bare, 403],
    ['GET', '/admin.', bare, 403],
    ['GET', '/admin.json', admin, 200],
    ['GET', '/anything', bare, 200],
    ['GET', '/anything', undefined, 401],
  ];
  for (const [method, path, token, status] of matrix) {
    const answer = await ask(harness, method, path, token, undefined);
    assert.equal(
      answer.status,
      status,
      `${method} ${path} ${token === bare ? 'bare' : token ? 'with rights' : 'no token'}`,
    );
  }
});
