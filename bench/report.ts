import type { ColdStart } from './cold-start.ts';
import { RULES, type Rule } from './fixtures.ts';
import type { Flood } from './flood.ts';
import { median, type Samples, type Workload } from './measure.ts';
import type { Memory } from './memory.ts';
import type { Variant } from './variants.ts';

export interface VariantResult {
  readonly variant: string;
  readonly medianOpsPerSec: number;
  readonly microsecondsPerOp: number;
  /** Median ops/s divided by the median ops/s of `limit` in the same workload. */
  readonly ratioToLimit: number;
  readonly minOpsPerSec: number;
  readonly maxOpsPerSec: number;
  readonly samples: readonly number[];
}

export interface WorkloadResult {
  readonly name: string;
  readonly title: string;
  readonly use: string;
  readonly kind: string;
  readonly tokens: number;
  readonly results: readonly VariantResult[];
}

export interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

export interface VariantChecks {
  readonly variant: string;
  readonly library: string;
  readonly note: string;
  readonly reference: boolean;
  /** For each token use, whether a token breaking each rule was rejected. */
  readonly checks: Record<string, Record<Rule, boolean>>;
}

export function summarize(workload: Workload, samples: Samples): WorkloadResult {
  const limit = median(samples.get('limit') ?? [Number.NaN]);
  const results = [...samples].map(([variant, values]): VariantResult => {
    const ops = median(values);
    return {
      variant,
      medianOpsPerSec: ops,
      microsecondsPerOp: 1e6 / ops,
      ratioToLimit: ops / limit,
      minOpsPerSec: Math.min(...values),
      maxOpsPerSec: Math.max(...values),
      samples: values,
    };
  });
  return {
    name: workload.name,
    title: workload.title,
    use: workload.use,
    kind: workload.kind,
    tokens: workload.kind === 'repeat' ? 1 : workload.tokens.length,
    results,
  };
}

const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const fixed = (value: number, digits: number) => value.toFixed(digits);

/** Plain text for the terminal, or Markdown for the README (`--markdown FILE`). */
export type Style = 'text' | 'markdown';

/** `align` has one letter per column: `l` left, `r` right. */
function table(
  title: string,
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: string,
  style: Style,
): string {
  if (style === 'markdown') {
    const line = (cells: readonly string[]) =>
      `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
    const rule = `| ${header.map((_, column) => (align[column] === 'r' ? '---:' : '---')).join(' | ')} |`;
    return [`**${title}**`, '', line(header), rule, ...rows.map(line)].join('\n');
  }
  const widths = header.map((name, column) =>
    Math.max(name.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        align[column] === 'r' ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [title, line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function checksLabel(checks: VariantChecks | undefined, use: string): string {
  if (!checks) return '';
  if (checks.reference) return 'signature only';
  const missing = RULES.filter((rule) => !checks.checks[use]?.[rule]);
  return missing.length === 0 ? 'all 5' : `MISSING ${missing.join(', ')}`;
}

export function formatWorkload(
  result: WorkloadResult,
  checks: readonly VariantChecks[],
  style: Style = 'text',
): string {
  const rows = result.results.map((row) => [
    row.variant,
    integer(row.medianOpsPerSec),
    fixed(row.microsecondsPerOp, row.microsecondsPerOp < 10 ? 2 : 1),
    fixed(row.ratioToLimit, row.ratioToLimit < 10 ? 2 : 0),
    `${integer(row.minOpsPerSec)}-${integer(row.maxOpsPerSec)}`,
    checksLabel(
      checks.find((item) => item.variant === row.variant),
      result.use,
    ),
  ]);
  return table(
    result.title,
    ['variant', 'ops/s', 'µs/op', '× limit', 'range ops/s', 'checks'],
    rows,
    'lrrrrl',
    style,
  );
}

const range = ([low, high]: readonly [number, number]) => `${fixed(low, 1)}–${fixed(high, 1)}`;

export function formatColdStarts(coldStarts: readonly ColdStart[], style: Style = 'text'): string {
  const rows = coldStarts.map((row) => [
    row.variant,
    fixed(row.importMs, 1),
    range(row.importRangeMs),
    fixed(row.importToVerifiedMs, 1),
    range(row.importToVerifiedRangeMs),
    fixed(row.processStartToVerifiedMs, 1),
    fixed(row.cpuToVerifiedMs, 1),
    range(row.cpuToVerifiedRangeMs),
    String(row.runs),
  ]);
  return table(
    'Cold start: fresh process, import → verifier → first token verified, JWKS over loopback HTTP (medians, and the fastest–slowest run)',
    [
      'variant',
      'import ms',
      'min–max',
      'import→verified ms',
      'min–max',
      'process start→verified ms',
      'CPU ms to verified',
      'min–max',
      'runs',
    ],
    rows,
    'lrrrrrrrr',
    style,
  );
}

export function formatFloods(
  floods: readonly Flood[],
  tokens: number,
  wave: number,
  style: Style = 'text',
): string {
  const rows = floods.map((row) => [
    row.library,
    String(row.fetches),
    row.allRejected ? 'yes' : 'NO',
    fixed(row.durationMs, 0),
    row.note,
  ]);
  return table(
    `Unknown-kid flood: ${integer(tokens)} tokens with unknown kids, ${wave} at a time, keys loaded just before`,
    ['library', 'JWKS fetches', 'all rejected', 'ms', 'how'],
    rows,
    'lrrrl',
    style,
  );
}

export function formatMemory(memory: readonly Memory[], style: Style = 'text'): string {
  const rows = memory.map((row) => [
    row.cache ? 'cognito-jwt verifySync, default cache' : 'cognito-jwt verifySync, no cache',
    integer(row.tokens),
    integer(row.cachedTokens),
    fixed(row.heapGrowthMB, 1),
    fixed(row.peakHeapUsedMB, 1),
    fixed(row.rssBeforeMB, 1),
    fixed(row.peakRssMB, 1),
  ]);
  return table(
    'Memory: distinct tokens through one verifier, fresh process',
    ['variant', 'tokens', 'cached', 'heap growth MB', 'peak heap MB', 'RSS before MB', 'peak RSS MB'],
    rows,
    'lrrrrrr',
    style,
  );
}

function resultOf(
  workloads: readonly WorkloadResult[],
  workload: string,
  variant: string,
): VariantResult | undefined {
  return workloads.find((item) => item.name === workload)?.results.find((row) => row.variant === variant);
}

/** The targets, measured in this run. */
export function evaluateTargets(
  workloads: readonly WorkloadResult[],
  variants: readonly Variant[],
  coldStarts: readonly ColdStart[],
  floods: readonly Flood[],
  memory: readonly Memory[],
): Target[] {
  const targets: Target[] = [];
  const peers = variants.filter((variant) => !variant.reference && variant.library !== 'cognito-jwt');
  for (const workload of ['access-distinct', 'id-distinct']) {
    const best = peers
      .map((peer) => resultOf(workloads, workload, peer.name))
      .filter((row) => row !== undefined)
      .sort((a, b) => b.medianOpsPerSec - a.medianOpsPerSec)[0];
    for (const name of ['cognito-jwt verifySync', 'cognito-jwt verifySync, no cache']) {
      const ours = resultOf(workloads, workload, name);
      if (!ours || !best) continue;
      targets.push({
        target: `${workload}, ${name}: ≥ 0.9 × limit and ahead of every peer`,
        measured: `${fixed(ours.ratioToLimit, 2)} × limit; best peer ${best.variant} ${fixed(best.ratioToLimit, 2)} ×`,
        met: ours.ratioToLimit >= 0.9 && ours.medianOpsPerSec > best.medianOpsPerSec,
      });
    }
  }
  const fastJwtCache = resultOf(workloads, 'access-repeat', 'fast-jwt, cache');
  for (const name of ['cognito-jwt verifySync', 'cognito-jwt verify']) {
    const ours = resultOf(workloads, 'access-repeat', name);
    if (!ours || !fastJwtCache) continue;
    const versus = ours.medianOpsPerSec / fastJwtCache.medianOpsPerSec;
    targets.push({
      target: `access-repeat, ${name} (cache on): ≥ 30 × limit and ≥ 3 × fast-jwt with its cache`,
      measured: `${fixed(ours.ratioToLimit, 0)} × limit; ${fixed(versus, 1)} × fast-jwt, cache`,
      met: ours.ratioToLimit >= 30 && versus >= 3,
    });
  }
  for (const name of ['cognito-jwt verify', 'cognito-jwt verify, no cache']) {
    const ours = resultOf(workloads, 'access-16-callers', name);
    if (!ours) continue;
    targets.push({
      target: `access-16-callers, ${name}: ≥ 1.3 × the single-thread limit`,
      measured: `${fixed(ours.ratioToLimit, 2)} × limit`,
      met: ours.ratioToLimit >= 1.3,
    });
  }
  const flood = floods.find((row) => row.library === 'cognito-jwt');
  if (flood) {
    targets.push({
      target: 'unknown-kid flood: ≤ 1 JWKS fetch',
      measured: `${flood.fetches} fetch(es), all rejected: ${flood.allRejected}`,
      met: flood.fetches <= 1 && flood.allRejected,
    });
  }
  const cached = memory.find((row) => row.cache);
  if (cached) {
    targets.push({
      target: `${integer(cached.tokens)} distinct tokens, default cache: heap growth ≤ 64 MB`,
      measured: `${fixed(cached.heapGrowthMB, 1)} MB (${integer(cached.cachedTokens)} cached; peak RSS ${fixed(cached.peakRssMB, 0)} MB)`,
      met: cached.heapGrowthMB <= 64,
    });
  }
  const ours = coldStarts.find((row) => row.variant === 'cognito-jwt');
  const aws = coldStarts.find((row) => row.variant === 'aws-jwt-verify');
  if (ours && aws) {
    targets.push({
      target: 'cold start: importing the package root no slower than aws-jwt-verify',
      measured: `${fixed(ours.importMs, 1)} ms vs ${fixed(aws.importMs, 1)} ms`,
      met: ours.importMs <= aws.importMs,
    });
    targets.push({
      target: 'cold start (import → first verified token) no slower than aws-jwt-verify',
      measured: `${fixed(ours.importToVerifiedMs, 1)} ms vs ${fixed(aws.importToVerifiedMs, 1)} ms`,
      met: ours.importToVerifiedMs <= aws.importToVerifiedMs,
    });
  }
  return targets;
}

export function formatTargets(targets: readonly Target[], style: Style = 'text'): string {
  return table(
    'Targets',
    ['', 'target', 'measured'],
    targets.map((row) => [row.met ? 'met' : 'NOT MET', row.target, row.measured]),
    'lll',
    style,
  );
}
