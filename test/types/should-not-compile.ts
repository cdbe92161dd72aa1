/**
 * Calls that must NOT compile. `npx tsc -p tsconfig.json` (part of `npm test`) checks this file;
 * each `@ts-expect-error` must meet a type error on the next line, so a line that starts to
 * compile (a required option made optional, a narrowing lost) fails the typecheck.
 * Nothing here runs: the file is not a test file and exports functions nobody calls.
 */
import {
  type CognitoAccessTokenClaims,
  type CognitoClaims,
  type CognitoIdTokenClaims,
  CognitoVerifier,
  decodeUnverified,
  type VerifierConfig,
} from '../../src/index.ts';
import { type Equals, expectTrue, expectType } from '../helpers/expect-type.ts';

const userPoolId = 'us-east-1_AbC123';

/** A config must say which clients and which token use it accepts (`null` to opt out explicitly). */
export function requiredOptions(): unknown[] {
  return [
    // @ts-expect-error clientId is required
    new CognitoVerifier({ userPoolId, tokenUse: 'id' }),
    // @ts-expect-error tokenUse is required
    new CognitoVerifier({ userPoolId, clientId: 'c' }),
    // @ts-expect-error both are required
    new CognitoVerifier({ userPoolId }),
    // @ts-expect-error userPoolId is required
    new CognitoVerifier({ clientId: 'c', tokenUse: 'id' }),
    new CognitoVerifier([
      { userPoolId, clientId: 'c', tokenUse: 'id' },
      // @ts-expect-error every config of a list needs them
      { userPoolId, clientId: 'c' },
    ]),
    // @ts-expect-error undefined is not an explicit opt-out; null is
    new CognitoVerifier({ userPoolId, clientId: undefined, tokenUse: 'id' }),
    // @ts-expect-error undefined is not an explicit opt-out; null is
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: undefined }),
    new CognitoVerifier({ userPoolId, clientId: null, tokenUse: null }),
  ];
}

/** Values outside the documented ones do not compile. */
export function wrongValues(): unknown[] {
  const held = { userPoolId, clientId: 'c', tokenUse: 'access', scope: 'orders/read' } as const;
  return [
    // @ts-expect-error a misspelt option is caught in a config held in a variable too
    new CognitoVerifier(held),
    // @ts-expect-error there is no 'refresh' token use: refresh tokens are not verified
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'refresh' }),
    // @ts-expect-error token_use values are lower case
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'ID' }),
    // @ts-expect-error a client id is a string
    new CognitoVerifier({ userPoolId, clientId: 42, tokenUse: 'id' }),
    // @ts-expect-error groups are strings
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id', groups: [1] }),
    // @ts-expect-error a misspelt option is caught on an object literal
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id', group: 'admin' }),
    // @ts-expect-error the clock returns epoch milliseconds
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id' }, { clock: () => new Date() }),
  ];
}

/** `tokenUse` narrows the claims `verify` and `verifySync` return. */
export async function narrowing(token: string): Promise<void> {
  const ids = new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id' });
  const idClaims = await ids.verify(token);
  expectTrue<Equals<typeof idClaims, CognitoIdTokenClaims>>();
  expectType<string>(idClaims.aud);
  expectType<string>(idClaims['cognito:username']);
  expectType<'id'>(idClaims.token_use);
  // @ts-expect-error an ID token has no client_id claim: unknown, not a string
  expectType<string>(idClaims.client_id);
  // @ts-expect-error an ID verifier never returns an access token
  expectType<'access'>(idClaims.token_use);

  const access = new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'access' });
  const accessClaims = access.verifySync(token);
  expectTrue<Equals<typeof accessClaims, CognitoAccessTokenClaims>>();
  expectType<string>(accessClaims.client_id);
  expectType<string | undefined>(accessClaims.scope);
  // @ts-expect-error an access token's aud is optional (bound to a resource, or not), and may be an array
  expectType<string>(accessClaims.aud);
  expectTrue<Equals<typeof accessClaims.aud, string | string[] | undefined>>();
  expectTrue<Equals<typeof accessClaims.acr, string | undefined>>();
  // @ts-expect-error client-credentials access tokens have no username
  expectType<string>(accessClaims.username);

  const either = new CognitoVerifier({ userPoolId, clientId: null, tokenUse: null });
  const claims = await either.verify(token);
  expectTrue<Equals<typeof claims, CognitoClaims>>();
  // @ts-expect-error with tokenUse null, aud is only known after checking token_use
  expectType<string>(claims.aud);
  if (claims.token_use === 'id') expectType<string>(claims.aud);
  else expectType<string>(claims.client_id);

  const pools = new CognitoVerifier([
    { userPoolId, clientId: 'c', tokenUse: 'id' },
    { userPoolId: 'eu-west-1_Other', clientId: 'c', tokenUse: 'access' },
  ]);
  expectTrue<Equals<Awaited<ReturnType<typeof pools.verify>>, CognitoClaims>>();

  const config: VerifierConfig = { userPoolId, clientId: 'c', tokenUse: 'id' };
  // @ts-expect-error a config typed as VerifierConfig has lost its literal tokenUse
  expectType<string>(new CognitoVerifier(config).verifySync(token).aud);
}

/** decodeUnverified's claims are partial: nothing in an unverified token is guaranteed. */
export function decoded(token: string): void {
  const { header, payload } = decodeUnverified(token);
  expectType<string | undefined>(header.kid);
  expectType<'id' | 'access' | undefined>(payload.token_use);
  // @ts-expect-error sub may be missing from an unverified token
  expectType<string>(payload.sub);
  // @ts-expect-error a token is a string
  decodeUnverified(42);
}

/** `audience` binds access tokens only: with ID tokens accepted, an ID token's aud (its client) would pass. */
export function audienceNeedsAccessTokens(): unknown[] {
  const resource = 'https://api.example.com';
  return [
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'access', audience: resource }),
    new CognitoVerifier({ userPoolId, clientId: null, tokenUse: 'access', audience: [resource, 'urn:x'] }),
    // @ts-expect-error audience with tokenUse 'id'
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id', audience: resource }),
    // @ts-expect-error audience with tokenUse null
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: null, audience: resource }),
    new CognitoVerifier([
      { userPoolId, clientId: 'c', tokenUse: 'access', audience: resource },
      // @ts-expect-error every config of a list is held to it
      { userPoolId: 'eu-west-1_Other', clientId: 'c', tokenUse: 'id', audience: resource },
    ]),
    // @ts-expect-error a resource is a string
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'access', audience: 42 }),
  ];
}

/** A claims schema knows its type names; the verified claims are typed from it. */
export async function claimsSchema(token: string): Promise<unknown[]> {
  const verifier = new CognitoVerifier({
    userPoolId,
    clientId: 'c',
    tokenUse: 'access',
    claims: { tenant: 'string', plan: ['free', 'pro'], seats: 'number', beta: 'boolean?', tags: 'string[]' },
  });
  const claims = await verifier.verify(token);
  expectType<string>(claims.tenant);
  expectTrue<Equals<typeof claims.plan, 'free' | 'pro'>>();
  expectType<number>(claims.seats);
  expectTrue<Equals<typeof claims.beta, boolean | undefined>>();
  expectType<readonly string[]>(claims.tags);
  expectType<string>(claims.client_id);
  // @ts-expect-error plan is 'free' or 'pro', not any string
  expectType<'gold'>(claims.plan);
  return [
    // @ts-expect-error a schema with an unknown type name
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id', claims: { tenant: 'strin' } }),
    // @ts-expect-error a list of allowed values holds strings
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id', claims: { level: [1, 2] } }),
    new CognitoVerifier({
      userPoolId,
      clientId: 'c',
      tokenUse: 'id',
      // @ts-expect-error groupsClaim formats are array, json, bracketed, string
      groupsClaim: { claim: 'g', format: 'csv' },
    }),
    // @ts-expect-error acrLevels names the four levels
    new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id', acrLevels: ['a', 'b', 'c'] }),
  ];
}
