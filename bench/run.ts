/**
 * `npm run bench [-- --quick] [-- --json FILE]`: cognito-jwt against the raw `crypto.verify` limit
 * and its peers, in one run. See the "Performance" section of the README for what each number means.
 */

import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { benchArgs } from './args.ts';
import { buildPlainJs } from './build.ts';
import { COLD_START_VARIANTS, measureColdStarts } from './cold-start.ts';
import { createFixture, mintMany } from './fixtures.ts';
import { measureFloods, unknownKidTokens } from './flood.ts';
import { measure, probeChecks, type Workload } from './measure.ts';
import { measureMemory, writeTokenFile } from './memory.ts';
import {
  evaluateTargets,
  formatColdStarts,
  formatFloods,
  formatMemory,
  formatTargets,
  formatWorkload,
  type Style,
  summarize,
  type VariantChecks,
  type WorkloadResult,
} from './report.ts';
import { formatRevocation, measureRevocation, REVOCATION_SETTINGS, revocationTargets } from './revocation.ts';
import { formatSession, measureSession, SESSION_SETTINGS, sessionTargets } from './session.ts';
import { VARIANTS } from './variants.ts';

const args = benchArgs('npm run bench', 'few tokens, few rounds', 'the tables');

const settings = args.quick
  ? {
      distinctTokens: 100,
      rounds: 2,
      warmupRounds: 1,
      batchMs: 10,
      repeatCalls: 1_000,
      coldStartRuns: 1,
      memoryTokens: 1_000,
      floodTokens: 100,
      floodWave: 20,
    }
  : {
      distinctTokens: 2_000,
      rounds: 7,
      warmupRounds: 1,
      batchMs: 60,
      repeatCalls: 20_000,
      coldStartRuns: 10,
      memoryTokens: 100_000,
      floodTokens: 1_000,
      floodWave: 100,
    };
const CALLERS = 16;
const startedAt = performance.now();
const log = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1)} s] ${message}\n`);

const build = buildPlainJs();
const fixture = await createFixture();
try {
  log(
    `minting ${settings.distinctTokens * 2 + settings.memoryTokens} tokens on ${availableParallelism()} threads`,
  );
  const [accessTokens, idTokens] = [
    await mintMany(build, fixture.key, 'access', settings.distinctTokens),
    await mintMany(build, fixture.key, 'id', settings.distinctTokens),
  ];
  const memoryFile = writeTokenFile(
    build,
    await mintMany(build, fixture.key, 'access', settings.memoryTokens),
  );

  const workloads: Workload[] = [
    {
      name: 'access-distinct',
      title: `${accessTokens.length} distinct access tokens cycled, one caller (new verifier each round)`,
      use: 'access',
      tokens: accessTokens,
      kind: 'distinct',
    },
    {
      name: 'id-distinct',
      title: `${idTokens.length} distinct ID tokens cycled, one caller (new verifier each round)`,
      use: 'id',
      tokens: idTokens,
      kind: 'distinct',
    },
    {
      name: 'access-repeat',
      title: 'one access token repeated, one caller (warm verifier)',
      use: 'access',
      tokens: accessTokens,
      kind: 'repeat',
    },
    {
      name: 'access-16-callers',
      title: `${accessTokens.length} distinct access tokens, ${CALLERS} async callers in flight (new verifier each round)`,
      use: 'access',
      tokens: accessTokens,
      kind: 'callers',
      callers: CALLERS,
    },
  ];

  log('probing which checks each variant makes');
  const checks: VariantChecks[] = [];
  for (const variant of VARIANTS) {
    checks.push({
      variant: variant.name,
      library: variant.library,
      note: variant.note,
      reference: variant.reference === true,
      checks: {
        access: await probeChecks(variant, fixture, 'access'),
        id: await probeChecks(variant, fixture, 'id'),
      },
    });
  }

  const results: WorkloadResult[] = [];
  for (const workload of workloads) {
    log(`measuring ${workload.name}`);
    const variants = VARIANTS.filter((variant) => !variant.only || variant.only.includes(workload.name));
    results.push(summarize(workload, await measure(workload, variants, fixture, settings)));
  }

  log('unknown-kid flood');
  const floods = await measureFloods(fixture, unknownKidTokens(settings.floodTokens), settings.floodWave);
  log(`cold starts (${COLD_START_VARIANTS.length} variants × ${settings.coldStartRuns + 1} processes)`);
  const coldStarts = await measureColdStarts(build, fixture, settings.coldStartRuns);
  log(`memory (${settings.memoryTokens} tokens, two processes)`);
  const memory = await measureMemory(build, fixture, memoryFile);
  const revocation = await measureRevocation(REVOCATION_SETTINGS[args.quick ? 'quick' : 'full'], log);
  const session = await measureSession(SESSION_SETTINGS[args.quick ? 'quick' : 'full'], log);
  const targets = [
    ...evaluateTargets(results, VARIANTS, coldStarts, floods, memory),
    ...revocationTargets(revocation),
    ...sessionTargets(session),
  ];

  const command = `npm run bench${args.quick ? ' -- --quick' : ''}`;
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}`;
  const render = (style: Style) =>
    [
      `cognito-jwt benchmark (\`${command}\`) on ${machine}, ${new Date().toISOString().slice(0, 10)}`,
      `medians of ${settings.rounds} interleaved rounds (after ${settings.warmupRounds} warm-up); × limit = ops/s ÷ ops/s of the limit in the same workload`,
      ...results.map((result) => formatWorkload(result, checks, style)),
      formatFloods(floods, settings.floodTokens, settings.floodWave, style),
      formatColdStarts(coldStarts, style),
      formatMemory(memory, style),
      formatRevocation(revocation, style),
      formatSession(session, style),
      formatTargets(targets, style),
    ].join('\n\n');
  console.log(render('text'));
  log(`done in ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
  if (args.markdown) {
    writeFileSync(args.markdown, `${render('markdown')}\n`);
    log(`wrote ${args.markdown}`);
  }

  if (args.json) {
    const report = {
      command,
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), node: process.version },
      quick: args.quick,
      settings: { ...settings, callers: CALLERS },
      variants: checks,
      workloads: results,
      flood: floods,
      coldStart: coldStarts,
      memory,
      revocation,
      session,
      targets,
      durationSeconds: (performance.now() - startedAt) / 1000,
    };
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${args.json}`);
  }
} finally {
  await fixture.close();
  build.remove();
}
