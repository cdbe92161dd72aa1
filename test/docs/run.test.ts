/**
 * The main blocks of the README and of docs/ run, unchanged, against a loopback pool, and answer what
 * the page shows. (Each guide's quick start runs in quick-starts.test.ts.)
 *
 * Each `<!-- doctest: run (name) -->` block is written to a scratch consumer project (importing the
 * BUILT package) and started in a child process by doc-host.ts. doc-sandbox.ts routes the real
 * Cognito JWKS URL (`https://cognito-idp.{region}.amazonaws.com/{pool}/…`) to a test kit JWKS
 * server on 127.0.0.1 and moves the README's fixed port 3000 to a free one. Tokens are minted here
 * for the pool id and client id the block itself names, so the block's text is the only source.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { format } from 'node:util';
import {
  buildJwks,
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  mintIdToken,
  startJwksServer,
  type TestKeyPair,
} from '../../src/testing/index.ts';
import { type Fence, fenceAfter, QUICK_START, ROOT, typeScriptBlocks } from '../helpers/doc-blocks.ts';
import { createDocProject, type DocProject } from '../helpers/doc-project.ts';
import { startBlock } from '../helpers/doc-run.ts';

/** The guides' quick starts run in quick-starts.test.ts (each file has its own time budget). */
const blocks = typeScriptBlocks().filter(
  (block) => block.mode === 'run' && !block.scenario!.startsWith(QUICK_START),
);
let project: DocProject;
let key: TestKeyPair;
let pool: JwksServer;
let unreachable: string;

before(async () => {
  project = await createDocProject(blocks);
  key = generateKeyPair();
  pool = await startJwksServer({ keys: [key] });
  // A snapshot next to the blocks, for the ones that load `./jwks.json` (the Lambda cold start).
  await writeFile(join(project.dir, 'jwks.json'), JSON.stringify(buildJwks(key)));
  unreachable = await closedPortOrigin();
});

after(async () => {
  await pool?.close();
  await project?.dispose();
});

/** A loopback origin nothing listens on: bound, then released. */
async function closedPortOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** The pool, client and token use a block configures (read from its text). */
function configOf(block: Fence): { userPoolId: string; clientId: string } {
  const userPoolId = /userPoolId:\s*'([^']+)'/.exec(block.code)?.[1];
  const clientId = /clientId:\s*'([^']+)'/.exec(block.code)?.[1];
  assert.ok(userPoolId && clientId, `${block.id}: no literal userPoolId and clientId to mint tokens for`);
  return { userPoolId, clientId };
}

/** The caller every README answer talks about. */
const CALLER = { sub: 'a1b2c3', username: 'ada' };

/** Readable `(N s ago)` and ports differ from run to run; everything else must match. */
function normalize(text: string): string {
  return text.replace(/\(\d+ s ago\)/g, '(N s ago)').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT');
}

const scenarios: Record<string, (block: Fence) => Promise<void>> = {
  async 'happy-path'(block) {
    const { userPoolId, clientId } = configOf(block);
    const token = mintAccessToken({
      key,
      userPoolId,
      clientId,
      ...CALLER,
      groups: ['readers'],
      scope: 'openid',
    });
    const run = startBlock(project.fileOf(block), { given: { token }, cognitoOrigin: pool.origin });
    const { code, stdout, stderr } = await run.exit();
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `${format(CALLER.sub, CALLER.username, 'openid', ['readers'])}\n`);
  },

  async 'test-kit'(block) {
    const run = startBlock(project.fileOf(block));
    const { code, stdout, stderr } = await run.exit();
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), '1', 'the JWKS server answered the one fetch the verifier made');
  },

  async express(block) {
    const answers = fenceAfter(block);
    assert.ok(answers && answers.lang === '', `${block.id}: the Express block is followed by its answers`);
    const { userPoolId, clientId } = configOf(block);
    const entries = parseAnswers(answers.code);
    assert.ok(entries.length >= 5, 'the README shows the answers of this app');
    const runs = {
      reachable: startBlock(project.fileOf(block), { cognitoOrigin: pool.origin }),
      unreachable: startBlock(project.fileOf(block), { cognitoOrigin: unreachable }),
    };
    try {
      const origins = {
        reachable: (await runs.reachable.listening()).origin,
        unreachable: (await runs.unreachable.listening()).origin,
      };
      for (const entry of entries) {
        const { token, jwksDown } = tokenFor(entry, { userPoolId, clientId });
        const response = await fetch(`${jwksDown ? origins.unreachable : origins.reachable}${entry.path}`, {
          method: entry.method,
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        });
        const where: string = `${answers.file}: ${entry.method} ${entry.path} (${entry.description})`;
        assert.equal(response.status, entry.status, where);
        for (const [name, value] of entry.headers) {
          assert.equal(
            normalize(response.headers.get(name) ?? '(none)'),
            normalize(value),
            `${where}: ${name}`,
          );
        }
        const body = await response.text();
        assert.deepEqual(parseBody(normalize(body)), parseBody(normalize(entry.body)), where);
      }
    } finally {
      await Promise.all([runs.reachable.stop(), runs.unreachable.stop()]);
    }
  },

  async fastify(block) {
    const { userPoolId, clientId } = configOf(block);
    const run = startBlock(project.fileOf(block), { cognitoOrigin: pool.origin });
    try {
      const { origin } = await run.listening();
      const call = async (method: string, path: string, token?: string) => {
        const response = await fetch(`${origin}${path}`, {
          method,
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        });
        const text = await response.text();
        return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
      };
      const reader = mintAccessToken({
        key,
        userPoolId,
        clientId,
        ...CALLER,
        groups: ['readers'],
        scope: 'openid',
      });
      const admin = mintAccessToken({
        key,
        userPoolId,
        clientId,
        ...CALLER,
        groups: ['admins'],
        scope: 'orders/read',
      });
      assert.equal((await call('GET', '/me')).status, 401);
      assert.deepEqual(await call('GET', '/me', reader), { status: 200, body: { sub: CALLER.sub } });
      assert.deepEqual(await call('GET', '/orders', admin), { status: 200, body: [] });
      const noScope = await call('GET', '/orders', reader);
      assert.equal(noScope.status, 403);
      assert.equal(noScope.body.code, 'ERR_SCOPE_MISSING');
      const notAdmin = await call('DELETE', '/users/7', reader);
      assert.equal(notAdmin.status, 403);
      assert.equal(notAdmin.body.code, 'ERR_GROUP_MISSING');
      assert.equal((await call('DELETE', '/users/7', admin)).status, 200);
    } finally {
      await run.stop();
    }
  },

  async hono(block) {
    const { userPoolId, clientId } = configOf(block);
    const run = startBlock(project.fileOf(block), { cognitoOrigin: pool.origin });
    try {
      const { origin } = await run.listening();
      const call = (path: string, cookie?: string) =>
        fetch(`${origin}${path}`, { headers: cookie === undefined ? {} : { cookie: `id_token=${cookie}` } });
      const reader = mintIdToken({ key, userPoolId, clientId, ...CALLER, groups: ['readers'] });
      const admin = mintIdToken({ key, userPoolId, clientId, ...CALLER, groups: ['admins'] });
      const access = mintAccessToken({ key, userPoolId, clientId, ...CALLER, groups: ['admins'] });
      assert.equal((await call('/api/me')).status, 401);
      const me = await call('/api/me', reader);
      assert.equal(me.status, 200);
      assert.deepEqual(await me.json(), { sub: CALLER.sub });
      const hello = await call('/api/admin', admin);
      assert.equal(hello.status, 200);
      assert.equal(await hello.text(), 'hello admin');
      assert.equal((await call('/api/admin', reader)).status, 403);
      assert.equal((await call('/api/me', access)).status, 401, 'tokenUse: id refuses an access token');
    } finally {
      await run.stop();
    }
  },

  async 'lambda-token'(block) {
    const shown = fenceAfter(block);
    assert.ok(shown?.lang === 'json', `${block.id}: the authorizer block is followed by its result`);
    const expected = JSON.parse(shown.code) as { context: Record<string, string> };
    const { userPoolId, clientId } = configOf(block);
    const methodArn = /method ARN\s*`([^`]+)`/.exec(readmeText(block))?.[1];
    assert.ok(methodArn, 'the README names the method ARN of its example');
    const run = startBlock(project.fileOf(block), { cognitoOrigin: unreachable });
    try {
      await run.ready();
      const event = (token: string) => ({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn });
      const staff = mintAccessToken({
        key,
        userPoolId,
        clientId,
        ...CALLER,
        groups: expected.context.groups?.split(' ') ?? ['staff'],
        scope: expected.context.scope ?? 'orders/read',
      });
      // The JWKS URL is unreachable: the snapshot next to the handler is all it has.
      assert.deepEqual(await run.invoke(event(staff)), expected);
      const reader = mintAccessToken({ key, userPoolId, clientId, ...CALLER, groups: ['readers'] });
      const denied = (await run.invoke(event(reader))) as {
        policyDocument: { Statement: { Effect: string }[] };
        context: unknown;
      };
      assert.equal(denied.policyDocument.Statement[0]?.Effect, 'Deny');
      assert.deepEqual(denied.context, { error: 'ERR_GROUP_MISSING' });
      await assert.rejects(run.invoke(event('not-a-token')), /^Error: Unauthorized$/);
    } finally {
      await run.stop();
    }
  },
};

/** The prose between a block and the fence after it, on one line. */
function readmeText(block: Fence): string {
  const lines = readFileSync(join(ROOT, block.file), 'utf8').split('\n');
  return lines
    .slice(block.line, (fenceAfter(block)?.line ?? lines.length) - 1)
    .join(' ')
    .replace(/\s+/g, ' ');
}

interface ShownAnswer {
  method: string;
  path: string;
  description: string;
  status: number;
  headers: [string, string][];
  body: string;
}

/** `GET /api/me   (no token)` / `HTTP 401` / headers / one body line, entries separated by a blank line. */
function parseAnswers(text: string): ShownAnswer[] {
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((entry) => {
      const [request = '', status = '', ...rest] = entry.trim().split('\n');
      const head = /^([A-Z]+)\s+(\S+)\s+\((.+)\)\s*$/.exec(request);
      const code = /^HTTP (\d{3})$/.exec(status.trim());
      assert.ok(head && code, `cannot read this shown answer:\n${entry}`);
      const headers = rest
        .filter((line) => /^[A-Za-z-]+: /.test(line))
        .map(
          (line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)] as [string, string],
        );
      const body = rest.filter((line) => !/^[A-Za-z-]+: /.test(line)).join('\n');
      return {
        method: head[1]!,
        path: head[2]!,
        description: head[3]!,
        status: Number(code[1]),
        headers,
        body,
      };
    });
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The token an answer's description talks about, minted for the block's pool and client. */
function tokenFor(
  entry: ShownAnswer,
  pool: { userPoolId: string; clientId: string },
): { token?: string; jwksDown?: boolean } {
  const description = entry.description.toLowerCase();
  const base = { key, ...pool, ...CALLER, groups: ['readers'], scope: 'openid' };
  if (description.includes('no token')) return {};
  if (description.includes('unreachable')) return { token: mintAccessToken(base), jwksDown: true };
  if (description.includes('expired')) {
    const at = /expired at (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(entry.body)?.[1];
    const exp = at === undefined ? Date.now() - 120_000 : Date.parse(at);
    return { token: mintAccessToken({ ...base, now: exp - 3_600_000, expiresIn: 3600 }) };
  }
  if (description.includes('id token')) return { token: mintIdToken(base) };
  const scope = /scope "([^"]+)"/.exec(entry.description)?.[1];
  if (scope !== undefined) return { token: mintAccessToken({ ...base, scope }) };
  const group = /group (\S+) only/.exec(entry.description)?.[1];
  if (group !== undefined) return { token: mintAccessToken({ ...base, groups: [group] }) };
  if (description.includes('valid')) return { token: mintAccessToken(base) };
  throw new Error(`no token is known for "${entry.description}": teach tokenFor() in ${import.meta.url}`);
}

test('every block marked run has a scenario, and every scenario a block', () => {
  const marked = blocks.map((block) => block.scenario!).sort();
  assert.deepEqual(marked, [...new Set(marked)].sort(), 'one block per scenario');
  assert.deepEqual(marked, Object.keys(scenarios).sort());
});

for (const block of blocks) {
  const scenario = scenarios[block.scenario!];
  test(`${block.id} (${block.heading}) runs against a loopback pool: ${block.scenario}`, async () => {
    assert.ok(scenario, `no scenario "${block.scenario}" in test/docs/run.test.ts`);
    await scenario(block);
  });
}
