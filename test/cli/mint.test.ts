import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { startJwksServer } from '../../src/testing/index.ts';
import { errorLine, runCli, tempDir } from './run-cli.ts';

const POOL = 'us-east-1_Mint1';

/** A key file and its public JWKS file made by `keys generate`. */
async function generatedKey(
  dir: Awaited<ReturnType<typeof tempDir>>,
): Promise<{ keyFile: string; jwksFile: string }> {
  const keyFile = dir.file('key.json');
  const jwksFile = dir.file('jwks.json');
  const result = await runCli(['keys', 'generate', '-o', keyFile]);
  assert.equal(result.code, 0, result.stderr);
  await writeFile(jwksFile, result.stdout);
  return { keyFile, jwksFile };
}

test('mint prints a test token (and a loud note on stderr) that verify accepts with the public JWKS', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const { keyFile, jwksFile } = await generatedKey(dir);
  const minted = await runCli([
    'mint',
    '--key',
    keyFile,
    '--user-pool-id',
    POOL,
    '--client-id',
    'app',
    '--token-use',
    'access',
    '--group',
    'admin',
    '--scope',
    'orders/read',
    '--scope',
    'orders/write',
    '--claim',
    'custom:tenant=acme',
    '--claim',
    'custom:level=3',
    '--claim',
    'custom:tags=["a","b"]',
    '--username',
    'jane',
  ]);
  assert.equal(minted.code, 0, minted.stderr);
  const token = minted.stdout.trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.equal(minted.stdout, `${token}\n`, 'stdout holds the token only');
  assert.match(minted.stderr, /⚠ TEST TOKEN: signed by your local key .* not by Cognito\./);

  const verified = await runCli(
    [
      'verify',
      '-',
      '--user-pool-id',
      POOL,
      '--client-id',
      'app',
      '--token-use',
      'access',
      '--jwks',
      jwksFile,
    ],
    { stdin: minted.stdout },
  );
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /✔ VALID/);
  const claims = JSON.parse(
    (
      await runCli([
        'verify',
        token,
        '--user-pool-id',
        POOL,
        '--client-id',
        'app',
        '--token-use',
        'access',
        '--jwks',
        jwksFile,
        '--json',
      ])
    ).stdout,
  ).claims;
  assert.equal(claims.iss, `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`);
  assert.deepEqual(claims['cognito:groups'], ['admin']);
  assert.equal(claims.scope, 'orders/read orders/write');
  assert.equal(claims.username, 'jane');
  assert.equal(claims['custom:tenant'], 'acme');
  assert.equal(claims['custom:level'], 3);
  assert.deepEqual(claims['custom:tags'], ['a', 'b']);
  assert.equal(claims.exp - claims.iat, 3600);
});

test('mint makes ID and client-credentials tokens that inspect recognises', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const { keyFile } = await generatedKey(dir);
  const base = ['mint', '--key', keyFile, '--user-pool-id', POOL, '--client-id', 'app'];
  const kinds: [string[], string][] = [
    [['--token-use', 'id'], 'id'],
    [['--token-use', 'access'], 'access'],
    [['--token-use', 'access', '--client-credentials'], 'client-credentials'],
  ];
  for (const [options, kind] of kinds) {
    const minted = await runCli([...base, ...options]);
    assert.equal(minted.code, 0, minted.stderr);
    const report = JSON.parse((await runCli(['inspect', '--json'], { stdin: minted.stdout })).stdout);
    assert.equal(report.kind, kind);
  }
});

test('mint --expires-in=-1h makes an expired token; --issued-at with verify --at accepts it as of then', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const { keyFile, jwksFile } = await generatedKey(dir);
  const verify = [
    'verify',
    '-',
    '--user-pool-id',
    POOL,
    '--client-id',
    'app',
    '--token-use',
    'id',
    '--jwks',
    jwksFile,
  ];

  const expired = await runCli([
    'mint',
    '--key',
    keyFile,
    '--user-pool-id',
    POOL,
    '--client-id',
    'app',
    '--token-use',
    'id',
    '--expires-in=-1h',
  ]);
  assert.equal(expired.code, 0, expired.stderr);
  const rejected = await runCli(verify, { stdin: expired.stdout });
  assert.equal(rejected.code, 1);
  assert.equal(errorLine(rejected.stderr).code, 'ERR_TOKEN_EXPIRED');

  const old = await runCli(
    ['mint', '--key', keyFile, '--user-pool-id', POOL, '--client-id', 'app', '--token-use', 'id'].concat([
      '--issued-at',
      '2023-03-01T08:00:00Z',
      '--expires-in',
      '15m',
    ]),
  );
  assert.equal(old.code, 0, old.stderr);
  assert.equal((await runCli(verify, { stdin: old.stdout })).code, 1);
  const then = await runCli([...verify, '--at', '2023-03-01T08:10:00Z'], { stdin: old.stdout });
  assert.equal(then.code, 0, then.stderr);
});

test('mint --issuer points tokens at a loopback JWKS server that serves the generated key', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const { keyFile, jwksFile } = await generatedKey(dir);
  const server = await startJwksServer({ keys: JSON.parse(await readFile(jwksFile, 'utf8')) });
  t.after(() => server.close());
  const issuer = server.issuer('local_mint');
  const minted = await runCli([
    'mint',
    '--key',
    keyFile,
    '--user-pool-id',
    'local_mint',
    '--issuer',
    issuer,
    '--client-id',
    'app',
    '--token-use',
    'id',
  ]);
  assert.equal(minted.code, 0, minted.stderr);
  const verified = await runCli(
    ['verify', '--user-pool-id', 'local_mint', '--issuer', issuer, '--client-id', 'app', '--token-use', 'id'],
    { stdin: minted.stdout },
  );
  assert.equal(verified.code, 0, verified.stderr);
  assert.ok(server.requestCount >= 1);
});

test('mint: usage mistakes exit 2 with one line', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const { keyFile, jwksFile } = await generatedKey(dir);
  const base = ['mint', '--user-pool-id', POOL, '--client-id', 'app'];
  const cases: [string[], RegExp][] = [
    [[...base, '--token-use', 'id'], /^--key is required/],
    [
      [...base, '--key', dir.file('missing.json'), '--token-use', 'id'],
      /^cannot read the key file ".*missing\.json" \(ENOENT\)$/,
    ],
    [[...base, '--key', jwksFile, '--token-use', 'id'], /holds no private JWK/],
    [[...base, '--key', keyFile, '--token-use', 'refresh'], /^--token-use must be id, access; got "refresh"/],
    [
      [...base, '--key', keyFile, '--token-use', 'id', '--claim', 'novalue'],
      /^--claim must look like name=value/,
    ],
    [[...base, '--key', keyFile, '--token-use', 'id', '--client-credentials'], /needs --token-use access/],
    [
      [...base, '--key', keyFile, '--token-use', 'id', '--expires-in', 'soon'],
      /^--expires-in must be a duration/,
    ],
    [[...base, '--key', keyFile, '--token-use', 'id', '--expires-in', '-1h'], /argument is ambiguous/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(errorLine(result.stderr).message, message);
  }
});

test("mint --resource, --acr and --amr make the shapes of today's tokens; verify --audience and inspect name them", async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const { keyFile, jwksFile } = await generatedKey(dir);
  const base = ['mint', '--key', keyFile, '--user-pool-id', POOL, '--client-id', 'app'];
  const minted = await runCli([
    ...base,
    '--token-use',
    'access',
    '--resource',
    'https://api.example.com',
    '--acr',
    '2',
    '--amr',
    'pwd',
    '--amr',
    'mfa',
  ]);
  assert.equal(minted.code, 0, minted.stderr);
  const token = minted.stdout.trim();
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  assert.equal(payload.aud, 'https://api.example.com');
  assert.equal(payload.acr, 'urn:cognito:loa:2');
  assert.deepEqual(payload.amr, ['pwd', 'mfa']);

  const verify = (audience: string) =>
    runCli([
      'verify',
      token,
      '--user-pool-id',
      POOL,
      '--client-id',
      'app',
      '--token-use',
      'access',
      '--audience',
      audience,
      '--jwks',
      jwksFile,
    ]);
  const valid = await verify('https://api.example.com');
  assert.equal(valid.code, 0, valid.stderr);
  assert.match(valid.stdout, /audience/);
  const other = await verify('https://other.example.com');
  assert.equal(other.code, 1);
  assert.match(other.stderr, /ERR_AUDIENCE_MISMATCH/);
  const idUse = await runCli([
    'verify',
    token,
    '--user-pool-id',
    POOL,
    '--client-id',
    'app',
    '--token-use',
    'id',
    '--audience',
    'x',
  ]);
  assert.equal(idUse.code, 2);
  assert.match(idUse.stderr, /--audience needs --token-use access/);

  const inspected = await runCli(['inspect', token, '--audience', 'https://other.example.com']);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.match(inspected.stdout, /resource\s+https:\/\/api\.example\.com \(aud\)/);
  assert.match(inspected.stdout, /level\s+urn:cognito:loa:2 \(acr\)/);
  assert.match(inspected.stdout, /methods\s+pwd, mfa \(amr\)/);
  assert.doesNotMatch(inspected.stdout, /there is no aud/);
  assert.match(inspected.stdout, /not bound to "https:\/\/other\.example\.com"/);
  const unbound = await runCli([...base, '--token-use', 'access']);
  assert.match((await runCli(['inspect', unbound.stdout.trim()])).stdout, /resource\s+none \(not bound/);

  const idResource = await runCli([...base, '--token-use', 'id', '--resource', 'https://api.example.com']);
  assert.equal(idResource.code, 2);
  assert.match(idResource.stderr, /--resource binds access tokens/);
});
