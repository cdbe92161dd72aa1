// The API reference in Markdown, from the TSDoc of every public entry point: `npm run docs:api`
// writes docs/api/. The entry points are read from package.json's exports map (./dist/x.d.ts →
// src/x.ts), so a new subpath is documented without touching this script.
// `node scripts/docs-api.mjs <dir>` writes elsewhere (test/docs/api.test.ts compares the two).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application } from 'typedoc';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const out = resolve(process.argv[2] ?? join(root, 'docs', 'api'));

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entryPoints = Object.values(manifest.exports)
  .map((target) => (typeof target === 'string' ? target : target.types))
  .filter((types) => typeof types === 'string' && types.endsWith('.d.ts'))
  .map((types) => join(root, types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts')));

const app = await Application.bootstrapWithPlugins({
  entryPoints,
  out,
  tsconfig: join(root, 'tsconfig.build.json'),
  plugin: ['typedoc-plugin-markdown'],
  readme: 'none',
  name: `${manifest.name} API`,
  // No line-numbered source links: they would change with every edit (and there is no public repository URL yet).
  disableSources: true,
  excludePrivate: true,
  excludeInternal: true,
  hidePageHeader: true,
  hideBreadcrumbs: false,
  entryFileName: 'README.md',
  // Module names follow the import specifiers users write.
  entryPointStrategy: 'resolve',
  logLevel: 'Warn',
  validation: { notExported: false, invalidLink: true, notDocumented: false },
});
const project = await app.convert();
if (!project || app.logger.hasErrors()) {
  console.error('typedoc: the API reference could not be generated');
  process.exit(1);
}
// typedoc names a module after its file (`index`, `adapters/express`); users know it by its import specifier.
const specifiers = new Map(
  Object.entries(manifest.exports)
    .filter(([, target]) => typeof target === 'object' && target.types?.endsWith('.d.ts'))
    .map(([subpath, target]) => [
      target.types
        .replace(/^\.\/dist\//, '')
        .replace(/\.d\.ts$/, '')
        .replace(/\/index$/, ''),
      subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
    ]),
);
for (const module of project.children ?? []) module.name = specifiers.get(module.name) ?? module.name;
await app.generateOutputs(project);
console.log(`API reference written to ${out}`);
