/**
 * `npm run bench:compare -- [--base REV] [--head REV] [--quick]`: the distinct-token workload on
 * the verifier of an earlier revision (`--base`, default `HEAD`) and of a later one (`--head`,
 * default the working tree), interleaved in one run with the raw `crypto.verify` limit, so a
 * change to the hot path is judged by ratios taken under the same noise. Each round builds a new
 * verifier per variant (empty caches), with the cache on and off.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPlainJs, moduleUrl } from './build.ts';
import { CLIENT_ID, createFixture, type Fixture, mintMany, USER_POOL_ID } from './fixtures.ts';
import { measure, median, type Workload } from './measure.ts';
import { VARIANTS, type Variant } from './variants.ts';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string', default: 'HEAD' },
    head: { type: 'string' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(
    'usage: npm run bench:compare -- [--base REV] [--rounds N] [--quick]\n' +
      '  --base    the revision to compare the working tree with (default HEAD)\n' +
      '  --rounds  measured rounds (default 9)\n' +
      '  --quick   a smoke run: few tokens, two rounds (its numbers mean nothing)',
  );
  process.exit(0);
}
const tokens = args.quick ? 100 : 2_000;
const rounds = args.quick ? 2 : Number(args.rounds ?? 9);

interface VerifierModule {
  CognitoVerifier: new (
    config: object,
    options: object,
  ) => { verifySync(token: string): unknown; hydrate(): Promise<void> };
}

/** The revision's `src/` as plain JavaScript in a temporary folder. */
function buildRevision(rev: string) {
  const checkout = mkdtempSync(join(tmpdir(), 'cognito-jwt-rev-'));
  const archive = execFileSync('git', ['archive', rev, 'src'], { maxBuffer: 64 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', checkout], { input: archive });
  const build = buildPlainJs(join(checkout, 'src'));
  rmSync(checkout, { recursive: true, force: true });
  return build;
}

function cognitoVariant(name: string, module: VerifierModule, cache: boolean): Variant {
  return {
    name,
    library: 'cognito-jwt',
    note: cache ? 'verifySync, cache on' : 'verifySync, verifiedTokenCache: false',
    create: async (fixture: Fixture, use) => {
      const verifier = new module.CognitoVerifier(
        { userPoolId: USER_POOL_ID, clientId: CLIENT_ID, tokenUse: use, jwksUri: fixture.jwksUri },
        cache ? {} : { verifiedTokenCache: false },
      );
      await verifier.hydrate();
      return (token: string) => verifier.verifySync(token);
    },
  };
}

const headName = args.head ?? 'working tree';
const before = buildRevision(args.base);
const after = args.head === undefined ? buildPlainJs() : buildRevision(args.head);
const fixture = await createFixture();
try {
  const beforeModule = (await import(moduleUrl(before, 'index.js'))) as VerifierModule;
  const afterModule = (await import(moduleUrl(after, 'index.js'))) as VerifierModule;
  const limit = VARIANTS.find((variant) => variant.name === 'limit');
  if (!limit) throw new Error('the limit variant is missing from bench/variants.ts');
  const variants = [
    limit,
    cognitoVariant(`${args.base}, cache`, beforeModule, true),
    cognitoVariant(`${headName}, cache`, afterModule, true),
    cognitoVariant(`${args.base}, no cache`, beforeModule, false),
    cognitoVariant(`${headName}, no cache`, afterModule, false),
  ];
  const workload: Workload = {
    name: 'access-distinct',
    title: `${tokens} distinct access tokens, one caller, new verifier each round`,
    use: 'access',
    tokens: await mintMany(after, fixture.key, 'access', tokens),
    kind: 'distinct',
  };
  const samples = await measure(workload, variants, fixture, {
    rounds,
    warmupRounds: 1,
    batchMs: 0, // only `repeat` batches are timed by length
    repeatCalls: 0,
  });
  const limitOps = median(samples.get('limit') ?? []);
  console.log(`${workload.title}; ${rounds} interleaved rounds; medians`);
  console.log('| variant | ops/s | × limit |');
  console.log('| --- | ---: | ---: |');
  for (const variant of variants) {
    const ops = median(samples.get(variant.name) ?? []);
    console.log(`| ${variant.name} | ${Math.round(ops)} | ${(ops / limitOps).toFixed(3)} |`);
  }
  for (const mode of ['cache', 'no cache']) {
    const old = median(samples.get(`${args.base}, ${mode}`) ?? []);
    const now = median(samples.get(`${headName}, ${mode}`) ?? []);
    console.log(`${headName} / ${args.base}, ${mode}: ${(now / old).toFixed(3)}`);
  }
} finally {
  await fixture.close();
  before.remove();
  after.remove();
}
