import type { CognitoClaims } from '../token/claims.ts';
import { factsOf } from '../verify/facts.ts';

/**
 * The groups of verified claims: `cognito:groups`, or what the verifier config's `groupsClaim`
 * parsed; an empty list when the user is in no group. Pass the claims object the verifier
 * returned: a copy (`{ ...claims }`) has lost the parsed groups and reads `cognito:groups`.
 *
 * ```ts
 * if (groupsOf(claims).includes('admins')) showAdminMenu();
 * ```
 */
export function groupsOf(claims: CognitoClaims): readonly string[] {
  const parsed = factsOf(claims).groups;
  if (parsed !== undefined) return parsed;
  const groups = claims['cognito:groups'];
  return Array.isArray(groups) ? groups : [];
}

/**
 * The scopes of verified claims (the space-separated `scope` of an access token, split); an
 * empty list for ID tokens, which carry none.
 *
 * ```ts
 * scopesOf(claims); // ['openid', 'orders/read']
 * ```
 */
export function scopesOf(claims: CognitoClaims): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter((scope) => scope !== '') : [];
}
