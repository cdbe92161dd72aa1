import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Jwks } from '../src/keys/jwk.ts';
import {
  buildJwks,
  generateKeyPair,
  type JwksServer,
  type MintOptions,
  mintAccessToken,
  mintIdToken,
  startJwksServer,
  type TestKeyPair,
} from '../src/testing/index.ts';
import type { TokenUse } from '../src/token/claims.ts';
import { type Build, moduleUrl } from './build.ts';

/** Tokens carry the real Cognito issuer; only the JWKS comes from loopback. */
export const USER_POOL_ID = 'us-east-1_BenchPool1';
export const CLIENT_ID = 'benchclient1234567890abcdef';
export const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${USER_POOL_ID}`;

/** The checks every variant must make; each has a token that breaks only it. */
export const RULES = ['signature', 'exp', 'iss', 'client', 'token_use'] as const;
export type Rule = (typeof RULES)[number];

export interface Fixture {
  /** Signs every good token; the JWKS also holds a second key, like a real pool. */
  readonly key: TestKeyPair;
  readonly jwks: Jwks;
  readonly server: JwksServer;
  /** `http://127.0.0.1:{port}/{pool}/.well-known/jwks.json` */
  readonly jwksUri: string;
  /** For each token use: one token per rule, each failing that rule only. */
  readonly badTokens: Record<TokenUse, Record<Rule, string>>;
  /** A good token per use that no workload measures: it warms a new verifier up. */
  readonly warmup: Record<TokenUse, string>;
  close(): Promise<void>;
}

const minters: Record<TokenUse, (options: MintOptions) => string> = {
  id: mintIdToken,
  access: mintAccessToken,
};

export async function createFixture(): Promise<Fixture> {
  const key = generateKeyPair();
  const spare = generateKeyPair();
  const attacker = generateKeyPair({ kid: key.kid });
  const server = await startJwksServer({ keys: [key, spare] });
  const good: MintOptions = { key, userPoolId: USER_POOL_ID, clientId: CLIENT_ID };
  const badFor = (use: TokenUse): Record<Rule, string> => {
    const mint = minters[use];
    return {
      signature: mint({ ...good, key: attacker }),
      exp: mint({ ...good, expiresIn: -120 }),
      iss: mint({ ...good, issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_NotThisPool' }),
      client: mint({ ...good, clientId: 'someoneelse1234567890abcd' }),
      token_use: minters[use === 'id' ? 'access' : 'id'](good),
    };
  };
  return {
    key,
    jwks: buildJwks(key, spare),
    server,
    jwksUri: server.jwksUri(USER_POOL_ID),
    badTokens: { id: badFor('id'), access: badFor('access') },
    warmup: { id: mintIdToken(good), access: mintAccessToken(good) },
    close: () => server.close(),
  };
}

/**
 * Mint `count` distinct tokens signed by `key`, on one worker thread per core (an RSA-2048
 * signature costs about 0.5 ms; a verification about 20 µs).
 */
export async function mintMany(
  build: Build,
  key: TestKeyPair,
  use: TokenUse,
  count: number,
): Promise<string[]> {
  const workers = Math.max(1, Math.min(availableParallelism(), Math.ceil(count / 500)));
  const privateKeyPem = key.privateKey.export({ format: 'pem', type: 'pkcs8' });
  const shares = Array.from(
    { length: workers },
    (_, index) => Math.floor(count / workers) + (index < count % workers ? 1 : 0),
  );
  const parts = await Promise.all(
    shares.map(
      (share) =>
        new Promise<string[]>((resolve, reject) => {
          const worker = new Worker(new URL('./mint-worker.mjs', import.meta.url), {
            workerData: {
              testingUrl: moduleUrl(build, 'testing/index.js'),
              privateKeyPem,
              kid: key.kid,
              kind: use,
              count: share,
              userPoolId: USER_POOL_ID,
              clientId: CLIENT_ID,
            },
          });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  return parts.flat();
}
