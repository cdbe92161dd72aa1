import { CognitoJwtError } from '../../errors.ts';
import type { RevocationEntry } from '../../revocation/entries.ts';
import { RevocationList, requireRedisPackage } from '../../revocation/list.ts';
import { parseCommand, required, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-code.ts';
import { rows } from '../output.ts';
import { printable } from '../text.ts';
import { parseTime } from '../time.ts';

const HELP = `Usage: cognito-jwt revoke --redis URL --origin-jti ID [--user-pool-id POOL]
       cognito-jwt revoke --redis URL --sub SUB --user-pool-id POOL [--cutoff TIME]
       cognito-jwt revoke --redis URL --list [--json]

Add to the revocation list that verifiers read through cognito-jwt/revocation (Redis store):
every process refuses the tokens within milliseconds, without waiting for them to expire.

  --origin-jti ID    one session: every ID and access token with this origin_jti
                     (one refresh token and every token issued from it)
  --sub SUB          every token of this user in --user-pool-id issued at or before --cutoff
                     (what GlobalSignOut / AdminUserGlobalSignOut mean; also catches tokens
                     without origin_jti)
  --list             print the entries the list holds now

Options:
  --redis URL          redis://[user:password@]host:port[/db] or rediss:// (TLS)
  --user-pool-id POOL  the pool, e.g. eu-west-1_AbC123 (with --sub: required; with
                       --origin-jti: the entry then lives for that pool's token lifetime)
  --cutoff TIME        ISO date or epoch seconds; default now (one-second resolution, inclusive)
  --lifetime SECONDS   the longest ID/access token lifetime of the pool (default 86400, one day):
                       how long the entry must live
  --key-prefix PREFIX  the prefix the verifiers use (default cognito-jwt:revocation:)
  --timeout MS         how long to wait for Redis (default 5000)
  --json               print the result (or the entries) as JSON
  --debug              print the stack of an error
  -h, --help           show this help

Examples:
  cognito-jwt revoke --redis redis://127.0.0.1:6379 --origin-jti 3f6c1e0a-8d0b-4a4e-9a8e-0d5b8f0c2a11
  cognito-jwt revoke --redis redis://127.0.0.1:6379 --sub 7d8e9f00-1111-2222-3333-444455556666 \\
    --user-pool-id eu-west-1_AbC123
  cognito-jwt revoke --redis redis://127.0.0.1:6379 --list --json

Exit codes: 0 done, 2 usage, 3 Redis unavailable (nothing was revoked: retry).`;

const OPTIONS = {
  redis: { type: 'string' },
  'origin-jti': { type: 'string' },
  sub: { type: 'string' },
  'user-pool-id': { type: 'string' },
  cutoff: { type: 'string' },
  lifetime: { type: 'string' },
  'key-prefix': { type: 'string' },
  timeout: { type: 'string' },
  list: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`: a password never reaches the output. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(the --redis URL)';
  }
}

function wholeNumber(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw usageError('revoke', `${option} must be a whole number greater than 0`);
  }
  return number;
}

function describeEntry(entry: RevocationEntry): [string, string] {
  const until = new Date(entry.expiresAt).toISOString();
  return entry.kind === 'session'
    ? [`session ${printable(entry.originJti)}`, `until ${until}`]
    : [
        `user ${printable(entry.userPoolId)} ${printable(entry.sub)}`,
        `issued at or before ${new Date(entry.cutoffSeconds * 1000).toISOString()}, until ${until}`,
      ];
}

/**
 * `cognito-jwt revoke`: revoke a session or a user in the Redis revocation list, or list it.
 *
 * ```ts
 * await revokeCommand.run(['--redis', 'redis://127.0.0.1:6379', '--origin-jti', originJti], context);
 * ```
 */
export const revokeCommand: Command = {
  name: 'revoke',
  summary: 'revoke a session or a user everywhere (Redis revocation list), or list it',
  help: HELP,
  async run(args, { terminal }) {
    const { values } = parseCommand('revoke', args, OPTIONS, 0);
    const url = required('revoke', '--redis', values.redis);
    const chosen = [
      values['origin-jti'] && '--origin-jti',
      values.sub && '--sub',
      values.list && '--list',
    ].filter(Boolean);
    if (chosen.length !== 1) {
      throw usageError('revoke', 'give exactly one of --origin-jti, --sub or --list');
    }
    if (values.sub !== undefined) required('revoke', '--user-pool-id (with --sub)', values['user-pool-id']);
    if (values.cutoff !== undefined && values.sub === undefined) {
      throw usageError('revoke', '--cutoff goes with --sub');
    }
    const timeoutMs = wholeNumber('--timeout', values.timeout, 5_000);
    const lifetime = wholeNumber('--lifetime', values.lifetime, 86_400);
    await requireRedisPackage(); // a missing `redis` package is named, with npm install redis
    const list = new RevocationList({
      redis: {
        url,
        connectTimeoutMs: timeoutMs,
        commandTimeoutMs: timeoutMs,
        ...(values['key-prefix'] === undefined ? {} : { keyPrefix: values['key-prefix'] }),
      },
      onUnavailable: 'reject',
      tokenLifetimeSeconds: lifetime,
    });
    const where = withoutCredentials(url);
    try {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new CognitoJwtError(
                'ERR_REVOCATION_UNAVAILABLE',
                `Redis at ${where} did not answer within ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
      });
      try {
        await Promise.race([list.ready, deadline]);
      } finally {
        clearTimeout(timer);
      }
      const { out, err } = terminal;
      for (const warning of list.status.storeWarnings) err.line(`${err.paint('yellow', 'warning')} ${warning}`);
      if (values.list) {
        const entries = list.entries();
        if (values.json) out.line(JSON.stringify({ entries }, null, 2));
        else {
          rows(out, entries.map(describeEntry));
          err.line(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} in ${where}`);
        }
        return EXIT.ok;
      }
      const pool = values['user-pool-id'];
      let done: RevocationEntry | undefined;
      if (values['origin-jti'] !== undefined) {
        const originJti = values['origin-jti'];
        await list.revokeSession(originJti, pool === undefined ? {} : { userPoolId: pool });
        done = list.entries().find((entry) => entry.kind === 'session' && entry.originJti === originJti);
      } else {
        const sub = values.sub as string;
        await list.revokeUser({
          userPoolId: pool as string,
          sub,
          ...(values.cutoff === undefined ? {} : { cutoff: parseTime('--cutoff', values.cutoff) }),
        });
        done = list
          .entries()
          .find((entry) => entry.kind === 'user' && entry.sub === sub && entry.userPoolId === pool);
      }
      if (values.json) out.line(JSON.stringify({ revoked: done }, null, 2));
      if (done) {
        const [what, detail] = describeEntry(done);
        err.line(`${err.paint('green', '✔')} revoked ${what} in ${where} (${detail})`);
      }
      return EXIT.ok;
    } finally {
      await list.close();
    }
  },
};
