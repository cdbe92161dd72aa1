import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeToken } from '../../src/cli/token-report.ts';
import {
  DEFAULT_TEST_ALB_ARN,
  generateAlbKeyPair,
  generateKeyPair,
  mintAccessToken,
  mintAlbToken,
} from '../../src/testing/index.ts';
import { runCli } from '../cli/run-cli.ts';

const key = generateAlbKeyPair();

test('inspect recognises an x-amzn-oidc-data token: signer, region, account, client, header exp', async () => {
  const token = mintAlbToken({ key, sub: 'user-1', claims: { username: 'jane' }, expiresIn: 70 });
  const result = await runCli(['inspect', token]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Application Load Balancer token \(x-amzn-oidc-data\) {2}NOT VERIFIED/m);
  assert.ok(
    result.stdout.includes(`signer     ${DEFAULT_TEST_ALB_ARN} (region us-east-1, account 123456789012)`),
  );
  assert.match(result.stdout, /client +testclient1234567890abcdef \(client\)/);
  assert.match(result.stdout, /username +jane/);
  assert.match(result.stdout, /expires +.*expires in 1 min/);
  assert.match(result.stdout, /To verify it: in your code, with AlbVerifier/);
  assert.ok(!result.stdout.includes('warnings'), result.stdout);

  const json = JSON.parse((await runCli(['inspect', token, '--json'])).stdout);
  assert.equal(json.kind, 'alb');
  assert.equal(json.loadBalancer.region, 'us-east-1');
  assert.equal(json.claims.sub, 'user-1');
});

test('inspect warns about what the verifier would refuse in a load balancer token', () => {
  const now = Date.now() / 1000;
  const report = describeToken(
    mintAlbToken({
      key,
      expiresIn: -120,
      header: { alg: 'RS256', kid: '../x' },
      claims: { iss: 'https://evil.example.com' },
    }),
    now,
  );
  assert.equal(report.kind, 'alb');
  const warnings = report.warnings.join('\n');
  assert.match(warnings, /alg is "RS256"/);
  assert.match(warnings, /kid is "..\/x": a load balancer's kid is a UUID/);
  assert.match(warnings, /expired 2 min ago/);
  assert.match(warnings, /the payload's iss "https:\/\/evil.example.com" disagrees with the header's/);
});

test('a Cognito token is still read as one, and an unpadded lookalike is not an ALB token', () => {
  const access = mintAccessToken({ key: generateKeyPair(), clientId: 'c' });
  assert.equal(describeToken(access, Date.now() / 1000).kind, 'access');
  // An unpadded ALB-shaped token is not what a load balancer writes: read as a plain JWT.
  let unpadded = '';
  for (let i = 0; !unpadded.includes('=') && i < 20; i++) {
    const padded = mintAlbToken({ key, claims: { filler: 'x'.repeat(i) } });
    if (padded.includes('=')) unpadded = padded;
  }
  const report = describeToken(unpadded.replaceAll('=', ''), Date.now() / 1000);
  assert.equal(report.kind, 'unknown');
});
