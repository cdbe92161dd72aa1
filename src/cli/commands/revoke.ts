import { readFile } from 'node:fs/promises';
import { CognitoJwtError, ConfigError } from '../../errors.ts';
import { isStorableId, poolIdOfIssuer, type RevocationEntry } from '../../revocation/entries.ts';
import { RevocationList, requireRedisPackage } from '../../revocation/list.ts';
import { decodeUnverified } from '../../token/decode.ts';
import { parseCommand, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-code.ts';
import { readToken } from '../input.ts';
import { rows } from '../output.ts';
import { printable } from '../text.ts';
import { parseTime } from '../time.ts';

const HELP = `Usage: cognito-jwt revoke [--redis URL] --origin-jti ID [--user-pool-id POOL]
       cognito-jwt revoke [--redis URL] --sub SUB --user-pool-id POOL [--cutoff TIME]
       cognito-jwt revoke [--redis URL] --token - [--user]
       cognito-jwt revoke [--redis URL] --list [--json]

Add to the revocation list that verifiers read through cognito-jwt/revocation (Redis store):
every process refuses the tokens within milliseconds, without waiting for them to expire.

  --origin-jti ID    one session: every ID and access token with this origin_jti
                     (one refresh token and every token issued from it)
  --sub SUB          every token of this user in --user-pool-id issued at or before --cutoff
                     (what GlobalSignOut / AdminUserGlobalSignOut mean; also catches tokens
                     without origin_jti)
  --token -          read a token on stdin and revoke its session (its origin_jti, with the pool
                     of its issuer and its sub, so verifiers can fold a user's sessions at their
                     cap); with --user, every token of its user (its sub) issued until now. The
                     token is decoded, not verified, and never printed
  --list             print the entries the list holds now

Options:
  --redis URL          redis://[user:password@]host:port[/db] or rediss:// (TLS); default
                       COGNITO_JWT_REDIS_URL, so a password need not show in ps
  --redis-file FILE    read the URL from FILE instead (its first line)
  --cluster            Redis is a Redis Cluster (ElastiCache or MemoryDB in cluster mode,
                       ElastiCache Serverless): the URL is a seed node or the configuration
                       endpoint. More seeds: repeat --redis, or one URL a line in --redis-file
  --user-pool-id POOL  the pool, e.g. eu-west-1_AbC123 (with --sub: required; with
                       --origin-jti: the entry then lives for that pool's token lifetime)
  --cutoff TIME        ISO date or epoch seconds; default now (one-second resolution, inclusive)
  --lifetime SECONDS   the longest ID/access token lifetime of the pool (default 86400, one day):
                       how long the entry must live
  --key-prefix PREFIX  the prefix the verifiers use (default cognito-jwt:revocation:, and
                       {cognito-jwt:revocation}: with --cluster, where it needs a {…} hash tag)
  --timeout MS         how long to wait for Redis (default 5000)
  --json               print the result (or the entries) as JSON
  --debug              print the stack of an error
  -h, --help           show this help

Examples:
  cognito-jwt revoke --redis redis://127.0.0.1:6379 --origin-jti 3f6c1e0a-8d0b-4a4e-9a8e-0d5b8f0c2a11
  cognito-jwt revoke --redis redis://127.0.0.1:6379 --sub 7d8e9f00-1111-2222-3333-444455556666 \\
    --user-pool-id eu-west-1_AbC123
  cognito-jwt revoke --redis redis://127.0.0.1:6379 --list --json
  COGNITO_JWT_REDIS_URL=rediss://user:secret@clustercfg.my-cache.abc123.use1.cache.amazonaws.com:6379 \\
    cognito-jwt revoke --cluster --origin-jti 3f6c1e0a-8d0b-4a4e-9a8e-0d5b8f0c2a11
  pbpaste | COGNITO_JWT_REDIS_URL=redis://127.0.0.1:6379 cognito-jwt revoke --token -

Exit codes: 0 done, 2 usage, 3 Redis unavailable (nothing was revoked: retry).`;

const OPTIONS = {
  redis: { type: 'string', multiple: true },
  'redis-file': { type: 'string' },
  cluster: { type: 'boolean' },
  token: { type: 'string' },
  user: { type: 'boolean' },
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

/**
 * Where the Redis URL comes from: --redis, --redis-file, or COGNITO_JWT_REDIS_URL (in that order).
 * With --cluster, several seed nodes: --redis repeated, or one a line in the file.
 */
async function redisUrls(values: {
  redis?: string[];
  'redis-file'?: string;
  cluster?: boolean;
}): Promise<string[]> {
  if (values.redis !== undefined && values['redis-file'] !== undefined) {
    throw usageError('revoke', 'give --redis or --redis-file, not both');
  }
  if (values.redis !== undefined) {
    if (values.redis.length > 1 && !values.cluster) {
      throw usageError('revoke', '--redis is given once, unless --cluster names several seed nodes');
    }
    return values.redis;
  }
  if (values['redis-file'] !== undefined) {
    let text: string;
    try {
      text = await readFile(values['redis-file'], 'utf8');
    } catch (error) {
      throw new ConfigError(`--redis-file: cannot read ${values['redis-file']}: ${(error as Error).message}`);
    }
    const lines = text.split(/\r?\n/).map((line) => line.trim());
    const urls = values.cluster ? lines.filter((line) => line !== '') : [lines[0] ?? ''];
    if (urls.length === 0 || urls[0] === '')
      throw new ConfigError(`--redis-file: ${values['redis-file']} holds no URL on its first line`);
    return urls;
  }
  const fromEnv = process.env.COGNITO_JWT_REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== '') return [fromEnv];
  throw usageError('revoke', 'no Redis given: --redis URL, --redis-file FILE or COGNITO_JWT_REDIS_URL');
}

function wholeNumber(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw usageError('revoke', `${option} must be a whole number greater than 0`);
  }
  return number;
}

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`: a password never reaches the output. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(the Redis URL)';
  }
}

/**
 * What `--token -` revokes: its session (with its pool and `sub`, so the verifiers' lists can fold the
 * user's sessions at their cap), or with `--user` its user. Never echoes the token.
 *
 * The token is decoded, not verified (the CLI holds no keys), and that is safe here: whoever runs it
 * already holds the Redis credentials and can revoke any session or user by name; the token only
 * spares them copying its claims out. Its `sub` is read from the same payload as its `origin_jti`,
 * so it is trusted no more than the `origin_jti` already is.
 */
function tokenTarget(
  token: string,
  user: boolean,
): { originJti?: string; userPoolId?: string; sub?: string } {
  const { payload } = decodeUnverified(token);
  const userPoolId = poolIdOfIssuer(payload.iss);
  if (user) {
    if (userPoolId === undefined || typeof payload.sub !== 'string') {
      throw new ConfigError('--user: the token has no Cognito issuer and sub to revoke its user by');
    }
    return { userPoolId, sub: payload.sub };
  }
  const originJti = payload.origin_jti;
  if (typeof originJti !== 'string' || originJti === '') {
    throw new ConfigError(
      'the token has no origin_jti (token revocation is off for its app client): revoke its user with --token - --user',
    );
  }
  if (userPoolId === undefined) return { originJti };
  // A sub the list cannot store (too long, control characters) is left out: the session still counts.
  const sub = isStorableId(payload.sub) ? payload.sub : undefined;
  return sub === undefined ? { originJti, userPoolId } : { originJti, userPoolId, sub };
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
  async run(args, { terminal, stdin }) {
    const { values } = parseCommand('revoke', args, OPTIONS, 0);
    if (values.token !== undefined && values.token !== '-') {
      // A token on the command line shows in ps and in shell history: only stdin is read.
      throw usageError(
        'revoke',
        `--token ${values.token.length > 40 ? 'holds a token, which it does not take (the token is not shown)' : 'takes only -'}: pipe the token on stdin with --token -`,
      );
    }
    const urls = await redisUrls(values);
    const chosen = [
      values['origin-jti'] && '--origin-jti',
      values.sub && '--sub',
      values.token !== undefined && '--token',
      values.list && '--list',
    ].filter(Boolean);
    if (chosen.length !== 1) {
      throw usageError('revoke', 'give exactly one of --origin-jti, --sub, --token - or --list');
    }
    if (values.user && values.token === undefined) throw usageError('revoke', '--user goes with --token -');
    const fromToken =
      values.token === undefined
        ? undefined
        : tokenTarget(await readToken('revoke', '-', stdin), values.user === true);
    if (values.sub !== undefined && values['user-pool-id'] === undefined) {
      throw usageError('revoke', '--user-pool-id is required with --sub');
    }
    if (values.cutoff !== undefined && values.sub === undefined) {
      throw usageError('revoke', '--cutoff goes with --sub');
    }
    const timeoutMs = wholeNumber('--timeout', values.timeout, 5_000);
    const lifetime = wholeNumber('--lifetime', values.lifetime, 86_400);
    await requireRedisPackage(); // a missing `redis` package is named, with npm install redis
    const list = new RevocationList({
      redis: {
        ...(values.cluster ? { cluster: { rootNodes: urls } } : { url: urls[0] as string }),
        connectTimeoutMs: timeoutMs,
        commandTimeoutMs: timeoutMs,
        ...(values['key-prefix'] === undefined ? {} : { keyPrefix: values['key-prefix'] }),
      },
      onUnavailable: 'reject',
      tokenLifetimeSeconds: lifetime,
    });
    const where = values.cluster
      ? `the Redis Cluster at ${redactedUrl(urls[0] as string)}${urls.length > 1 ? ` (and ${urls.length - 1} more seed${urls.length > 2 ? 's' : ''})` : ''}`
      : redactedUrl(urls[0] as string);
    try {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new CognitoJwtError(
                'ERR_REVOCATION_UNAVAILABLE',
                `${values.cluster ? '' : 'Redis at '}${where} did not answer within ${timeoutMs} ms`,
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
      for (const warning of list.status.storeWarnings)
        err.line(`${err.paint('yellow', 'warning')} ${warning}`);
      if (values.list) {
        const entries = list.entries();
        if (values.json) out.line(JSON.stringify({ entries }, null, 2));
        else {
          rows(out, entries.map(describeEntry));
          err.line(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} in ${where}`);
        }
        return EXIT.ok;
      }
      const pool = fromToken?.userPoolId ?? values['user-pool-id'];
      let done: RevocationEntry | undefined;
      let written: { createdStore: boolean };
      const originJti = fromToken === undefined ? values['origin-jti'] : fromToken.originJti;
      if (originJti !== undefined) {
        written = await list.revokeSession(
          originJti,
          pool === undefined
            ? {}
            : { userPoolId: pool, ...(fromToken?.sub === undefined ? {} : { sub: fromToken.sub }) },
        );
        done = list.entries().find((entry) => entry.kind === 'session' && entry.originJti === originJti);
      } else {
        const sub = (fromToken?.sub ?? values.sub) as string;
        written = await list.revokeUser({
          userPoolId: pool as string,
          sub,
          ...(values.cutoff === undefined ? {} : { cutoff: parseTime('--cutoff', values.cutoff) }),
        });
        done = list
          .entries()
          .find((entry) => entry.kind === 'user' && entry.sub === sub && entry.userPoolId === pool);
      }
      if (written.createdStore) {
        err.line(
          `${err.paint('yellow', 'warning')} ${where} had no revocation list under this key prefix: this write created it. No verifier has read it (or Redis lost its data): check that --redis and --key-prefix are the verifiers'`,
        );
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
