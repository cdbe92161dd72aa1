import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  generateKeyPair,
  mintAccessToken,
  mintClientCredentialsToken,
  mintIdToken,
  mintRefreshToken,
  signJwt,
} from '../../src/testing/index.ts';
import { ESCAPE, errorLine, runCli } from './run-cli.ts';

const key = generateKeyPair();
const POOL = 'eu-west-1_AbC123';

test('inspect explains an ID token given as an argument, and says it was not verified', async () => {
  const token = mintIdToken({
    key,
    userPoolId: POOL,
    clientId: 'client-one',
    expiresIn: 42 * 60,
    groups: ['admin'],
  });
  const result = await runCli(['inspect', token]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^ID token {2}NOT VERIFIED: decoded only, nothing was checked$/m);
  assert.match(result.stdout, /user pool +eu-west-1_AbC123 \(region eu-west-1\)/);
  assert.match(result.stdout, /client +client-one \(aud\)/);
  assert.match(result.stdout, /groups +admin/);
  assert.match(result.stdout, /expires +\d{4}-\d\d-\d\dT[\d:.]+Z {2}expires in 42 min/);
  assert.match(result.stdout, /! this is an ID token: APIs usually expect the access token/);
  assert.match(
    result.stdout,
    /To verify it: cognito-jwt verify - --user-pool-id eu-west-1_AbC123 --client-id client-one --token-use id/,
  );
  assert.ok(result.stdout.includes(`token      ${token.slice(0, 12)}… (${token.length} characters)`));
  assert.ok(!result.stdout.includes(token.slice(0, 40)), 'the token itself is not printed');
  assert.equal(result.stderr, '');
});

test('inspect --json describes an access token for scripts', async () => {
  const token = mintAccessToken({
    key,
    userPoolId: POOL,
    clientId: 'client-one',
    username: 'jane',
    groups: ['admin', 'dev'],
    scope: ['orders/read', 'orders/write'],
  });
  const result = await runCli(['inspect', token, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.verified, false);
  assert.equal(report.kind, 'access');
  assert.deepEqual(report.issuer, {
    issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`,
    userPoolId: POOL,
    region: 'eu-west-1',
    cognito: true,
  });
  assert.deepEqual(report.client, { claim: 'client_id', id: 'client-one' });
  assert.equal(report.username, 'jane');
  assert.deepEqual(report.groups, ['admin', 'dev']);
  assert.deepEqual(report.scopes, ['orders/read', 'orders/write']);
  assert.equal(report.header.kid, key.kid);
  assert.equal(report.claims.token_use, 'access');
  assert.equal(report.times.exp.relative, 'expires in 1 h');
  assert.equal(report.times.exp.iso, new Date(report.claims.exp * 1000).toISOString());
  assert.match(report.times.iat.relative, /^issued \d+ s ago$/);
  assert.deepEqual(report.warnings, []);
});

test('inspect reads the token from piped stdin without "-", stripping "Authorization: Bearer"', async () => {
  const token = mintAccessToken({ key, userPoolId: POOL });
  const result = await runCli(['inspect', '--json'], { stdin: `Authorization: Bearer ${token}\n` });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).kind, 'access');
});

test('inspect reads the token from stdin with "-"', async () => {
  const token = mintIdToken({ key, userPoolId: POOL });
  const result = await runCli(['inspect', '-', '--json'], { stdin: `"${token}"` });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).kind, 'id');
});

test('inspect recognises a refresh token, explains it, and does not decode it', async () => {
  const token = mintRefreshToken();
  const result = await runCli(['inspect'], { stdin: token });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^refresh token {2}NOT VERIFIED/m);
  assert.match(result.stdout, /cannot be decoded/);
  assert.match(result.stdout, /\/oauth2\/token \(grant_type=refresh_token\)/);
  assert.ok(!result.stdout.includes(token.slice(40, 200)), 'no part of the encrypted token is echoed');

  const json = JSON.parse((await runCli(['inspect', '--json'], { stdin: token })).stdout);
  assert.equal(json.kind, 'refresh');
  assert.equal(json.claims, undefined);
  assert.equal(json.header.enc, 'A256GCM');
});

test('inspect recognises a client-credentials access token', async () => {
  const token = mintClientCredentialsToken({ key, userPoolId: POOL, clientId: 'machine-client' });
  const report = JSON.parse((await runCli(['inspect', token, '--json'])).stdout);
  assert.equal(report.kind, 'client-credentials');
  assert.equal(report.title, 'client-credentials access token');
  assert.deepEqual(report.client, { claim: 'client_id', id: 'machine-client' });
});

test('inspect warns about an expired token and a token issued in the future, in words', async () => {
  const expired = mintAccessToken({ key, userPoolId: POOL, expiresIn: -3 * 3600 });
  const result = await runCli(['inspect', expired]);
  assert.equal(result.code, 0, 'inspect reports, it does not judge');
  assert.match(result.stdout, /expires +\S+ {2}expired 3 h ago/);
  assert.match(result.stdout, /! expired 3 h ago/);

  const future = mintAccessToken({ key, userPoolId: POOL, now: Date.now() + 10 * 60_000 });
  const report = JSON.parse((await runCli(['inspect', future, '--json'])).stdout);
  assert.equal(report.times.iat.relative, 'issued 10 min in the future');
  assert.ok(report.warnings.some((warning: string) => warning.startsWith('issued 10 min in the future')));
});

test('inspect warns about a missing kid and an unexpected alg', async () => {
  const token = mintAccessToken({ key, userPoolId: POOL, header: { kid: undefined, alg: 'HS256' } });
  const report = JSON.parse((await runCli(['inspect', token, '--json'])).stdout);
  assert.ok(
    report.warnings.includes('alg is "HS256": Cognito signs with RS256 only, so verifiers must reject it'),
  );
  assert.ok(report.warnings.includes('the header has no kid: no key can be chosen to verify it'));
});

test('inspect shows an emulator issuer as such, with the pool id from its path', async () => {
  const token = mintIdToken({ key, issuer: 'http://127.0.0.1:9229/local_4Ab5Cd' });
  const report = JSON.parse((await runCli(['inspect', token, '--json'])).stdout);
  assert.deepEqual(report.issuer, {
    issuer: 'http://127.0.0.1:9229/local_4Ab5Cd',
    userPoolId: 'local_4Ab5Cd',
    cognito: false,
  });
});

test('inspect escapes control characters from the token instead of sending them to the terminal', async () => {
  const token = mintAccessToken({
    key,
    userPoolId: POOL,
    claims: { 'custom:note': 'hi\u001b]0;pwned\u0007\u001b[2J' },
  });
  const result = await runCli(['inspect', token]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stdout.includes('\u001b'), 'no raw escape character reaches the terminal');
  assert.match(result.stdout, /custom:note +hi\\u001b\]0;pwned\\u0007\\u001b\[2J/);
});

test('inspect of something that is not a JWT: exit 1, one error line, the input not echoed', async () => {
  const garbage = `${'A'.repeat(300)}.${'B'.repeat(300)}`;
  const result = await runCli(['inspect', garbage]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.deepEqual(errorLine(result.stderr), {
    code: 'ERR_TOKEN_MALFORMED',
    message: 'a JWT has 3 dot-separated parts, this token has 2',
  });
  assert.equal(result.stderr.trim().split('\n').length, 1, 'one line, no stack');
  assert.ok(!result.stderr.includes('A'.repeat(40)));
});

test('inspect of a token whose payload is not JSON: exit 1 and ERR_TOKEN_MALFORMED in --json', async () => {
  const token = signJwt({ alg: 'RS256', kid: key.kid }, { sub: 'x' }, key.privateKey).replace(
    /\.[^.]+\./,
    '.bm90IGpzb24.',
  );
  const result = await runCli(['inspect', token, '--json']);
  assert.equal(result.code, 1);
  assert.equal(JSON.parse(result.stdout).error.code, 'ERR_TOKEN_MALFORMED');
});

test('inspect without a token and with empty stdin is a usage error (exit 2)', async () => {
  const result = await runCli(['inspect']);
  assert.equal(result.code, 2);
  assert.deepEqual(errorLine(result.stderr), {
    code: 'ERR_CONFIG_INVALID',
    message: 'stdin held no token (see: cognito-jwt inspect --help)',
  });
});

test('inspect output has no colours when piped, even for combined styles', async () => {
  const result = await runCli(['inspect', mintAccessToken({ key, userPoolId: POOL, expiresIn: -60 })]);
  assert.equal(result.code, 0);
  assert.ok(!result.stdout.includes(ESCAPE));
});
