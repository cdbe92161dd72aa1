import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CognitoClaims, CognitoVerifier } from '../../src/index.ts';
import { buildJwks, generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';

const key = generateKeyPair();
const issuer = 'http://127.0.0.1:9/local_pool';
const config = {
  userPoolId: 'local_pool',
  issuer,
  clientId: 'c1',
  tokenUse: 'access',
  jwks: buildJwks(key),
} as const;

for (const verifiedTokenCache of [true, false]) {
  test(`isRevoked rejects a revoked session, fresh or cached (cache ${verifiedTokenCache ? 'on' : 'off'})`, () => {
    const revokedSessions = new Set<string>();
    const seen: CognitoClaims[] = [];
    const verifier = new CognitoVerifier(config, {
      verifiedTokenCache,
      isRevoked: (claims) => {
        seen.push(claims);
        return revokedSessions.has(claims.origin_jti ?? '');
      },
    });
    const token = mintAccessToken({ key, issuer, clientId: 'c1' });
    const claims = verifier.verifySync(token);
    assert.equal(verifier.verifySync(token).sub, claims.sub); // accepted twice (a cache hit when on)
    assert.equal(seen.length, 2, 'the check runs on every verification, cache hits included');

    revokedSessions.add(claims.origin_jti!);
    assert.throws(() => verifier.verifySync(token), { code: 'ERR_TOKEN_REVOKED', status: 401 });
    assert.throws(() => verifier.verifySync(token), { code: 'ERR_TOKEN_REVOKED' });
    // Another session of the same user is not affected.
    assert.ok(verifier.verifySync(mintAccessToken({ key, issuer, clientId: 'c1', sub: claims.sub })));
  });
}

test('isRevoked sees only tokens that passed every other check', async () => {
  let calls = 0;
  const verifier = new CognitoVerifier(config, { isRevoked: () => ++calls > 0 });
  await assert.rejects(verifier.verify(mintAccessToken({ key, issuer, clientId: 'other' })), {
    code: 'ERR_CLIENT_MISMATCH',
  });
  assert.equal(calls, 0);
  await assert.rejects(verifier.verify(mintAccessToken({ key, issuer, clientId: 'c1' })), {
    code: 'ERR_TOKEN_REVOKED',
  });
  assert.equal(calls, 1);
});

test('isRevoked must be a function (checked at construction)', () => {
  assert.throws(() => new CognitoVerifier(config, { isRevoked: 'yes' as never }), {
    code: 'ERR_CONFIG_INVALID',
  });
});
