import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleDist } from '../scripts/build.ts';

/** A copy of the package's JavaScript, built as dist/ is (`npm run build`), in a temporary folder. */
export interface Build {
  /** Folder holding `index.js`, `testing/index.js`, ... */
  readonly dir: string;
  remove(): void;
}

/**
 * Bundle `src/` (or another copy of it: `source`) the way the published package is built, for the
 * child processes and workers of the benchmark: a cold start must measure the files the package
 * ships, and pay for no TypeScript loader. Syntax only (no type check): `npx tsc` does that.
 */
export function buildPlainJs(source?: string): Build {
  const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-bench-'));
  // The Node side of the platform seam, as the package's `imports` map resolves it under Node.
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ type: 'module', imports: { '#platform': './platform/node.js' } })}\n`,
  );
  bundleDist(dir, source);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `import()` specifier of a module of the build, e.g. `moduleUrl(build, 'index.js')`. */
export function moduleUrl(build: Build, path: string): string {
  return pathToFileURL(join(build.dir, path)).href;
}
