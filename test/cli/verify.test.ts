import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import {
  buildJwks,
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  mintIdToken,
  mintRefreshToken,
  startJwksServer,
} from '../../src/testing/index.ts';
import { errorLine, runCli, tempDir, writeJson } from './run-cli.ts';

const POOL = 'local_pool1';
const key = generateKeyPair();

async function jwksServer(t: TestContext): Promise<JwksServer> {
  const server = await startJwksServer({ keys: [key] });
  t.after(() => server.close());
  return server;
}

/** The options that point `verify` at a loopback JWKS server. */
function against(server: JwksServer, ...more: string[]): string[] {
  return ['--user-pool-id', POOL, '--issuer', server.issuer(POOL), '--client-id', 'app', ...more];
}

test('verify: a valid access token from the loopback JWKS exits 0 and prints the claims as JSON', async (t) => {
  const server = await jwksServer(t);
  const token = mintAccessToken({ key, issuer: server.issuer(POOL), clientId: 'app', sub: 'user-1' });
  const result = await runCli(['verify', token, ...against(server, '--token-use', 'access', '--json')]);
  assert.equal(result.code, 0, result.stderr);
  const output = JSON.parse(result.stdout);
  assert.equal(output.valid, true);
  assert.equal(output.kind, 'access');
  assert.equal(output.claims.sub, 'user-1');
  assert.equal(output.claims.client_id, 'app');
  assert.ok(server.requestCount >= 1, 'the keys came from the JWKS server');
});

test('verify: the pretty output names every check made, without colours when piped', async (t) => {
  const server = await jwksServer(t);
  const token = mintIdToken({ key, issuer: server.issuer(POOL), clientId: 'app', groups: ['admin'] });
  const result = await runCli(['verify', token, ...against(server, '--token-use', 'id', '--group', 'admin')]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^ID token {2}✔ VALID: signature, issuer, client, token_use, times, groups checked$/m,
  );
  assert.match(result.stdout, /^claims$/m);
  assert.ok(!result.stdout.includes('\u001b['));
});

test('verify reads the token from stdin, with "-" or when piped', async (t) => {
  const server = await jwksServer(t);
  const token = mintAccessToken({ key, issuer: server.issuer(POOL), clientId: 'app' });
  for (const args of [['verify', '-'], ['verify']]) {
    const result = await runCli([...args, ...against(server, '--token-use', 'access', '--json')], {
      stdin: `${token}\n`,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).valid, true);
  }
});

test('verify: invalid tokens exit 1 with the error code and a one-line message', async (t) => {
  const server = await jwksServer(t);
  const issuer = server.issuer(POOL);
  const impostor = generateKeyPair({ kid: key.kid });
  const cases: [string, string[], string][] = [
    [
      mintAccessToken({ key: impostor, issuer, clientId: 'app' }),
      ['--token-use', 'access'],
      'ERR_SIGNATURE_INVALID',
    ],
    [mintIdToken({ key, issuer, clientId: 'app' }), ['--token-use', 'access'], 'ERR_TOKEN_USE_MISMATCH'],
    [mintAccessToken({ key, issuer, clientId: 'other' }), ['--token-use', 'access'], 'ERR_CLIENT_MISMATCH'],
    [
      mintAccessToken({ key, issuer, clientId: 'app', expiresIn: -10 }),
      ['--token-use', 'any'],
      'ERR_TOKEN_EXPIRED',
    ],
    [
      mintAccessToken({ key, issuer: 'http://127.0.0.1:1/other', clientId: 'app' }),
      ['--token-use', 'access'],
      'ERR_ISSUER_MISMATCH',
    ],
    [
      mintAccessToken({ key, issuer, clientId: 'app' }),
      ['--token-use', 'access', '--group', 'admin'],
      'ERR_GROUP_MISSING',
    ],
    [
      mintAccessToken({ key, issuer, clientId: 'app', scope: 'a/read' }),
      ['--token-use', 'access', '--scope', 'a/write'],
      'ERR_SCOPE_MISSING',
    ],
    [
      mintAccessToken({ key: generateKeyPair(), issuer, clientId: 'app' }),
      ['--token-use', 'access'],
      'ERR_KEY_NOT_FOUND',
    ],
  ];
  for (const [token, options, code] of cases) {
    const result = await runCli(['verify', token, ...against(server, ...options)]);
    assert.equal(result.code, 1, `${code}: ${result.stderr}`);
    assert.equal(errorLine(result.stderr).code, code);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line, no stack');
    assert.ok(!result.stderr.includes(token.split('.')[1]!), 'the token is not echoed');
    assert.equal(result.stdout, '');
  }
});

test('verify --json on failure prints the error as JSON on stdout too', async (t) => {
  const server = await jwksServer(t);
  const token = mintAccessToken({ key, issuer: server.issuer(POOL), clientId: 'app', groups: ['dev'] });
  const result = await runCli([
    'verify',
    token,
    ...against(server, '--token-use', 'access', '--group', 'admin', '--json'),
  ]);
  assert.equal(result.code, 1);
  assert.deepEqual(JSON.parse(result.stdout), {
    error: {
      code: 'ERR_GROUP_MISSING',
      message: 'token is in none of the required groups (admin); its groups: dev',
      claim: 'cognito:groups',
      exitCode: 1,
    },
  });
});

test('verify: the groups and scopes asked for pass when the token has one of them', async (t) => {
  const server = await jwksServer(t);
  const token = mintAccessToken({
    key,
    issuer: server.issuer(POOL),
    clientId: 'app',
    groups: ['dev'],
    scope: 'a/read a/write',
  });
  const options = ['--token-use', 'access', '--group', 'admin', '--group', 'dev', '--scope', 'a/write'];
  const result = await runCli(['verify', token, ...against(server, ...options)]);
  assert.equal(result.code, 0, result.stderr);
});

test('verify of a refresh token: exit 1, ERR_REFRESH_TOKEN_PRESENTED, the token not echoed', async () => {
  const token = mintRefreshToken();
  const result = await runCli(
    ['verify', '--user-pool-id', 'us-east-1_Abc1', '--client-id', 'any', '--token-use', 'any'],
    {
      stdin: token,
    },
  );
  assert.equal(result.code, 1);
  assert.equal(errorLine(result.stderr).code, 'ERR_REFRESH_TOKEN_PRESENTED');
  assert.ok(!result.stderr.includes(token.slice(0, 60)));
});

test('verify: usage and configuration mistakes exit 2', async () => {
  const token = mintAccessToken({ key, userPoolId: 'us-east-1_Abc1' });
  const base = ['verify', token, '--user-pool-id', 'us-east-1_Abc1'];
  const cases: [string[], RegExp][] = [
    [[...base, '--token-use', 'access'], /^--client-id is required \(see: cognito-jwt verify --help\)$/],
    [[...base, '--client-id', 'a'], /^--token-use is required/],
    [
      [...base, '--client-id', 'a', '--token-use', 'both'],
      /^--token-use must be id, access, any; got "both"/,
    ],
    [[...base, '--client-id', 'a', '--token-use', 'id', '--at', 'yesterday'], /^--at must be an ISO date/],
    [
      [...base, '--client-id', 'a', '--token-use', 'id', '--clock-tolerance', '1h'],
      /clockToleranceSeconds must be between 0 and 300/,
    ],
    [[...base, '--client-id', 'a', '--token-use', 'id', '--nope'], /^Unknown option '--nope'/],
    [
      [...base, '--client-id', 'a', '--token-use', 'id', '--issuer', 'http://example.com/p'],
      /http: is accepted for loopback hosts only/,
    ],
    [
      [...base, '--client-id', 'a', '--token-use', 'id', '--jwks', '/nonexistent/jwks.json'],
      /^cannot read the JWKS file "\/nonexistent\/jwks.json" \(ENOENT\)$/,
    ],
    [
      ['verify', token, '--user-pool-id', 'nope', '--client-id', 'a', '--token-use', 'id'],
      /^--user-pool-id must look like "eu-west-1_AbC123", got "nope"/,
    ],
    [[...base, 'surplus', '--client-id', 'a', '--token-use', 'id'], /^unexpected argument "surplus"/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    const line = errorLine(result.stderr);
    assert.equal(line.code, 'ERR_CONFIG_INVALID');
    assert.match(line.message, message);
  }
});

test('verify: keys that cannot be fetched exit 3', async (t) => {
  const server = await jwksServer(t);
  const issuer = server.issuer(POOL);
  const token = mintAccessToken({ key, issuer, clientId: 'app' });
  const missing = await runCli([
    'verify',
    token,
    ...against(server, '--token-use', 'access', '--jwks', `${server.origin}/missing`),
  ]);
  assert.equal(missing.code, 3, missing.stderr);
  assert.deepEqual(errorLine(missing.stderr), {
    code: 'ERR_JWKS_FETCH_FAILED',
    message: `could not fetch the JWKS from ${server.origin}/missing: HTTP 404`,
  });

  const stopped = await startJwksServer({ keys: [key] });
  await stopped.close();
  const orphan = mintAccessToken({ key, issuer: stopped.issuer(POOL), clientId: 'app' });
  const down = await runCli(['verify', orphan, ...against(stopped, '--token-use', 'access')]);
  assert.equal(down.code, 3, down.stderr);
  assert.equal(errorLine(down.stderr).code, 'ERR_JWKS_FETCH_FAILED');
});

test('verify --jwks FILE works offline, and an unknown kid fails without fetching', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  await writeJson(dir.file('jwks.json'), buildJwks(key));
  // The default issuer is the real Cognito one: any network use would fail in this sandbox.
  const options = [
    '--user-pool-id',
    'us-east-1_Abc1',
    '--client-id',
    'app',
    '--token-use',
    'access',
    '--jwks',
    dir.file('jwks.json'),
  ];
  const good = await runCli([
    'verify',
    mintAccessToken({ key, userPoolId: 'us-east-1_Abc1', clientId: 'app' }),
    ...options,
  ]);
  assert.equal(good.code, 0, good.stderr);

  const stranger = mintAccessToken({ key: generateKeyPair(), userPoolId: 'us-east-1_Abc1', clientId: 'app' });
  const unknown = await runCli(['verify', stranger, ...options]);
  assert.equal(unknown.code, 1);
  assert.equal(errorLine(unknown.stderr).code, 'ERR_KEY_NOT_FOUND');
  assert.match(unknown.stderr, /pinned.*no fetch is made/);
});

test('verify --at verifies an expired token as of a moment when it was valid', async (t) => {
  const server = await jwksServer(t);
  const issuedAt = Date.UTC(2024, 4, 1, 12, 0, 0);
  const token = mintAccessToken({
    key,
    issuer: server.issuer(POOL),
    clientId: 'app',
    now: issuedAt,
    expiresIn: 3600,
  });
  const options = against(server, '--token-use', 'access', '--json');

  const now = await runCli(['verify', token, ...options]);
  assert.equal(now.code, 1);
  assert.equal(JSON.parse(now.stdout).error.code, 'ERR_TOKEN_EXPIRED');

  const atIso = await runCli(['verify', token, ...options, '--at', '2024-05-01T12:30:00Z']);
  assert.equal(atIso.code, 0, atIso.stderr);
  assert.equal(JSON.parse(atIso.stdout).checkedAt, '2024-05-01T12:30:00.000Z');

  const atEpoch = await runCli(['verify', token, ...options, '--at', String(issuedAt / 1000 + 1800)]);
  assert.equal(atEpoch.code, 0, atEpoch.stderr);

  const afterExpiry = await runCli(['verify', token, ...options, '--at', '2024-05-01T13:00:01Z']);
  assert.equal(afterExpiry.code, 1);
  assert.equal(JSON.parse(afterExpiry.stdout).error.code, 'ERR_TOKEN_EXPIRED');

  const pretty = await runCli([
    'verify',
    token,
    ...against(server, '--token-use', 'access'),
    '--at',
    '2024-05-01T12:30:00Z',
  ]);
  assert.match(pretty.stdout, /checked as of 2024-05-01T12:30:00\.000Z$/m);
  assert.match(pretty.stdout, /expires +2024-05-01T13:00:00\.000Z {2}expires in 30 min/);
});

test('verify --clock-tolerance accepts a token that expired a few seconds ago', async (t) => {
  const server = await jwksServer(t);
  const token = mintAccessToken({ key, issuer: server.issuer(POOL), clientId: 'app', expiresIn: -5 });
  const strict = await runCli(['verify', token, ...against(server, '--token-use', 'access')]);
  assert.equal(strict.code, 1);
  const tolerant = await runCli([
    'verify',
    token,
    ...against(server, '--token-use', 'access', '--clock-tolerance', '2m'),
  ]);
  assert.equal(tolerant.code, 0, tolerant.stderr);
});

test('verify --client-id any accepts any client, and --debug adds the stack', async (t) => {
  const server = await jwksServer(t);
  const issuer = server.issuer(POOL);
  const args = ['--user-pool-id', POOL, '--issuer', issuer, '--client-id', 'any', '--token-use', 'id'];
  const token = mintIdToken({ key, issuer, clientId: 'whatever' });
  const ok = await runCli(['verify', token, ...args]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /✔ VALID: signature, issuer, token_use, times checked/);

  const expired = mintIdToken({ key, issuer, clientId: 'whatever', expiresIn: -1 });
  const debug = await runCli(['verify', expired, ...args, '--debug']);
  assert.equal(debug.code, 1);
  assert.equal(errorLine(debug.stderr).code, 'ERR_TOKEN_EXPIRED');
  assert.match(debug.stderr, /\n\s*TokenExpiredError: token expired at .*\n\s+at /);
});
