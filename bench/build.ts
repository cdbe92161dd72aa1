import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** A plain-JavaScript copy of `src/`, as the published package runs it (no TypeScript loader). */
export interface Build {
  /** Folder holding `index.js`, `testing/index.js`, ... */
  readonly dir: string;
  remove(): void;
}

/**
 * Transpile `src/**\/*.ts` (or another copy of it: `source`) to ES modules in a temporary folder, for the child processes and
 * workers of the benchmark: a cold start must not pay for a TypeScript loader the package
 * never uses. Syntax only (no type check): `npx tsc` does that.
 */
export function buildPlainJs(source: string = SRC): Build {
  const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-bench-'));
  // The Node side of the platform seam, as the package's `imports` map resolves it under Node.
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ type: 'module', imports: { '#platform': './platform/node.js' } })}\n`,
  );
  const compilerOptions: ts.CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2023,
    rewriteRelativeImportExtensions: true,
    verbatimModuleSyntax: true,
  };
  for (const file of readdirSync(source, { recursive: true }).map(String)) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const text = readFileSync(join(source, file), 'utf8');
    const { outputText } = ts.transpileModule(text, { compilerOptions, fileName: file });
    const target = join(dir, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `import()` specifier of a module of the build, e.g. `moduleUrl(build, 'index.js')`. */
export function moduleUrl(build: Build, path: string): string {
  return pathToFileURL(join(build.dir, path)).href;
}
