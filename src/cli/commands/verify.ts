import { CognitoJwtError } from '../../errors.ts';
import type { JwksSnapshot } from '../../keys/jwks-cache.ts';
import type { VerifierConfig } from '../../verify/config.ts';
import { CognitoVerifier } from '../../verify/verifier.ts';
import { describeAlbToken } from '../alb-report.ts';
import { oneOf, parseCommand, required, urlOption, usageError, userPoolIdOption } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-code.ts';
import { cleanToken, isUrl, readJsonFile, readToken } from '../input.ts';
import { renderToken } from '../render-token.ts';
import { parseDuration, parseTime } from '../time.ts';
import { describeToken } from '../token-report.ts';

const HELP = `Usage: cognito-jwt verify [TOKEN|-] --user-pool-id ID --client-id ID --token-use id|access|any
                          [--audience URI ...] [--group G ...] [--scope S ...]
                          [--jwks FILE|URL] [--issuer URL]
                          [--at TIME] [--clock-tolerance S] [--json]

Verify a token fully with the library: RS256 signature against the pool's JWKS, issuer,
client (aud or client_id), token_use, expiry, and the groups and scopes asked for.
Prints the claims when the token is valid; the error code and message otherwise.

The token is read from the argument, or from stdin ("-", or when piped).

Options:
  --user-pool-id ID      the pool, e.g. eu-west-1_AbC123 (the issuer and JWKS URL derive from it)
  --client-id ID         an accepted app client id; repeat for several; "any" accepts every client
  --token-use USE        id, access, or any
  --audience URI         with --token-use access: the token must be bound to this resource
                         (its aud, RFC 8707; repeatable: any one of them)
  --group G              require one of these cognito:groups (repeatable)
  --scope S              require one of these scopes (repeatable)
  --jwks FILE|URL        keys from a JWKS file (e.g. saved by "keys fetch"; no network at all)
                         or from this URL instead of the pool's
  --issuer URL           the issuer, for emulators (http: only on loopback):
                         http://127.0.0.1:9229/local_AbC123
  --at TIME              verify as of another moment: ISO date or epoch seconds
                         (investigate an old token: was it valid when it was used?)
  --clock-tolerance S    seconds of clock skew allowed on exp/nbf/iat (0 to 300; 30s, 2m)
  --json                 print {"valid": true, "claims": …} (or {"error": …}) as JSON
  --debug                print the stack of an error
  -h, --help             show this help

Examples:
  pbpaste | cognito-jwt verify --user-pool-id eu-west-1_AbC123 --client-id 1example23456789 --token-use access
  cognito-jwt verify - --user-pool-id eu-west-1_AbC123 --client-id any --token-use id --jwks jwks.json < token.txt
  cognito-jwt verify "$TOKEN" --user-pool-id eu-west-1_AbC123 --client-id any --token-use access \\
    --scope orders/read --at 2024-05-01T12:00:00Z --json

Exit codes: 0 valid, 1 invalid token (or lacks a group/scope), 2 usage or configuration,
3 keys unavailable (JWKS cannot be fetched or holds no usable key).`;

const OPTIONS = {
  'user-pool-id': { type: 'string' },
  'client-id': { type: 'string', multiple: true },
  'token-use': { type: 'string' },
  audience: { type: 'string', multiple: true },
  group: { type: 'string', multiple: true },
  scope: { type: 'string', multiple: true },
  jwks: { type: 'string' },
  issuer: { type: 'string' },
  at: { type: 'string' },
  'clock-tolerance': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/**
 * `cognito-jwt verify`: verify a token with the library and print its claims.
 *
 * ```ts
 * const exitCode = await verifyCommand.run([token, '--user-pool-id', 'eu-west-1_AbC123', '--client-id', 'app', '--token-use', 'access'], context);
 * ```
 */
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify a token (signature, issuer, client, token_use, times, groups, scopes)',
  help: HELP,
  async run(args, { terminal, stdin, now }) {
    const { values, positionals } = parseCommand('verify', args, OPTIONS, 1, { tokenPositional: true });
    // A load balancer token given as the argument is named before the flags it could never satisfy.
    const argument = positionals[0];
    if (argument !== undefined && argument !== '-') refuseAlbToken(cleanToken(argument), now());
    const clientIds = required('verify', '--client-id', values['client-id']);
    const tokenUse = oneOf('verify', '--token-use', required('verify', '--token-use', values['token-use']), [
      'id',
      'access',
      'any',
    ]);
    const jwks = values.jwks;
    const config: VerifierConfig = {
      userPoolId: userPoolIdOption('verify', required('verify', '--user-pool-id', values['user-pool-id'])),
      clientId: clientIds.includes('any') ? null : clientIds,
      tokenUse: tokenUse === 'any' ? null : tokenUse,
      ...(values.audience ? { audience: audienceFor(tokenUse, values.audience) } : {}),
      ...(values.group ? { groups: values.group } : {}),
      ...(values.scope ? { scopes: values.scope } : {}),
      ...(values.issuer !== undefined ? { issuer: urlOption('verify', '--issuer', values.issuer) } : {}),
      ...(jwks !== undefined && isUrl(jwks) ? { jwksUri: urlOption('verify', '--jwks', jwks) } : {}),
      ...(values['clock-tolerance'] !== undefined
        ? { clockToleranceSeconds: parseDuration('--clock-tolerance', values['clock-tolerance']) }
        : {}),
    };
    const at = values.at === undefined ? undefined : parseTime('--at', values.at);
    const clock = at === undefined ? now : () => at;
    const verifier = new CognitoVerifier(config, { clock });
    if (jwks !== undefined && !isUrl(jwks)) {
      const snapshot = (await readJsonFile(jwks, 'the JWKS file')) as JwksSnapshot;
      // pinned: a JWKS file means offline, so an unknown kid fails instead of reaching the network
      for (const { jwksUri } of verifier.issuers)
        verifier.jwksCache.loadSnapshot(jwksUri, snapshot, { pinned: true });
    }

    const token = await readToken('verify', positionals[0], stdin);
    refuseAlbToken(token, now());
    const claims = await verifier.verify(token);
    const checkedAt = new Date(clock());
    const report = describeToken(token, checkedAt.getTime() / 1000);
    const { out } = terminal;
    if (values.json) {
      out.line(
        JSON.stringify(
          { valid: true, kind: report.kind, checkedAt: checkedAt.toISOString(), claims },
          null,
          2,
        ),
      );
      return EXIT.ok;
    }
    const checks = [
      'signature',
      'issuer',
      config.clientId === null ? undefined : 'client',
      config.tokenUse === null ? undefined : 'token_use',
      config.audience === undefined ? undefined : 'audience',
      'times',
      config.groups === undefined ? undefined : 'groups',
      config.scopes === undefined ? undefined : 'scopes',
    ].filter(Boolean);
    const when = at === undefined ? '' : ` as of ${checkedAt.toISOString()}`;
    renderToken(out, report, out.paint(['bold', 'green'], `✔ VALID: ${checks.join(', ')} checked${when}`), {
      warnings: false,
    });
    return EXIT.ok;
  },
};

/**
 * `verify` checks Cognito tokens; a load balancer's `x-amzn-oidc-data` is said to be one, with the
 * way to verify it, instead of failing on its padded base64url (exit 1, as for any token refused).
 */
function refuseAlbToken(token: string, nowMs: number): void {
  const alb = describeAlbToken(token, nowMs / 1000);
  if (alb === undefined) return;
  const where = alb.loadBalancer.region === undefined ? '' : ` (signer in ${alb.loadBalancer.region})`;
  throw new CognitoJwtError(
    'ERR_TOKEN_MALFORMED',
    `this is an Application Load Balancer token (x-amzn-oidc-data${where}), signed by the load ` +
      'balancer, not by Cognito: "cognito-jwt verify" checks Cognito ID and access tokens. Verify it ' +
      "in your code with AlbVerifier from cognito-jwt/alb and your load balancer's ARN; " +
      '"cognito-jwt inspect" decodes it',
  );
}

function audienceFor(tokenUse: string, audience: string[]): string[] {
  if (tokenUse !== 'access') {
    throw usageError(
      'verify',
      "--audience needs --token-use access: an ID token's aud is its app client, so it cannot prove a resource binding",
    );
  }
  return audience;
}
