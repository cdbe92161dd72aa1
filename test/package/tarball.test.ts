/**
 * The packed tarball, installed as a user would get it (test/helpers/packed-package.ts): every
 * subpath of the exports map imports from ESM and `require()`s from CommonJS (Node ≥ 20.19 loads
 * ES modules through require), it ships dist, docs, README, LICENSE and package.json only, and the
 * core and the test kit work together from it. Its types and manifest are checked by
 * test/package/types.test.ts. This file is in the Node-majors subset (scripts/node-majors.mjs).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import ts from 'typescript';
import { installPackedPackage, type PackedPackage, ROOT, run, specifier } from '../helpers/packed-package.ts';

/** What a consumer script saw for one subpath. */
type LoadReport = Record<string, { keys: string[] } | { error: string }>;

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

let installed: PackedPackage;
let manifest: PackedPackage['manifest'];
let subpaths: string[];
let packed: PackedPackage['packed'];
let consumerDir: string;
let esm: LoadReport;
let cjs: LoadReport;

before(async () => {
  installed = await installPackedPackage();
  ({ manifest, subpaths, packed, consumerDir } = installed);
  const specifiers = JSON.stringify(subpaths.map(specifier));
  const [esmRun, cjsRun] = await Promise.all([
    run(process.execPath, ['--input-type=module', '-e', ESM_CHECK, specifiers], consumerDir),
    run(process.execPath, ['--input-type=commonjs', '-e', CJS_CHECK, specifiers], consumerDir),
  ]);
  esm = JSON.parse(esmRun.stdout) as LoadReport;
  cjs = JSON.parse(cjsRun.stdout) as LoadReport;
});

after(() => installed?.remove());

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

// A cold start pays Node a resolve, a read and a compile per file: dist/ is bundled
// (scripts/build.ts) so that the root loads a handful of files, where tsc's output loaded ~40.
test('importing the package root loads at most 8 files of the package (aws-jwt-verify: 14)', async () => {
  const dist = join(consumerDir, 'node_modules', manifest.name, 'dist');
  const loaded = staticImports(join(dist, 'index.js'), join(dist, 'platform/node.js'));
  assert.ok(loaded.length <= 8, loaded.map((file) => relative(dist, file)).join(', '));
  assert.ok(loaded.includes(join(dist, 'platform/node.js')), 'the Node seam, through #platform');
});

/** Every file reached from `entry` by static imports; `#platform` is the Node seam, packages are left out. */
function staticImports(entry: string, platform: string, seen = new Set<string>()): string[] {
  if (seen.has(entry)) return [...seen];
  seen.add(entry);
  const source = ts.createSourceFile(entry, readFileSync(entry, 'utf8'), ts.ScriptTarget.Latest);
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const from = statement.moduleSpecifier;
    if (!from || !ts.isStringLiteral(from)) continue;
    if (from.text === '#platform') staticImports(platform, platform, seen);
    else if (from.text.startsWith('.')) staticImports(resolve(dirname(entry), from.text), platform, seen);
  }
  return [...seen];
}
