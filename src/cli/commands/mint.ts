import {
  type MintOptions,
  mintAccessToken,
  mintClientCredentialsToken,
  mintIdToken,
} from '../../testing/mint.ts';
import { oneOf, parseCommand, required, urlOption, usageError, userPoolIdOption } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-code.ts';
import { readKeyFile } from '../key-file.ts';
import { printable } from '../text.ts';
import { parseDuration, parseTime } from '../time.ts';

const HELP = `Usage: cognito-jwt mint --key FILE --user-pool-id ID --client-id ID --token-use id|access
                        [--client-credentials] [--group G ...] [--scope S ...] [--claim k=v ...]
                        [--resource URI ...] [--acr LEVEL] [--amr METHOD ...]
                        [--expires-in 1h] [--issued-at TIME] [--issuer URL] [--sub S] [--username U]

Mint a Cognito-shaped TEST token signed with a key from "cognito-jwt keys generate", for local
development and tests. The token goes to stdout; a loud note that it is a test token goes to
stderr. Only verifiers that trust your test key's public JWKS accept it.

Options:
  --key FILE              the private key file written by "keys generate"
  --user-pool-id ID       the pool, e.g. us-east-1_TestPool1 (the issuer derives from it)
  --client-id ID          the app client (aud of ID tokens, client_id of access tokens)
  --token-use USE         id or access
  --client-credentials    with --token-use access: a machine-to-machine token (sub = client id,
                          no username, no groups)
  --group G               add to cognito:groups (repeatable)
  --scope S               add to scope (repeatable; access tokens)
  --resource URI          access tokens: bind the token to this resource (aud), as Cognito does
                          when the client sends resource= (repeat for an array)
  --acr LEVEL             the authentication level reached: 1 to 4 (urn:cognito:loa:N) or a name
  --amr METHOD            an authentication method used, e.g. pwd, otp, mfa (repeatable)
  --claim k=v             set or override a claim (repeatable); v is read as JSON when it parses
                          (42, true, ["a"], {"x":1}), else as a string: --claim custom:tenant=acme
  --expires-in D          lifetime: 3600, 90s, 15m, 1h, 7d; negative for an expired token
                          (write it --expires-in=-1h) (default 1h)
  --issued-at TIME        iat and auth_time: ISO date or epoch seconds (default now)
  --issuer URL            the issuer, e.g. a JWKS server on loopback (http: only on loopback)
  --sub S                 the subject (default: a random UUID)
  --username U            cognito:username / username (default: the sub)
  --debug                 print the stack of an error
  -h, --help              show this help

Examples:
  cognito-jwt keys generate -o test-key.json > test-jwks.json
  cognito-jwt mint --key test-key.json --user-pool-id us-east-1_Test --client-id app \\
    --token-use access --scope orders/read --group admin
  cognito-jwt mint --key test-key.json --user-pool-id us-east-1_Test --client-id app \\
    --token-use id --claim custom:tenant=acme --expires-in=-5m | cognito-jwt inspect
  cognito-jwt mint --key test-key.json --user-pool-id us-east-1_Test --client-id app \
    --token-use access --resource https://api.example.com --acr 2 --amr pwd --amr mfa

Exit codes: 0 minted, 2 usage (bad option, unreadable key file).`;

const OPTIONS = {
  key: { type: 'string' },
  'user-pool-id': { type: 'string' },
  'client-id': { type: 'string' },
  'token-use': { type: 'string' },
  'client-credentials': { type: 'boolean' },
  group: { type: 'string', multiple: true },
  scope: { type: 'string', multiple: true },
  claim: { type: 'string', multiple: true },
  'expires-in': { type: 'string' },
  'issued-at': { type: 'string' },
  issuer: { type: 'string' },
  sub: { type: 'string' },
  username: { type: 'string' },
  resource: { type: 'string', multiple: true },
  acr: { type: 'string' },
  amr: { type: 'string', multiple: true },
} as const;

/**
 * `cognito-jwt mint`: a Cognito-shaped test token from a local key.
 *
 * ```ts
 * await mintCommand.run(['--key', 'test-key.json', '--user-pool-id', 'us-east-1_T1', '--client-id', 'app', '--token-use', 'id'], context);
 * ```
 */
export const mintCommand: Command = {
  name: 'mint',
  summary: 'mint a Cognito-shaped TEST token with a local key',
  help: HELP,
  async run(args, { terminal }) {
    const { values } = parseCommand('mint', args, OPTIONS, 0);
    const keyFile = required('mint', '--key', values.key);
    const tokenUse = oneOf('mint', '--token-use', required('mint', '--token-use', values['token-use']), [
      'id',
      'access',
    ]);
    if (values['client-credentials'] && tokenUse !== 'access') {
      throw usageError('mint', '--client-credentials needs --token-use access');
    }
    if (values.resource && tokenUse !== 'access') {
      throw usageError('mint', "--resource binds access tokens: an ID token's aud is its app client");
    }
    if (values['client-credentials'] && values.group) {
      throw usageError('mint', 'client-credentials tokens carry no groups: drop --group');
    }
    const options: MintOptions = {
      key: await readKeyFile(keyFile),
      userPoolId: userPoolIdOption('mint', required('mint', '--user-pool-id', values['user-pool-id'])),
      clientId: required('mint', '--client-id', values['client-id']),
      expiresIn:
        values['expires-in'] === undefined
          ? 3600
          : parseDuration('--expires-in', values['expires-in'], { allowNegative: true }),
      ...(values['issued-at'] !== undefined ? { now: parseTime('--issued-at', values['issued-at']) } : {}),
      ...(values.issuer !== undefined ? { issuer: urlOption('mint', '--issuer', values.issuer) } : {}),
      ...(values.group ? { groups: values.group } : {}),
      ...(values.scope ? { scope: values.scope } : {}),
      ...(values.sub !== undefined ? { sub: values.sub } : {}),
      ...(values.username !== undefined ? { username: values.username } : {}),
      ...(values.resource
        ? { resource: values.resource.length === 1 ? values.resource[0]! : values.resource }
        : {}),
      ...(values.acr !== undefined ? { acr: acrName(values.acr) } : {}),
      ...(values.amr ? { amr: values.amr } : {}),
      ...(values.claim ? { claims: parseClaims(values.claim) } : {}),
    };
    const mint =
      tokenUse === 'id'
        ? mintIdToken
        : values['client-credentials']
          ? mintClientCredentialsToken
          : mintAccessToken;
    terminal.out.line(mint(options));
    const { err } = terminal;
    err.line(
      err.paint(
        ['bold', 'yellow'],
        `⚠ TEST TOKEN: signed by your local key ${printable(options.key.kid)} (${keyFile}), not by Cognito.`,
      ),
    );
    err.line(
      err.paint(
        'yellow',
        "  Only verifiers given that key's public JWKS accept it. Never trust test keys in production.",
      ),
    );
    return EXIT.ok;
  },
};

/** `--acr 2` is Cognito's `urn:cognito:loa:2`; any other text is a level name as written. */
function acrName(value: string): string {
  if (/^[1-4]$/.test(value)) return `urn:cognito:loa:${value}`;
  if (value === '' || /\s/.test(value))
    throw usageError('mint', `--acr must be 1 to 4 or a level name, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * `--claim k=v` values as claims: `v` is JSON when it parses as JSON, otherwise the string itself.
 *
 * ```ts
 * parseClaims(['custom:tenant=acme', 'custom:level=3']); // { 'custom:tenant': 'acme', 'custom:level': 3 }
 * ```
 */
export function parseClaims(pairs: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0)
      throw usageError('mint', `--claim must look like name=value, got ${JSON.stringify(pair)}`);
    const raw = pair.slice(equals + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: the text itself is the value
    }
    Object.defineProperty(claims, pair.slice(0, equals), {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return claims;
}
