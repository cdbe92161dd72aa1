// The published JavaScript: `npm run build` runs tsc for the declarations, then this file, which
// bundles src/ into dist/ with esbuild. One file per entry of package.json (each `exports` target,
// both `#platform` targets, the bin) and shared chunks in dist/chunks/: importing the root loads
// seven files instead of forty modules, each of which costs Node a resolve, a read and a compile.
// bench/build.ts builds the benchmark's copy with the same function, so it measures what ships.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
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
  const wrappers = mkdtempSync(join(tmpdir(), 'cognito-jwt-entries-'));
  try {
    // A src/ of another revision may lack an entry the current package.json names.
    const entries = entrySources().filter((entry) => existsSync(join(src, entry)));
    bundle(
      entries.map((entry) => ({ in: entryFile(src, entry, wrappers), out: entry.replace(/\.ts$/, '') })),
      outDir,
      src,
    );
  } finally {
    rmSync(wrappers, { recursive: true, force: true });
  }
}

/**
 * Entries that stay as they are: the root itself, the two platform seams, the test kit, and the
 * CLI, a program: behind a wrapper's `export *`, its top-level code would count as dead (the
 * package declares no side effects) and be dropped.
 */
const UNWRAPPED = /^(index|platform\/\w+|testing\/index|cli\/main)\.ts$/;

/**
 * The file esbuild starts an entry from. A door (an adapter, oauth, alb, revocation, session)
 * starts from a wrapper that also imports the root: esbuild makes one chunk per set of entries
 * that reach a module, so a root module that only some doors reach would get a chunk of its own
 * (twelve files for the root instead of seven). Every door already needs most of the root.
 * The test kit stays light: tests that mint tokens without verifying load only what minting needs.
 */
function entryFile(src: string, entry: string, wrappers: string): string {
  const source = join(src, entry);
  if (UNWRAPPED.test(entry)) return source;
  const wrapper = join(wrappers, `${entry.replaceAll('/', '-').replace(/\.ts$/, '')}.js`);
  writeFileSync(
    wrapper,
    `import ${JSON.stringify(join(src, 'index.ts'))};\nexport * from ${JSON.stringify(source)};\n`,
  );
  return wrapper;
}

function bundle(entryPoints: { in: string; out: string }[], outDir: string, src: string): void {
  const result = buildSync({
    entryPoints,
    outdir: outDir,
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
    // The wrappers' `import '…/index.ts'` is dropped from their code (the package has no side
    // effects) but still counts when esbuild groups modules into chunks, which is all it is for.
    logOverride: { 'ignored-bare-import': 'silent' },
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
 * name a numbered suffix (`ConfigError2`), which would change an error's `name`.
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
