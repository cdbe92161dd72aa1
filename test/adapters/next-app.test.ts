/**
 * cognito-jwt/nextjs in real Next.js 16 apps, built offline (telemetry off, no fonts, nothing
 * fetched), started on loopback and asked with and without Amplify's cookies: one guarded by
 * `proxy.ts` (Node), one by the deprecated `middleware.ts` on the edge runtime (Web Crypto), which
 * Next 16 still builds. Each app lives in test/.tmp-next-<pid>-<file>/ (git-ignored) so that it
 * resolves `next` from this repository's node_modules; its node_modules/cognito-jwt holds this
 * package.json and a link to the built dist/, as an installed package would (Turbopack does not
 * resolve a package's self-reference).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  startJwksServer,
} from '../../src/testing/index.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const NEXT = join(ROOT, 'node_modules/next/dist/bin/next');
/**
 * Turbopack reads nothing outside its root, which must hold the app and `next`. A git worktree
 * may link node_modules from another checkout: the root is then the folder both sit in.
 */
const TURBOPACK_ROOT = commonFolder(ROOT, realpathSync(join(ROOT, 'node_modules')));

function commonFolder(a: string, b: string): string {
  const left = a.split(sep);
  const right = b.split(sep);
  let same = 0;
  while (same < left.length && left[same] === right[same]) same++;
  return left.slice(0, same).join(sep) || sep;
}
const POOL = 'local_next';
const CLIENT = 'nextclient123';
const key = generateKeyPair();
let jwks: JwksServer;

/** The guard, as `proxy.ts` (Node) or as the deprecated `middleware.ts` (the edge runtime): the same code. */
function guardFile(file: 'proxy.ts' | 'middleware.ts'): string {
  const name = file === 'proxy.ts' ? 'proxy' : 'middleware';
  return `import { NextResponse, type NextRequest } from 'next/server';
import { createNextAuth, type NextAuth } from 'cognito-jwt/nextjs';

let auth: NextAuth | undefined;

export async function ${name}(request: NextRequest) {
  auth ??= createNextAuth({
    verifier: { userPoolId: '${POOL}', issuer: process.env.COGNITO_ISSUER ?? '', clientId: '${CLIENT}', tokenUse: 'access' },
    amplifyClientId: '${CLIENT}',
  });
  return (await auth.guard(request)) ?? NextResponse.next();
}

export const config = { matcher: ['/account/:path*'] };
`;
}

const FILES: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'next-proxy-check', private: true, type: 'module' }),
  'next.config.mjs': `export default { turbopack: { root: ${JSON.stringify(TURBOPACK_ROOT)} } };\n`,
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      lib: ['dom', 'es2022'],
      module: 'esnext',
      moduleResolution: 'bundler',
      strict: true,
      jsx: 'preserve',
      skipLibCheck: true,
      noEmit: true,
      isolatedModules: true,
      plugins: [{ name: 'next' }],
    },
    include: ['**/*.ts', '**/*.tsx'],
  }),
  'app/account/route.ts': `export function GET() {
  return Response.json({ account: 'yours' });
}
`,
  'app/open/route.ts': `export function GET() {
  return Response.json({ open: true });
}
`,
};

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}

const env = (issuer: string) => ({
  ...process.env,
  NEXT_TELEMETRY_DISABLED: '1',
  COGNITO_ISSUER: issuer,
  NODE_OPTIONS: '',
});

before(async () => {
  jwks = await startJwksServer({ keys: [key] });
});
after(() => jwks?.close());

function cookies(token: string, username = 'ada@example.com'): string {
  const base = `CognitoIdentityServiceProvider.${CLIENT}`;
  const user = encodeURIComponent(username);
  return `${base}.LastAuthUser=${user}; ${base}.${user}.accessToken=${token}`;
}

for (const file of ['proxy.ts', 'middleware.ts'] as const)
  describe(`a Next.js app guarded by ${file}`, () => {
    const APP = join(ROOT, 'test', `.tmp-next-${process.pid}-${file.replace('.ts', '')}`);
    let server: ChildProcess | undefined;
    let origin: string;

    before(async () => {
      rmSync(APP, { recursive: true, force: true });
      for (const [name, text] of Object.entries({ ...FILES, [file]: guardFile(file) })) {
        mkdirSync(join(APP, name, '..'), { recursive: true });
        writeFileSync(join(APP, name), text);
      }
      const installed = join(APP, 'node_modules/cognito-jwt');
      mkdirSync(installed, { recursive: true });
      copyFileSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
      symlinkSync(join(ROOT, 'dist'), join(installed, 'dist'));
      const started = performance.now();
      await run(process.execPath, [NEXT, 'build'], {
        cwd: APP,
        env: env(jwks.issuer(POOL)),
        timeout: 600_000,
      });
      console.log(`next build (${file}): ${Math.round((performance.now() - started) / 1000)} s`);
      const port = await freePort();
      origin = `http://127.0.0.1:${port}`;
      server = spawn(process.execPath, [NEXT, 'start', '-H', '127.0.0.1', '-p', String(port)], {
        cwd: APP,
        env: env(jwks.issuer(POOL)),
        stdio: 'ignore',
      });
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`${origin}/open`)).ok) break;
        } catch {}
        if (i > 150) throw new Error('next start did not answer within 30 s');
        await new Promise((done) => setTimeout(done, 200));
      }
    });

    after(() => {
      server?.kill();
      rmSync(APP, { recursive: true, force: true });
    });

    test(`the build covered ${file}, on the runtime it runs on`, () => {
      assert.ok(existsSync(join(APP, '.next')), 'built');
      // Next lists edge middleware in this manifest; proxy.ts runs on Node and is not listed there.
      const manifest = JSON.parse(
        readFileSync(join(APP, '.next/server/middleware-manifest.json'), 'utf8'),
      ) as {
        middleware: Record<string, unknown>;
      };
      assert.equal(
        Object.keys(manifest.middleware).length,
        file === 'middleware.ts' ? 1 : 0,
        JSON.stringify(manifest),
      );
    });

    test(`${file} lets a valid Amplify cookie through, and a bearer header`, async () => {
      const token = mintAccessToken({ key, issuer: jwks.issuer(POOL), clientId: CLIENT });
      const withCookie = await fetch(`${origin}/account`, { headers: { cookie: cookies(token) } });
      assert.equal(withCookie.status, 200);
      assert.deepEqual(await withCookie.json(), { account: 'yours' });
      const withHeader = await fetch(`${origin}/account`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(withHeader.status, 200);
    });

    test(`${file} refuses no cookie, a forged token and an expired token whose signature is valid`, async () => {
      const none = await fetch(`${origin}/account`);
      assert.equal(none.status, 401);
      assert.deepEqual(await none.json(), {
        code: 'ERR_TOKEN_MISSING',
        message: 'a "Bearer <token>" Authorization header is expected',
      });
      const forged = mintAccessToken({
        key: generateKeyPair({ kid: key.kid }),
        issuer: jwks.issuer(POOL),
        clientId: CLIENT,
      });
      assert.equal((await fetch(`${origin}/account`, { headers: { cookie: cookies(forged) } })).status, 401);
      const expired = mintAccessToken({ key, issuer: jwks.issuer(POOL), clientId: CLIENT, expiresIn: -60 });
      const answer = await fetch(`${origin}/account`, { headers: { cookie: cookies(expired) } });
      assert.equal(answer.status, 401);
      assert.equal(((await answer.json()) as { code: string }).code, 'ERR_TOKEN_EXPIRED');
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      // Routes outside the matcher are not guarded.
      assert.equal((await fetch(`${origin}/open`)).status, 200);
    });
  });
