import type { TokenUse } from '../src/token/claims.ts';
import { type Fixture, RULES, type Rule } from './fixtures.ts';
import type { Variant, VerifyFn, WorkloadName } from './variants.ts';

export interface Workload {
  readonly name: WorkloadName;
  readonly title: string;
  readonly use: TokenUse;
  /** Cycled; `repeat` uses the first one only. */
  readonly tokens: readonly string[];
  /**
   * - `distinct`: one caller, one pass over the tokens, a new verifier each round (so caches
   *   start empty and every token is new to it);
   * - `repeat`: one caller, one token again and again on one warm verifier, for `batchMs` or
   *   `repeatCalls` calls, whichever ends first;
   * - `callers`: `callers` async loops sharing one pass over the tokens, a new verifier each round.
   */
  readonly kind: 'distinct' | 'repeat' | 'callers';
  readonly callers?: number;
}

export interface Timing {
  /** Rounds measured (the warm-up rounds are not counted). */
  readonly rounds: number;
  readonly warmupRounds: number;
  /** Length of a `repeat` batch. */
  readonly batchMs: number;
  /**
   * Most calls in one `repeat` batch (each gets its own copy of the token, made before the clock
   * starts; making 20 000 copies takes longer than a quick run's whole batch).
   */
  readonly repeatCalls: number;
}

/** Operations per second of each variant, one number per measured round. */
export type Samples = Map<string, number[]>;

async function call(verify: VerifyFn, token: string): Promise<void> {
  const result = verify(token);
  if (result instanceof Promise) await result;
}

/**
 * A new string with the same characters: in a server every request brings its token as a new
 * string, whose hash (for a cache lookup) nothing has computed yet.
 */
function copy(token: string): string {
  return Buffer.from(token, 'latin1').toString('latin1');
}

async function batch(workload: Workload, verify: VerifyFn, timing: Timing): Promise<number> {
  const tokens =
    workload.kind === 'repeat'
      ? Array.from({ length: timing.repeatCalls }, () => copy(workload.tokens[0]!))
      : workload.tokens.map(copy);
  // No forced collection between batches: after one, V8 shrinks the young generation and the
  // next batch pays for many more scavenges (whose helper threads also compete with the thread
  // pool). Rotating the order spreads the garbage of one batch over all variants instead.
  const start = performance.now();
  let ops = 0;
  if (workload.kind === 'distinct') {
    for (const token of tokens) {
      const result = verify(token);
      if (result instanceof Promise) await result;
    }
    ops = tokens.length;
  } else if (workload.kind === 'repeat') {
    do {
      for (const end = Math.min(ops + 256, tokens.length); ops < end; ops++) {
        const result = verify(tokens[ops]!);
        if (result instanceof Promise) await result;
      }
    } while (ops < tokens.length && performance.now() - start < timing.batchMs);
  } else {
    let next = 0;
    const caller = async () => {
      while (next < tokens.length) await verify(tokens[next++]!);
    };
    await Promise.all(Array.from({ length: workload.callers ?? 16 }, caller));
    ops = tokens.length;
  }
  return ops / ((performance.now() - start) / 1000);
}

/**
 * Measure every variant on one workload, interleaved: each round runs every variant once, in an
 * order that rotates from round to round, so drift on a noisy machine spreads over all of them.
 */
export async function measure(
  workload: Workload,
  variants: readonly Variant[],
  fixture: Fixture,
  timing: Timing,
): Promise<Samples> {
  const samples: Samples = new Map(variants.map((variant) => [variant.name, []]));
  const fresh = async (variant: Variant) => {
    const verify = await variant.create(fixture, workload.use);
    await call(verify, fixture.warmup[workload.use]);
    return verify;
  };
  const warm = new Map<string, VerifyFn>();
  if (workload.kind === 'repeat') {
    for (const variant of variants) warm.set(variant.name, await fresh(variant));
  }
  const total = timing.warmupRounds + timing.rounds;
  for (let round = 0; round < total; round++) {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + round) % variants.length]!;
      const verify = warm.get(variant.name) ?? (await fresh(variant));
      const opsPerSecond = await batch(workload, verify, timing);
      if (round >= timing.warmupRounds) samples.get(variant.name)!.push(opsPerSecond);
    }
  }
  return samples;
}

/**
 * Which rules a variant enforces, found by trying one token that breaks each rule (and checking
 * that a good token passes). A rule it lets through is reported, not hidden.
 */
export async function probeChecks(
  variant: Variant,
  fixture: Fixture,
  use: TokenUse,
): Promise<Record<Rule, boolean>> {
  const verify = await variant.create(fixture, use);
  await call(verify, fixture.warmup[use]);
  const enforced = {} as Record<Rule, boolean>;
  for (const rule of RULES) {
    enforced[rule] = await call(verify, fixture.badTokens[use][rule]).then(
      () => false,
      () => true,
    );
  }
  return enforced;
}

/**
 * CPU time of this process in milliseconds. Hot-path measures use it rather than the wall clock:
 * on a shared machine a tight loop waits for a core, and that wait is not the code's cost.
 */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
