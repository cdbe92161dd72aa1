import { parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-code.ts';
import { readToken } from '../input.ts';
import { renderToken } from '../render-token.ts';
import { describeToken, type TokenReport } from '../token-report.ts';

const HELP = `Usage: cognito-jwt inspect [TOKEN|-] [--audience URI ...] [--json]

Decode a Cognito token WITHOUT verifying it, and explain it: the kind (ID, access,
client-credentials access, or refresh token, or an Application Load Balancer's
x-amzn-oidc-data with its signer), the user pool and region from iss, the
client, groups and scopes, the times as dates and in words ("expires in 42 min"), and
warnings (expired, no kid, unexpected alg, an ID token where APIs want an access token).
Nothing is verified: use "cognito-jwt verify" for that.

The token is read from the argument, or from stdin when the argument is "-" or missing
and stdin is not a terminal. "Authorization: Bearer" and quotes around it are removed.
Prefer stdin: an argument ends up in your shell history.

The summary names what an access token is bound to (resource, from aud), the authentication
level (acr) and methods (amr).

Options:
  --audience URI  warn unless the access token is bound to this resource (aud; repeatable)
  --json       print one JSON object (with "verified": false) instead of text
  --debug      print the stack of an error
  -h, --help   show this help

Examples:
  pbpaste | cognito-jwt inspect
  cognito-jwt inspect - < token.txt
  cognito-jwt inspect "$ACCESS_TOKEN" --json | jq -r .times.exp.relative

Exit codes: 0 decoded, 1 not a JWT, 2 usage.`;

/**
 * `cognito-jwt inspect`: decode and explain a token without verifying it.
 *
 * ```ts
 * await inspectCommand.run([token, '--json'], { terminal: processTerminal(), stdin: process.stdin, now: Date.now });
 * ```
 */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'decode and explain a token, without verifying it',
  help: HELP,
  async run(args, { terminal, stdin, now }) {
    const { values, positionals } = parseCommand(
      'inspect',
      args,
      { json: { type: 'boolean' }, audience: { type: 'string', multiple: true } },
      1,
      { tokenPositional: true },
    );
    const token = await readToken('inspect', positionals[0], stdin);
    const described = describeToken(token, now() / 1000);
    const report = values.audience ? withAudienceWarning(described, values.audience) : described;
    const { out } = terminal;
    if (values.json) {
      out.line(JSON.stringify({ verified: false, ...report }, null, 2));
      return EXIT.ok;
    }
    renderToken(
      out,
      report,
      out.paint(['bold', 'yellow'], 'NOT VERIFIED: decoded only, nothing was checked'),
    );
    const hint = verifyHint(report);
    if (hint) out.line(out.paint('dim', `To verify it: ${hint}`));
    return EXIT.ok;
  },
};

// Values from the token appear in a command people copy: only plain ones, never shell syntax.
const SHELL_SAFE = /^[\w.:/@+=-]+$/;

function shellSafe(value: string | undefined, placeholder: string): string {
  return value !== undefined && SHELL_SAFE.test(value) ? value : placeholder;
}

function verifyHint(report: TokenReport): string | undefined {
  if (report.kind === 'alb')
    return "in your code, with AlbVerifier from cognito-jwt/alb and your load balancer's ARN";
  if (report.kind !== 'id' && report.kind !== 'access' && report.kind !== 'client-credentials')
    return undefined;
  const pool = shellSafe(report.issuer?.userPoolId, 'POOL_ID');
  const client = shellSafe(report.client?.id, 'CLIENT_ID');
  const issuer =
    report.issuer && !report.issuer.cognito
      ? ` --issuer ${shellSafe(report.issuer.issuer, 'ISSUER_URL')}`
      : '';
  const use = report.kind === 'id' ? 'id' : 'access';
  return `cognito-jwt verify - --user-pool-id ${pool} --client-id ${client} --token-use ${use}${issuer}`;
}

/** The report, with a warning when the token is not bound to any of the resources expected. */
function withAudienceWarning(report: TokenReport, audience: readonly string[]): TokenReport {
  const expected = audience.map((uri) => JSON.stringify(uri)).join(' or ');
  if (report.kind === 'id') {
    return {
      ...report,
      warnings: [
        ...report.warnings,
        `--audience ${expected}: an ID token's aud is its app client, never a resource`,
      ],
    };
  }
  const resources = report.resources ?? [];
  if (resources.some((uri) => audience.includes(uri))) return report;
  const found =
    resources.length === 0 ? 'no resource (no aud)' : resources.map((uri) => JSON.stringify(uri)).join(', ');
  return {
    ...report,
    warnings: [
      ...report.warnings,
      `not bound to ${expected}: bound to ${found}; a verifier with audience set refuses it`,
    ],
  };
}
