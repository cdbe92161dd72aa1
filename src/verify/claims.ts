import {
  CognitoJwtError,
  describeValue,
  invalidClaim,
  ScopeMissingError,
  TokenExpiredError,
} from '../errors.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { checkClaimsSchema } from './claims-schema.ts';
import type { ClaimRules } from './config.ts';
import { parseGroups } from './groups-claim.ts';

/** An `iat` up to this far ahead is ordinary clock drift between AWS and this host. */
export const MAX_IAT_AHEAD_SECONDS = 300;

/** A `Date` holds ±8.64e15 ms; a numeric date beyond it is no date (and would break `toISOString`). */
const MAX_EPOCH_SECONDS = 8.64e12;

function isEpochSeconds(value: unknown): value is number {
  return typeof value === 'number' && Math.abs(value) <= MAX_EPOCH_SECONDS;
}

/** `exp` (required), `nbf` and `iat` against the clock. */
export function checkTimes(
  payload: Record<string, unknown>,
  nowSeconds: number,
  toleranceSeconds: number,
): void {
  const { exp, nbf, iat } = payload;
  if (!isEpochSeconds(exp)) throw invalidClaim('exp', 'a number of seconds (it is required)', exp);
  if (nowSeconds >= exp + toleranceSeconds) throw new TokenExpiredError(exp, nowSeconds);
  if (nbf !== undefined) {
    if (!isEpochSeconds(nbf)) throw invalidClaim('nbf', 'a number of seconds', nbf);
    if (nbf > nowSeconds + toleranceSeconds) {
      throw new CognitoJwtError(
        'ERR_TOKEN_NOT_YET_VALID',
        `token is not valid before ${new Date(nbf * 1000).toISOString()} (${Math.round(nbf - nowSeconds)} s from now)`,
        { claim: 'nbf' },
      );
    }
  }
  if (iat !== undefined) {
    if (!isEpochSeconds(iat)) throw invalidClaim('iat', 'a number of seconds', iat);
    if (iat > nowSeconds + MAX_IAT_AHEAD_SECONDS + toleranceSeconds) {
      throw new CognitoJwtError(
        'ERR_TOKEN_ISSUED_IN_FUTURE',
        `token claims to be issued at ${new Date(iat * 1000).toISOString()}, ${Math.round(iat - nowSeconds)} s from now`,
        { claim: 'iat' },
      );
    }
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Claims Cognito always writes as strings; checked when present, so code may rely on the type. */
const STRING_CLAIMS = [
  'jti',
  'origin_jti',
  'event_id',
  'username',
  'cognito:username',
  'cognito:preferred_role',
  'acr',
] as const;

/** Claims Cognito always writes as arrays of strings (checked when present). */
const STRING_ARRAY_CLAIMS = ['cognito:roles', 'amr'] as const;

/** The claims whose type Cognito fixes, beyond those the checks above already read. */
function checkClaimTypes(payload: Record<string, unknown>): void {
  for (const claim of STRING_CLAIMS) {
    const value = payload[claim];
    if (value !== undefined && typeof value !== 'string') throw invalidClaim(claim, 'a string', value);
  }
  for (const claim of STRING_ARRAY_CLAIMS) {
    const value = payload[claim];
    if (value !== undefined && !isStringArray(value)) throw invalidClaim(claim, 'an array of strings', value);
  }
  const authTime = payload.auth_time;
  if (authTime !== undefined && !isEpochSeconds(authTime))
    throw invalidClaim('auth_time', 'a number of seconds', authTime);
}

/**
 * Run every claim check of a config on a payload whose signature has been verified. With a
 * `groupsClaim`, the groups it parsed are returned in `parsed.groups` (the verifier files them).
 */
export function checkClaims(
  payload: Record<string, unknown>,
  rules: ClaimRules,
  nowSeconds: number,
  parsed?: { groups?: readonly string[] },
): CognitoClaims {
  checkTimes(payload, nowSeconds, rules.toleranceSeconds);

  const use = payload.token_use;
  if (use !== 'id' && use !== 'access') {
    throw new CognitoJwtError(
      'ERR_TOKEN_USE_MISMATCH',
      `token_use must be "id" or "access", found ${describeValue(use)}`,
      {
        claim: 'token_use',
      },
    );
  }
  if (rules.tokenUse !== null && use !== rules.tokenUse) {
    throw new CognitoJwtError(
      'ERR_TOKEN_USE_MISMATCH',
      `expected ${rules.tokenUse === 'id' ? 'an ID' : 'an access'} token, found ${use === 'id' ? 'an ID' : 'an access'} token`,
      { claim: 'token_use' },
    );
  }

  // Access tokens carry no aud: their client is client_id (choosing by token_use prevents confusion).
  const clientClaim = use === 'id' ? 'aud' : 'client_id';
  const client = payload[clientClaim];
  if (typeof client !== 'string') throw invalidClaim(clientClaim, 'a string', client);
  if (rules.clientIds !== null && !rules.clientIds.has(client)) {
    throw new CognitoJwtError(
      'ERR_CLIENT_MISMATCH',
      `${clientClaim} ${describeValue(client)} is not an allowed client (expected ${[...rules.clientIds].map((id) => `"${id}"`).join(' or ')})`,
      { claim: clientClaim },
    );
  }

  // An access token's aud names the resource it is bound to (RFC 8707), never its client.
  if (use === 'access') {
    const aud = payload.aud;
    if (rules.audience !== undefined) checkAudience(aud, rules.audience);
    else if (aud !== undefined && typeof aud !== 'string' && !isStringArray(aud))
      throw invalidClaim('aud', 'a resource URI or an array of them', aud);
  }

  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw invalidClaim('sub', 'a non-empty string', payload.sub);
  }
  const cognitoGroups = payload['cognito:groups'];
  if (cognitoGroups !== undefined && !isStringArray(cognitoGroups))
    throw invalidClaim('cognito:groups', 'an array of strings', cognitoGroups);
  let groups: readonly string[] | undefined = cognitoGroups;
  if (rules.groupsSource !== undefined) {
    groups = parseGroups(payload, rules.groupsSource);
    if (parsed) parsed.groups = groups;
  }
  const scope = payload.scope;
  if (scope !== undefined && typeof scope !== 'string')
    throw invalidClaim('scope', 'a space-separated string', scope);
  checkClaimTypes(payload);
  if (rules.schema !== undefined) checkClaimsSchema(payload, rules.schema);

  if (rules.groups) checkGroups(groups ?? [], rules.groups, rules.groupsSource?.claim);
  if (rules.scopes) checkScopes(scope ?? '', rules.scopes);
  return payload as unknown as CognitoClaims;
}

/** `aud` (a string or an array) must hold one of the resources, exactly. */
function checkAudience(aud: unknown, audience: ReadonlySet<string>): void {
  const expected = [...audience].map((uri) => `"${uri}"`).join(' or ');
  if (aud === undefined) {
    throw new CognitoJwtError(
      'ERR_AUDIENCE_MISMATCH',
      `the access token is bound to no resource (no aud); expected ${expected}: the client must ask for it with resource=`,
      { claim: 'aud' },
    );
  }
  const values = typeof aud === 'string' ? [aud] : isStringArray(aud) ? aud : undefined;
  if (values === undefined) throw invalidClaim('aud', 'a resource URI or an array of them', aud);
  if (!values.some((value) => audience.has(value))) {
    throw new CognitoJwtError(
      'ERR_AUDIENCE_MISMATCH',
      `the access token is bound to ${values.length === 1 ? describeValue(values[0]) : values.map((value) => describeValue(value)).join(', ')}, not to ${expected}`,
      { claim: 'aud' },
    );
  }
}

/** The token's groups must include at least one of `wanted`; `claim` is where they came from. */
export function checkGroups(
  groups: readonly string[],
  wanted: readonly string[],
  claim = 'cognito:groups',
): void {
  if (!wanted.some((group) => groups.includes(group))) {
    throw new CognitoJwtError(
      'ERR_GROUP_MISSING',
      `token is in none of the required groups (${wanted.join(', ')}); its groups: ${groups.length ? groups.join(', ') : 'none'}`,
      { claim },
    );
  }
}

/** The token's space-separated `scope` must include at least one of `wanted`. */
export function checkScopes(scope: string, wanted: readonly string[]): void {
  const granted = scope.split(' ');
  if (!wanted.some((item) => granted.includes(item))) {
    throw new ScopeMissingError(
      `token has none of the required scopes (${wanted.join(', ')}); its scopes: ${scope || 'none'}`,
      wanted,
      granted.filter((item) => item !== ''),
    );
  }
}
