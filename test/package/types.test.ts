/**
 * The packed tarball's types and manifest (test/helpers/packed-package.ts installs it): its
 * declarations type-check in strict ESM and CommonJS consumers with TypeScript 6 (the project's
 * compiler) and TypeScript 7, and the two linters of published packages agree: publint (the
 * manifest and the files it names) and Are the Types Wrong (`attw`, ESM-only profile: every
 * subpath's types resolve under node16 ESM and bundlers), so a broken exports map fails CI.
 * Not in the Node-majors subset: what the compilers and linters say does not depend on the Node
 * running them.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  installPackedPackage,
  type PackedPackage,
  ROOT,
  run,
  runStatus,
  specifier,
} from '../helpers/packed-package.ts';

let installed: PackedPackage;

before(async () => {
  installed = await installPackedPackage();
});

after(() => installed?.remove());

test('publint finds nothing wrong with the packed tarball', async () => {
  const result = await runStatus(
    process.execPath,
    [join(ROOT, 'node_modules', 'publint', 'src', 'cli.js'), 'run', installed.tarball, '--strict'],
    ROOT,
  );
  assert.equal(result.code, 0, `publint:\n${result.stdout}\n${result.stderr}`);
});

test('Are the Types Wrong (attw, ESM-only profile) finds no problem in the packed tarball', async () => {
  const result = await runStatus(
    process.execPath,
    [
      join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'),
      installed.tarball,
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

/**
 * A strict ESM consumer (`.mts`) and a strict CommonJS one (`.cts`) that import every subpath,
 * type-checked (declarations included: no `skipLibCheck`) by the `tsc` script given.
 */
async function typeCheckConsumers(tsc: string): Promise<void> {
  const modules = installed.subpaths.filter((subpath) => !subpath.endsWith('.json')).map(specifier);
  const esmConsumer = modules.map(
    (name, index) => `import * as m${index} from '${name}';\nexport { m${index} };`,
  );
  const cjsConsumer = modules.map(
    (name, index) => `import m${index} = require('${name}');\nexport { m${index} };`,
  );
  await writeFile(join(installed.consumerDir, 'consumer.mts'), `${esmConsumer.join('\n')}\n`);
  await writeFile(join(installed.consumerDir, 'consumer.cts'), `${cjsConsumer.join('\n')}\n`);
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
    join(installed.consumerDir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: ['consumer.mts', 'consumer.cts'] }),
  );
  await run(process.execPath, [tsc, '-p', '.'], installed.consumerDir);
}

test('the published declarations type-check in strict ESM and CommonJS consumers for every subpath', async () => {
  await typeCheckConsumers(join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'));
});

// TypeScript 7 (the native compiler) is the devDependency `typescript7`, pinned beside the
// TypeScript 6 the project builds with.
test('the same consumers type-check with TypeScript 7', async () => {
  const tsc = join(ROOT, 'node_modules', 'typescript7', 'bin', 'tsc');
  const { stdout } = await run(process.execPath, [tsc, '--version'], installed.consumerDir);
  assert.match(stdout, /^Version 7\./);
  await typeCheckConsumers(tsc);
});
