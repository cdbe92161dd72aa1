/**
 * What the AWS doors without an HTTP response of their own (AppSync, WebSocket `$connect`,
 * Lambda@Edge) share: verify a token, run the rules, and tell `onError` of every refusal. Each
 * door turns the decision into its own answer.
 */
import { groupsOf, scopesOf } from '../authz/rights.ts';
import { type AuthzRule, authorize, checkRules } from '../authz/rule.ts';
import { CognitoJwtError, ConfigError } from '../errors.ts';
import { checkFunction, typeName } from '../options.ts';
import type { CognitoClaims } from '../token/claims.ts';
import type { TokenVerifier } from './http.ts';

/** A door's decision: the verified claims, or the typed error that refused them. */
export type DoorDecision =
  | { allowed: true; claims: CognitoClaims }
  | { allowed: false; error: CognitoJwtError; claims: CognitoClaims | undefined };

/** Check the parts every door takes: rules (an array of rules) and callbacks (functions). */
export function checkDoorParts(
  where: string,
  rules: unknown,
  callbacks: Record<string, unknown>,
): readonly AuthzRule<CognitoClaims, never>[] {
  const list = rules ?? [];
  if (!Array.isArray(list)) throw new ConfigError(`${where}: rules must be an array, got ${typeName(list)}`);
  checkRules(list, where);
  for (const [name, value] of Object.entries(callbacks)) {
    if (value !== undefined) checkFunction(`${where}: ${name}`, value);
  }
  return list as readonly AuthzRule<CognitoClaims, never>[];
}

/**
 * Verify `token` and authorize its claims against `rules` with `event` as the context. Every
 * {@link CognitoJwtError} becomes a refusal (reported to `onError` first); anything else is a
 * fault of the caller's code and is thrown after `onError` heard of it.
 */
export async function decide<Event>(
  verifier: TokenVerifier<CognitoClaims>,
  rules: readonly AuthzRule<CognitoClaims, Event>[],
  token: () => string | null | undefined,
  event: Event,
  onError: ((error: unknown, event: Event) => void) | undefined,
): Promise<DoorDecision> {
  let claims: CognitoClaims | undefined;
  try {
    const found = token();
    if (!found) throw new CognitoJwtError('ERR_TOKEN_MISSING', 'the request carries no token');
    claims = await verifier.verify(found);
    await authorize(claims, rules, event);
    return { allowed: true, claims };
  } catch (error) {
    onError?.(error, event);
    if (error instanceof CognitoJwtError) return { allowed: false, error, claims };
    throw error;
  }
}

/**
 * The caller's identity as strings, the shape every door hands on (API Gateway's authorizer
 * context, AppSync's `resolverContext`): `groups` and `scope` space-separated (neither a Cognito
 * group name nor a scope holds a space), absent values empty.
 */
export interface CallerIdentity {
  sub: string;
  /** `username` of an access token, `cognito:username` of an ID token; empty for client-credentials tokens. */
  username: string;
  groups: string;
  scope: string;
  token_use: string;
  /** `client_id` of an access token, `aud` of an ID token. */
  client_id: string;
}

/** {@link CallerIdentity} of verified claims. */
export function identityOf(claims: CognitoClaims): CallerIdentity {
  const username = claims.token_use === 'id' ? claims['cognito:username'] : claims.username;
  const clientId = claims.token_use === 'id' ? claims.aud : claims.client_id;
  return {
    sub: claims.sub,
    username: typeof username === 'string' ? username : '',
    groups: groupsOf(claims).join(' '),
    scope: scopesOf(claims).join(' '),
    token_use: claims.token_use,
    client_id: typeof clientId === 'string' ? clientId : '',
  };
}

/** Check extra context entries: strings, finite numbers and booleans only (API Gateway and AppSync take nothing else). */
export function checkFlatContext(context: Record<string, unknown>, what: string): void {
  for (const [key, value] of Object.entries(context)) {
    if (typeof value !== 'string' && typeof value !== 'boolean' && !Number.isFinite(value)) {
      throw new ConfigError(
        `the ${what} entry "${key}" is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}; ${what === 'resolverContext' ? 'AppSync takes flat key-value pairs of' : 'API Gateway passes only'} strings, numbers and booleans`,
      );
    }
  }
}
