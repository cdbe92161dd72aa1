import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleFetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import jwt, { type GetPublicKeyOrSecret } from 'jsonwebtoken';
import jwksClient from 'jwks-rsa';
import { CognitoVerifier } from '../src/index.ts';
import { CLIENT_ID, type Fixture, ISSUER, USER_POOL_ID } from './fixtures.ts';
import type { VerifyFn } from './variants.ts';

export interface Flood {
  readonly library: string;
  /** JWKS requests the flood caused (the keys were loaded by one good token before it started). */
  readonly fetches: number;
  /** Every token rejected, as it must be. */
  readonly allRejected: boolean;
  readonly durationMs: number;
  readonly note: string;
}

/**
 * Tokens whose `kid` no JWKS holds: a valid-looking header and payload, a random signature (the
 * key lookup fails before any signature check, so none is computed).
 */
export function unknownKidTokens(count: number): string[] {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const payload = encode({
    sub: 'flood',
    iss: ISSUER,
    token_use: 'access',
    client_id: CLIENT_ID,
    iat: now,
    exp: now + 3600,
  });
  const signature = randomBytes(256).toString('base64url');
  return Array.from(
    { length: count },
    (_, index) => `${encode({ kid: `unknown-kid-${index}`, alg: 'RS256' })}.${payload}.${signature}`,
  );
}

const FLOODED: readonly { library: string; note: string; create: (fixture: Fixture) => VerifyFn }[] = [
  {
    library: 'cognito-jwt',
    note: 'single-flight refetch on an unknown kid, then a 30 s cooldown',
    create: (fixture) => {
      const verifier = new CognitoVerifier({
        userPoolId: USER_POOL_ID,
        clientId: CLIENT_ID,
        tokenUse: 'access',
        jwksUri: fixture.jwksUri,
      });
      return (token) => verifier.verify(token);
    },
  },
  {
    library: 'aws-jwt-verify',
    note: 'SimpleJwksCache with its default penalty box',
    create: (fixture) => {
      const fetcher = new SimpleFetcher({ defaultRequestOptions: { agent: new Agent() } });
      const jwksCache = new SimpleJwksCache({
        fetcher: { fetch: (_uri, options, data) => fetcher.fetch(fixture.jwksUri, options, data) },
      });
      const verifier = CognitoJwtVerifier.create(
        { userPoolId: USER_POOL_ID, tokenUse: 'access', clientId: CLIENT_ID },
        { jwksCache },
      );
      return (token) => verifier.verify(token);
    },
  },
  {
    library: 'jose',
    note: 'createRemoteJWKSet with its defaults (30 s cooldown)',
    create: (fixture) => {
      const keys = createRemoteJWKSet(new URL(fixture.jwksUri));
      return (token) => jwtVerify(token, keys, { issuer: ISSUER, algorithms: ['RS256'] });
    },
  },
  {
    library: 'jsonwebtoken + jwks-rsa',
    note: 'jwks-rsa with its defaults (cache on, rateLimit off)',
    create: (fixture) => {
      const client = jwksClient({ jwksUri: fixture.jwksUri });
      const getKey: GetPublicKeyOrSecret = (header, callback) => {
        client.getSigningKey(header.kid, (error, key) => callback(error, key?.getPublicKey()));
      };
      return (token) =>
        new Promise((resolve, reject) => {
          jwt.verify(token, getKey, { algorithms: ['RS256'], issuer: ISSUER }, (error, payload) =>
            error ? reject(error) : resolve(payload),
          );
        });
    },
  },
];

/**
 * Send the same flood of unknown-kid tokens to each library's new verifier (its keys loaded by
 * one good token), in waves of concurrent calls, and count the JWKS requests the loopback server
 * answered meanwhile.
 */
export async function measureFloods(
  fixture: Fixture,
  tokens: readonly string[],
  wave: number,
): Promise<Flood[]> {
  const results: Flood[] = [];
  for (const { library, note, create } of FLOODED) {
    const verify = create(fixture);
    await verify(fixture.warmup.access);
    const before = fixture.server.requestCount;
    const start = performance.now();
    let accepted = 0;
    for (let first = 0; first < tokens.length; first += wave) {
      const outcomes = await Promise.allSettled(
        tokens.slice(first, first + wave).map(async (token) => verify(token)),
      );
      accepted += outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    }
    results.push({
      library,
      fetches: fixture.server.requestCount - before,
      allRejected: accepted === 0,
      durationMs: performance.now() - start,
      note,
    });
  }
  return results;
}
