import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Build, moduleUrl } from './build.ts';
import { CLIENT_ID, type Fixture, USER_POOL_ID } from './fixtures.ts';
import { median } from './measure.ts';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./cold-start-child.mjs', import.meta.url));

/** What a cold start is measured with: the library defaults, each fetch explicitly, and the peer. */
export const COLD_START_VARIANTS = [
  'cognito-jwt',
  'cognito-jwt, fetch: global fetch',
  'aws-jwt-verify',
] as const;

export interface ColdStart {
  readonly variant: string;
  /** Median, from the first line of the entry script to the package root imported (`import('…')` settled). */
  readonly importMs: number;
  /** Median, from the first line of the entry script to the first verified token. */
  readonly importToVerifiedMs: number;
  /** Median, from the process start (Node's own boot included) to the first verified token. */
  readonly processStartToVerifiedMs: number;
  /**
   * Median CPU time (user + system) the process spent until the first verified token, Node's boot
   * included: unlike the wall-clock figures, it does not grow while the process waits for a core.
   */
  readonly cpuToVerifiedMs: number;
  /** Fastest and slowest run of `importMs`, and of `importToVerifiedMs`: how far one run can be off. */
  readonly importRangeMs: readonly [number, number];
  readonly importToVerifiedRangeMs: readonly [number, number];
  readonly cpuToVerifiedRangeMs: readonly [number, number];
  readonly runs: number;
}

/**
 * Cold starts in fresh processes, interleaved: each run starts one process per variant, in a
 * rotating order; one unmeasured run first warms the disk cache. The build is bundled as the
 * published package is (bench/build.ts).
 */
export async function measureColdStarts(build: Build, fixture: Fixture, runs: number): Promise<ColdStart[]> {
  const samples = new Map<
    string,
    { importMs: number[]; verifiedMs: number[]; processMs: number[]; cpuMs: number[] }
  >(
    COLD_START_VARIANTS.map((variant) => [
      variant,
      { importMs: [], verifiedMs: [], processMs: [], cpuMs: [] },
    ]),
  );
  for (let round = -1; round < runs; round++) {
    for (let i = 0; i < COLD_START_VARIANTS.length; i++) {
      const variant = COLD_START_VARIANTS[(i + Math.max(round, 0)) % COLD_START_VARIANTS.length]!;
      const params = {
        variant,
        indexUrl: moduleUrl(build, 'index.js'),
        jwksUri: fixture.jwksUri,
        token: fixture.warmup.access,
        userPoolId: USER_POOL_ID,
        clientId: CLIENT_ID,
      };
      const { stdout } = await run(process.execPath, [CHILD, JSON.stringify(params)], { timeout: 30_000 });
      const result = JSON.parse(stdout) as {
        importMs: number;
        importToVerifiedMs: number;
        processStartToVerifiedMs: number;
        cpuToVerifiedMs: number;
      };
      if (round < 0) continue;
      samples.get(variant)!.importMs.push(result.importMs);
      samples.get(variant)!.verifiedMs.push(result.importToVerifiedMs);
      samples.get(variant)!.processMs.push(result.processStartToVerifiedMs);
      samples.get(variant)!.cpuMs.push(result.cpuToVerifiedMs);
    }
  }
  return COLD_START_VARIANTS.map((variant) => {
    const { importMs, verifiedMs, processMs, cpuMs } = samples.get(variant)!;
    return {
      variant,
      importMs: median(importMs),
      importToVerifiedMs: median(verifiedMs),
      processStartToVerifiedMs: median(processMs),
      cpuToVerifiedMs: median(cpuMs),
      importRangeMs: [Math.min(...importMs), Math.max(...importMs)],
      importToVerifiedRangeMs: [Math.min(...verifiedMs), Math.max(...verifiedMs)],
      cpuToVerifiedRangeMs: [Math.min(...cpuMs), Math.max(...cpuMs)],
      runs,
    };
  });
}
