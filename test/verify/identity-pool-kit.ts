/**
 * Identity-pool OpenID tokens for tests: keys published the way
 * `https://cognito-identity.amazonaws.com/.well-known/jwks_uri` publishes them (`alg: RS512`,
 * region-prefixed kids such as `us-east-11`, `n` in standard base64 with a leading zero byte and
 * `=` padding), and tokens signed RS512 with the claims `GetOpenIdToken` gives.
 */
import { createSign, randomUUID } from 'node:crypto';
import type { Jwk, Jwks } from '../../src/index.ts';
import { generateKeyPair, type TestKeyPair } from '../../src/testing/index.ts';

export const IDENTITY_POOL = 'us-east-1:8b3ae4f0-5a8b-4f44-93a9-7f3f3a3b1c2d';
export const USER_POOL_PROVIDER = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz';

/** A key pair whose public JWK has the identity pools' published shape. */
export function identityKey(kid = 'us-east-11'): TestKeyPair {
  const pair = generateKeyPair({ kid });
  const modulus = Buffer.from(pair.publicJwk.n!, 'base64url');
  const publicJwk: Jwk = {
    kty: 'RSA',
    alg: 'RS512',
    use: 'sig',
    kid,
    n: Buffer.concat([Buffer.of(0), modulus]).toString('base64'), // 257 bytes: one '=' of padding
    e: pair.publicJwk.e!,
  };
  return { ...pair, publicJwk };
}

export function identityJwks(...keys: TestKeyPair[]): Jwks {
  return { keys: keys.map((key) => ({ ...key.publicJwk })) };
}

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Sign header and claims with `hash` (default sha512) by `key`. */
export function signIdentityToken(
  key: TestKeyPair,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
  hash = 'sha512',
): string {
  const input = `${segment({ kid: key.kid, typ: 'JWS', alg: 'RS512', ...header })}.${segment(payload)}`;
  const signature = createSign(hash).update(input).sign(key.privateKey).toString('base64url');
  return `${input}.${signature}`;
}

/** What `GetOpenIdToken` returns for an identity that signed in through a user pool (claims overridable; `undefined` removes one). */
export function mintIdentityToken(
  key: TestKeyPair,
  issuer: string,
  options: {
    claims?: Record<string, unknown>;
    header?: Record<string, unknown>;
    now?: number;
    hash?: string;
  } = {},
): string {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: Record<string, unknown> = {
    sub: `us-east-1:${randomUUID()}`,
    aud: IDENTITY_POOL,
    amr: ['authenticated', USER_POOL_PROVIDER, `${USER_POOL_PROVIDER}:CognitoSignIn:${randomUUID()}`],
    iss: issuer,
    exp: now + 600,
    iat: now,
    'https://aws.amazon.com/tags': { principal_tags: { team: ['blue'] } },
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return signIdentityToken(key, claims, options.header, options.hash);
}
