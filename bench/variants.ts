import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { Agent } from 'node:http';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleFetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { createVerifier } from 'fast-jwt';
import { createLocalJWKSet, jwtVerify } from 'jose';
import jwt, { type GetPublicKeyOrSecret, type JwtPayload } from 'jsonwebtoken';
import jwksClient from 'jwks-rsa';
import { CognitoVerifier } from '../src/index.ts';
import type { TokenUse } from '../src/token/claims.ts';
import { CLIENT_ID, type Fixture, ISSUER, USER_POOL_ID } from './fixtures.ts';

/** Verifies one token: returns its claims (or a promise of them), throws (or rejects) otherwise. */
export type VerifyFn = (token: string) => unknown;

export const WORKLOADS = ['access-distinct', 'id-distinct', 'access-repeat', 'access-16-callers'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface Variant {
  readonly name: string;
  readonly library: string;
  /** What the variant checks natively, what the benchmark adds, and what it cannot do. */
  readonly note: string;
  /** The reference rows check the signature only: they are the floor, not a verifier. */
  readonly reference?: boolean;
  /** Run only in these workloads (default: all). */
  readonly only?: readonly WorkloadName[];
  /** A new verifier for `use`: keys loaded, empty token cache, used once so lazy set-up is done. */
  create(fixture: Fixture, use: TokenUse): Promise<VerifyFn>;
}

/** The Cognito checks a generic JWT library lacks, added to its result where it cannot make them. */
function cognitoChecks(payload: Record<string, unknown> | JwtPayload | string, use: TokenUse): unknown {
  if (typeof payload !== 'object' || payload === null) throw new Error('no claims');
  if (payload.token_use !== use) throw new Error('token_use');
  if ((use === 'id' ? payload.aud : payload.client_id) !== CLIENT_ID) throw new Error('client');
  if (typeof payload.exp !== 'number') throw new Error('exp is required');
  return payload;
}

/** The signing key as the fastest `KeyObject` there is: read from DER (a JWK import is ~1.5 % slower to use). */
function publicKeyOf(fixture: Fixture) {
  const fromJwk = createPublicKey({ key: { ...fixture.key.publicJwk, kty: 'RSA' }, format: 'jwk' });
  return createPublicKey({
    key: fromJwk.export({ format: 'der', type: 'spki' }),
    format: 'der',
    type: 'spki',
  });
}

/**
 * What verifying a JWT cannot avoid besides the signature: split once, base64url-decode and
 * parse header and payload, decode the signature.
 */
function splitAndParse(token: string) {
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  JSON.parse(Buffer.from(token.slice(0, dot1), 'base64url').toString());
  return {
    payload: JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString()) as unknown,
    signingInput: Buffer.from(token.slice(0, dot2)),
    signature: Buffer.from(token.slice(dot2 + 1), 'base64url'),
  };
}

/** The limit: {@link splitAndParse}, then one `crypto.verify('RSA-SHA256', ...)` with a pre-imported key. */
function limit(fixture: Fixture): VerifyFn {
  const key = publicKeyOf(fixture);
  return (token) => {
    const { payload, signingInput, signature } = splitAndParse(token);
    if (!cryptoVerify('RSA-SHA256', signingInput, key, signature)) throw new Error('signature');
    return payload;
  };
}

async function cognitoJwt(fixture: Fixture, use: TokenUse, cache: boolean): Promise<CognitoVerifier> {
  const verifier = new CognitoVerifier(
    { userPoolId: USER_POOL_ID, clientId: CLIENT_ID, tokenUse: use, jwksUri: fixture.jwksUri },
    cache ? {} : { verifiedTokenCache: false },
  );
  await verifier.hydrate();
  return verifier;
}

const COGNITO_JWT_NOTE = 'checks everything natively';

export const VARIANTS: readonly Variant[] = [
  {
    name: 'limit',
    library: 'node:crypto',
    note: "split + base64url + JSON.parse of header and payload + crypto.verify('RSA-SHA256') with a pre-imported KeyObject; signature only",
    reference: true,
    create: async (fixture) => limit(fixture),
  },
  {
    name: 'limit, thread pool',
    library: 'node:crypto',
    note: 'the limit with the callback form of crypto.verify (libuv thread pool): what one caller loses, what 16 callers could reach',
    reference: true,
    only: ['access-distinct', 'access-16-callers'],
    create: async (fixture) => {
      const key = publicKeyOf(fixture);
      return (token) => {
        const { payload, signingInput, signature } = splitAndParse(token);
        return new Promise((resolve, reject) => {
          cryptoVerify('RSA-SHA256', signingInput, key, signature, (error, valid) => {
            if (error || !valid) reject(error ?? new Error('signature'));
            else resolve(payload);
          });
        });
      };
    },
  },
  {
    name: 'cognito-jwt verifySync',
    library: 'cognito-jwt',
    note: `${COGNITO_JWT_NOTE}; verified-token cache on (the default)`,
    create: async (fixture, use) => {
      const verifier = await cognitoJwt(fixture, use, true);
      return (token) => verifier.verifySync(token);
    },
  },
  {
    name: 'cognito-jwt verifySync, no cache',
    library: 'cognito-jwt',
    note: `${COGNITO_JWT_NOTE}; verifiedTokenCache: false`,
    create: async (fixture, use) => {
      const verifier = await cognitoJwt(fixture, use, false);
      return (token) => verifier.verifySync(token);
    },
  },
  {
    name: 'cognito-jwt verify',
    library: 'cognito-jwt',
    note: `${COGNITO_JWT_NOTE}; async; cache on`,
    create: async (fixture, use) => {
      const verifier = await cognitoJwt(fixture, use, true);
      return (token) => verifier.verify(token);
    },
  },
  {
    name: 'cognito-jwt verify, no cache',
    library: 'cognito-jwt',
    note: `${COGNITO_JWT_NOTE}; async; verifiedTokenCache: false`,
    create: async (fixture, use) => {
      const verifier = await cognitoJwt(fixture, use, false);
      return (token) => verifier.verify(token);
    },
  },
  {
    name: 'aws-jwt-verify verifySync',
    library: 'aws-jwt-verify',
    note: 'checks everything natively; after hydrate(); no token cache',
    create: async (fixture, use) => {
      // Its fetcher speaks https only: an http agent and a redirect to the loopback JWKS.
      const fetcher = new SimpleFetcher({ defaultRequestOptions: { agent: new Agent() } });
      const jwksCache = new SimpleJwksCache({
        fetcher: { fetch: (_uri, options, data) => fetcher.fetch(fixture.jwksUri, options, data) },
      });
      const verifier = CognitoJwtVerifier.create(
        { userPoolId: USER_POOL_ID, tokenUse: use, clientId: CLIENT_ID },
        { jwksCache },
      );
      await verifier.hydrate();
      return (token) => verifier.verifySync(token);
    },
  },
  {
    name: 'jose jwtVerify',
    library: 'jose',
    note: 'createLocalJWKSet; issuer, alg, exp (required), aud for ID tokens natively; token_use and client_id added; async (WebCrypto)',
    create: async (fixture, use) => {
      const keys = createLocalJWKSet(fixture.jwks as Parameters<typeof createLocalJWKSet>[0]);
      const options = {
        issuer: ISSUER,
        algorithms: ['RS256'],
        requiredClaims: ['exp'],
        ...(use === 'id' ? { audience: CLIENT_ID } : {}),
      };
      return async (token) => cognitoChecks((await jwtVerify(token, keys, options)).payload, use);
    },
  },
  {
    name: 'fast-jwt',
    library: 'fast-jwt',
    note: 'sync with one PEM key (no kid lookup: its async key callback would re-import the key every call); issuer, alg, exp (required), aud natively; token_use and client_id added',
    create: async (fixture, use) => fastJwt(fixture, use, false),
  },
  {
    name: 'fast-jwt, cache',
    library: 'fast-jwt',
    note: 'as fast-jwt, with its verified-token cache (cache: true, 1 000 entries, keyed by a SHA-256 of the token)',
    create: async (fixture, use) => fastJwt(fixture, use, true),
  },
  {
    name: 'jsonwebtoken + jwks-rsa',
    library: 'jsonwebtoken',
    note: 'jwks-rsa getSigningKey (cached) per token, PEM re-imported by jsonwebtoken every call; issuer, alg, aud natively; exp only when present, so required here, token_use and client_id added; async',
    create: async (fixture, use) => {
      const client = jwksClient({ jwksUri: fixture.jwksUri });
      const getKey: GetPublicKeyOrSecret = (header, callback) => {
        client.getSigningKey(header.kid, (error, key) => callback(error, key?.getPublicKey()));
      };
      const options: jwt.VerifyOptions = {
        algorithms: ['RS256'],
        issuer: ISSUER,
        ...(use === 'id' ? { audience: CLIENT_ID } : {}),
      };
      return (token) =>
        new Promise((resolve, reject) => {
          jwt.verify(token, getKey, options, (error, payload) => {
            if (error) reject(error);
            else {
              try {
                resolve(cognitoChecks(payload ?? '', use));
              } catch (failure) {
                reject(failure);
              }
            }
          });
        });
    },
  },
];

function fastJwt(fixture: Fixture, use: TokenUse, cache: boolean): VerifyFn {
  const verify = createVerifier({
    key: publicKeyOf(fixture).export({ format: 'pem', type: 'spki' }).toString(),
    algorithms: ['RS256'],
    allowedIss: ISSUER,
    ...(use === 'id' ? { allowedAud: CLIENT_ID } : {}),
    requiredClaims: ['exp'],
    cache,
  });
  return (token) => cognitoChecks(verify(token), use);
}
