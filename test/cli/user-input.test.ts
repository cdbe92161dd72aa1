/**
 * What the command line prints back of what a user typed (issue 20): never a token, whichever
 * argument of whichever command it was pasted into; typo help for commands; errors that name the
 * flag as typed; and `verify` naming a load balancer token. In process (src/cli/run.ts), so every
 * argument of every command can be tried quickly; main.test.ts runs the built executable.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import type { TokenSource } from '../../src/cli/input.ts';
import type { Channel, Terminal } from '../../src/cli/output.ts';
import { COMMANDS, runCli } from '../../src/cli/run.ts';
import {
  generateAlbKeyPair,
  generateKeyPair,
  mintAccessToken,
  mintAlbToken,
  mintIdToken,
} from '../../src/testing/index.ts';
import { startRedisServer } from '../helpers/redis-server.ts';

const key = generateKeyPair();
const TOKENS = {
  access: mintAccessToken({ key }),
  id: mintIdToken({ key }),
  alb: mintAlbToken({ key: generateAlbKeyPair() }),
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Nothing on a terminal: stdin is empty (or `input`), and not a TTY. */
async function cli(args: readonly string[], input = ''): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const channel = (lines: string[]): Channel => ({
    line: (text = '') => lines.push(text),
    paint: (_, text) => text,
  });
  const terminal: Terminal = { out: channel(out), err: channel(err) };
  const stdin: TokenSource = Readable.from(input === '' ? [] : [input]);
  const code = await runCli(args, { terminal, stdin, now: Date.now });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** No 16 characters in a row of the token appear in the output (inspect shows 12, to tell tokens apart). */
function assertNoToken(result: Result, token: string, label: string): void {
  const output = `${result.stdout}\n${result.stderr}`;
  for (let i = 0; i + 16 <= token.length; i++) {
    const piece = token.slice(i, i + 16);
    if (output.includes(piece)) {
      assert.fail(`${label}: the output holds the token's characters ${i}..${i + 16}:\n${output}`);
    }
  }
}

/**
 * Every flag a command's --help lists, with its short form: the arguments a token could be pasted
 * into. A flag takes a value when one word follows it after a single space (`--kid KID`).
 */
function flagsOf(help: string): Map<string, boolean> {
  const flags = new Map<string, boolean>();
  for (const match of help.matchAll(/^ {2}(?:(-\w), )?(--[a-z][\w-]*)( \S)?/gm)) {
    flags.set(match[2]!, match[3] !== undefined);
    if (match[1]) flags.set(match[1], match[3] !== undefined);
  }
  flags.delete('--help');
  flags.delete('-h');
  return flags;
}

describe('no token in the output, whichever argument it is pasted into', () => {
  for (const command of COMMANDS) {
    const name = command.name.split(' ');
    const options = flagsOf(command.help);
    const flags = [...options.keys()];
    test(`${command.name}: ${flags.join(' ')}, an argument, an unknown option`, async () => {
      assert.ok(flags.length > 0, 'the help lists flags');
      for (const [kind, token] of Object.entries(TOKENS)) {
        const cases: string[][] = [
          ...flags.map((flag) => [...name, flag, token]),
          ...flags.filter((flag) => flag.startsWith('--')).map((flag) => [...name, `${flag}=${token}`]),
          [...name, token],
          [...name, `--${token}`],
          [...name, `-${token}`],
          [...name, '--debug', '--user-pool-id', token],
        ];
        for (const args of cases) {
          const label = `${kind} token: ${args.map((arg) => (arg.includes(token) ? '<TOKEN>' : arg)).join(' ')}`;
          const result = await cli(args);
          assertNoToken(result, token, label);
          const flag = args.at(-2)!;
          // --token is the one flag meant for a token (revoke, doctor): it is used, never echoed.
          if (options.get(flag) === true && flag !== '--token' && args.at(-1) === token) {
            assert.equal(result.code, 2, label);
            assert.match(result.stderr, new RegExp(`${flag} holds a token, which it does not take`), label);
          }
        }
      }
    });
  }

  test('the command word, the keys command, help and a top-level option', async () => {
    for (const token of Object.values(TOKENS)) {
      for (const args of [
        [token],
        ['keys', token],
        ['help', token],
        [`--${token}`],
        ['keys', 'show', token],
      ]) {
        const result = await cli(args);
        assertNoToken(result, token, args.map((arg) => (arg === token ? '<TOKEN>' : arg)).join(' '));
      }
      const asCommand = await cli([token]);
      assert.equal(asCommand.code, 2);
      assert.match(
        asCommand.stderr,
        /a token is not a command \(it is not shown\): to read it, run "cognito-jwt inspect -"/,
      );
    }
  });

  test('inspect and verify take the token as their argument, and print no more than its first 12 characters', async () => {
    const inspected = await cli(['inspect', TOKENS.access]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assertNoToken(inspected, TOKENS.access, 'inspect');
    const json = await cli(['inspect', TOKENS.id, '--json']);
    assert.equal(json.code, 0, json.stderr);
    assertNoToken(json, TOKENS.id, 'inspect --json');
    const refused = await cli([
      'verify',
      TOKENS.access,
      '--user-pool-id',
      'us-east-1_TestPool1',
      '--client-id',
      'any',
      '--token-use',
      'id',
      '--jwks',
      join(tmpdir(), 'no-such-jwks.json'),
      '--debug',
    ]);
    assert.equal(refused.code, 2);
    assertNoToken(refused, TOKENS.access, 'verify');
  });

  test('revoke --origin-jti <a whole token> against a live Redis: refused, not echoed, nothing revoked', async (t) => {
    const redis = await startRedisServer();
    t.after(() => redis.stop());
    for (const token of [TOKENS.access, TOKENS.id]) {
      const result = await cli(['revoke', '--redis', redis.url, '--origin-jti', token, '--json']);
      assert.equal(result.code, 2, result.stderr);
      assertNoToken(result, token, 'revoke --origin-jti');
      assert.match(result.stderr, /--origin-jti holds a token/);
    }
    // A generous --timeout: Redis may answer slowly on a busy machine.
    const list = await cli(['revoke', '--redis', redis.url, '--list', '--json', '--timeout', '30000']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), { entries: [] });
  });
});

describe('typo help for commands', () => {
  for (const [typed, meant] of [
    ['serv', 'serve'],
    ['revok', 'revoke'],
    ['inpsect', 'inspect'],
    ['verfiy', 'verify'],
    ['key', 'keys'],
  ] as const) {
    test(`"${typed}" suggests "${meant}"`, async () => {
      const result = await cli([typed, '--help']);
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(`unknown command "${typed}"; did you mean "${meant}"\\?`));
    });
  }

  test('"keys fetc" suggests "fetch"; a word near nothing gets the list only', async () => {
    const keys = await cli(['keys', 'fetc']);
    assert.equal(keys.code, 2);
    assert.match(
      keys.stderr,
      /unknown keys command "fetc"; did you mean "fetch"\? use: fetch, show, generate/,
    );
    const far = await cli(['decode']);
    assert.match(
      far.stderr,
      /unknown command "decode"; commands: inspect, verify, keys, mint, serve, revoke/,
    );
    assert.doesNotMatch(far.stderr, /did you mean/);
  });
});

describe('errors name the flag the user typed', () => {
  const cases: [string[], RegExp][] = [
    [['serve', '--check', '--port', 'abc'], /--port must be a whole number from 0 to 65535, got "abc"/],
    [['serve', '--check', '--port=70000'], /--port must be a whole number from 0 to 65535, got "70000"/],
    [['serve', '--check', '--workers', '0'], /--workers must be a whole number from 1 to 256, got "0"/],
    [
      ['serve', '--check', '--log-level', 'verbose'],
      /--log-level must be debug, info, warn, error, silent; got "verbose"/,
    ],
    [['serve', '--check', '--host='], /--host must not be empty/],
    [
      ['verify', 'x.y.z', '--user-pool-id', 'bad', '--client-id', 'any', '--token-use', 'id'],
      /--user-pool-id must look like "eu-west-1_AbC123", got "bad"/,
    ],
    [
      [
        'verify',
        'x.y.z',
        '--user-pool-id',
        'eu-west-1_AbC123',
        '--client-id',
        'any',
        '--token-use',
        'id',
        '--issuer',
        'ftp://x',
      ],
      /--issuer must use https:/,
    ],
    [
      [
        'verify',
        'x.y.z',
        '--user-pool-id',
        'eu-west-1_AbC123',
        '--client-id',
        'any',
        '--token-use',
        'id',
        '--jwks',
        'http://example.com/jwks.json',
      ],
      /--jwks must use https:/,
    ],
    [['keys', 'fetch', '--user-pool-id', 'bad'], /--user-pool-id must look like/],
    [
      ['keys', 'fetch', '--user-pool-id', 'eu-west-1_AbC123', '--issuer', 'http://example.com'],
      /--issuer must use https:/,
    ],
  ];
  for (const [args, expected] of cases) {
    test(args.join(' '), async () => {
      const result = await cli(args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, expected);
      assert.doesNotMatch(
        result.stderr,
        /COGNITO_JWT_|userPoolId|listen\.host|log\.level|jwksUri|(?<!-)issuer must/,
      );
    });
  }

  test('mint --user-pool-id bad (with a real key file)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-cli-'));
    try {
      const file = join(dir, 'key.json');
      assert.equal((await cli(['keys', 'generate', '-o', file])).code, 0);
      const result = await cli([
        'mint',
        '--key',
        file,
        '--user-pool-id',
        'bad',
        '--client-id',
        'c',
        '--token-use',
        'id',
      ]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /--user-pool-id must look like "eu-west-1_AbC123", got "bad"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('verify knows the load balancer token', () => {
  test('as the argument, before any flag: what it is and how to verify it; exit 1 (a token refused)', async () => {
    const result = await cli(['verify', TOKENS.alb]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^error ERR_TOKEN_MALFORMED: this is an Application Load Balancer token \(x-amzn-oidc-data \(signer in us-east-1\)\)/,
    );
    assert.match(result.stderr, /AlbVerifier from cognito-jwt\/alb/);
    assert.doesNotMatch(result.stderr, /base64url/);
  });

  test('on stdin, with the flags of a Cognito pool', async () => {
    const result = await cli(
      [
        'verify',
        '-',
        '--user-pool-id',
        'us-east-1_TestPool1',
        '--client-id',
        'any',
        '--token-use',
        'id',
        '--json',
      ],
      `${TOKENS.alb}\n`,
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Application Load Balancer token/);
    assert.equal(JSON.parse(result.stdout).error.exitCode, 1);
  });
});
