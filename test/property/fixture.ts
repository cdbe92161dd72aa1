/**
 * What the property tests share: one signing key, a loopback JWKS server (so an unknown kid never
 * causes a request beyond loopback), a verifier with the keys preloaded (so `verifySync` works from
 * the first run), valid tokens to mutate, and the checks every rejected input must pass.
 */
import assert from 'node:assert/strict';
import { CognitoJwtError, CognitoVerifier, ERROR_STATUS } from '../../src/index.ts';
import {
  buildJwks,
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  mintClientCredentialsToken,
  mintIdToken,
  startJwksServer,
  type TestKeyPair,
} from '../../src/testing/index.ts';

export const POOL = 'local_Property1';
export const CLIENT = 'propertyclient1234567890';

/** fast-check runs per property: enough to explore, few enough for a 2-core machine shared by others. */
export const NUM_RUNS = 1000;
/** Generous bound on one run (all entry points for one input); only a hang or a blow-up exceeds it. */
export const RUN_TIME_LIMIT_MS = 5000;

export interface Fixture {
  key: TestKeyPair;
  server: JwksServer;
  issuer: string;
  verifier: CognitoVerifier;
  /** A valid ID token, a user access token with groups and scopes, and a client-credentials token. */
  tokens: readonly string[];
  close(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const key = generateKeyPair();
  const server = await startJwksServer({ keys: [key] });
  const issuer = server.issuer(POOL);
  const verifier = new CognitoVerifier({
    userPoolId: POOL,
    issuer,
    clientId: CLIENT,
    tokenUse: null,
    jwks: buildJwks(key),
  });
  const base = { key, issuer, clientId: CLIENT };
  const tokens = [
    mintIdToken({ ...base, groups: ['admins'] }),
    mintAccessToken({ ...base, groups: ['admins', 'staff'], scope: ['openid', 'orders/read'] }),
    mintClientCredentialsToken(base),
  ];
  for (const token of tokens) verifier.verifySync(token);
  return { key, server, issuer, verifier, tokens, close: () => server.close() };
}

/** Whatever was thrown must be one of ours, with a code from the table and its status. */
export function assertOurError(error: unknown): asserts error is CognitoJwtError {
  assert.ok(error instanceof CognitoJwtError, `expected a CognitoJwtError, got ${String(error)}`);
  assert.ok(Object.hasOwn(ERROR_STATUS, error.code), `unknown code ${error.code}`);
  assert.equal(error.status, ERROR_STATUS[error.code]);
}

/** The error `fn` throws, or `undefined` when it returns. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The reason `promise` rejects with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail('the promise resolved');
}

/** `verifySync` throws and `verify` rejects, both with our error; returns both errors. */
export async function assertRejectedByBoth(
  verifier: CognitoVerifier,
  input: unknown,
): Promise<[CognitoJwtError, CognitoJwtError]> {
  const syncError = thrownBy(() => verifier.verifySync(input as string));
  assert.notEqual(syncError, undefined, 'verifySync accepted the input');
  assertOurError(syncError);
  const asyncError = await rejectionOf(verifier.verify(input as string));
  assertOurError(asyncError);
  return [syncError, asyncError];
}

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype];

/** The own members of the built-in prototypes, to compare before and after a run. */
export function prototypeMembers(): string[][] {
  return PROTOTYPES.map((prototype) => Reflect.ownKeys(prototype).map(String).sort());
}

/** No built-in prototype gained or lost a member, and a fresh object inherits nothing new. */
export function assertNoPollution(before: string[][]): void {
  assert.deepEqual(prototypeMembers(), before);
  const fresh: Record<string, unknown> = {};
  for (const name of ['polluted', 'isAdmin', 'alg', 'token_use']) assert.equal(fresh[name], undefined);
}
