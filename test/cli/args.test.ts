// A mistyped flag names the flag it probably meant; a pool id whose region is not one says so.
// The unit tests call the parser; the others run the built executable, as users do.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closestFlag, parseCommand } from '../../src/cli/args.ts';
import { ConfigError } from '../../src/errors.ts';
import { generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { errorLine, runCli } from './run-cli.ts';

const VERIFY_FLAGS = {
  'user-pool-id': { type: 'string' },
  'client-id': { type: 'string' },
  'token-use': { type: 'string' },
  json: { type: 'boolean' },
} as const;

describe('closestFlag', () => {
  const cases: [string, string | undefined][] = [
    ['--user-pool', '--user-pool-id'],
    ['--userpoolid', '--user-pool-id'],
    ['--clientid', '--client-id'],
    ['--client_id', '--client-id'],
    ['--token-type', '--token-use'],
    ['--jsno', '--json'],
    ['--JSON', '--json'],
    ['--hepl', '--help'],
    ['--region', undefined],
    ['-x', undefined],
  ];
  for (const [flag, expected] of cases) {
    test(`${flag} → ${expected ?? 'no guess'}`, () => {
      assert.equal(closestFlag(flag, { ...VERIFY_FLAGS, help: { type: 'boolean' } }), expected);
    });
  }
});

describe('parseCommand', () => {
  test('an unknown flag near a known one is named with it, as a usage error', () => {
    assert.throws(() => parseCommand('verify', ['--user-pool', 'eu-west-1_AbC'], VERIFY_FLAGS, 1), {
      name: 'ConfigError',
      code: 'ERR_CONFIG_INVALID',
      message:
        "Unknown option '--user-pool'; did you mean '--user-pool-id'? (see: cognito-jwt verify --help)",
    });
  });

  test('the = form is read the same way', () => {
    assert.throws(() => parseCommand('verify', ['--clientid=abc'], VERIFY_FLAGS, 1), {
      message: "Unknown option '--clientid'; did you mean '--client-id'? (see: cognito-jwt verify --help)",
    });
  });

  test('an unknown flag near nothing keeps Node’s own explanation', () => {
    assert.throws(
      () => parseCommand('verify', ['--region', 'x'], VERIFY_FLAGS, 1),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.startsWith("Unknown option '--region'. To specify a positional argument") &&
        !error.message.includes('did you mean'),
    );
  });

  test('known flags parse as before', () => {
    const { values, positionals } = parseCommand(
      'verify',
      ['t', '--user-pool-id', 'p', '--json'],
      VERIFY_FLAGS,
      1,
    );
    assert.deepEqual({ ...values }, { 'user-pool-id': 'p', json: true });
    assert.deepEqual(positionals, ['t']);
  });
});

describe('the built CLI', () => {
  const token = mintAccessToken({ key: generateKeyPair() });

  test('verify --user-pool: exit 2 with the flag it meant', async () => {
    const result = await runCli(['verify', token, '--user-pool', 'eu-west-1_AbC123', '--client-id', 'c']);
    assert.equal(result.code, 2);
    assert.deepEqual(errorLine(result.stderr), {
      code: 'ERR_CONFIG_INVALID',
      message:
        "Unknown option '--user-pool'; did you mean '--user-pool-id'? (see: cognito-jwt verify --help)",
    });
  });

  test('keys fetch --user-pool: the same, for another command', async () => {
    const result = await runCli(['keys', 'fetch', '--user-pool', 'eu-west-1_AbC123']);
    assert.equal(result.code, 2);
    assert.match(
      errorLine(result.stderr).message,
      /did you mean '--user-pool-id'\? \(see: cognito-jwt keys fetch --help\)$/,
    );
  });

  test('verify --user-pool-id eu-wset-1_…: a region that is not one, said before any request', async () => {
    const result = await runCli([
      'verify',
      token,
      '--user-pool-id',
      'eu-wset-1_AbC123',
      '--client-id',
      'c',
      '--token-use',
      'access',
    ]);
    assert.equal(result.code, 2);
    const { code, message } = errorLine(result.stderr);
    assert.equal(code, 'ERR_CONFIG_INVALID');
    assert.match(message, /starts with "eu-wset-1", which is not an AWS region .*did you mean "eu-west-1"\?/);
  });
});
