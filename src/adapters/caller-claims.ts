import { CognitoJwtError, describeValue } from '../errors.ts';
import type { TokenUse } from '../token/claims.ts';

/** Which authorizer put the claims on the event. */
export type ClaimsSource = 'cognito-user-pools' | 'jwt' | 'lambda';

/** The caller as an integration Lambda sees it, whichever authorizer ran. */
export interface CallerClaims {
  sub: string;
  /** `username` (access token) or `cognito:username` (ID token); absent for client-credentials tokens. */
  username: string | undefined;
  /** `cognito:groups`, parsed back into a list however API Gateway flattened it. */
  groups: string[];
  scopes: string[];
  tokenUse: TokenUse | undefined;
  /** `client_id` (access token) or `aud` (ID token). */
  clientId: string | undefined;
  source: ClaimsSource;
  /** Every value as API Gateway delivered it (mostly strings). */
  raw: Readonly<Record<string, unknown>>;
}

/** The part of an integration event this reader looks at (REST v1 and HTTP API v2 events both fit). */
export interface EventWithAuthorizer {
  requestContext?: { authorizer?: unknown } | null;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A list claim as API Gateway hands it on: a real array (direct invocation, tests), `"[a b]"`
 * (HTTP API JWT authorizer) or `"a,b"` (REST Cognito authorizer; a single group is just `"a"`).
 * Cognito group names cannot hold whitespace, but may hold commas: such names cannot survive
 * API Gateway's flattening, and are split.
 */
function flattenedList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (typeof value !== 'string') return [];
  const trimmed = value.trim();
  const bracketed = trimmed.startsWith('[') && trimmed.endsWith(']');
  const items = bracketed ? trimmed.slice(1, -1).split(/\s+/) : trimmed.split(',');
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

function spaced(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter((item) => item !== '') : [];
}

function tokenUseOf(value: unknown): TokenUse | undefined {
  return value === 'id' || value === 'access' ? value : undefined;
}

function caller(
  raw: Record<string, unknown>,
  source: ClaimsSource,
  lists: { groups: string[]; scopes: string[] },
): CallerClaims {
  const sub = text(raw.sub);
  if (!sub) {
    throw new CognitoJwtError(
      'ERR_CLAIM_INVALID',
      `the ${source} authorizer claims have no sub (found ${describeValue(raw.sub)})`,
      { claim: 'sub' },
    );
  }
  return {
    sub,
    username: text(raw.username) ?? text(raw['cognito:username']),
    groups: lists.groups,
    scopes: lists.scopes,
    tokenUse: tokenUseOf(raw.token_use),
    clientId: text(raw.client_id) ?? text(raw.aud),
    source,
    raw,
  };
}

/**
 * The caller's claims in an integration Lambda behind API Gateway, from a REST Cognito user-pool
 * authorizer (`requestContext.authorizer.claims`), an HTTP API JWT authorizer
 * (`requestContext.authorizer.jwt.claims`) or this package's Lambda authorizers (their context).
 * Throws `ERR_TOKEN_MISSING` when the event carries none of them. These claims were verified by
 * the authorizer; nothing is verified again here.
 *
 * ```ts
 * import { getCallerClaims, type APIGatewayProxyEvent } from 'cognito-jwt/lambda';
 *
 * export async function handler(event: APIGatewayProxyEvent) {
 *   const caller = getCallerClaims(event);
 *   if (!caller.groups.includes('admins')) return { statusCode: 403, body: 'admins only' };
 *   return { statusCode: 200, body: JSON.stringify({ hello: caller.username ?? caller.sub }) };
 * }
 * ```
 */
export function getCallerClaims(event: EventWithAuthorizer): CallerClaims {
  const authorizer = record(event?.requestContext?.authorizer);
  const jwt = record(authorizer?.jwt);
  const jwtClaims = record(jwt?.claims);
  if (jwtClaims) {
    const scopes = spaced(jwtClaims.scope);
    return caller(jwtClaims, 'jwt', {
      groups: flattenedList(jwtClaims['cognito:groups']),
      scopes: scopes.length > 0 ? scopes : flattenedList(jwt?.scopes),
    });
  }
  const poolClaims = record(authorizer?.claims);
  if (poolClaims) {
    return caller(poolClaims, 'cognito-user-pools', {
      groups: flattenedList(poolClaims['cognito:groups']),
      scopes: spaced(poolClaims.scope),
    });
  }
  // HTTP API Lambda authorizers put their context under `lambda`; REST ones spread it on `authorizer`.
  const context = record(authorizer?.lambda) ?? authorizer;
  if (context && 'token_use' in context && 'sub' in context) {
    return caller(context, 'lambda', { groups: spaced(context.groups), scopes: spaced(context.scope) });
  }
  throw new CognitoJwtError(
    'ERR_TOKEN_MISSING',
    'the event carries no caller claims: expected requestContext.authorizer.claims (REST Cognito authorizer), ' +
      'requestContext.authorizer.jwt.claims (HTTP API JWT authorizer) or a cognito-jwt Lambda authorizer context',
  );
}
