import { type Channel, rows } from './output.ts';
import { printable, wrap } from './text.ts';
import type { TokenReport } from './token-report.ts';

const TIME_LABELS: Record<string, string> = {
  iat: 'issued',
  auth_time: 'signed in',
  nbf: 'not before',
  exp: 'expires',
};

/**
 * Print a {@link TokenReport} for people: a summary (pool, region, client, user, groups, scopes,
 * times in words), the header, every claim (control characters escaped), and the warnings.
 * The first line is the caller's verdict (`NOT VERIFIED` for inspect, `valid` for verify);
 * `warnings: false` leaves the warnings out (a verified token already passed every check).
 *
 * ```ts
 * renderToken(terminal.out, describeToken(token, Date.now() / 1000), 'NOT VERIFIED');
 * ```
 */
export function renderToken(
  out: Channel,
  report: TokenReport,
  verdict: string,
  options: { warnings?: boolean } = {},
): void {
  out.line(`${out.paint('bold', report.title)}  ${verdict}`);
  for (const line of wrap(report.explanation, 94)) out.line(`  ${line}`);
  out.line();
  const summary = summaryRows(report);
  if (summary.length > 0) {
    rows(out, summary);
    out.line();
  }
  section(out, 'header', Object.entries(report.header));
  if (report.claims) section(out, 'claims', Object.entries(report.claims), report);
  if (options.warnings !== false && report.warnings.length > 0) {
    out.line(out.paint('bold', 'warnings'));
    for (const warning of report.warnings) out.line(`  ${out.paint('yellow', `! ${warning}`)}`);
  }
}

function summaryRows(report: TokenReport): [string, string][] {
  const summary: [string, string][] = [];
  const { issuer } = report;
  if (issuer) {
    if (issuer.userPoolId) {
      summary.push([
        'user pool',
        `${printable(issuer.userPoolId)}${issuer.region ? ` (region ${issuer.region})` : ''}`,
      ]);
    }
    summary.push([
      'issuer',
      `${printable(issuer.issuer)}${issuer.cognito ? '' : ' (not a Cognito issuer: an emulator or another provider)'}`,
    ]);
  }
  if (report.loadBalancer) {
    const { arn, region, account } = report.loadBalancer;
    const where = region === undefined ? '' : ` (region ${region}, account ${account})`;
    summary.push(['signer', `${printable(arn)}${where}`]);
  }
  if (report.client) summary.push(['client', `${printable(report.client.id)} (${report.client.claim})`]);
  if (report.username !== undefined) summary.push(['username', printable(report.username)]);
  if (report.groups.length > 0) summary.push(['groups', report.groups.map(printable).join(', ')]);
  if (report.scopes.length > 0) summary.push(['scopes', report.scopes.map(printable).join(' ')]);
  if (report.kind === 'access' || report.kind === 'client-credentials') {
    const resources = report.resources ?? [];
    summary.push([
      'resource',
      resources.length > 0
        ? `${resources.map(printable).join(', ')} (aud)`
        : 'none (not bound to a resource: no aud)',
    ]);
  }
  if (report.acr !== undefined) summary.push(['level', `${printable(report.acr)} (acr)`]);
  if (report.amr !== undefined && report.amr.length > 0)
    summary.push(['methods', `${report.amr.map(printable).join(', ')} (amr)`]);
  for (const [claim, time] of Object.entries(report.times)) {
    summary.push([TIME_LABELS[claim] ?? claim, `${time.iso}  ${time.relative}`]);
  }
  summary.push(['token', `${printable(report.prefix)}… (${report.length} characters)`]);
  return summary;
}

function section(out: Channel, title: string, entries: [string, unknown][], report?: TokenReport): void {
  out.line(out.paint('bold', title));
  if (entries.length === 0) out.line(`  ${out.paint('dim', '(empty)')}`);
  rows(
    out,
    entries.map(([name, value]) => {
      const time = report?.times[name];
      return [printable(name), time ? `${value}  ${out.paint('dim', time.iso)}` : printable(value)];
    }),
  );
  out.line();
}
