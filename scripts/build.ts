// The published JavaScript: `npm run build` runs tsc for the declarations, then this file, which
// bundles src/ into dist/ with esbuild. One file per entry of package.json (each `exports` target,
// both `#platform` targets, the bin) and shared chunks in dist/chunks/: a cold start loads about
// a dozen files instead of forty modules, each of which costs Node a resolve, a read and a compile.
// bench/build.ts builds the benchmark's copy with the same function, so it measures what ships.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync, type OutputFile } from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

interface Manifest {
  exports: Record<string, string | Record<string, string>>;
  imports: Record<string, Record<string, string | Record<string, string>>>;
  bin?: Record<string, string>;
}

/**
 * The source file of every JavaScript file package.json points to (`./dist/adapters/express.js` →
 * `adapters/express.ts`), relative to src/.
 */
export function entrySources(manifest: Manifest = readManifest()): string[] {
  const targets = [
    ...Object.values(manifest.exports).flatMap(defaultTargets),
    ...Object.values(manifest.imports).flatMap((conditions) =>
      Object.values(conditions).flatMap(defaultTargets),
    ),
    ...Object.values(manifest.bin ?? {}),
  ];
  const sources = targets
    .filter((target) => target.startsWith('./dist/') && target.endsWith('.js'))
    .map((target) => target.slice('./dist/'.length).replace(/\.js$/, '.ts'));
  return [...new Set(sources)].sort();
}

function defaultTargets(target: string | Record<string, string>): string[] {
  if (typeof target === 'string') return [target];
  return target.default === undefined ? [] : [target.default];
}

function readManifest(): Manifest {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
}

/**
 * Bundle `src` (another checkout's src/ for bench:compare) into `outDir`, keeping the folder layout
 * of the entries. Left outside: node: builtins, every package (the optional peers load only where
 * a door needs them), and `#platform`, so the package's imports map still picks the Node or the
 * Web seam per runtime. Dynamic `import()`s stay lazy: each becomes a chunk of its own.
 * Not minified: stack traces stay readable, and a bundler downstream (an edge build) minifies.
 * Not `keepNames` either: its `__name()` calls keep every function alive in that downstream bundle
 * (the web bundle of `CognitoVerifier` grew by 4 KB gzipped), so the build instead refuses to
 * rename a class, since errors take their `name` from it.
 */
export function bundleDist(outDir: string, src: string = join(ROOT, 'src')): void {
  // A src/ of another revision may lack an entry the current package.json names.
  const entryPoints = entrySources()
    .map((entry) => join(src, entry))
    .filter((path) => existsSync(path));
  const result = buildSync({
    entryPoints,
    outdir: outDir,
    outbase: src,
    // At dist/chunks/, two folders below the package root like the entries of dist/cli/:
    // src/cli/run.ts finds package.json as '../../package.json' from either.
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    external: ['#platform'],
    logLevel: 'warning',
    absWorkingDir: ROOT,
    write: false,
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`);
  const renamed = renamedClasses(src, result.outputFiles);
  if (renamed.length > 0) {
    throw new Error(
      `esbuild renamed ${renamed.join(', ')} (another top-level name in the same chunk clashes): rename one`,
    );
  }
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
  }
}

/**
 * Classes of the output whose name no class of the sources has: esbuild gives a clashing top-level
 * name a numbered suffix (`ConfigError2`), which would change an error's `name` and `instanceof` message.
 */
function renamedClasses(src: string, outputs: readonly OutputFile[]): string[] {
  const declared = (text: string) =>
    [...text.matchAll(/\bclass\s+([\w$]+)|\b(?:var|let|const)\s+([\w$]+)\s*=\s*class\b/g)].map(
      (match) => (match[1] ?? match[2]) as string,
    );
  const sources = new Set(
    readdirSync(src, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) => declared(readFileSync(join(src, file), 'utf8'))),
  );
  return [...new Set(outputs.flatMap((output) => declared(output.text)))].filter(
    (name) => !sources.has(name),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = join(ROOT, 'dist');
  // Only the JavaScript is replaced: tsc has written the declarations next to it.
  rmSync(join(outDir, 'chunks'), { recursive: true, force: true });
  bundleDist(outDir);
  console.log(`bundled ${entrySources().length} entries into ${outDir}`);
}
