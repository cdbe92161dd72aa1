import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { buildJwks, generateKeyPair, mintAccessToken, startJwksServer } from '../../src/testing/index.ts';
import { errorLine, runCli, tempDir, writeJson } from './run-cli.ts';

const POOL = 'local_pool1';
const key = generateKeyPair();
const second = generateKeyPair();

test('keys fetch saves a snapshot that verify --jwks then uses with the server gone', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const server = await startJwksServer({ keys: [key, second] });
  const issuer = server.issuer(POOL);
  const result = await runCli([
    'keys',
    'fetch',
    '--user-pool-id',
    POOL,
    '--issuer',
    issuer,
    '-o',
    dir.file('jwks.json'),
  ]).finally(() => server.close());
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(
    result.stderr,
    new RegExp(`^✔ 2 usable keys from ${server.jwksUri(POOL)} saved to .*jwks\\.json: `, 'm'),
  );
  const snapshot = JSON.parse(await readFile(dir.file('jwks.json'), 'utf8'));
  assert.equal(snapshot.jwksUri, server.jwksUri(POOL));
  assert.ok(!Number.isNaN(Date.parse(snapshot.fetchedAt)));
  assert.deepEqual(snapshot.keys.map((jwk: { kid: string }) => jwk.kid).sort(), [key.kid, second.kid].sort());

  const token = mintAccessToken({ key: second, issuer, clientId: 'app' });
  const verified = await runCli(
    [
      'verify',
      token,
      '--user-pool-id',
      POOL,
      '--issuer',
      issuer,
      '--client-id',
      'app',
      '--token-use',
      'access',
    ].concat(['--jwks', dir.file('jwks.json')]),
  );
  assert.equal(verified.code, 0, verified.stderr);
});

test('keys fetch prints the snapshot on stdout without -o, and leaves out keys a verifier refuses', async (t) => {
  const small = generateKeyPair({ modulusLength: 1024 });
  const server = await startJwksServer({ keys: [key, small] });
  t.after(() => server.close());
  const result = await runCli(['keys', 'fetch', '--user-pool-id', POOL, '--issuer', server.issuer(POOL)]);
  assert.equal(result.code, 0, result.stderr);
  const snapshot = JSON.parse(result.stdout);
  assert.deepEqual(
    snapshot.keys.map((jwk: { kid: string }) => jwk.kid),
    [key.kid],
  );
  assert.match(
    result.stderr,
    /^! left out: JWK ".*" is not usable: the modulus has 1024 bits, expected 2048 to 8192$/m,
  );
});

test('keys fetch: exit 3 when the JWKS cannot be fetched or holds no usable key, 2 on usage', async (t) => {
  const stopped = await startJwksServer({ keys: [key] });
  await stopped.close();
  const down = await runCli(['keys', 'fetch', '--user-pool-id', POOL, '--issuer', stopped.issuer(POOL)]);
  assert.equal(down.code, 3, down.stderr);
  assert.equal(errorLine(down.stderr).code, 'ERR_JWKS_FETCH_FAILED');

  const server = await startJwksServer({ keys: [generateKeyPair({ modulusLength: 1024 })] });
  t.after(() => server.close());
  const useless = await runCli(['keys', 'fetch', '--user-pool-id', POOL, '--issuer', server.issuer(POOL)]);
  assert.equal(useless.code, 3, useless.stderr);
  assert.equal(errorLine(useless.stderr).code, 'ERR_JWKS_INVALID');

  const usage = await runCli(['keys', 'fetch', '--issuer', server.issuer(POOL)]);
  assert.equal(usage.code, 2);
  assert.equal(
    errorLine(usage.stderr).message,
    '--user-pool-id is required (see: cognito-jwt keys fetch --help)',
  );
});

test('keys show lists kids, algorithms and sizes of a good JWKS (file and URL): exit 0', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  await writeJson(dir.file('jwks.json'), buildJwks(key, second));
  const file = await runCli(['keys', 'show', dir.file('jwks.json'), '--json']);
  assert.equal(file.code, 0, file.stderr);
  const report = JSON.parse(file.stdout);
  assert.equal(report.usableKeys, 2);
  assert.equal(report.problemKeys, 0);
  assert.deepEqual(report.keys[0], {
    kid: key.kid,
    kty: 'RSA',
    alg: 'RS256',
    use: 'sig',
    bits: 2048,
    usable: true,
    problems: [],
  });

  const server = await startJwksServer({ keys: [key] });
  t.after(() => server.close());
  const url = await runCli(['keys', 'show', server.jwksUri(POOL)]);
  assert.equal(url.code, 0, url.stderr);
  assert.match(url.stdout, new RegExp(`^1 key in ${server.jwksUri(POOL)}$`, 'm'));
  assert.match(url.stdout, /^ {2}size {2}2048 bits$/m);
  assert.match(url.stdout, /^1 usable, 0 with problems$/m);
});

test('keys show flags small keys, private members and duplicate kids: exit 1', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const small = generateKeyPair({ modulusLength: 1024 });
  const twin = generateKeyPair({ kid: second.kid });
  const privateJwk = { ...key.publicJwk, ...key.privateKey.export({ format: 'jwk' }) };
  await writeJson(dir.file('bad.json'), {
    keys: [small.publicJwk, privateJwk, second.publicJwk, twin.publicJwk],
  });
  const result = await runCli(['keys', 'show', dir.file('bad.json'), '--json']);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.usableKeys, 0);
  assert.equal(report.problemKeys, 4);
  const [smallKey, privateKey, firstTwin, secondTwin] = report.keys;
  assert.equal(smallKey.bits, 1024);
  assert.match(smallKey.problems[0], /the modulus has 1024 bits, expected 2048 to 8192/);
  assert.match(privateKey.problems[0], /carries the private member "d"/);
  for (const twinKey of [firstTwin, secondTwin]) {
    assert.deepEqual(twinKey.problems, ['the kid appears 2 times: verifiers refuse every key with this kid']);
  }

  const pretty = await runCli(['keys', 'show', dir.file('bad.json')]);
  assert.equal(pretty.code, 1);
  assert.match(pretty.stdout, /^✗ kid /m);
  assert.match(pretty.stdout, /^ {2}problem: .*private member "d"/m);
  assert.match(pretty.stdout, /^0 usable, 4 with problems$/m);
});

test('keys show: exit 2 for a missing file, 3 for a URL that cannot be fetched or a file that is no JWKS', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const missing = await runCli(['keys', 'show', dir.file('nope.json')]);
  assert.equal(missing.code, 2);
  assert.equal(errorLine(missing.stderr).code, 'ERR_CONFIG_INVALID');

  const stopped = await startJwksServer({ keys: [key] });
  await stopped.close();
  const down = await runCli(['keys', 'show', stopped.jwksUri(POOL)]);
  assert.equal(down.code, 3);
  assert.equal(errorLine(down.stderr).code, 'ERR_JWKS_FETCH_FAILED');

  await writeJson(dir.file('not-jwks.json'), { hello: 'world' });
  const notJwks = await runCli(['keys', 'show', dir.file('not-jwks.json')]);
  assert.equal(notJwks.code, 3);
  assert.equal(errorLine(notJwks.stderr).code, 'ERR_JWKS_INVALID');

  const none = await runCli(['keys', 'show']);
  assert.equal(none.code, 2);
});

test('keys generate writes a private key file (0600) and prints the public JWKS; never overwrites without --force', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const path = dir.file('key.json');
  const result = await runCli(['keys', 'generate', '-o', path, '--kid', 'test-kid-1']);
  assert.equal(result.code, 0, result.stderr);
  const jwks = JSON.parse(result.stdout);
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0].kid, 'test-kid-1');
  assert.equal(jwks.keys[0].d, undefined, 'stdout holds the public key only');
  assert.match(result.stderr, /wrote the PRIVATE test key test-kid-1 \(2048-bit RSA\)/);
  assert.match(result.stderr, /never trust them in production/);

  const file = JSON.parse(await readFile(path, 'utf8'));
  assert.match(file.note, /^PRIVATE test signing key/);
  assert.equal(typeof file.keys[0].d, 'string');
  assert.equal(file.keys[0].n, jwks.keys[0].n);
  if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);

  const again = await runCli(['keys', 'generate', '-o', path]);
  assert.equal(again.code, 2);
  assert.match(errorLine(again.stderr).message, /it exists already \(use --force to replace it\)/);
  assert.equal(JSON.parse(await readFile(path, 'utf8')).keys[0].kid, 'test-kid-1', 'the file is untouched');

  const forced = await runCli(['keys', 'generate', '-o', path, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(JSON.parse(await readFile(path, 'utf8')).keys[0].kid, 'test-kid-1');

  const shown = await runCli(['keys', 'show', path]);
  assert.equal(shown.code, 1, 'a private key file is not a JWKS to publish');
  assert.match(shown.stdout, /private member "d"/);

  const badBits = await runCli(['keys', 'generate', '-o', dir.file('other.json'), '--bits', '512']);
  assert.equal(badBits.code, 2);
  const noOutput = await runCli(['keys', 'generate']);
  assert.equal(noOutput.code, 2);
  assert.match(errorLine(noOutput.stderr).message, /^--output \(-o\) is required/);
});
