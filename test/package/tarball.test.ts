/**
 * The packed tarball, installed as a user would get it: every subpath of the exports map imports
 * from ESM and `require()`s from CommonJS (Node ≥ 20.19 loads ES modules through require), its
 * declarations type-check in a strict consumer with TypeScript 6 and with TypeScript 7, it ships dist, docs, README, LICENSE and package.json only,
 * and the two linters of published packages agree: publint (the manifest and the files it names) and
 * Are the Types Wrong (`attw`, ESM-only profile: every subpath's types resolve under node16 ESM and
 * bundlers), so a broken exports map fails CI.
 *
 * The consumer folder sits under the project (test/.tmp-pack-*) so that the optional peers
 * (express, fastify, fastify-plugin, hono) resolve from the project's node_modules.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PACKAGE_NAME = 'cognito-jwt';

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, string | { types?: string; default?: string }>;
  bin?: Record<string, string>;
}

interface PackResult {
  filename: string;
  files: { path: string }[];
}

/** What a consumer script saw for one subpath. */
type LoadReport = Record<string, { keys: string[] } | { error: string }>;

function run(command: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(
      command,
      args,
      { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        if (error)
          fail(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
        else done({ stdout, stderr });
      },
    );
  });
}

/** Like `run`, but resolves with the exit code instead of rejecting on a non-zero one. */
function runStatus(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const specifier = (subpath: string) =>
  subpath === '.' ? PACKAGE_NAME : `${PACKAGE_NAME}/${subpath.slice(2)}`;

const ESM_CHECK = `
const report = {};
for (const specifier of JSON.parse(process.argv[1])) {
  try {
    const loaded = specifier.endsWith('.json')
      ? await import(specifier, { with: { type: 'json' } })
      : await import(specifier);
    report[specifier] = { keys: Object.keys(loaded).sort() };
  } catch (error) {
    report[specifier] = { error: String(error.code ?? '') + ' ' + error.message };
  }
}
console.log(JSON.stringify(report));
`;

const CJS_CHECK = `
const report = {};
for (const specifier of JSON.parse(process.argv[1])) {
  try {
    report[specifier] = { keys: Object.keys(require(specifier)).sort() };
  } catch (error) {
    report[specifier] = { error: String(error.code ?? '') + ' ' + error.message };
  }
}
console.log(JSON.stringify(report));
`;

const USAGE_CHECK = `
import { CognitoVerifier } from 'cognito-jwt';
import { generateKeyPair, mintAccessToken, startJwksServer } from 'cognito-jwt/testing';
const key = generateKeyPair();
const server = await startJwksServer({ keys: [key] });
try {
  const issuer = server.issuer('local_pack');
  const verifier = new CognitoVerifier({ userPoolId: 'local_pack', issuer, clientId: 'c', tokenUse: 'access' });
  const claims = await verifier.verify(mintAccessToken({ key, issuer, clientId: 'c' }));
  console.log(claims.token_use, claims.client_id);
} finally {
  await server.close();
}
`;

let manifest: PackageJson;
let subpaths: string[];
let packed: PackResult;
let packDir: string;
let consumerDir: string;
let esm: LoadReport;
let cjs: LoadReport;

before(async () => {
  manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
  subpaths = Object.keys(manifest.exports);
  if (!existsSync(join(ROOT, 'dist'))) await run('npm', ['run', 'build'], ROOT);

  packDir = await mkdtemp(join(tmpdir(), 'cognito-jwt-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], ROOT);
  [packed] = JSON.parse(stdout) as [PackResult];

  consumerDir = join(ROOT, 'test', `.tmp-pack-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(consumerDir);
  await writeFile(join(consumerDir, 'package.json'), '{ "name": "pack-consumer", "private": true }\n');
  await run(
    'npm',
    [
      'install',
      '--offline',
      '--no-save',
      '--no-package-lock',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      join(packDir, packed.filename),
    ],
    consumerDir,
  );
  const specifiers = JSON.stringify(subpaths.map(specifier));
  const [esmRun, cjsRun] = await Promise.all([
    run(process.execPath, ['--input-type=module', '-e', ESM_CHECK, specifiers], consumerDir),
    run(process.execPath, ['--input-type=commonjs', '-e', CJS_CHECK, specifiers], consumerDir),
  ]);
  esm = JSON.parse(esmRun.stdout) as LoadReport;
  cjs = JSON.parse(cjsRun.stdout) as LoadReport;
});

after(async () => {
  await Promise.all(
    [consumerDir, packDir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })),
  );
});

test('the tarball holds dist, docs, schema, README.md, LICENSE and package.json only', () => {
  const paths = packed.files.map((file) => file.path);
  const stray = paths.filter(
    (path) =>
      !path.startsWith('dist/') &&
      !path.startsWith('docs/') &&
      path !== 'schema/service.schema.json' &&
      path !== 'README.md' &&
      path !== 'LICENSE' &&
      path !== 'package.json',
  );
  assert.deepEqual(stray, []);
  assert.ok(paths.includes('README.md'));
  assert.ok(paths.includes('package.json'));
  assert.deepEqual(
    paths.filter(
      (path) => /(^|\/)(src|test)\//.test(path) || (path.endsWith('.ts') && !path.endsWith('.d.ts')),
    ),
    [],
  );
});

test("the README's relative links resolve inside the tarball (the registry page shows the README)", async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const paths = new Set(packed.files.map((file) => file.path));
  const targets = [...readme.matchAll(/\]\((?!https?:|#|mailto:)([^)#\s]+)/g)].map((match) => match[1]!);
  assert.ok(targets.length > 0, 'the README links to docs/');
  assert.deepEqual(
    targets.filter((target) => !paths.has(target.replace(/^\.\//, ''))),
    [],
  );
});

test('publint finds nothing wrong with the packed tarball', async () => {
  const result = await runStatus(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'publint', 'src', 'cli.js'),
      'run',
      join(packDir, packed.filename),
      '--strict',
    ],
    ROOT,
  );
  assert.equal(result.code, 0, `publint:\n${result.stdout}\n${result.stderr}`);
});

test('Are the Types Wrong (attw, ESM-only profile) finds no problem in the packed tarball', async () => {
  const result = await runStatus(
    process.execPath,
    [
      join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'),
      join(packDir, packed.filename),
      '--profile',
      'esm-only',
      '--no-definitely-typed', // no registry look-up: the package ships its own types
      '--format',
      'json',
    ],
    ROOT,
  );
  const report = JSON.parse(result.stdout) as {
    analysis: { problems?: { kind: string; entrypoint: string; resolutionKind: string }[] };
  };
  // The ESM-only profile ignores node10 and node16-cjs resolution (there is no CommonJS build).
  const problems = (report.analysis.problems ?? [])
    .filter((problem) => problem.resolutionKind !== 'node10' && problem.resolutionKind !== 'node16-cjs')
    .map((problem) => `${problem.entrypoint} (${problem.resolutionKind}): ${problem.kind}`);
  assert.deepEqual(problems, []);
  assert.equal(result.code, 0, result.stderr);
});

test('every file the exports map and bin point to is in the tarball', () => {
  const paths = new Set(packed.files.map((file) => file.path));
  const targets = Object.values(manifest.exports).flatMap((target) =>
    typeof target === 'string' ? [target] : Object.values(target),
  );
  const missing = [...targets, ...Object.values(manifest.bin ?? {})]
    .map((target) => target.replace(/^\.\//, ''))
    .filter((path) => !paths.has(path));
  assert.deepEqual(missing, [], `exported but not packed: ${missing.join(', ')}`);
});

test('every subpath of the exports map imports from ESM and requires from CommonJS, with the same exports', async (t) => {
  for (const subpath of subpaths) {
    await t.test(specifier(subpath), () => {
      const fromEsm = esm[specifier(subpath)];
      const fromCjs = cjs[specifier(subpath)];
      assert.ok(
        fromEsm && 'keys' in fromEsm,
        `import failed: ${fromEsm && 'error' in fromEsm ? fromEsm.error : '?'}`,
      );
      assert.ok(
        fromCjs && 'keys' in fromCjs,
        `require failed: ${fromCjs && 'error' in fromCjs ? fromCjs.error : '?'}`,
      );
      if (subpath.endsWith('.json')) {
        assert.deepEqual(fromEsm.keys, ['default']);
        assert.ok(fromCjs.keys.includes('exports'));
        return;
      }
      assert.ok(fromEsm.keys.length > 0, 'the module exports nothing');
      assert.deepEqual(
        fromCjs.keys.filter((key) => key !== '__esModule' && key !== 'module.exports'),
        fromEsm.keys,
      );
    });
  }
});

test('the core and the test kit work together from the installed package', async () => {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', USAGE_CHECK], consumerDir);
  assert.equal(stdout.trim(), 'access c');
});

/**
 * A strict ESM consumer (`.mts`) and a strict CommonJS one (`.cts`) that import every subpath,
 * type-checked (declarations included: no `skipLibCheck`) by the `tsc` script given.
 */
async function typeCheckConsumers(tsc: string): Promise<void> {
  const modules = subpaths.filter((subpath) => !subpath.endsWith('.json')).map(specifier);
  const esmConsumer = modules.map(
    (name, index) => `import * as m${index} from '${name}';\nexport { m${index} };`,
  );
  const cjsConsumer = modules.map(
    (name, index) => `import m${index} = require('${name}');\nexport { m${index} };`,
  );
  await writeFile(join(consumerDir, 'consumer.mts'), `${esmConsumer.join('\n')}\n`);
  await writeFile(join(consumerDir, 'consumer.cts'), `${cjsConsumer.join('\n')}\n`);
  const compilerOptions = {
    strict: true,
    exactOptionalPropertyTypes: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2023',
    types: ['node'],
    noEmit: true,
  };
  await writeFile(
    join(consumerDir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: ['consumer.mts', 'consumer.cts'] }),
  );
  await run(process.execPath, [tsc, '-p', '.'], consumerDir);
}

test('the published declarations type-check in strict ESM and CommonJS consumers for every subpath', async () => {
  await typeCheckConsumers(join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'));
});

// TypeScript 7 (the native compiler) is the devDependency `typescript7`, pinned beside the
// TypeScript 6 the project builds with.
test('the same consumers type-check with TypeScript 7', async () => {
  const tsc = join(ROOT, 'node_modules', 'typescript7', 'bin', 'tsc');
  const { stdout } = await run(process.execPath, [tsc, '--version'], consumerDir);
  assert.match(stdout, /^Version 7\./);
  await typeCheckConsumers(tsc);
});
